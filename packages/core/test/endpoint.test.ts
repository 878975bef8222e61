import { describe, expect, it } from "vitest";
import { endpointProblem, parseEndpoint, validateEndpoint } from "../src/index.js";

describe("endpoints", () => {
  it.each([
    "tcp://127.0.0.1:5555",
    "tcp://127.0.0.1:*",
    "tcp://*:0",
    "tcp://*:65535",
    "tcp://localhost:5555",
    "tcp://eth0:5555",
    "tcp://[::1]:5555",
    "tcp://192.168.1.2:5555;10.0.0.1:5556",
    "ipc:///tmp/zg.sock",
    "ipc://@abstract",
    "inproc://name-1",
    "ws://127.0.0.1:8080/path",
    "udp://239.0.0.1:5555",
    "pgm://eth0;239.192.1.1:5555",
  ])("accepts %s", (e) => {
    expect(endpointProblem(e)).toBeUndefined();
  });

  it.each([
    ["tcp://127.0.0.1:99999", /port 99999 out of range 0..65535/],
    ["tcp://127.0.0.1:65536", /port 65536 out of range/],
    ["tcp://127.0.0.1:123456", /malformed port "123456"/],
    ["tcp://127.0.0.1", /missing :port/],
    ["tcp://:5555", /missing host/],
    ["tcp://127.0.0.1:-1", /malformed port "-1"/],
    ["tcp://a/b:1", /malformed host "a\/b"/],
    ["tcp://a b:1", /white space/],
    ["localhost:5555", /not a ZeroMQ endpoint: "localhost:5555"/],
    ["foo://x", /unknown transport "foo"/],
    ["ipc://", /no address after ipc:\/\//],
    [5555, /not a string/],
  ])("rejects %s", (e, why) => {
    expect(endpointProblem(e)).toMatch(why);
  });

  it("parses host and port", () => {
    expect(parseEndpoint("tcp://127.0.0.1:5555")).toEqual({
      endpoint: "tcp://127.0.0.1:5555",
      transport: "tcp",
      address: "127.0.0.1:5555",
      host: "127.0.0.1",
      port: 5555,
    });
    expect(parseEndpoint("tcp://*:*")).toMatchObject({ host: "*", port: "*" });
    expect(parseEndpoint("ipc:///tmp/x")).toEqual({
      endpoint: "ipc:///tmp/x",
      transport: "ipc",
      address: "/tmp/x",
    });
    expect(() => parseEndpoint("tcp://127.0.0.1:99999")).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });

  it("validateEndpoint names the option", () => {
    expect(validateEndpoint("frontend", "tcp://127.0.0.1:1")).toBe("tcp://127.0.0.1:1");
    expect(() => validateEndpoint("frontend", "tcp://127.0.0.1:70000")).toThrow(
      /^frontend: port 70000 out of range/,
    );
  });
});
