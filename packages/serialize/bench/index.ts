// @zg/serialize bench: encode+decode throughput and bytes on the wire for a
// Clone-style kv update and a small request/reply record, protobuf
// (reflection and static) vs JSON in the same run, and the codec layer's
// overhead against calling protobufjs directly.
//
//   pnpm --filter @zg/serialize bench
import { fileURLToPath } from "node:url";
import type { Codec } from "@zg/core";
import { BenchSuite } from "@zg/testing/bench";
import type protobuf from "protobufjs";
import {
  jsonCodec,
  loadProtoRootSync,
  protobufCodec,
  staticProtobufCodec,
  type ProtobufValue,
} from "../src/index.js";
import { zg } from "../src/generated/examples.js";

const ROUND_MS = Number(process.env["BENCH_ROUND_MS"] ?? 150);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 11);

type KeyValue = ProtobufValue<zg.examples.KeyValue>;
type EchoRequest = ProtobufValue<zg.examples.EchoRequest>;

// The same logical values as JSON must carry them: uint64 as a decimal
// string (a JSON number loses precision past 2^53), bytes as base64 / hex.
interface KeyValueJson {
  key: string;
  sequence: string;
  uuid: string;
  properties: Record<string, string>;
  body: string;
}
interface EchoRequestJson {
  id: number;
  text: string;
  priority: number;
  deadline: string;
}

const kv: KeyValue = {
  key: "/config/servers/alpha",
  sequence: 1_234_567_890_123n,
  uuid: Buffer.from("0123456789abcdeffedcba9876543210", "hex"),
  properties: { ttl: "30", owner: "node-7" },
  body: Buffer.alloc(100, 0x61).fill(0x7a, 50),
};
const request: EchoRequest = {
  id: 4242,
  text: "hello, echo service",
  priority: 2,
  deadline: 1_732_230_000_000n,
};

const kvJson = jsonCodec<KeyValueJson>();
const requestJson = jsonCodec<EchoRequestJson>();

/** JSON as a user of the JSON codec must do it for the same typed value. */
const kvViaJson: Codec<KeyValue> = {
  contentType: kvJson.contentType,
  encode: (v) =>
    kvJson.encode({
      key: v.key,
      sequence: v.sequence.toString(),
      uuid: Buffer.from(v.uuid).toString("hex"),
      properties: v.properties,
      body: Buffer.from(v.body).toString("base64"),
    }),
  decode: (frames) => {
    const j = kvJson.decode(frames);
    return {
      key: j.key,
      sequence: BigInt(j.sequence),
      uuid: Buffer.from(j.uuid, "hex"),
      properties: j.properties,
      body: Buffer.from(j.body, "base64"),
    };
  },
};
const requestViaJson: Codec<EchoRequest> = {
  contentType: requestJson.contentType,
  encode: (v) =>
    requestJson.encode({
      id: v.id,
      text: v.text,
      priority: v.priority,
      deadline: v.deadline.toString(),
    }),
  decode: (frames) => {
    const j = requestJson.decode(frames);
    return { id: j.id, text: j.text, priority: j.priority, deadline: BigInt(j.deadline) };
  },
};

const root = loadProtoRootSync(fileURLToPath(new URL("../proto/examples.proto", import.meta.url)));
const kvType = root.lookupType("zg.examples.KeyValue");
const requestType = root.lookupType("zg.examples.EchoRequest");
const kvReflection = protobufCodec<KeyValue>(kvType);
const kvStatic = staticProtobufCodec(zg.examples.KeyValue);
const requestReflection = protobufCodec<EchoRequest>(requestType);
const requestStatic = staticProtobufCodec(zg.examples.EchoRequest);

let sink = 0;

const loops = new Map<
  Codec<unknown>,
  (codec: Codec<unknown>, value: unknown, n: number) => number
>();

/**
 * Encode+decode round trips per CPU second, measured over `ROUND_MS` of CPU time. Each codec gets its own
 * compiled loop (`new Function`), so one codec's type feedback cannot make
 * another's call sites megamorphic: the comparison then depends on the order
 * of the rows, not on the codecs.
 */
function roundTrips<T>(codec: Codec<T>, value: T): number {
  const c = codec as Codec<unknown>;
  let loop = loops.get(c);
  if (loop === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a fresh function per codec, on purpose (see above)
    loop = new Function(
      "codec",
      "value",
      "n",
      "let k = 0; for (let i = 0; i < n; i++) { if (codec.decode(codec.encode(value)) !== undefined) k++; } return k;",
    ) as (codec: Codec<unknown>, value: unknown, n: number) => number;
    loops.set(c, loop);
  }
  // CPU time of this process, not wall time: on a shared machine the
  // scheduler's pauses would otherwise land on whichever codec is running.
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let n = 0;
  const started = cpu();
  let now = started;
  while (now - started < ROUND_MS) {
    sink += loop(c, value, 500);
    n += 500;
    now = cpu();
  }
  return (n / (now - started)) * 1000;
}

/**
 * What a user calling protobufjs directly writes for the same typed value:
 * `encode(fromObject(v))` and `toObject(decode(bytes), { longs: BigInt, enums: Number, defaults: true })`,
 * with no size limit, no error wrapping and no frame handling.
 */
