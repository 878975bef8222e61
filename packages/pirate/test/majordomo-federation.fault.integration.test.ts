import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  checkHistory,
  closeAfter,
  FaultPlan,
  History,
  ipcEndpoint,
  spawnChild,
  tcpEndpoint,
  waitFor,
  type ChildHandle,
} from "@zg/testing";
import { echoLoad } from "./fixtures/federation-load.js";
import {
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
  type MajordomoBrokerOptions,
} from "../src/index.js";

const FED_BROKER = fileURLToPath(
  new URL("./fixtures/majordomo-federated-broker.ts", import.meta.url),
);
const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };
const FED = { stateInterval: 50, peerLiveness: 4 };

describe("Majordomo federation faults (real processes)", () => {
  // Clients on an edge broker E; two middle brokers M1, M2 (child processes) on the two paths
  // to the core broker K, whose workers serve an idempotent echo. A middle broker is kill -9'd
  // while E has requests in its hands (E's own figures say so), then restarted; the load runs
  // until 10 000 answered requests and 4 kills, however fast the machine is.
  test("kill -9 of a middle broker with forwarded requests in flight: re-routed, 0 lost, 0 duplicated, no client retry", async () => {
    const peering = { E: ipcEndpoint("E"), M1: ipcEndpoint("M1"), M2: ipcEndpoint("M2") };
    const K = closeAfter(
      new MajordomoBroker({
        endpoints: tcpEndpoint(),
        ...HB,
        federation: {
          name: "K",
          endpoints: ipcEndpoint("K"),
          accept: ["M1", "M2"],
          ...FED,
        },
      }),
    );
    const kEndpoint = (await K.start()).endpoints[0] as string;
    const kPeering = K.stats().federation?.endpoints[0] as string;
    const E = closeAfter(
      new MajordomoBroker({
        endpoints: tcpEndpoint(),
        ...HB,
        federation: {
          name: "E",
          endpoints: peering.E,
          peers: { M1: peering.M1, M2: peering.M2 },
          ...FED,
        },
      }),
    );
    const eEndpoint = (await E.start()).endpoints[0] as string;
    const middle = (name: "M1" | "M2"): Promise<ChildHandle> => {
      const options: MajordomoBrokerOptions = {
        endpoints: "tcp://127.0.0.1:*",
        ...HB,
        federation: {
          name,
          endpoints: peering[name],
          peers: { K: kPeering },
          accept: ["E"],
          ...FED,
        },
      };
      return spawnChild(FED_BROKER, { args: [JSON.stringify(options)] });
    };
    const mids = { M1: await middle("M1"), M2: await middle("M2") };
    for (let i = 0; i < 4; i++)
      await closeAfter(
        new MajordomoWorker({
          broker: kEndpoint,
          service: "echo",
          handler: (r) => r,
          ...HB,
        }),
      ).start();
    const routable = (m: string): boolean => (E.stats().federation?.perPeer[m]?.workers ?? 0) === 4;
    await waitFor(() => routable("M1") && routable("M2"), {
      timeout: 10_000,
      what: "K's 4 workers announced to E through both M1 and M2",
    });

    const history = new History();
    const plan = new FaultPlan({
      name: "Majordomo federation middle-broker kills",
      minRequests: 10_000,
      minFaults: 4,
      maxDuration: 80_000,
    });
    const clients = Array.from({ length: 8 }, () =>
      closeAfter(new MajordomoClient({ broker: eEndpoint, timeout: 5000, attempts: 3 })),
    );
    for (const c of clients) await c.start();
    const load = echoLoad(clients, history, plan);

    const detection: number[] = [];
    let inFlightAtKill = 0;
    for (let i = 0; !plan.loadDone; i++) {
      const name = i % 2 === 0 ? "M1" : "M2";
      await plan.untilAcks(plan.acks + 1500);
      if (plan.loadDone) break;
      // Kill while E has requests in the victim's hands (progress, not a clock beat).
      await waitFor(
        () => (E.stats().federation?.perPeer[name]?.inFlight ?? 0) > 0 || plan.loadDone,
        {
          timeout: 10_000,
          interval: 1,
          what: `requests in ${name}'s hands`,
        },
      );
      if (plan.loadDone) break;
      inFlightAtKill += E.stats().federation?.perPeer[name]?.inFlight ?? 0;
      const losses = E.stats().federation?.perPeer[name]?.losses ?? 0;
      const killedAt = performance.now();
      await mids[name].kill("SIGKILL");
      plan.requireAcks(plan.acks + 1000);
      plan.fault();
      await waitFor(() => (E.stats().federation?.perPeer[name]?.losses ?? 0) > losses, {
        timeout: 10_000,
        interval: 1,
        what: `E notices ${name} is gone`,
      });
      detection.push(performance.now() - killedAt);
      await mids[name].start();
      await waitFor(() => routable(name), {
        timeout: 10_000,
        what: `${name} routable again after its restart`,
      });
    }
    await load;
    const report = checkHistory(history, { delivered: "acks" });
    const fed = E.stats().federation;
    const retries = clients.reduce((n, c) => n + c.stats().timeouts, 0);
    console.log(
      plan.summary(
        `${inFlightAtKill} requests in the victim's hands at the kills, ${fed?.failed} failed over, ` +
          `${fed?.lateReplies} late replies dropped, client retries ${retries}, ` +
          `loss detected in max ${Math.max(...detection).toFixed(0)} ms, p99 ${report.latency.p99.toFixed(1)} ms`,
      ),
    );
    plan.check();
    expect(inFlightAtKill, "requests were in flight at the kills").toBeGreaterThan(0);
    expect(fed?.failed, "E failed over what the dead brokers held").toBeGreaterThan(0);
    expect(report.failed).toBe(0);
    expect(report.acked).toBe(report.attempted);
    expect(report.lost.total).toBe(0);
    expect(report.duplicateAcks).toEqual([]);
    expect(history.events.filter((e) => e.kind === "info")).toEqual([]);
    // Nothing was lost silently: no client ever had to time out and retry.
    expect(retries).toBe(0);
  }, 120_000);
});
