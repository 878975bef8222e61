import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const FIXTURE = fileURLToPath(new URL("./fixtures/discovery-netns.ts", import.meta.url));

/** Why a network namespace cannot be made here, or undefined when it can. */
function missing(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (unshare -n needs CAP_SYS_ADMIN)";
  const probe = spawnSync(
    "unshare",
    ["-n", "sh", "-c", "ip link set lo up && ip route add 255.255.255.255/32 dev lo"],
    {
      stdio: "ignore",
    },
  );
  if (probe.error !== undefined || probe.status !== 0)
    return "unshare -n / ip (iproute2) not usable";
  if (spawnSync("/usr/bin/python3", ["-c", "import socket"], { stdio: "ignore" }).status !== 0)
    return "/usr/bin/python3 missing (udpping interop peer)";
  return undefined;
}

const reason = missing();
const netnsTest = reason === undefined || process.env["CI"] ? test : test.skip;

netnsTest(
  `UDP discovery in a network namespace: ZRE beacons, leaving and expiry, garbage, udpping interop with a Python peer, an agent finding its server${reason === undefined ? "" : ` [skipped: ${reason}]`}`,
  async () => {
    expect(reason, `precondition: ${reason}`).toBeUndefined();
    const script = `ip link set lo up && ip route add 255.255.255.255/32 dev lo && exec "$0" --conditions=@zg/source --import tsx "$1"`;
    const child = spawn("unshare", ["-n", "sh", "-c", script, process.execPath, FIXTURE], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    expect(code, err).toBe(0);
    const r = JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;
    console.log(`discovery (netns): ${JSON.stringify(r)}`);
    expect(r["ports"]).toEqual([
      [7001, 7002],
      [7000, 7002],
      [7000, 7001],
    ]);
    expect(r["own"]).toEqual([true, true, true]);
    expect(r["leaving"]).toBe("leaving");
    expect(r["expiredAfter"] as number).toBeGreaterThanOrEqual(300); // 5 × 100 ms after the last of 3 beacons
    const ping = r["udpping"] as Record<string, number>;
    expect(ping["weHeardPython"]).toBeGreaterThan(0);
    expect(ping["pythonHeardUs"]).toBeGreaterThan(0);
    expect(r["discovered"]).toBe(true);
    expect(r["resolved"]).toEqual(["tcp://10.0.0.1:5555"]);
  },
  60_000,
);
