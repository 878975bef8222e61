import { expect, test } from "vitest";
import * as pure from "../src/pure.js";
import * as core from "../src/index.js";

test("@zg/core/pure re-exports the same values as @zg/core, minus the socket layer", () => {
  for (const [name, value] of Object.entries(pure))
    expect(core[name as keyof typeof core], name).toBe(value);
  for (const socketOnly of [
    "SocketLoop",
    "createRouter",
    "createDealer",
    "createSocket",
    "bindAll",
    "connectAll",
    "assertLibzmq",
    "Component",
  ]) {
    expect(Object.keys(pure)).not.toContain(socketOnly);
  }
});
