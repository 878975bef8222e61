import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { listenOn } from "../src/index.js";

describe("listenOn", () => {
  it("binds port 0 and answers the real host:port; a taken port rejects", async () => {
    const a = createServer();
    const address = await listenOn(a, "127.0.0.1:0");
    expect(address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    const b = createServer();
    await expect(listenOn(b, address)).rejects.toMatchObject({ code: "EADDRINUSE" });
    expect(() => listenOn(b, "nope")).toThrow(/host:port/);
    await new Promise<void>((r) => a.close(() => r()));
  });
});
