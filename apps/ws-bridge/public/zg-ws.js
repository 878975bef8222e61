// The zg WebSocket bridge's browser client (plain ES module, no dependencies).
//   import { ZgBridge } from "/zg-ws.js";
//   const zg = await ZgBridge.connect("ws://127.0.0.1:5592/ws");
//   const reply = await zg.request("echo", ["hello"], { timeout: 2500 }); // → ["hello"]
//   const stop = await zg.subscribe("weather.", (frames) => console.log(frames));
// Frames are strings (UTF-8 text) or Uint8Array (any other bytes), exactly as sent.

const toWire = (f) =>
  typeof f === "string" ? f : { b64: btoa(String.fromCharCode(...new Uint8Array(f))) };
const fromWire = (f) =>
  typeof f === "string" ? f : Uint8Array.from(atob(f.b64), (ch) => ch.charCodeAt(0));

/** An error from the bridge: `code` is unknown-service, timeout, unavailable, limit, bad-request, no-pubsub or closed. */
export class ZgBridgeError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ZgBridgeError";
    this.code = code;
  }
}

export class ZgBridge {
  #ws;
  #next = 1;
  #pending = new Map();
  #handlers = new Map();

  constructor(ws) {
    this.#ws = ws;
    ws.addEventListener("message", (e) => this.#onMessage(JSON.parse(e.data)));
    ws.addEventListener("close", (e) => {
      for (const p of this.#pending.values())
        p.reject(new ZgBridgeError("closed", `bridge connection closed (${e.code} ${e.reason})`));
      this.#pending.clear();
    });
  }

  /** Opens a connection; `token` is sent as ?token= when given. */
  static connect(url, { token } = {}) {
    const u = new URL(url, location.href);
    if (token) u.searchParams.set("token", token);
    const ws = new WebSocket(u);
    return new Promise((resolve, reject) => {
      ws.addEventListener("open", () => resolve(new ZgBridge(ws)), { once: true });
      ws.addEventListener("error", () => reject(new ZgBridgeError("closed", "cannot connect")), {
        once: true,
      });
    });
  }

  #call(message) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ ...message, id }));
    });
  }

  #onMessage(m) {
    if (m.type === "message") {
      for (const fn of this.#handlers.get(m.topic) ?? []) fn(m.frames.map(fromWire), m.topic);
      return;
    }
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (m.type === "error") p.reject(new ZgBridgeError(m.code, m.message));
    else p.resolve(m.type === "reply" ? m.body.map(fromWire) : m);
  }

  /** Calls a Majordomo service; resolves with the reply frames. */
  request(service, body, { timeout } = {}) {
    return this.#call({
      type: "request",
      service,
      body: body.map(toWire),
      ...(timeout ? { timeout } : {}),
    });
  }

  /** Subscribes to a topic prefix; resolves with a function that unsubscribes. */
  async subscribe(topic, onMessage) {
    const list = this.#handlers.get(topic) ?? [];
    this.#handlers.set(topic, [...list, onMessage]);
    if (list.length === 0) await this.#call({ type: "subscribe", topic });
    return async () => {
      const rest = (this.#handlers.get(topic) ?? []).filter((f) => f !== onMessage);
      if (rest.length > 0) return void this.#handlers.set(topic, rest);
      this.#handlers.delete(topic);
      await this.#call({ type: "unsubscribe", topic });
    };
  }

  close() {
    this.#ws.close(1000, "bye");
  }
}
