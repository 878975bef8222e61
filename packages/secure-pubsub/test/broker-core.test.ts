import nacl from "tweetnacl";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ManualClock, type Frame } from "@zg/core";
import {
  BrokerCore,
  decodeBroker,
  encodeClient,
  issueToken,
  loginTranscript,
  parsePattern,
  signingKeyPair,
  verifyToken,
  z85Encode,
  type BrokerMessage,
  type ClientMessage,
} from "../src/index.js";
import { testIssuer } from "./helpers/identities.js";
import { ed25519Sign } from "../src/crypto.js";

function harness(
  opts: { now?: () => number; maxSubscriptions?: number; maxClients?: number } = {},
) {
  const clock = new ManualClock();
  const issuer = testIssuer(opts.now);
  const inbox = new Map<string, BrokerMessage[]>();
  const core = new BrokerCore({
    issuers: [issuer.signKey],
    clock,
    refreshInterval: 1000,
    liveness: 3,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.maxSubscriptions ? { maxSubscriptions: opts.maxSubscriptions } : {}),
    ...(opts.maxClients ? { maxClients: opts.maxClients } : {}),
    send: (id: Frame, frames: Frame[]) => {
      const k = Buffer.from(id).toString("latin1");
      const list = inbox.get(k) ?? [];
      list.push(decodeBroker(frames.map((f) => Buffer.from(f))));
      inbox.set(k, list);
    },
  });
  let rid = 0;
  const client = (name: string, ident: ReturnType<typeof issuer.identity>) => {
    const id = Buffer.from(name);
    const take = (): BrokerMessage[] => {
      const l = inbox.get(name) ?? [];
      inbox.set(name, []);
      return l;
    };
    const send = (m: ClientMessage) =>
      core.handle([id, ...encodeClient(m).map((f) => Buffer.from(f))]);
    const request = (m: Omit<ClientMessage, "requestId">): BrokerMessage | undefined => {
      take();
      send({ ...m, requestId: Buffer.from(String(++rid)) } as ClientMessage);
      return take().find((x) => x.cmd !== "message");
    };
    const status = (m: Omit<ClientMessage, "requestId">): number => {
      const r = request(m);
      return r?.cmd === "status" ? r.code : -1;
    };
    const login = (token = ident.token, secretKey = ident.secretKey): number => {
      const c = request({ cmd: "hello" } as never);
      if (c?.cmd !== "challenge") return -1;
      const sig = ed25519Sign(
        loginTranscript(c.nonce, nacl.hash(token)),
        signingKeyPair(secretKey).secretKey,
      );
      return status({
        cmd: "login",
        token: Buffer.from(token),
        signature: Buffer.from(sig),
      } as never);
    };
    const messages = () => take().filter((m) => m.cmd === "message");
    return { id, ident, send, request, status, login, take, messages };
  };
  return { clock, core, issuer, client, inbox };
}

