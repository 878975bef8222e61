import { describe, expect, it } from "vitest";
import {
  AppError,
  COMMON_OPTIONS,
  envName,
  explainStartupError,
  flagName,
  formatHelp,
  parseDuration,
  parseOptions,
} from "../src/index.js";
import { ZgError } from "@zg/core";

const specs = {
  endpoint: { type: "endpoints", default: ["tcp://127.0.0.1:5555"], description: "bind" },
  heartbeatInterval: { type: "duration", default: 2500, description: "hb" },
  liveness: { type: "integer", default: 3, min: 1, description: "liveness" },
  titanic: { type: "boolean", default: false, description: "titanic" },
  dataDir: { type: "path", default: ".titanic", description: "dir" },
  ...COMMON_OPTIONS,
} as const;

const parse = (argv: string[], env: Record<string, string> = {}) =>
  parseOptions("majordomo-broker", specs, argv, env);

describe("options", () => {
  it("names flags and environment variables", () => {
    expect(flagName("heartbeatInterval")).toBe("heartbeat-interval");
    expect(envName("majordomo-broker", "heartbeatInterval")).toBe(
      "ZG_MAJORDOMO_BROKER_HEARTBEAT_INTERVAL",
    );
  });

  it("uses the defaults with no arguments", () => {
    const r = parse([]);
    expect(r).toMatchObject({
      help: false,
      values: {
        endpoint: ["tcp://127.0.0.1:5555"],
        heartbeatInterval: 2500,
        liveness: 3,
        titanic: false,
        logLevel: "info",
        drainTimeout: 1000,
        metrics: undefined,
      },
    });
  });

  it("reads flags first, then the environment", () => {
    const r = parse(
      [
        "--heartbeat-interval",
        "1s",
        "--endpoint",
        "tcp://127.0.0.1:1,tcp://127.0.0.1:2",
        "--endpoint=ipc:///tmp/x",
        "--titanic",
      ],
      {
        ZG_MAJORDOMO_BROKER_HEARTBEAT_INTERVAL: "9",
        ZG_MAJORDOMO_BROKER_LIVENESS: "5",
        ZG_MAJORDOMO_BROKER_METRICS: "127.0.0.1:0",
      },
    );
    expect(r).toMatchObject({
      values: {
        heartbeatInterval: 1000,
        liveness: 5,
        titanic: true,
        metrics: "127.0.0.1:0",
        endpoint: ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "ipc:///tmp/x"],
      },
    });
    expect(parse([], { ZG_MAJORDOMO_BROKER_TITANIC: "yes" })).toMatchObject({
      values: { titanic: true },
    });
  });

  it("parses durations", () => {
    expect(parseDuration("2500")).toBe(2500);
    expect(parseDuration("2500ms")).toBe(2500);
    expect(parseDuration("2.5s")).toBe(2500);
    expect(parseDuration("1m")).toBe(60_000);
    expect(parseDuration("soon")).toBeNaN();
  });

  it.each([
    [
      ["--heartbeat-interval", "fast"],
      "heartbeatInterval",
      /--heartbeat-interval: expected a duration/,
    ],
    [["--liveness", "0"], "liveness", /--liveness: must be at least 1/],
    [["--liveness", "-3"], "liveness", /--liveness: must not be negative, got -3/],
    [["--liveness=-3"], "liveness", /--liveness: must not be negative, got -3/],
    [
      ["--heartbeat-interval", "-5s"],
      "heartbeatInterval",
      /--heartbeat-interval: must not be negative, got -5s/,
    ],
    [["--heartbeat-interval=-100"], "heartbeatInterval", /--heartbeat-interval: must not be/],
    [["--endpoint", "tcp://127.0.0.1:99999"], "endpoint", /port 99999 out of range 0..65535/],
    [["--endpoint", "tcp://127.0.0.1"], "endpoint", /missing :port/],
    [["--endpoint", "tcp://127.0.0.1:55x"], "endpoint", /malformed port "55x"/],
    [["--endpoint", "tcp://bad host:1"], "endpoint", /white space/],
    [["--endpoint", "foo://x"], "endpoint", /unknown transport "foo"/],
    [["--endpoint", "localhost:5555"], "endpoint", /not a ZeroMQ endpoint: "localhost:5555"/],
    [["--metrics", "9100"], "metrics", /expected host:port/],
    [["--log-level", "loud"], "logLevel", /expected one of trace, debug/],
  ])("rejects %j naming the option", (argv, option, message) => {
    let error: unknown;
    try {
      parse(argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ option, exitCode: 2 });
    expect((error as Error).message).toMatch(message);
  });

  it("rejects a malformed environment value naming the variable", () => {
    expect(() => parse([], { ZG_MAJORDOMO_BROKER_LIVENESS: "many" })).toThrow(
      /ZG_MAJORDOMO_BROKER_LIVENESS: expected a non-negative integer/,
    );
  });

  it("rejects unknown flags as usage errors", () => {
    expect(() => parse(["--frobnicate"])).toThrow(/Unknown option '--frobnicate'; see --help/);
  });

  it("asks for help", () => {
    expect(parse(["--help"])).toEqual({ help: true });
  });

  it("lists every option with its default and variable in --help", () => {
    const text = formatHelp(
      { name: "majordomo-broker", bin: "zg-majordomo-broker", description: "d", guide: "g" },
      specs,
    );
    for (const key of Object.keys(specs)) {
      expect(text).toContain(`--${flagName(key)}`);
      expect(text).toContain(envName("majordomo-broker", key));
    }
    expect(text).toContain("default: tcp://127.0.0.1:5555");
    expect(text).toContain("default: 2500 ms");
    expect(text).toContain("default: unset");
  });
});

describe("explainStartupError", () => {
  it("names the option holding an endpoint that failed to bind", () => {
    const cause = new ZgError(
      "ZG_SOCKET",
      "cannot bind tcp://127.0.0.1:5555: address already in use",
      { details: { endpoint: "tcp://127.0.0.1:5555", code: "EADDRINUSE" } },
    );
    const e = explainStartupError(cause, {
      frontend: ["tcp://127.0.0.1:5555"],
      backend: ["tcp://127.0.0.1:5556"],
    });
    expect(e).toMatchObject({ option: "frontend", exitCode: 1 });
  });

  it("names the option a component's validation error cites", () => {
    const e = explainStartupError(
      new ZgError("ZG_INVALID_ARGUMENT", "heartbeatInterval must be at least 10 ms"),
      { heartbeatInterval: 1, heartbeat: 2 },
    );
    expect(e).toMatchObject({ option: "heartbeatInterval", exitCode: 2 });
  });

  it("keeps other errors as they are", () => {
    expect(explainStartupError(new Error("boom"), {})).toMatchObject({
      message: "boom",
      option: undefined,
      exitCode: 1,
    });
  });
});
