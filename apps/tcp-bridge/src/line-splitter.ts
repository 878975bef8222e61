// The TCP side's framing, pure: bytes in, complete lines out, with a length bound.

/** What {@link LineSplitter.push} found in a chunk. */
export type SplitResult =
  | { ok: true; lines: string[] }
  | { ok: false; reason: "line-too-long" | "not-text"; lines: string[] };

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Splits a byte stream into lines ended by `\n` (a `\r` before it is dropped),
 * each at most `maxLineLength` bytes without its end. A line longer than that
 * (even before its end arrives, so a client cannot make the bridge buffer
 * without bound), a line that is not UTF-8, or one holding a NUL byte is a
 * protocol error: the lines before it are returned with the reason.
 */
export class LineSplitter {
  readonly maxLineLength: number;
  #partial: Buffer[] = [];
  #partialLength = 0;

  constructor(maxLineLength: number) {
    this.maxLineLength = maxLineLength;
  }

  /** Bytes held for the line not ended yet. */
  get buffered(): number {
    return this.#partialLength;
  }

  /** Feeds one chunk. */
  push(chunk: Buffer): SplitResult {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.#partialLength + piece.length > this.maxLineLength + 1)
        return { ok: false, reason: "line-too-long", lines };
      const bytes = this.#partialLength === 0 ? piece : Buffer.concat([...this.#partial, piece]);
      this.#partial = [];
      this.#partialLength = 0;
      const line = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
      if (line.length > this.maxLineLength) return { ok: false, reason: "line-too-long", lines };
      if (line.includes(0)) return { ok: false, reason: "not-text", lines };
      try {
        lines.push(decoder.decode(line));
      } catch {
        return { ok: false, reason: "not-text", lines };
      }
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.#partialLength + rest.length > this.maxLineLength + 1)
        return { ok: false, reason: "line-too-long", lines };
      this.#partial.push(Buffer.from(rest));
      this.#partialLength += rest.length;
    }
    return { ok: true, lines };
  }
}
