#!/usr/bin/env node
// zg-secure-demo: a demo publisher / subscriber for zg-secure-broker (end-to-end encrypted).
//   subscribe --secret FILE --token FILE --keys DIR --issuer CERT --topic T [--count N]
//   publish   --secret FILE --token FILE --keys DIR --issuer CERT --topic T --message TEXT [--count N]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadCertificate, SecureTopicClient } from "@zg/secure-pubsub";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    secret: { type: "string" },
    token: { type: "string" },
    keys: { type: "string", default: "./keys" },
    issuer: { type: "string" },
    topic: { type: "string" },
    message: { type: "string", default: "hello" },
    count: { type: "string", default: "1" },
    broker: { type: "string", default: "tcp://127.0.0.1:5570" },
    "key-service": { type: "string", default: "tcp://127.0.0.1:5571" },
  },
});
const mode = positionals[0];
if (
  (mode !== "publish" && mode !== "subscribe") ||
  !values.secret ||
  !values.token ||
  !values.issuer ||
  !values.topic
) {
  process.stderr.write(
    "usage: zg-secure-demo publish|subscribe --secret FILE --token FILE --issuer CERT --topic T [--keys DIR] [--message TEXT] [--count N]\n",
  );
  process.exit(2);
}
const me = loadCertificate(values.secret);
const issuer = loadCertificate(values.issuer).metadata["sign-public-key"] ?? "";
const client = new SecureTopicClient({
  broker: values.broker,
  keyService: values["key-service"],
  secretKey: me.secretKey ?? "",
  token: readFileSync(values.token),
  brokerServerKey: loadCertificate(join(values.keys, "broker.key")).publicKey,
  servicePublicKey: loadCertificate(join(values.keys, "key-service.key")).publicKey,
  keyServiceCurve: true,
  issuers: [issuer],
});
const count = Number(values.count);
await client.start();
if (mode === "subscribe") {
  let n = 0;
  client.on("message:decrypted", (m) => {
    process.stdout.write(
      `${m.topic} epoch ${m.epoch} #${m.seq}: ${Buffer.from(m.payload).toString()}\n`,
    );
    if (++n >= count) void client.close();
  });
  client.on("message:rejected", (m) =>
    process.stdout.write(`${m.topic}: rejected (${m.reason})\n`),
  );
  await client.subscribe(values.topic);
  process.stdout.write(`subscribed to ${values.topic}\n`);
  await client.closed;
} else {
  for (let i = 0; i < count; i++)
    await client.publish(values.topic, [Buffer.from(values.message)], { ack: true });
  process.stdout.write(`published ${count} on ${values.topic}\n`);
  await client.close();
}
