#!/usr/bin/env node
// The zg reference system (`pnpm start`): the Majordomo broker with Titanic and
// the Paranoid Pirate queue as separate processes on loopback, a name service
// (zns-server + zns-agent) through which the demo finds them, a Clone server
// holding the demo's live configuration, demo workers and clients, a live
// status, and a worker killed and restarted now and then.
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError, formatHelp, howToSet, parseOptions, type OptionValues } from "@zg/app-kit";
import { CloneClient } from "@zg/clone";
import { sleep } from "@zg/core";
import { resolveNames } from "./by-name.js";
import { options } from "./config.js";
import {
  CHAOS_SETTING,
  CLIENT_DEFAULTS,
  CONFIG_PREFIX,
  MAX_CHAOS_INTERVAL,
  MIN_CHAOS_INTERVAL,
  parseMs,
} from "./demo-config.js";
import type { ClientReport, DemoMessage, WorkerReport } from "./ipc.js";
import { namesFile, type NameTable } from "./names.js";
import { Child } from "./processes.js";
import { buildRows, renderStatus, type BrokerSnapshots } from "./status.js";

const NAME = "reference-system";
const BIN = "pnpm start";
const out = (line = ""): void => {
  process.stdout.write(`${line}\n`);
};

function parse(): OptionValues<typeof options> {
  try {
    const parsed = parseOptions(NAME, options, process.argv.slice(2), process.env);
    if (parsed.help) {
      out(
        formatHelp(
          {
            name: NAME,
            bin: BIN,
            description:
              "the zg reference system: brokers found by name (ZNS), demo workers and clients configured live through Clone, live status",
            guide:
              "Majordomo + Titanic and Paranoid Pirate patterns, chapter 4; Clone, chapter 5; the notes' name service",
          },
          options,
        ),
      );
      process.exit(0);
    }
    return parsed.values;
  } catch (error) {
    const e = error instanceof AppError ? error : new AppError(String(error));
    const hint = e.option !== undefined ? `; change ${howToSet(NAME, e.option)}` : "";
    process.stderr.write(`zg-reference-system: error: ${e.message}${hint}\n`);
    process.exit(e.exitCode);
  }
}

const opts = parse();
const demo = !opts.noDemo;
const isTty = process.stdout.isTTY === true;
const statusInterval = opts.statusInterval ?? (isTty ? 1000 : 5000);

const require = createRequire(import.meta.url);
const appBin = (pkg: string): string =>
  join(dirname(require.resolve(`${pkg}/package.json`)), "dist", "main.js");
const here = dirname(fileURLToPath(import.meta.url));

const runDir = mkdtempSync(join(tmpdir(), "zg-reference-"));
const logDir = join(runDir, "logs");
mkdirSync(logDir);
const started = performance.now();
const events: string[] = [];
const clock = (): string => new Date().toTimeString().slice(0, 8);
const event = (text: string): void => {
  events.push(`${clock()} ${text}`);
  if (events.length > 6) events.shift();
  if (!isTty) out(`event: ${text}`);
};

let stopping = false;
let exitCode = 0;
const timers: ReturnType<typeof setTimeout>[] = [];
const brokers: Child[] = [];
const workers: { child: Child; key: string }[] = [];
const clients: Child[] = [];
const consoles: Child[] = [];
/** The name service and the Clone server: started first, stopped last. */
const services: Child[] = [];
let settings: CloneClient | undefined;
const restarts = new Map<string, number>();
let totalRestarts = 0;
const exitCodes = new Map<string, number | string>();

function onExit(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
  exitCodes.set(child.spec.name, code ?? signal ?? "?");
  if (stopping || child.expectedExit) return;
  if (brokers.includes(child) || services.includes(child)) {
    event(
      `${child.spec.name} exited unexpectedly (${code ?? signal}); see ${join(logDir, `${child.spec.name}.log`)}`,
    );
    exitCode = 1;
    void shutdown();
    return;
  }
  const w = workers.find((x) => x.child === child);
  if (w) {
    event(`${child.spec.name} exited unexpectedly (${code ?? signal}); restarting`);
    scheduleRestart(w, 1000);
  }
}

