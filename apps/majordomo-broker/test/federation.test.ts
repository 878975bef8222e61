import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { MajordomoClient, MajordomoWorker } from "@zg/pirate";
import { closeAfter, ipcEndpoint, waitFor } from "@zg/testing";
import { peerValues } from "../src/config.js";

const bin = builtBin(import.meta.url);

describe("zg-majordomo-broker --name --peer (federation, built bin)", () => {
  it("two federated brokers: a client on A is served by B's worker; per-peer metrics; JSON lines on peer join, loss and return", async () => {
    const peering = { A: ipcEndpoint("A"), B: ipcEndpoint("B") };
    const common = ["--endpoint", "tcp://127.0.0.1:*", "--state-interval", "50"];
    const a = spawnApp(bin, [
      ...common,
      "--metrics",
      "127.0.0.1:0",
      "--name",
      "A",
      "--peering-endpoint",
      peering.A,
      "--peer",
      `B=${peering.B}`,
    ]);
    const startB = (): ReturnType<typeof spawnApp> =>
      spawnApp(bin, [
        ...common,
        "--name",
        "B",
        "--peering-endpoint",
        peering.B,
        `--peer=A=${peering.A}`,
      ]);
    let b = startB();
    const readyA = await a.ready();
    expect(readyA.endpoints["peering"]).toEqual([peering.A]);
    const [epA] = readyA.endpoints["broker"] ?? [];
    const [epB] = (await b.ready()).endpoints["broker"] ?? [];
    await a.waitForLine((l) => l.msg === "federation peer joined" && l["peer"] === "B");

    const worker = closeAfter(
      new MajordomoWorker({
        broker: epB ?? "",
        service: "echo",
        handler: (r) => [Buffer.from("from B"), ...r],
      }),
    );
    await worker.start();
    const client = closeAfter(new MajordomoClient({ broker: epA ?? "", timeout: 5000 }));
    await client.start();
    await waitFor(
      async () => (await client.request("mmi.service", ["echo"]))[0]?.toString() === "200",
      { what: "A's MMI sees B's echo worker" },
    );
    expect((await client.request("echo", ["hello"])).map(String)).toEqual(["from B", "hello"]);
    const metrics = await (await fetch(String(readyA["metrics"]))).text();
    expect(metrics).toMatch(/^zg_majordomo_broker_federation_per_peer_up\{peer="B"\} 1$/m);
    expect(metrics).toMatch(
      /^zg_majordomo_broker_federation_per_peer_returned_total\{peer="B"\} 1$/m,
    );

    // B dies (kill -9) and comes back: one line each on A.
    await b.stop("SIGKILL");
    await a.waitForLine((l) => l.msg === "federation peer lost" && l["peer"] === "B");
    b = startB();
    await b.ready();
    await a.waitForLine((l) => l.msg === "federation peer returned" && l["peer"] === "B");
    await expectCleanStop(b);
    await expectCleanStop(a);
  });

  it("refuses federation options without --name, and a malformed --peer, naming the option", async () => {
    const noName = await runAppToExit(bin, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--peer",
      "B=tcp://127.0.0.1:1",
    ]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/--name: federation options need --name/);
    const badPeer = await runAppToExit(bin, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--name",
      "A",
      "--peering-endpoint",
      "tcp://127.0.0.1:*",
      "--peer",
      "nameonly",
    ]);
    expect(badPeer.code).toBe(2);
    expect(badPeer.stderr).toMatch(/--peer: expected NAME=ENDPOINT, got "nameonly"/);
  });

  it("--peer may be repeated or comma-separated", () => {
    expect(peerValues(["--peer", "B=x", "--peer=C=y,D=z"], "")).toEqual(["B=x", "C=y", "D=z"]);
    expect(peerValues([], "E=u, F=v")).toEqual(["E=u", "F=v"]);
  });
});
