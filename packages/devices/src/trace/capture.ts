import type { Writable } from "node:stream";
import type { TraceRecord } from "./record.js";

/** Counters of one capture sink. */
export interface CaptureSinkStats {
  /** Records written to the stream. */
  written: number;
  /** Records dropped because the sink's buffer was full (the messages were still forwarded). */
  dropped: number;
  /** Records waiting now. */
  queued: number;
  /** Stream write errors (the sink stops writing after the first). */
  errors: number;
}

/** Resolves on the stream's next `drain`, `close` or `error`, leaving no listener behind. */
function drainOf(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}

/**
 * A bounded, never-blocking queue of trace records in front of a Writable: the
 * proxy calls {@link push} and moves on; a writer formats batches and writes
 * them, waiting for `drain` when the stream is slow. A full queue drops the
 * new record (counted). Never throws into the proxy's loop.
 */
export class CaptureSink {
  readonly #stream: Writable;
  readonly #format: (r: TraceRecord) => string;
  readonly #limit: number;
  #queue: TraceRecord[] = [];
  #writing: Promise<void> | undefined;
  #failed = false;
  readonly #stats: CaptureSinkStats = { written: 0, dropped: 0, queued: 0, errors: 0 };

  constructor(stream: Writable, format: (r: TraceRecord) => string, limit: number) {
    this.#stream = stream;
    this.#format = format;
    this.#limit = limit;
    stream.on("error", () => {
      this.#stats.errors++;
      this.#failed = true;
    });
  }

  /** Queues a record. @returns false (record dropped, counted) when full or the stream failed. */
  push(r: TraceRecord): boolean {
    if (this.#failed || this.#queue.length >= this.#limit) {
      this.#stats.dropped++;
      return false;
    }
    this.#queue.push(r);
    this.#writing ??= this.#drain();
    return true;
  }

  async #drain(): Promise<void> {
    // Never complete synchronously: `#writing ??= this.#drain()` must see its own promise settle later.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0 && !this.#failed) {
        const batch = this.#queue;
        this.#queue = [];
        let text = "";
        for (const r of batch) text += this.#format(r);
        const ok = this.#stream.write(text);
        this.#stats.written += batch.length;
        if (!ok && !this.#failed) await drainOf(this.#stream);
        else await new Promise<void>((resolve) => setImmediate(resolve)); // let the loop run between batches
      }
    } catch {
      this.#failed = true;
      this.#stats.errors++;
    } finally {
      if (this.#failed) {
        this.#stats.dropped += this.#queue.length;
        this.#queue = [];
      }
      this.#writing = undefined;
    }
  }

  /** Resolves when everything queued so far was handed to the stream (or `timeout` ms passed). */
  async flush(timeout: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout);
    });
    while (this.#writing !== undefined) {
      const done = await Promise.race([this.#writing.then(() => true), deadline.then(() => false)]);
      if (!done) break;
    }
    clearTimeout(timer);
  }

  stats(): CaptureSinkStats {
    return { ...this.#stats, queued: this.#queue.length };
  }
}
