import { formatIdentity, identityKey, type Frame, type Logger, type SocketLoop } from "@zg/core";

/** Options of {@link PeerOutbox}. */
export interface PeerOutboxOptions {
  /** Messages held per peer whose pipe is full; beyond it new ones are dropped. */
  maxPerPeer: number;
  /** Bytes held across peers; beyond it new ones are dropped. */
  maxBytes: number;
  /** How often a held message is retried, ms. */
  retryInterval: number;
  logger: Logger;
}

interface Backlog {
  messages: Frame[][];
  head: number;
  sending: boolean;
}

const messageBytes = (m: readonly Frame[]): number => {
  let n = 0;
  for (const f of m) n += f.length;
  return n;
};

/**
 * Per-peer outgoing buffers in front of a ROUTER's {@link SocketLoop}. The
 * ROUTER sends with `sendTimeout: 0`, so one slow peer never stalls the
 * others; a message whose peer's pipe is momentarily full (EAGAIN) is held
 * here, in order, and retried every `retryInterval` ms instead of being
 * dropped. Only when a peer's buffer (or the total) is full is a message
 * dropped: counted and logged at warn.
 *
 * @internal
 */
export class PeerOutbox {
  readonly #o: PeerOutboxOptions;
  readonly #loop: SocketLoop;
  readonly #backlogs = new Map<string, Backlog>();
  #bytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Messages being retried: a failure of theirs is handled by the retry, not {@link full}. */
  readonly #retrying = new WeakSet<Frame[]>();
  #closed = false;
  #lastWarn = 0;
  #droppedSinceWarn = 0;
  /** Messages held at least once. */
  deferred = 0;
  /** Messages dropped because a buffer was full. */
  dropped = 0;

  constructor(loop: SocketLoop, options: PeerOutboxOptions) {
    this.#loop = loop;
    this.#o = options;
  }

  /** Messages held now. */
  get held(): number {
    let n = 0;
    for (const b of this.#backlogs.values()) n += b.messages.length - b.head;
    return n;
  }

  /** Sends `message` (identity first), or holds it behind earlier held messages of its peer. */
  post(message: Frame[]): void {
    if (this.#backlogs.size > 0) {
      const b = this.#backlogs.get(identityKey(message[0] as Frame));
      if (b !== undefined) {
        this.#hold(b, message);
        return;
      }
    }
    this.#loop.post(message);
  }

  /** The loop could not send `message` now (peer's pipe full, or the loop's queue full): hold it. */
  full(message: Frame[]): void {
    if (this.#closed || this.#retrying.has(message)) return;
    const key = identityKey(message[0] as Frame);
    let b = this.#backlogs.get(key);
    if (b === undefined) {
      b = { messages: [], head: 0, sending: false };
      this.#backlogs.set(key, b);
    }
    this.#hold(b, message);
  }

  #hold(b: Backlog, message: Frame[]): void {
    const bytes = messageBytes(message);
    if (
      b.messages.length - b.head >= this.#o.maxPerPeer ||
      this.#bytes + bytes > this.#o.maxBytes
    ) {
      this.#drop(message);
      return;
    }
    b.messages.push(message);
    this.#bytes += bytes;
    this.deferred++;
    this.#schedule();
  }

  #drop(message: Frame[]): void {
    this.dropped++;
    this.#droppedSinceWarn++;
    const now = Date.now();
    if (now - this.#lastWarn >= 1000) {
      this.#o.logger.warn("reply dropped: the peer's outgoing buffer is full", {
        identity: formatIdentity(message[0] as Frame),
        dropped: this.#droppedSinceWarn,
        maxPerPeer: this.#o.maxPerPeer,
      });
      this.#lastWarn = now;
      this.#droppedSinceWarn = 0;
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      for (const [key, b] of this.#backlogs) if (!b.sending) void this.#retry(key, b);
    }, this.#o.retryInterval);
  }

  /** Writes `b`'s messages in order until one would block again. */
  async #retry(key: string, b: Backlog): Promise<void> {
    b.sending = true;
    while (b.head < b.messages.length && !this.#closed) {
      const m = b.messages[b.head] as Frame[];
      this.#retrying.add(m);
      const outcome = await this.#loop.send(m);
      this.#retrying.delete(m);
      if (outcome === "timeout" || outcome === "overflow") break;
      b.head++;
      this.#bytes -= messageBytes(m);
      if (outcome === "unreachable" || outcome === "closed") {
        // Gone (the loop reported it): drop everything it was owed.
        for (let i = b.head; i < b.messages.length; i++)
          this.#bytes -= messageBytes(b.messages[i] as Frame[]);
        b.head = b.messages.length;
      }
    }
    b.sending = false;
    if (b.head >= b.messages.length) this.#backlogs.delete(key);
    else {
      if (b.head > 1024) {
        b.messages = b.messages.slice(b.head);
        b.head = 0;
      }
      this.#schedule();
    }
  }

  /** Tries to send everything held, for up to `ms`. */
  async flush(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.#backlogs.size > 0 && Date.now() < until && !this.#closed)
      await new Promise((r) => setTimeout(r, Math.max(1, this.#o.retryInterval)));
  }

  /** Stops retrying and forgets what is held. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#backlogs.clear();
    this.#bytes = 0;
  }
}
