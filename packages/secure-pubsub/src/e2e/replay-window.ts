/** Width of a {@link ReplayWindow}, 64 sequence numbers (RFC 4303 §3.4.3's default anti-replay window). */
export const REPLAY_WINDOW_SIZE = 64;

/**
 * The anti-replay state of one (sender, epoch): the highest sequence seen and
 * a 64-entry sliding bitmap below it (IPsec ESP style). A sequence is
 * accepted at most once; one older than the window is refused. Dedup is by
 * sequence number only, never by ciphertext or signature bytes (Ed25519
 * signatures are malleable).
 */
export class ReplayWindow {
  #top = -1n;
  #bits = 0n;

  /** The highest sequence accepted so far (-1 before any). */
  get highest(): bigint {
    return this.#top;
  }

  /** Would `seq` be accepted (without recording it)? */
  check(seq: bigint): "new" | "replay" | "too-old" {
    if (seq > this.#top) return "new";
    const offset = this.#top - seq;
    if (offset >= BigInt(REPLAY_WINDOW_SIZE)) return "too-old";
    return (this.#bits >> offset) & 1n ? "replay" : "new";
  }

  /** Records `seq` if it is new; returns whether it was accepted. */
  accept(seq: bigint): boolean {
    const verdict = this.check(seq);
    if (verdict !== "new") return false;
    if (seq > this.#top) {
      const shift = seq - this.#top;
      this.#bits =
        shift >= BigInt(REPLAY_WINDOW_SIZE)
          ? 1n
          : ((this.#bits << shift) | 1n) & ((1n << 64n) - 1n);
      this.#top = seq;
    } else {
      this.#bits |= 1n << (this.#top - seq);
    }
    return true;
  }
}
