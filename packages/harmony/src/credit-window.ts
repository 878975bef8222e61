import { assertArgument, integerOption } from "@zg/core/pure";

/**
 * Default credit window, in bytes: the notes' `TRANSIT_TOTAL` (booksbyus/zguide
 * `notes.txt`, "credit-based flow control": 1 MiB in transit per receiver).
 */
export const DEFAULT_CREDIT_WINDOW = 1_048_576;

/**
 * Default slice after which a receiver re-grants credit, in bytes: the notes'
 * `TRANSIT_SLICE` (256 KiB consumed, then one credit message).
 */
export const DEFAULT_CREDIT_SLICE = 262_144;

/** Options of {@link CreditReceiver}. */
export interface CreditReceiverOptions {
  /** Bytes the sender may have in transit at once. @defaultValue {@link DEFAULT_CREDIT_WINDOW} */
  window?: number;
  /**
   * A new grant is worth sending once this many bytes were consumed since the
   * last one (the notes' slice). At most `window`. @defaultValue min({@link DEFAULT_CREDIT_SLICE}, window / 4)
   */
  slice?: number;
}

/** What {@link CreditReceiver.receive} says about one incoming message. */
export type CreditVerdict =
  /** In sequence and within credit. */
  | "ok"
  /** A sequence number was skipped: messages were lost (`gap` holds how many). */
  | "gap"
  /** A sequence number already seen (a duplicate or a stale resend): drop it. */
  | "stale"
  /** In sequence but beyond the credit granted: the sender broke the contract. */
  | "overrun";

/**
 * The receiving half of a credit window counted in bytes (ch. 7, "Credit-Based
 * Flow Control", and the chapter's conclusion that credit should be bytes, as
 * in FILEMQ). The receiver grants an **absolute** limit: "you may send until
 * your cumulative byte count reaches `limit`". Absolute grants are idempotent,
 * so a lost or repeated credit message never inflates or leaks credit. Each
 * message carries the sender's sequence number; a skipped number is reported as
 * a `gap` (a sequence error, never silent loss), a message beyond the grant as
 * an `overrun`.
 *
 * Pure and clock-free; the socket shells of `@zg/harmony` drive it.
 *
 * @example
 * ```ts
 * const rx = new CreditReceiver({ window: 65_536 });
 * send(["CREDIT", rx.limit]);               // first grant
 * rx.receive(seq, bytes);                   // "ok" | "gap" | "stale" | "overrun"
 * rx.consume(bytes);                        // the application is done with it
 * if (rx.shouldGrant()) send(["CREDIT", rx.grant()]);
 * ```
 */
export class CreditReceiver {
  /** Window size in bytes. */
  readonly window: number;
  /** Slice in bytes. */
  readonly slice: number;
  #expected = 0;
  #received = 0;
  #consumed = 0;
  #granted: number;
  #gaps = 0;
  #overruns = 0;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a window < 1 or a slice outside 1..window. */
  constructor(options: CreditReceiverOptions = {}) {
    this.window = integerOption("window", options.window, DEFAULT_CREDIT_WINDOW, { min: 1 });
    this.slice = integerOption(
      "slice",
      options.slice,
      Math.max(1, Math.min(DEFAULT_CREDIT_SLICE, Math.floor(this.window / 4))),
      { min: 1 },
    );
    assertArgument(this.slice <= this.window, "slice must be <= window");
    this.#granted = this.window;
  }

  /** The absolute byte limit granted so far (send it in a credit message). */
  get limit(): number {
    return this.#granted;
  }

  /** Bytes received but not yet consumed (what the receiver holds). */
  get held(): number {
    return this.#received - this.#consumed;
  }

  /** Next sequence number expected. */
  get expected(): number {
    return this.#expected;
  }

  /** Sequence gaps and overruns seen. */
  get errors(): { gaps: number; overruns: number } {
    return { gaps: this.#gaps, overruns: this.#overruns };
  }

  /**
   * Judges one incoming message of `bytes` with sequence number `seq`. A `gap`
   * resynchronises on `seq` (the lost messages are the caller's to recover); a
   * `stale` message is to be dropped.
   */
  receive(seq: number, bytes: number): CreditVerdict {
    if (seq < this.#expected) return "stale";
    let verdict: CreditVerdict = "ok";
    if (seq > this.#expected) {
      this.#gaps++;
      verdict = "gap";
    }
    this.#expected = seq + 1;
    this.#received += bytes;
    if (this.#received > this.#granted && this.#received - bytes !== this.#consumed) {
      // Beyond the grant, unless it is one oversize message sent into an empty window.
      this.#overruns++;
      if (verdict === "ok") verdict = "overrun";
    }
    return verdict;
  }

  /** The application has finished with `bytes` of received data. */
  consume(bytes: number): void {
    this.#consumed = Math.min(this.#received, this.#consumed + bytes);
  }

  /** True when enough was consumed since the last grant to send a new one. */
  shouldGrant(): boolean {
    return this.#consumed + this.window - this.#granted >= this.slice;
  }

  /** Raises the grant to consumed + window and returns the new absolute limit. */
  grant(): number {
    this.#granted = Math.max(this.#granted, this.#consumed + this.window);
    return this.#granted;
  }

  /** Forgets everything (a new peer or a new session): sequence 0, fresh window. */
  reset(): void {
    this.#expected = 0;
    this.#received = 0;
    this.#consumed = 0;
    this.#granted = this.window;
  }
}

/**
 * The sending half of a byte credit window: never exceeds the absolute limit
 * the receiver granted, numbers each message. One message larger than the
 * whole window may go out when nothing is in transit, so an oversize message
 * never deadlocks the link.
 *
 * @example
 * ```ts
 * const tx = new CreditSender();
 * tx.grant(limitFromCreditMessage);
 * if (tx.canSend(bytes)) send([tx.next(bytes), payload]);
 * ```
 */
export class CreditSender {
  #sent = 0;
  #seq = 0;
  #limit = 0;
  #floor = 0;

  /** The absolute limit granted by the receiver. */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes that may still be sent now. */
  get available(): number {
    return Math.max(0, this.#limit - this.#sent);
  }

  /** Cumulative bytes sent. */
  get sent(): number {
    return this.#sent;
  }

  /** Next sequence number. */
  get sequence(): number {
    return this.#seq;
  }

  /**
   * Applies a grant (an absolute limit). A lower limit than the current one
   * (a reordered or repeated credit message) is ignored.
   * @param window - the receiver's window, when known: lets an oversize message through once the window is empty
   */
  grant(limit: number, window?: number): void {
    if (limit > this.#limit) this.#limit = limit;
    if (window !== undefined) this.#floor = Math.max(this.#floor, limit - window);
  }

  /** Whether a message of `bytes` fits the credit now. */
  canSend(bytes: number): boolean {
    if (this.#sent + bytes <= this.#limit) return true;
    // An oversize message into an empty window (the receiver has consumed everything sent).
    const window = this.#limit - this.#floor;
    return this.#floor > 0 || this.#limit > 0
      ? window > 0 && bytes > window && this.#sent <= this.#floor
      : false;
  }

  /**
   * Accounts one message of `bytes` and returns its sequence number.
   * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` if it does not fit ({@link canSend} first).
   */
  next(bytes: number): number {
    assertArgument(this.canSend(bytes), `no credit for ${bytes} bytes`);
    this.#sent += bytes;
    return this.#seq++;
  }

  /** Forgets everything (a new receiver): no credit until the next grant. */
  reset(): void {
    this.#sent = 0;
    this.#seq = 0;
    this.#limit = 0;
    this.#floor = 0;
  }
}