function scheduleRestart(w: { child: Child; key: string }, delay: number): void {
  timers.push(
    setTimeout(() => {
      if (stopping) return;
      w.child.start().then(
        () => {
          restarts.set(w.key, (restarts.get(w.key) ?? 0) + 1);
          event(`restarted ${w.child.spec.name} (pid ${w.child.pid})`);
          totalRestarts += 1;
          if (opts.untilRestarts > 0 && totalRestarts >= opts.untilRestarts) void shutdown();
        },
        (error: unknown) =>
          event(
            `restart of ${w.child.spec.name} failed: ${(error as Error).message.split("\n")[0]}`,
          ),
      );
    }, delay),
  );
}

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const t of timers) clearTimeout(t);
  if (isTty) out();
  out("stopping: demo clients, then workers, then brokers, then the name service and Clone…");
  const stopAll = async (list: Child[]): Promise<void> => {
    const results = await Promise.all(list.map(async (c) => [c, await c.stop()] as const));
    for (const [c, how] of results)
      if (how === "killed") out(`  ${c.spec.name} did not stop in time: killed`);
  };
  await stopAll([...consoles, ...clients]);
  await stopAll(workers.map((w) => w.child));
  await stopAll(brokers);
  await settings?.close().catch(() => undefined);
  await stopAll(services);
  const all = [...consoles, ...clients, ...workers.map((w) => w.child), ...brokers, ...services];
  for (const c of all) c.closeLog();
  for (const b of [...brokers, ...services]) {
    const code = exitCodes.get(b.spec.name);
    out(`  ${b.spec.name} exited ${code}`);
    if (code !== 0 && exitCode === 0) exitCode = 1;
  }
  if (all.some((c) => c.alive)) exitCode = 1;
  if (exitCode === 0 && !opts.keepLogs) rmSync(runDir, { recursive: true, force: true });
  else out(`logs and Titanic data kept in ${runDir}`);
  out(`stopped: ${all.length} processes, none left running`);
  process.exit(exitCode);
}