describe("BrokerCore", () => {
  test("login, subscribe, publish: one copy per entitled identity, status codes on every answer", () => {
    const h = harness();
    const pub = h.client("pub", h.issuer.identity({ publish: ["prices/*"] }));
    const sub = h.client("sub", h.issuer.identity({ subscribe: ["prices/*"] }));
    const other = h.client("other", h.issuer.identity({ subscribe: ["news/*"] }));
    expect(
      pub.status({ cmd: "publish", topic: "prices/x", payload: [Buffer.from("p")] } as never),
    ).toBe(401);
    expect([pub.login(), sub.login(), other.login()]).toEqual([200, 200, 200]);
    expect(sub.status({ cmd: "subscribe", pattern: "prices/*" } as never)).toBe(200);
    expect(sub.status({ cmd: "subscribe", pattern: "prices/eur" } as never)).toBe(200); // overlaps: still one copy
    expect(other.status({ cmd: "subscribe", pattern: "prices/eur" } as never)).toBe(403);
    expect(other.status({ cmd: "unsubscribe", pattern: "news/a" } as never)).toBe(404);
    expect(other.status({ cmd: "subscribe", pattern: "bad*pattern" } as never)).toBe(400);
    expect(
      pub.status({ cmd: "publish", topic: "prices/eur", payload: [Buffer.from("1.1")] } as never),
    ).toBe(200);
    const got = sub.messages();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      topic: "prices/eur",
      publisher: Buffer.from(
        nacl.sign.keyPair.fromSecretKey(signingKeyPair(pub.ident.secretKey).secretKey).publicKey,
      ),
    });
    expect(other.messages()).toEqual([]);
    expect(
      sub.status({
        cmd: "publish",
        topic: "prices/eur",
        payload: [Buffer.from("forged")],
      } as never),
    ).toBe(403); // G6
    expect(sub.messages()).toEqual([]);
    expect(h.core.stats()).toMatchObject({ clients: 3, subscriptions: 2, delivered: 1 });
  });

  test("G7: expired, foreign-issuer, edited, another client's token and a replayed login signature are refused", () => {
    let wall = Date.now();
    const h = harness({ now: () => wall });
    const a = h.issuer.identity({ subscribe: ["a"], ttl: 1000 });
    const b = h.issuer.identity({ subscribe: ["a"] });
    const ca = h.client("a", a);
    const cb = h.client("b", b);
    // another client's token, signed with my key
    expect(cb.login(a.token, b.secretKey)).toBe(401);
    // a foreign issuer
    const foreign = testIssuer().identity({ subscribe: ["*"] });
    expect(h.client("f", foreign).login()).toBe(401);
    // an edited topic list (signature no longer matches)
    const edited = Buffer.from(
      Buffer.from(a.token).toString("latin1").replace('"subscribe":["a"]', '"subscribe":["*"]'),
      "latin1",
    );
    expect(verifyToken(edited, { issuers: new Set([h.issuer.signKey]), now: wall })).toEqual({
      ok: false,
      reason: "signature",
    });
    expect(ca.login(edited)).toBe(401);
    // a replayed login: capture a valid LOGIN and send it again (new or no challenge)
    const c = ca.request({ cmd: "hello" } as never);
    if (c?.cmd !== "challenge") throw new Error("precondition: a challenge");
    const sig = ed25519Sign(
      loginTranscript(c.nonce, nacl.hash(a.token)),
      signingKeyPair(a.secretKey).secretKey,
    );
    const login = {
      cmd: "login",
      token: Buffer.from(a.token),
      signature: Buffer.from(sig),
    } as never;
    expect(ca.status(login)).toBe(200);
    expect(ca.status(login)).toBe(401); // no outstanding challenge
    ca.request({ cmd: "hello" } as never);
    expect(ca.status(login)).toBe(401); // a fresh challenge: the old signature does not cover it
    // expiry: a logged-in client with an expired token is kicked at its next message
    expect(cb.login()).toBe(200);
    wall += 2000;
    expect(ca.request({ cmd: "subscribe", pattern: "a" } as never)).toMatchObject({
      code: 401,
      text: "token expired",
    });
    expect(h.core.stats().clients).toBe(1);
    expect(ca.login()).toBe(401); // token expired
    console.log("G7 refusals", h.core.stats().loginsRefused);
  });

  test("G8: a silent client is flushed from both tables after interval × liveness; PINGs keep it", () => {
    const h = harness();
    const pub = h.client("pub", h.issuer.identity({ publish: ["t"] }));
    const live = h.client("live", h.issuer.identity({ subscribe: ["t"] }));
    const dead = h.client("dead", h.issuer.identity({ subscribe: ["t"] }));
    for (const c of [pub, live, dead]) expect(c.login()).toBe(200);
    expect(live.status({ cmd: "subscribe", pattern: "t" } as never)).toBe(200);
    expect(dead.status({ cmd: "subscribe", pattern: "t" } as never)).toBe(200);
    for (let t = 0; t < 3100; t += 500) {
      h.clock.advance(500);
      live.send({ cmd: "ping", requestId: Buffer.alloc(0) });
      pub.send({ cmd: "ping", requestId: Buffer.alloc(0) });
    }
    expect(
      h.core
        .connections()
        .map((c) => c.identity)
        .sort(),
    ).toEqual(["live", "pub"]);
    expect([...h.core.route("t")]).toEqual(["live"]);
    expect(dead.status({ cmd: "ping" } as never)).toBe(401); // must log in again
    expect(h.core.stats().expired).toBe(1);
  });

  test("revocation kicks live connections of the token or key and refuses their next login; refresh prunes", () => {
    const h = harness({ maxSubscriptions: 2 });
    const a = h.client("a", h.issuer.identity({ subscribe: ["x/*"] }));
    expect(a.login()).toBe(200);
    expect(a.status({ cmd: "subscribe", pattern: "x/1" } as never)).toBe(200);
    expect(a.status({ cmd: "subscribe", pattern: "x/2" } as never)).toBe(200);
    expect(a.status({ cmd: "subscribe", pattern: "x/3" } as never)).toBe(429);
    // refresh with a narrower token on the same connection
    const narrower = issueToken(h.issuer.cert.secretKey as string, {
      id: "n",
      key: a.ident.signKey,
      publish: [],
      subscribe: ["x/1"],
      expires: Date.now() + 60_000,
    });
    expect(a.login(narrower)).toBe(200);
    expect(h.core.connections()[0]?.subscriptions).toEqual(["x/1"]);
    expect(h.core.revoke({ key: a.ident.signKey })).toBe(1);
    expect(a.take()).toMatchObject([{ cmd: "status", code: 401, text: "revoked" }]);
    expect(h.core.stats()).toMatchObject({ clients: 0, subscriptions: 0 });
    expect(a.login()).toBe(401);
    const b = h.client("b", h.issuer.identity({ subscribe: ["x/*"] }));
    expect(b.login()).toBe(200);
    h.core.revoke({ tokenId: b.ident.tokenId });
    expect(h.core.stats().clients).toBe(0);
  });

  test("fuzz: random and mutated frames are counted and dropped, never thrown; an honest client still round-trips", () => {
    const h = harness();
    const pub = h.client("pub", h.issuer.identity({ publish: ["t"] }));
    const sub = h.client("sub", h.issuer.identity({ subscribe: ["t"] }));
    const valid: Buffer[][] = [
      encodeClient({ cmd: "hello", requestId: Buffer.from("1") }).map((f) => Buffer.from(f)),
      encodeClient({ cmd: "subscribe", requestId: Buffer.from("2"), pattern: "t" }).map((f) =>
        Buffer.from(f),
      ),
      encodeClient({
        cmd: "publish",
        requestId: Buffer.alloc(0),
        topic: "t",
        payload: [Buffer.from("x")],
      }).map((f) => Buffer.from(f)),
      encodeClient({
        cmd: "login",
        requestId: Buffer.from("3"),
        token: Buffer.from(pub.ident.token),
        signature: Buffer.alloc(64),
      }).map((f) => Buffer.from(f)),
    ];
    const frame = fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u));
    const mutated = fc
      .tuple(fc.constantFrom(...valid), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 4 }))
      .map(([msg, i, bit, op]) => {
        const m: Buffer[] = msg.map((f) => Buffer.from(f));
        const k = i % m.length;
        if (op === 0 && (m[k] as Buffer).length > 0)
          (m[k] as Buffer)[bit % (m[k] as Buffer).length]! ^= 1 << (bit % 8);
        if (op === 1) m.splice(k, 1);
        if (op === 2) m.splice(k, 0, Buffer.from(m[k] as Buffer));
        if (op === 3) m[k] = (m[k] as Buffer).subarray(0, bit % ((m[k] as Buffer).length + 1));
        if (op === 4) m.push(Buffer.alloc(bit % 5000));
        return m;
      });
    let n = 0;
    fc.assert(
      fc.property(
        fc.oneof(fc.array(frame, { maxLength: 8 }), mutated),
        fc.constantFrom("pub", "sub", "x"),
        (frames, who) => {
          n++;
          expect(() => h.core.handle([Buffer.from(who), ...frames])).not.toThrow();
        },
      ),
      { seed: 17, numRuns: 2000 },
    );
    expect(pub.login()).toBe(200);
    expect(sub.login()).toBe(200);
    expect(sub.status({ cmd: "subscribe", pattern: "t" } as never)).toBe(200);
    sub.take();
    expect(
      pub.status({ cmd: "publish", topic: "t", payload: [Buffer.from("after fuzz")] } as never),
    ).toBe(200);
    expect(sub.messages().map((m) => (m.cmd === "message" ? String(m.payload[0]) : ""))).toEqual([
      "after fuzz",
    ]);
    console.log(
      `fuzz: ${n} messages, invalid ${h.core.stats().protocolErrors}, refused ${h.core.stats().refused}`,
    );
    expect(h.core.stats().protocolErrors).toBeGreaterThan(0);
  });
});

test("topic patterns: exact, prefix and coverage", () => {
  expect(parsePattern("a/*")).toEqual({ text: "a/*", prefix: true, stem: "a/" });
  expect(() => parsePattern("a*b")).toThrow();
  expect(() => parsePattern("")).toThrow();
  expect(() => parsePattern("x".repeat(256))).toThrow();
  expect(z85Encode(new Uint8Array(4))).toBe("00000");
});
