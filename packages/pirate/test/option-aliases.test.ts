import { describe, expect, it } from "vitest";
import {
  AsyncClient,
  AsyncServer,
  FreelanceClient,
  FreelanceServer,
  LazyPirateClient,
  PirateWorker,
  SimplePirateWorker,
} from "../src/index.js";
import { BinaryStar, BinaryStarWitness } from "../src/bstar/index.js";

// Constructors validate only (no sockets): the 0.1 option names still work
// as deprecated aliases of the new ones, and a missing required one still throws.
const ep = "tcp://127.0.0.1:5555";
const echo = (body: Buffer[]): Buffer[] => body;

describe("deprecated option aliases (issue 11: one name per concept)", () => {
  it("LazyPirateClient: endpoint → server", () => {
    const old = new LazyPirateClient({ endpoint: ep });
    expect(old.server).toBe(ep);
    expect(old.endpoint).toBe(ep);
    expect(new LazyPirateClient({ server: ep }).server).toBe(ep);
    expect(() => new LazyPirateClient({})).toThrow(/server needs at least one endpoint/);
  });

  it("workers: endpoint → queue", () => {
    expect(() => new PirateWorker({ endpoint: ep, handler: echo })).not.toThrow();
    expect(() => new SimplePirateWorker({ endpoint: ep, handler: echo })).not.toThrow();
    expect(() => new PirateWorker({ handler: echo })).toThrow(/queue/);
    expect(() => new SimplePirateWorker({ handler: echo })).toThrow(/queue/);
  });

  it("AsyncClient: endpoint → server; AsyncServer, FreelanceServer: endpoint → endpoints", () => {
    expect(() => new AsyncClient({ endpoint: ep })).not.toThrow();
    expect(() => new AsyncClient({})).toThrow(/server/);
    expect(() => new AsyncServer({ endpoint: ep, handler: () => undefined })).not.toThrow();
    expect(() => new FreelanceServer({ endpoint: ep, handler: echo })).not.toThrow();
    expect(() => new FreelanceServer({ endpoints: [ep, ep] as never, handler: echo })).toThrow(
      /exactly one/,
    );
  });

  it("FreelanceClient: endpoints → servers", () => {
    const old = new FreelanceClient({ endpoints: [ep], model: 2 });
    expect(old.servers).toEqual([ep]);
    expect(old.endpoints).toEqual([ep]);
    expect(new FreelanceClient({ servers: ep, model: 1 }).servers).toEqual([ep]);
    expect(() => new FreelanceClient({ model: 3 })).toThrow(/servers/);
  });

  it("BinaryStar: stateBind → state, frontend.bind → frontend.endpoints; witness: bind → endpoints", () => {
    const base = { role: "primary", peer: ep } as const;
    expect(
      () => new BinaryStar({ ...base, stateBind: ep, frontend: { bind: ep, handler: echo } }),
    ).not.toThrow();
    expect(
      () => new BinaryStar({ ...base, state: ep, frontend: { endpoints: ep, handler: echo } }),
    ).not.toThrow();
    expect(() => new BinaryStar({ ...base })).toThrow(/state/);
    expect(() => new BinaryStar({ ...base, state: ep, frontend: { handler: echo } })).toThrow(
      /frontend\.endpoints/,
    );
    expect(() => new BinaryStarWitness({ primary: ep, backup: ep, bind: ep })).not.toThrow();
    expect(() => new BinaryStarWitness({ primary: ep, backup: ep })).toThrow(/endpoints/);
  });
});
