import { describe, expect, it } from "vitest";
import { LineSplitter } from "../src/line-splitter.js";

describe("LineSplitter", () => {
  it("splits lines across chunks, drops a CR before LF, keeps an unfinished line", () => {
    const s = new LineSplitter(16);
    expect(s.push(Buffer.from("hel"))).toEqual({ ok: true, lines: [] });
    expect(s.push(Buffer.from("lo\r\nwor"))).toEqual({ ok: true, lines: ["hello"] });
    expect(s.buffered).toBe(3);
    expect(s.push(Buffer.from("ld\n\nünï\n"))).toEqual({ ok: true, lines: ["world", "", "ünï"] });
    expect(s.buffered).toBe(0);
  });

  it("refuses a line over the bound, even before its end arrives", () => {
    expect(new LineSplitter(4).push(Buffer.from("abcd\nabcde\n"))).toEqual({
      ok: false,
      reason: "line-too-long",
      lines: ["abcd"],
    });
    const s = new LineSplitter(4);
    expect(s.push(Buffer.from("abc")).ok).toBe(true);
    expect(s.push(Buffer.from("def"))).toMatchObject({ ok: false, reason: "line-too-long" });
    expect(new LineSplitter(4).push(Buffer.from("abcd\r\n"))).toEqual({
      ok: true,
      lines: ["abcd"],
    });
  });

  it("refuses bytes that are not text (invalid UTF-8, NUL)", () => {
    expect(new LineSplitter(64).push(Buffer.from([0x61, 0xff, 0x0a]))).toMatchObject({
      ok: false,
      reason: "not-text",
    });
    expect(new LineSplitter(64).push(Buffer.from("ok\na\u0000b\n"))).toEqual({
      ok: false,
      reason: "not-text",
      lines: ["ok"],
    });
  });
});
