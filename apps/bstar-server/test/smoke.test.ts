import { describe, expect, it } from "vitest";
import {
  builtBin,
  expectCleanStop,
  runAppToExit,
  spawnApp,
  type AppProcess,
} from "@zg/app-kit/testing";
import { BinaryStarClient } from "@zg/pirate/bstar";
import { closeAfter, ipcEndpoint } from "@zg/testing";

const bin = builtBin(import.meta.url);

function transitions(app: AppProcess): string[] {
  return app.lines
    .filter((l) => typeof l.msg === "string" && l.msg.startsWith("state "))
    .map((l) => String(l["state"]));
}

async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(url)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m === null ? undefined : Number(m[1]);
}

describe("zg-bstar-server (built bin)", () => {
  it("--help names both roles and the Guide ports", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--primary");
    expect(r.stdout).toContain("--backup");
    expect(r.stdout).toContain("5001");
  });

  it("refuses neither or both roles with exit code 2", async () => {
    const none = await runAppToExit(bin, []);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/exactly one of --primary or --backup/);
    const both = await runAppToExit(bin, ["--primary", "--backup"]);
    expect(both.code).toBe(2);
  });

  it("--watch runs a witness that reports both servers; --watch with a role is refused", async () => {
    const st = { p: ipcEndpoint("p"), b: ipcEndpoint("b") };
    const w = ipcEndpoint("w");
    const common = ["--heartbeat", "100", "--frontend", "tcp://127.0.0.1:*"];
    const witness = spawnApp(bin, [
      "--watch",
      `${st.p},${st.b}`,
      "--witness-bind",
      w,
      "--heartbeat",
      "100",
    ]);
    expect((await witness.ready()).endpoints["witness"]).toEqual([w]);
    const primary = spawnApp(bin, [
      "--primary",
      "--state-bind",
      st.p,
      "--peer",
      st.b,
      "--witness",
      w,
      ...common,
    ]);
    const backup = spawnApp(bin, [
      "--backup",
      "--state-bind",
      st.b,
      "--peer",
      st.p,
      "--witness",
      w,
      "--metrics",
      "127.0.0.1:0",
      ...common,
    ]);
    const br = await backup.ready();
    await primary.waitForLine((l) => l["state"] === "active");
    await backup.waitForLine((l) => l["state"] === "passive");
    const deadline = performance.now() + 5000;
    while (
      ((await metric(String(br["metrics"]), "zg_bstar_server_witness_messages_total")) ?? 0) < 2
    ) {
      if (performance.now() > deadline) throw new Error("the backup never heard the witness");
      await new Promise((r) => setTimeout(r, 50));
    }
    await expectCleanStop(witness);
    const bad = await runAppToExit(bin, ["--primary", "--watch", `${st.p},${st.b}`]);
    expect(bad.code).toBe(2);
  });

  it("a pair: primary active, backup passive, echo served, failover on kill -9 with state logs and metrics, clean stop", async () => {
    const st = { p: ipcEndpoint("p"), b: ipcEndpoint("b") };
    const common = [
      "--heartbeat",
      "100",
      "--frontend",
      "tcp://127.0.0.1:*",
      "--metrics",
      "127.0.0.1:0",
    ];
    const primary = spawnApp(bin, ["--primary", "--state-bind", st.p, "--peer", st.b, ...common]);
    const backup = spawnApp(bin, ["--backup", "--state-bind", st.b, "--peer", st.p, ...common]);
    const [pr, br] = await Promise.all([primary.ready(), backup.ready()]);
    expect(pr).toMatchObject({ app: "bstar-server", role: "primary" });
    await primary.waitForLine(
      (l) => l["state"] === "active" && l.msg === "state primary -> active",
    );
    await backup.waitForLine((l) => l["state"] === "passive");
    expect(await metric(String(br["metrics"]), "zg_bstar_server_state")).toBe(4);

    const client = closeAfter(
      new BinaryStarClient({
        servers: [pr.endpoints["frontend"]?.[0] ?? "", br.endpoints["frontend"]?.[0] ?? ""],
        timeout: 400,
        settle: 100,
      }),
    );
    await client.start();
    expect((await client.request("one")).map(String)).toEqual(["one"]);
    primary.proc.kill("SIGKILL");
    await primary.exited;
    expect((await client.request("two")).map(String)).toEqual(["two"]);
    await backup.waitForLine((l) => l["state"] === "active");
    expect(transitions(backup)).toEqual(["passive", "active"]);
    expect(await metric(String(br["metrics"]), "zg_bstar_server_state")).toBe(3);
    expect(await metric(String(br["metrics"]), "zg_bstar_server_failovers_total")).toBe(1);
    await client.close();
    await expectCleanStop(backup);
  });
});
