import * as zmq from "zeromq";

/** A receive fault armed by {@link injectReceiveFault}. */
export interface ReceiveFault {
  /**
   * Breaks the readers: every pending and future `receive()` of a matching
   * socket rejects with `error` (default: an `EFAULT`-coded error), as a
   * zeromq.js socket whose receive fails for a reason other than close.
   * @returns how many pending receives it broke.
   */
  trigger(options?: { error?: Error; match?: (socket: zmq.Socket) => boolean }): number;
  /** Puts zeromq.js' `receive()` back. Idempotent. */
  restore(): void;
}

interface Pending {
  socket: zmq.Socket;
  reject: (error: Error) => void;
}

/**
 * Patches `zmq.Socket.prototype.receive` (this process, every socket) so a
 * test can make a running component's reader die on demand, the way a real
 * receive failure would, without reaching into the component. Call
 * `restore()` when the test ends (or use `onTestFinished`).
 *
 * @example
 * ```ts
 * const fault = injectReceiveFault();
 * onTestFinished(() => fault.restore());
 * await broker.start();
 * fault.trigger();
 * expect(await broker.closed).toMatchObject({ code: "ZG_SOCKET" });
 * ```
 */
export function injectReceiveFault(): ReceiveFault {
  const proto = zmq.Socket.prototype as unknown as {
    receive: (this: zmq.Socket) => Promise<Buffer[]>;
  };
  const original = proto.receive;
  const pending = new Set<Pending>();
  const broken: { match: (s: zmq.Socket) => boolean; error: Error }[] = [];
  let restored = false;
  Object.defineProperty(proto, "receive", {
    configurable: true,
    writable: false,
    enumerable: false,
    value: function receive(this: zmq.Socket): Promise<Buffer[]> {
      const rule = broken.find((b) => b.match(this));
      if (rule !== undefined) return Promise.reject(rule.error);
      const real = original.call(this);
      return new Promise<Buffer[]>((resolve, reject) => {
        const entry: Pending = { socket: this, reject };
        pending.add(entry);
        real.then(
          (m) => {
            pending.delete(entry);
            resolve(m);
          },
          (e: Error) => {
            pending.delete(entry);
            reject(e);
          },
        );
      });
    },
  });
  return {
    trigger({ error, match = () => true } = {}) {
      const e = error ?? Object.assign(new Error("injected receive fault"), { code: "EFAULT" });
      broken.push({ match, error: e });
      let n = 0;
      for (const p of [...pending]) {
        if (!match(p.socket)) continue;
        pending.delete(p);
        p.reject(e);
        n++;
      }
      return n;
    },
    restore() {
      if (restored) return;
      restored = true;
      Object.defineProperty(proto, "receive", {
        configurable: true,
        writable: false,
        enumerable: false,
        value: original,
      });
    },
  };
}
