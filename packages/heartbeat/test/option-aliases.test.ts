import { describe, expect, it } from "vitest";
import { HeartbeatDealer } from "../src/index.js";

// The constructor validates only (no sockets): the 0.1 name still works as a
// deprecated alias of the new one, and a missing one still throws.
describe("deprecated option aliases (issue 11: one name per concept)", () => {
  it("HeartbeatDealer: endpoints → router", () => {
    expect(() => new HeartbeatDealer({ endpoints: "tcp://127.0.0.1:5555" })).not.toThrow();
    expect(() => new HeartbeatDealer({ router: "tcp://127.0.0.1:5555" })).not.toThrow();
    expect(() => new HeartbeatDealer({})).toThrow(/router needs at least one endpoint/);
  });
});
