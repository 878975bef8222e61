/** A FIFO with O(1) push/shift (an array with a moving head). */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  remove(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head);
    if (i < 0) return false;
    if (i === this.#head) this.shift();
    else this.#items.splice(i, 1);
    return true;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i] as T;
  }
}

/**
 * The request queue of one service: one FIFO per client, served round-robin
 * across clients, so one client pipelining many requests delays another
 * client's request by at most one of its own per worker. A client that joins
 * with nothing queued (one request at a time, say) is served before the
 * clients already in the round, but never twice in a row while the round
 * waits. Re-queued requests (their worker died) go to the front and are
 * served first.
 *
 * @internal
 */
export class FairQueue<T> {
  #front = new Fifo<T>();
  /** Clients with requests queued; insertion order is the round-robin order. */
  readonly #ring = new Map<string, Fifo<T>>();
  /** Clients that joined with nothing queued, in order of arrival: served first. */
  readonly #fresh = new Map<string, Fifo<T>>();
  /** Emptied FIFOs kept for reuse: a client with one request at a time does not cost a FIFO each. */
  readonly #spare: Fifo<T>[] = [];
  /** The last item came from a fresh client while the round was waiting. */
  #lastFresh = false;
  #size = 0;

  /** Items queued. */
  get size(): number {
    return this.#size;
  }

  /** Items queued for `client` (re-queued ones not counted). */
  countFor(client: string): number {
    return (this.#fresh.get(client) ?? this.#ring.get(client))?.size ?? 0;
  }

  /** Appends `item` to `client`'s FIFO. */
  push(client: string, item: T): void {
    let q = this.#fresh.get(client) ?? this.#ring.get(client);
    if (q === undefined) {
      q = this.#spare.pop() ?? new Fifo<T>();
      this.#fresh.set(client, q);
    }
    q.push(item);
    this.#size++;
  }

  /** Puts `item` before everything else (a re-queued request). */
  unshift(item: T): void {
    this.#front.push(item);
    this.#size++;
  }

  /** The next item: re-queued ones first, then the next client in turn. */
  shift(): T | undefined {
    let item = this.#front.shift();
    if (item === undefined) {
      const contested = this.#ring.size > 0;
      const fromFresh = this.#fresh.size > 0 && (!this.#lastFresh || !contested);
      const table = fromFresh ? this.#fresh : this.#ring;
      const next = table.entries().next();
      if (next.done) return undefined;
      const [client, q] = next.value;
      item = q.shift();
      table.delete(client);
      if (q.size > 0)
        this.#ring.set(client, q); // to the back of the round
      else if (this.#spare.length < 64) this.#spare.push(q);
      this.#lastFresh = fromFresh && contested;
    }
    if (item !== undefined) this.#size--;
    return item;
  }

  /** Removes `item` (queued for `client`, or re-queued). @returns whether it was queued. */
  remove(client: string, item: T): boolean {
    for (const table of [this.#fresh, this.#ring]) {
      const q = table.get(client);
      if (q !== undefined && q.remove(item)) {
        if (q.size === 0) table.delete(client);
        this.#size--;
        return true;
      }
    }
    if (this.#front.remove(item)) {
      this.#size--;
      return true;
    }
    return false;
  }

  /** Removes and returns every item (re-queued first). */
  clear(): T[] {
    const all = [...this.#front];
    for (const q of this.#fresh.values()) all.push(...q);
    for (const q of this.#ring.values()) all.push(...q);
    this.#fresh.clear();
    this.#ring.clear();
    this.#front = new Fifo<T>();
    this.#size = 0;
    return all;
  }
}
