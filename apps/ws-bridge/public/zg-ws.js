// The zg WebSocket bridge's browser client (plain ES module, no dependencies).
//   import { ZgBridge } from "/zg-ws.js";
//   const zg = await ZgBridge.connect("ws://127.0.0.1:5592/ws");
//   const reply = await zg.request("echo", ["hello"], { timeout: 2500 }); // → ["hello"]
//   const stop = await zg.subscribe("weather.", (frames) => console.log(frames));
//   const leave = await zg.subscribeClone("/config/", (change, map) => console.log(change, map));
// Frames are strings (UTF-8 text) or Uint8Array (any other bytes), exactly as sent.

const toWire = (f) =>
  typeof f === "string" ? f : { b64: btoa(String.fromCharCode(...new Uint8Array(f))) };
const fromWire = (f) =>
  typeof f === "string" ? f : Uint8Array.from(atob(f.b64), (ch) => ch.charCodeAt(0));

/** An error from the bridge: `code` is unknown-service, timeout, unavailable, limit, bad-request, no-pubsub, no-clone, forbidden or closed. */
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
  /** Clone prefix → { map, parts, onChange, ready } */
  #clones = new Map();

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

  #onClone(m) {
    const sub = this.#clones.get(m.prefix);
    if (!sub) return;
    if (m.type === "clone-update") {
      if (!sub.ready) return;
      const value = m.value === null ? null : fromWire(m.value);
      if (value === null) sub.map.delete(m.key);
      else sub.map.set(m.key, value);
      sub.onChange({ key: m.key, value, sequence: m.sequence }, sub.map);
      return;
    }
    // clone-snapshot: a series; the last part (more: false) replaces the map.
    sub.parts.push(...m.entries);
    if (m.more) return;
    sub.map.clear();
    for (const [k, v] of sub.parts) sub.map.set(k, fromWire(v));
    sub.parts = [];
    sub.ready = true;
    sub.onChange({ snapshot: true, resync: m.resync, sequence: m.sequence }, sub.map);
    const p = m.id === null ? undefined : this.#pending.get(m.id);
    if (p) {
      this.#pending.delete(m.id);
      p.resolve(m);
    }
  }

  #onMessage(m) {
    if (m.type === "clone-snapshot" || m.type === "clone-update") return this.#onClone(m);
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

  /**
   * Follows a Clone subtree (`prefix`, allowed by the bridge's --clone-subtrees).
   * `onChange(change, map)` runs once per complete snapshot (`{ snapshot: true, resync,
   * sequence }`: the first, and a fresh one after the bridge dropped updates for a slow
   * page) and once per update (`{ key, value, sequence }`, `value` null = deleted); `map`
   * is the subtree now (key → string | Uint8Array). Resolves, after the first snapshot,
   * with a function that stops following.
   */
  async subscribeClone(prefix, onChange) {
    if (this.#clones.has(prefix))
      throw new ZgBridgeError("bad-request", `already following ${prefix}`);
    this.#clones.set(prefix, { map: new Map(), parts: [], onChange, ready: false });
    try {
      await this.#call({ type: "clone-subscribe", prefix });
    } catch (error) {
      this.#clones.delete(prefix);
      throw error;
    }
    return async () => {
      this.#clones.delete(prefix);
      await this.#call({ type: "clone-unsubscribe", prefix });
    };
  }

  /**
   * Sets (or, with `value` null, deletes) a key of a followed subtree; needs the bridge's
   * --clone-set. Resolves with the server's sequence (a decimal string) once acknowledged.
   */
  async setClone(key, value, { ttl } = {}) {
    const m = await this.#call({
      type: "clone-set",
      key,
      value: value === null ? null : toWire(value),
      ...(ttl ? { ttl } : {}),
    });
    return m.sequence;
  }

  close() {
    this.#ws.close(1000, "bye");
  }
}
