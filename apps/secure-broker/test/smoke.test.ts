import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { loadCertificate, runKeysCli, SecureTopicClient } from "@zg/secure-pubsub";
import { closeAfter, tempDir, waitFor } from "@zg/testing";

const bin = builtBin(import.meta.url);
const ephemeral = ["--frontend", "tcp://127.0.0.1:*", "--key-service", "tcp://127.0.0.1:*"];
const quiet = () => undefined;

/** The README quick start's files: an issuer, alice (publishes news/*), bob (subscribes news/*). */
function setup() {
  const dir = tempDir("zg-secure-broker-");
  const d = (p: string) => join(dir, p);
  mkdirSync(d("allow"));
  runKeysCli(["new", "issuer", "--dir", d("issuer")], quiet);
  for (const who of ["alice", "bob"]) {
    runKeysCli(["new", who, "--dir", d("clients")], quiet);
    copyFileSync(d(`clients/${who}.key`), d(`allow/${who}.key`));
  }
  const token = (who: string, grant: string[]) =>
    runKeysCli(
      [
        "token",
        "--issuer",
        d("issuer/issuer.key_secret"),
        "--for",
        d(`clients/${who}.key`),
        ...grant,
        "--out",
        d(`${who}.token`),
      ],
      quiet,
    );
  token("alice", ["--publish", "news/*"]);
  token("bob", ["--subscribe", "news/*"]);
  return { dir, d };
}

describe("zg-secure-broker (built bin)", () => {
  it("starts with --keys --allow --issuer, carries one end-to-end encrypted message, and stops cleanly", async () => {
    const { d } = setup();
    const app = spawnApp(bin, [
      ...ephemeral,
      "--keys",
      d("keys"),
      "--allow",
      d("allow"),
      "--issuer",
      d("issuer/issuer.key"),
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({
      app: "secure-broker",
      allowedKeys: 2,
      generatedKeys: true,
      domain: "zg",
    });
    expect(readFileSync(d("keys/broker.key_secret"), "utf8")).toContain("secret-key");
    const [frontend] = ready.endpoints["frontend"] ?? [];
    const [keyService] = ready.endpoints["keyService"] ?? [];
    const issuer = loadCertificate(d("issuer/issuer.key")).metadata["sign-public-key"] as string;
    const client = (who: string) =>
      closeAfter(
        new SecureTopicClient({
          broker: frontend as string,
          keyService: keyService as string,
          secretKey: loadCertificate(d(`clients/${who}.key_secret`)).secretKey as string,
          token: readFileSync(d(`${who}.token`)),
          brokerServerKey: loadCertificate(d("keys/broker.key")).publicKey,
          servicePublicKey: loadCertificate(d("keys/key-service.key")).publicKey,
          keyServiceCurve: true,
          issuers: [issuer],
        }),
      );
    const bob = client("bob");
    const got: string[] = [];
    bob.on("message:decrypted", (m) => got.push(Buffer.from(m.payload).toString()));
    await bob.start();
    await bob.subscribe("news/a");
    const alice = client("alice");
    await alice.start();
    await alice.publish("news/a", [Buffer.from("hello, bob")], { ack: true });
    await waitFor(() => got.length === 1, { what: "bob decrypts alice's message" });
    expect(got).toEqual(["hello, bob"]);
    await alice.close();
    await bob.close();
    await expectCleanStop(app);
  });

  it("refuses to start without --issuer, with one line and exit code 2", async () => {
    const { d } = setup();
    const r = await runAppToExit(bin, [...ephemeral, "--keys", d("keys"), "--allow", d("allow")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--issuer is required");
  });
});
