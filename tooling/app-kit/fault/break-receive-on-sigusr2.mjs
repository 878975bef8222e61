// Preload for fault tests of apps (`node --import <this file> app.js`): on
// SIGUSR2 every pending and future zeromq.js receive() of the process rejects
// with an EFAULT-coded error, so a running component's reader dies the way a
// real receive failure would. Test-only: never shipped in an app.
import * as zmq from "zeromq";

const proto = zmq.Socket.prototype;
const original = proto.receive;
const pending = new Set();
let fault;

Object.defineProperty(proto, "receive", {
  configurable: true,
  writable: false,
  enumerable: false,
  value: function receive() {
    if (fault !== undefined) return Promise.reject(fault);
    const real = original.call(this);
    return new Promise((resolve, reject) => {
      pending.add(reject);
      real.then(
        (m) => {
          pending.delete(reject);
          resolve(m);
        },
        (e) => {
          pending.delete(reject);
          reject(e);
        },
      );
    });
  },
});

process.on("SIGUSR2", () => {
  fault ??= Object.assign(new Error("injected receive fault"), { code: "EFAULT" });
  for (const reject of [...pending]) reject(fault);
  pending.clear();
});