let signals = 0;
const onSignal = (): void => {
  signals += 1;
  if (signals > 1) {
    for (const c of [
      ...consoles,
      ...clients,
      ...workers.map((w) => w.child),
      ...brokers,
      ...services,
    ])
      c.kill("SIGKILL");
    process.exit(130);
  }
  void shutdown();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

async function fetchStats(url: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (url === undefined) return undefined;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(800) });
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the agent answers `name` with `expected` (it has the central
 * server's table): bounded, so a name service that never syncs fails the start.
 */
async function untilResolved(agent: string, name: string, expected: string): Promise<void> {
  const bound = 15_000;
  const deadline = performance.now() + bound;
  let last = "no answer yet";
  while (performance.now() < deadline && !stopping) {
    try {
      const found = (await resolveNames(agent, [name]))[name] ?? [];
      if (found.includes(expected)) return;
      last = `answered ${found.join(" ")}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(
    `the zns agent did not resolve ${name} to ${expected} within ${bound} ms (${last})`,
  );
}

// Chaos: one worker killed every `chaosInterval` ms; the interval follows Clone's config/demo/chaos-interval.
let chaosInterval = opts.chaosInterval;
let chaosTimer: ReturnType<typeof setInterval> | undefined;
let chaosStarted = false;
let chaosTurn = 0;

function chaosKill(): void {
  if (stopping) return;
  const pool = workers.filter(
    (w) => w.child.alive && (chaosTurn % 2 === 0 ? w.key.startsWith("mdp") : w.key === "ppp"),
  );
  chaosTurn += 1;
  const victim = pool[Math.floor(Math.random() * pool.length)];
  if (!victim) return;
  victim.child.expectedExit = true;
  event(
    `killed ${victim.child.spec.name} (pid ${victim.child.pid}) with SIGKILL; restart in 1.5 s`,
  );
  victim.child.kill("SIGKILL");
  scheduleRestart(victim, 1500);
}

function scheduleChaos(): void {
  if (chaosTimer !== undefined) clearInterval(chaosTimer);
  chaosTimer = undefined;
  if (chaosInterval <= 0 || stopping) return;
  chaosTimer = setInterval(chaosKill, chaosInterval);
  timers.push(chaosTimer);
}

function onChaosSetting(text: string | undefined): void {
  const key = `${CONFIG_PREFIX}${CHAOS_SETTING}`;
  const parsed = parseMs(text, 0, MAX_CHAOS_INTERVAL);
  if (!parsed.ok || (parsed.value > 0 && parsed.value < MIN_CHAOS_INTERVAL)) {
    event(
      `launcher rejected ${key} = ${JSON.stringify(text)}: expected 0 or ${MIN_CHAOS_INTERVAL}..${MAX_CHAOS_INTERVAL} ms`,
    );
    return;
  }
  if (parsed.value === chaosInterval) return;
  const previous = chaosInterval;
  chaosInterval = parsed.value;
  event(
    `launcher applied ${key} = ${chaosInterval} ms (was ${previous} ms): ${chaosInterval === 0 ? "no more worker kills" : `a worker killed every ${chaosInterval} ms`}`,
  );
  if (chaosStarted) scheduleChaos();
}

/**
 * Connects the launcher's Clone client (it applies the chaos interval) and
 * seeds the demo's configuration with the values the demo starts with.
 */
async function seedConfig(servers: {
  snapshot: string;
  publisher: string;
  collector: string;
}): Promise<void> {
  const client = new CloneClient({ servers, subtree: CONFIG_PREFIX });
  settings = client;
  client.on("update:applied", ({ key, value }) => {
    if (key === `${CONFIG_PREFIX}${CHAOS_SETTING}`) onChaosSetting(value?.toString("utf8"));
  });
  await client.start();
  await client.waitSynced({ timeout: 20_000 });
  await Promise.all([
    ...Object.entries(CLIENT_DEFAULTS).map(([k, v]) =>
      client.set(`${CONFIG_PREFIX}${k}`, String(v)),
    ),
    client.set(`${CONFIG_PREFIX}${CHAOS_SETTING}`, String(opts.chaosInterval)),
  ]);
}

/** A configuration change the demo client applied or rejected: one event line. */
function onConfigReport(message: DemoMessage): void {
  if (message.type !== "config") return;
  if (message.rejected !== undefined)
    event(
      `demo-client rejected ${message.key} = ${JSON.stringify(message.value)}: ${message.rejected}`,
    );
  else
    event(
      `demo-client applied ${message.key} = ${message.applied} ms (was ${message.previous} ms)`,
    );
}

/** The status line of the live configuration. */
function configNote(client: ClientReport | undefined): string {
  const periods = Object.entries(client?.config ?? {})
    .map(([k, v]) => `${k} ${v} ms`)
    .join(", ");
  return `config (Clone ${CONFIG_PREFIX}): ${periods === "" ? "demo client not reporting yet" : `${periods} (demo-client)`}, ${CHAOS_SETTING} ${chaosInterval} ms (launcher)`;
}

async function main(): Promise<void> {
  out(`zg reference system: starting (process logs in ${logDir})`);
  // The log broker feeds the console's error console: the brokers send their log lines to it.
  let logEndpoint: string | undefined;
  if (!opts.noConsole) {
    const lb = new Child(
      {
        name: "log-broker",
        module: appBin("@zg/app-log-broker"),
        args: [
          "--dir",
          join(runDir, "log-broker"),
          "--endpoint",
          "tcp://127.0.0.1:*",
          "--metrics",
          "127.0.0.1:0",
        ],
      },
      logDir,
      onExit,
    );
    brokers.push(lb);
    try {
      await lb.start();
    } catch (error) {
      process.stderr.write(
        `zg-reference-system: error: the log broker did not start: ${(error as Error).message}\n`,
      );
      exitCode = 1;
      await shutdown();
      return;
    }
    logEndpoint = lb.readyLine?.endpoints["endpoint"]?.[0];
  }
  const toLogBroker = logEndpoint === undefined ? [] : ["--log-broker", logEndpoint];
  /** An app of the system: metrics on a free loopback port, logs to the log broker. */
  const appChild = (name: string, pkg: string, args: string[]): Child =>
    new Child(
      {
        name,
        module: appBin(pkg),
        args: [...args, "--metrics", "127.0.0.1:0", ...toLogBroker],
      },
      logDir,
      onExit,
    );
  // --federation: broker A (this one, with Titanic) and broker B peer over ipc in the run directory.
  const peering = { A: `ipc://${join(runDir, "a.peer")}`, B: `ipc://${join(runDir, "b.peer")}` };
  const federate = (self: "A" | "B", other: "A" | "B"): string[] =>
    opts.federation
      ? [
          "--name",
          self,
          "--peering-endpoint",
          peering[self],
          "--peer",
          `${other}=${peering[other]}`,
        ]
      : [];
  const md = appChild("majordomo-broker", "@zg/app-majordomo-broker", [
    "--endpoint",
    "tcp://127.0.0.1:*",
    "--heartbeat-interval",
    String(opts.heartbeatInterval),
    "--titanic",
    "--data-dir",
    join(runDir, "titanic"),
    "--fsync",
    "interval",
    ...federate("A", "B"),
  ]);
  const mdB = opts.federation
    ? appChild("majordomo-broker-b", "@zg/app-majordomo-broker", [
        "--endpoint",
        "tcp://127.0.0.1:*",
        "--heartbeat-interval",
        String(opts.heartbeatInterval),
        ...federate("B", "A"),
      ])
    : undefined;
  const pp = appChild("ppqueue", "@zg/app-ppqueue", [
    "--frontend",
    "tcp://127.0.0.1:*",
    "--backend",
    "tcp://127.0.0.1:*",
  ]);
  // The Clone server holds the demo's runtime configuration (subtree config/demo/).
  const any3 = ["tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"].join(",");
  const clone = appChild("clone-server", "@zg/app-clone-server", ["--bind", any3]);
  brokers.push(md, pp, ...(mdB === undefined ? [] : [mdB]));
  services.push(clone);
  try {
    await Promise.all([md.start(), pp.start(), mdB?.start(), clone.start()]);
  } catch (error) {
    process.stderr.write(
      `zg-reference-system: error: a broker did not start: ${(error as Error).message}\n`,
    );
    exitCode = 1;
    await shutdown();
    return;
  }
  const mdEndpoint = md.readyLine?.endpoints["broker"]?.[0] ?? "";
  const ppFrontend = pp.readyLine?.endpoints["frontend"]?.[0] ?? "";
  const ppBackend = pp.readyLine?.endpoints["backend"]?.[0] ?? "";
  const mdStats = md.readyLine?.["stats"] as string | undefined;
  const ppStats = pp.readyLine?.["stats"] as string | undefined;
  const lb = logEndpoint === undefined ? undefined : brokers[0];
  const mdBEndpoint = mdB?.readyLine?.endpoints["broker"]?.[0] ?? "";
  const mdBStats = mdB?.readyLine?.["stats"] as string | undefined;
  const endpoints = [
    ...(lb === undefined
      ? []
      : [
          `log broker                 pid ${lb.pid}  ${logEndpoint}   metrics ${String(lb.readyLine?.["metrics"])}`,
        ]),
    `majordomo broker + titanic  pid ${md.pid}  ${mdEndpoint}   metrics ${String(md.readyLine?.["metrics"])}${opts.federation ? "   federation A" : ""}`,
    ...(mdB === undefined
      ? []
      : [
          `majordomo broker B         pid ${mdB.pid}  ${mdBEndpoint}   metrics ${String(mdB.readyLine?.["metrics"])}   federation B, peer of A`,
        ]),
    `paranoid pirate queue       pid ${pp.pid}  clients ${ppFrontend}  workers ${ppBackend}   metrics ${String(pp.readyLine?.["metrics"])}`,
  ];
  const cloneEndpoints = {
    snapshot: clone.readyLine?.endpoints["snapshot"]?.[0] ?? "",
    publisher: clone.readyLine?.endpoints["publisher"]?.[0] ?? "",
    collector: clone.readyLine?.endpoints["collector"]?.[0] ?? "",
  };
  const cloneServerArg = Object.values(cloneEndpoints).join(",");
  endpoints.push(
    `clone server               pid ${clone.pid}  ${cloneEndpoints.snapshot} (snapshot; publisher ${cloneEndpoints.publisher}, collector ${cloneEndpoints.collector})   metrics ${String(clone.readyLine?.["metrics"])}`,
  );
  let presenceEndpoint: string | undefined;
  if (!opts.noConsole) {
    const lbStats = brokers[0]?.readyLine?.["stats"] as string | undefined;
    const targets = [
      ["majordomo", mdStats],
      ["ppqueue", ppStats],
      ["majordomo-b", mdBStats],
      ["clone-server", clone.readyLine?.["stats"] as string | undefined],
      ["log-broker", lbStats],
    ]
      .filter(([, url]) => url !== undefined)
      .map(([name, url]) => `${name}=${url}`)
      .join(",");
    const web = new Child(
      {
        name: "console",
        module: appBin("@zg/app-console"),
        args: [
          "--listen",
          opts.console,
          "--targets",
          targets,
          "--presence",
          "tcp://127.0.0.1:*",
          ...(logEndpoint === undefined ? [] : ["--logs", logEndpoint]),
        ],
      },
      logDir,
      onExit,
    );
    consoles.push(web);
    try {
      await web.start();
      presenceEndpoint = web.readyLine?.endpoints["presence"]?.[0];
      endpoints.push(
        `web console                pid ${web.pid}  ${String(web.readyLine?.["url"])}  (presence ${presenceEndpoint})`,
      );
    } catch (error) {
      event(`the web console did not start: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  // The name service: a names file written from the endpoints the processes bound, the
  // central zns-server publishing it, one zns-agent the demo processes ask (ipc:// in the run dir).
  const table: NameTable = {
    majordomo: [mdEndpoint],
    titanic: [mdEndpoint],
    ...(mdB === undefined ? {} : { "majordomo-b": [mdBEndpoint] }),
    "ppqueue-frontend": [ppFrontend],
    "ppqueue-backend": [ppBackend],
    ...(logEndpoint === undefined ? {} : { "log-broker": [logEndpoint] }),
    ...(presenceEndpoint === undefined ? {} : { "console-presence": [presenceEndpoint] }),
    clone: [cloneEndpoints.snapshot, cloneEndpoints.publisher, cloneEndpoints.collector],
  };
  const namesPath = join(runDir, "names.zpl");
  writeFileSync(namesPath, namesFile(table));
  let agentEndpoint = "";
  try {
    const zs = appChild("zns-server", "@zg/app-zns-server", [
      "--names",
      namesPath,
      "--endpoint",
      "tcp://127.0.0.1:*",
    ]);
    services.push(zs);
    await zs.start();
    const feed = zs.readyLine?.endpoints["feed"]?.[0] ?? "";
    const agent = appChild("zns-agent", "@zg/app-zns-agent", [
      "--servers",
      feed,
      "--runtime-dir",
      join(runDir, "zns"),
    ]);
    services.push(agent);
    await agent.start();
    agentEndpoint = agent.readyLine?.endpoints["lookup"]?.[0] ?? "";
    endpoints.push(
      `zns server                 pid ${zs.pid}  feed ${feed}  names ${namesPath}   metrics ${String(zs.readyLine?.["metrics"])}`,
      `zns agent                  pid ${agent.pid}  ${agentEndpoint}   metrics ${String(agent.readyLine?.["metrics"])}`,
    );
    await Promise.all([
      untilResolved(agentEndpoint, "majordomo", mdEndpoint),
      demo ? seedConfig(cloneEndpoints) : undefined,
    ]);
  } catch (error) {
    process.stderr.write(
      `zg-reference-system: error: the name service or the Clone configuration did not start: ${(error as Error).message}\n`,
    );
    exitCode = 1;
    await shutdown();
    return;
  }
  for (const line of endpoints) out(line);
  out(`ready: majordomo ${mdEndpoint}, ppqueue frontend ${ppFrontend} backend ${ppBackend}`);
  out(`names: ${Object.keys(table).join(", ")} (zg-zns resolve NAME --agent ${agentEndpoint})`);
  out(
    `config: Clone subtree ${CONFIG_PREFIX} (zg-clone --server ${cloneServerArg} set ${CONFIG_PREFIX}echo-period 50)`,
  );
  const url = consoles[0]?.readyLine?.["url"];
  if (typeof url === "string") out(`console: ${url}`);

  if (demo) {
    const workerModule = join(here, "demo-worker.js");
    const brokerOfB = mdB === undefined ? "majordomo" : "majordomo-b";
    const plan: { name: string; key: string; args: string[] }[] = [
      {
        name: "mdp-echo-1",
        key: "mdp echo",
        args: ["--kind", "mdp", "--service", "echo", "--broker", "majordomo"],
      },
      // With --federation the second echo worker and the slow worker serve broker B; clients stay on A.
      {
        name: "mdp-echo-2",
        key: "mdp echo",
        args: ["--kind", "mdp", "--service", "echo", "--broker", brokerOfB],
      },
      {
        name: "mdp-slow-1",
        key: "mdp slow",
        args: ["--kind", "mdp", "--service", "slow", "--broker", brokerOfB],
      },
      {
        name: "ppp-echo-1",
        key: "ppp",
        args: ["--kind", "ppp", "--service", "echo", "--broker", "ppqueue-backend"],
      },
      {
        name: "ppp-echo-2",
        key: "ppp",
        args: ["--kind", "ppp", "--service", "echo", "--broker", "ppqueue-backend"],
      },
      {
        name: "ppp-slow-1",
        key: "ppp",
        args: ["--kind", "ppp", "--service", "slow", "--broker", "ppqueue-backend"],
      },
    ];
    for (const p of plan) {
      const hb = p.args[1] === "mdp" ? String(opts.heartbeatInterval) : "1000";
      const child = new Child(
        {
          name: p.name,
          module: workerModule,
          args: [
            ...p.args,
            "--agent",
            agentEndpoint,
            "--heartbeat-interval",
            hb,
            "--delay",
            String(opts.slowDelay),
            "--config",
            cloneServerArg,
            ...(presenceEndpoint === undefined
              ? []
              : ["--presence", "console-presence", "--name", p.name]),
          ],
        },
        logDir,
        onExit,
      );
      workers.push({ child, key: p.key });
    }
    const client = new Child(
      {
        name: "demo-client",
        module: join(here, "demo-client.js"),
        args: ["--agent", agentEndpoint],
      },
      logDir,
      onExit,
    );
    client.onMessage = (_, message) => onConfigReport(message);
    clients.push(client);
    await Promise.all(workers.map((w) => w.child.start()));
    await client.start();
    for (const w of workers) out(`started ${w.child.spec.name} pid ${w.child.pid}`);
    out(
      `started demo-client pid ${client.pid}: mdp echo every ${CLIENT_DEFAULTS["echo-period"]} ms, mdp slow every ${CLIENT_DEFAULTS["slow-period"]} ms, ppp every ${CLIENT_DEFAULTS["ppp-period"]} ms, titanic every ${CLIENT_DEFAULTS["titanic-period"]} ms (live from Clone ${CONFIG_PREFIX})`,
    );
    chaosStarted = true;
    scheduleChaos();
  } else {
    out(
      "brokers only (--no-demo): connect the Guide's clients and workers, or zg's, to the endpoints above",
    );
  }
  out(isTty ? "" : `status every ${statusInterval / 1000} s; Ctrl-C stops everything`);

  let prev: BrokerSnapshots | undefined;
  const tick = async (): Promise<void> => {
    const [majordomo, ppqueue, majordomoB] = await Promise.all([
      fetchStats(mdStats),
      fetchStats(ppStats),
      fetchStats(mdBStats),
    ]);
    if (stopping) return;
    const cur: BrokerSnapshots = { majordomo, ppqueue, majordomoB, at: performance.now() };
    const reports = new Map<string, WorkerReport[]>();
    for (const w of workers) {
      const r = w.child.lastReport;
      if (r?.type === "worker") reports.set(w.key, [...(reports.get(w.key) ?? []), r]);
    }
    const client = clients[0]?.lastReport as ClientReport | undefined;
    const { rows, notes } = buildRows(prev, cur, {
      workers: reports,
      client: client?.type === "client" ? client : undefined,
      restarts,
    });
    prev = cur;
    if (demo) notes.push(configNote(client?.type === "client" ? client : undefined));
    const lines = renderStatus({
      uptimeMs: performance.now() - started,
      clock: clock(),
      endpoints,
      rows,
      notes,
      events: isTty ? events : [],
    });
    if (isTty) process.stdout.write(`\x1b[H\x1b[J${lines.join("\n")}\n`);
    else out(["--- status ---", ...lines.slice(endpoints.length + 2)].join("\n"));
  };
  // Rates need two snapshots: take the first one now, show from the next tick.
  prev = {
    majordomo: await fetchStats(mdStats),
    ppqueue: await fetchStats(ppStats),
    at: performance.now(),
  };
  const status = setInterval(() => void tick(), statusInterval);
  timers.push(status);
  if (opts.duration > 0) timers.push(setTimeout(() => void shutdown(), opts.duration));
}

main().catch((error: unknown) => {
  process.stderr.write(`zg-reference-system: error: ${(error as Error).message}\n`);
  exitCode = 1;
  void shutdown();
});