function direct<T>(type: {
  encode(m: object): protobuf.Writer;
  decode(r: Uint8Array): object;
  fromObject(o: Record<string, unknown>): object;
  toObject(m: object, o: protobuf.IConversionOptions): Record<string, unknown>;
}): Codec<T> {
  const options: protobuf.IConversionOptions = { longs: BigInt, enums: Number, defaults: true };
  return {
    contentType: "direct",
    encode: (v) => [type.encode(type.fromObject(v as Record<string, unknown>)).finish() as Buffer],
    decode: (frames) => type.toObject(type.decode(frames[0] as Buffer), options) as T,
  };
}

/** protobufjs with no conversions at all: message instances with Long fields (not a drop-in: the types differ). */
function rawProtobufjs(
  type: {
    encode(m: object): protobuf.Writer;
    decode(r: Uint8Array): object;
    create(o: Record<string, unknown>): object;
  },
  value: Record<string, unknown>,
): number {
  const message = type.create(value);
  return roundTrips<object>(
    {
      contentType: "raw",
      encode: (m) => [type.encode(m).finish() as Buffer],
      decode: (f) => type.decode(f[0] as Buffer),
    },
    message,
  );
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Like BenchSuite.compare, but the ratio is the median of per-pair ratios
 * (each pair = one baseline round and one subject round back to back, in
 * alternating order). On a shared, loaded machine this tracks the relative
 * speed far better than the ratio of two medians taken at different moments.
 */
function comparePairs(
  suite: BenchSuite,
  spec: {
    name: string;
    baseline: () => number;
    subject: () => number;
    target: number;
    extra?: () => Record<string, number | string>;
  },
): void {
  const b: number[] = [];
  const v: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let x: number;
    let y: number;
    if (i % 2 === 0) {
      x = spec.baseline();
      y = spec.subject();
    } else {
      y = spec.subject();
      x = spec.baseline();
    }
    b.push(x);
    v.push(y);
    ratios.push(y / x);
  }
  const sorted = [...ratios].sort((p, q) => p - q);
  const ratio = median(ratios);
  suite.record({
    name: spec.name,
    unit: "rt/s",
    value: median(v),
    baseline: median(b),
    ratio,
    target: spec.target,
    met: ratio >= spec.target,
    extra: {
      pairs: ROUNDS,
      ratioP25: sorted[Math.floor(ROUNDS / 4)] ?? 0,
      ratioP75: sorted[Math.floor((3 * ROUNDS) / 4)] ?? 0,
      ...(spec.extra?.() ?? {}),
    },
  });
}

const size = <T>(codec: Codec<T>, value: T): number =>
  codec.encode(value).reduce((n, f) => n + f.length, 0);

function main(): void {
  const suite = new BenchSuite("@zg/serialize");
  const shapes = [
    {
      label: "kv update",
      json: kvViaJson as Codec<unknown>,
      reflection: kvReflection as Codec<unknown>,
      generated: kvStatic as Codec<unknown>,
      value: kv as unknown,
      type: kvType,
      directReflection: direct(kvType),
      directStatic: direct(zg.examples.KeyValue as unknown as Parameters<typeof direct>[0]),
    },
    {
      label: "request record",
      json: requestViaJson as Codec<unknown>,
      reflection: requestReflection as Codec<unknown>,
      generated: requestStatic as Codec<unknown>,
      value: request as unknown,
      type: requestType,
      directReflection: direct(requestType),
      directStatic: direct(zg.examples.EchoRequest as unknown as Parameters<typeof direct>[0]),
    },
  ];
  for (const s of shapes) {
    const jsonBytes = size(s.json, s.value);
    for (const [kind, codec] of [
      ["reflection", s.reflection],
      ["static", s.generated],
    ] as const) {
      comparePairs(suite, {
        name: `${s.label}: protobuf ${kind} vs JSON, encode+decode (baseline = JSON)`,
        baseline: () => roundTrips(s.json, s.value),
        subject: () => roundTrips(codec, s.value),
        target: 1.8,
      });
    }
    const pbBytes = size(s.generated, s.value);
    const ratio = pbBytes / jsonBytes;
    suite.record({
      name: `${s.label}: bytes on the wire, protobuf / JSON`,
      unit: "bytes",
      value: pbBytes,
      baseline: jsonBytes,
      ratio,
      target: 0.7,
      met: ratio <= 0.7,
      extra: { lowerIsBetter: "yes", reflectionBytes: size(s.reflection, s.value) },
    });
  }

  for (const s of shapes) {
    comparePairs(suite, {
      name: `${s.label}: codec vs protobufjs direct, reflection (baseline = direct)`,
      baseline: () => roundTrips(s.directReflection, s.value),
      subject: () => roundTrips(s.reflection, s.value),
      target: 0.9,
      extra: () => ({
        rawProtobufjsNoConversion: rawProtobufjs(
          s.type,
          s.type.fromObject(s.value as Record<string, unknown>),
        ),
      }),
    });
    comparePairs(suite, {
      name: `${s.label}: codec vs protobufjs direct, static (baseline = direct)`,
      baseline: () => roundTrips(s.directStatic, s.value),
      subject: () => roundTrips(s.generated, s.value),
      target: 0.9,
    });
  }
  suite.finish();
  if (sink === 0) process.stdout.write("(no work done)\n");
}

main();
