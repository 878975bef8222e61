import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { createSocket } from "@zg/core";
import { closeAfter, delay, tcpEndpoint, waitFor, watchStalls } from "@zg/testing";
import { HeartbeatMonitor, HeartbeatPublisher } from "../src/index.js";

describe("one-way heartbeat (PUB→SUB)", () => {
  test("the publisher heartbeats only when idle; the monitor reports alive, silent, dead and returned per publisher", async () => {
    // Restarting a publisher on the same endpoint needs a known port: take a free one from the kernel.
    const probe = createSocket(zmq.Publisher, { linger: 0 });
    await probe.bind(tcpEndpoint());
    const endpoint = probe.lastEndpoint as string;
    probe.close();
    await delay(20);
    const pub = new HeartbeatPublisher({ endpoints: endpoint, interval: 100 });
    await pub.start();
    const never = tcpEndpoint().replace("*", "1"); // nothing listens on port 1
    const got: string[] = [];
    const monitor = closeAfter(
      new HeartbeatMonitor({
        publishers: [endpoint, never],
        interval: 100,
        onMessage: (m, from) =>
          got.push(`${from === endpoint ? "A" : "?"}:${m[1]?.toString() ?? ""}`),
      }),
    );
    const events: string[] = [];
    monitor.on("publisher:alive", (e) =>
      events.push(`alive ${e.publisher === endpoint ? "A" : "N"} ${e.returned}`),
    );
    monitor.on("publisher:silent", (e) =>
      events.push(`silent ${e.publisher === endpoint ? "A" : "N"}`),
    );
    monitor.on("publisher:dead", (e) =>
      events.push(`dead ${e.publisher === endpoint ? "A" : "N"}`),
    );
    expect(monitor.publisherState(endpoint)).toBe("unknown");
    await monitor.start();
    await waitFor(() => monitor.publisherState(endpoint) === "alive", { what: "publisher alive" });
    // This process runs both the publisher and the monitor: if its event loop stalls for half an
    // interval, a heartbeat really is late and "silent" is the right report. Watch for that.
    const stalls = watchStalls();
    // Busy: data every 20 ms → no heartbeats.
    // (A whole interval between two publishes, a stalled scheduler, makes the line idle for real.)
    const hb0 = pub.stats().heartbeatsSent;
    let last = performance.now();
    let idleGaps = 0;
    for (let i = 0; i < 25; i++) {
      pub.publish(["weather", `t${i}`]);
      await delay(20);
      const now = performance.now();
      if (now - last >= 100) idleGaps++;
      last = now;
    }
    const busyBeats = pub.stats().heartbeatsSent - hb0;
    if (performance.now() - last >= 100) idleGaps++;
    expect(busyBeats).toBeLessThanOrEqual(1 + idleGaps);
    expect(got).toContain("A:t24");
    // Idle: heartbeats keep it alive and never reach the application.
    await delay(500);
    expect(pub.stats().heartbeatsSent - hb0).toBeGreaterThanOrEqual(3);
    const stateAfterIdle = monitor.publisherState(endpoint);
    expect(got.every((g) => g.startsWith("A:t"))).toBe(true);
    // The never-started publisher was judged from start.
    expect(monitor.publisherState(never)).toBe("dead");
    expect(events).toContain("dead N");
    // The publisher dies: silent after I, dead after L·I.
    stalls.stop();
    await pub.close();
    await waitFor(() => monitor.publisherState(endpoint) === "dead", {
      what: "publisher dead",
      timeout: 2000,
    });
    const ofA = events.filter((e) => e.endsWith(" A") || e.includes(" A "));
    if (stalls.max < 40) {
      expect(stateAfterIdle).toBe("alive");
      expect(ofA).toEqual(["alive A false", "silent A", "dead A"]);
    } else {
      // A stall of ≥ I/2 may add "silent" reports (never "dead": that takes L·I).
      process.stdout.write(`event loop stalled ${stalls.max.toFixed(0)} ms: ${ofA.join(", ")}\n`);
      expect(stateAfterIdle).not.toBe("dead");
      expect(ofA[0]).toBe("alive A false");
      expect(ofA.at(-1)).toBe("dead A");
      expect(ofA.slice(1, -1).every((e) => e === "silent A")).toBe(true);
    }
    // It comes back on the same endpoint: reported returned.
    const again = closeAfter(new HeartbeatPublisher({ endpoints: endpoint, interval: 100 }));
    await again.start();
    await waitFor(() => monitor.publisherState(endpoint) === "alive", {
      what: "publisher back",
      timeout: 3000,
    });
    expect(events.at(-1)).toBe("alive A true");
    expect(monitor.stats()).toMatchObject({ alive: 1, dead: 1, protocolErrors: 0 });
  });

  test("heartbeats are subscribed whatever the topics; a publisher announcing another interval is judged by it", async () => {
    const pub = closeAfter(new HeartbeatPublisher({ endpoints: tcpEndpoint(), interval: 400 }));
    const [ep] = (await pub.start()).endpoints;
    const got: string[] = [];
    const monitor = closeAfter(
      new HeartbeatMonitor({
        publishers: ep as string,
        topics: ["news"],
        interval: 100,
        onMessage: (m) => got.push(m[0]?.toString() ?? ""),
      }),
    );
    await monitor.start();
    await delay(100);
    pub.publish(["weather", "x"]);
    pub.publish(["news", "y"]);
    await waitFor(() => got.length === 1);
    // With only heartbeats at 400 ms it would be dead after 300 ms if judged by the monitor's 100 ms default.
    await delay(1500);
    expect(monitor.publisherState(ep as string)).not.toBe("dead");
    expect(got).toEqual(["news"]);
  });

  test("bad heartbeat frames from a publisher are counted and dropped, yet prove it alive", async () => {
    const raw = closeAfter(createSocket(zmq.Publisher, { linger: 0 }));
    await raw.bind(tcpEndpoint());
    const ep = raw.lastEndpoint as string;
    const monitor = closeAfter(new HeartbeatMonitor({ publishers: ep, interval: 100 }));
    await monitor.start();
    await delay(150);
    await raw.send([Buffer.from("ZGHB01"), Buffer.from([0x01]), Buffer.from("interval=0\n")]);
    await raw.send([Buffer.from("ZGHB09"), Buffer.from([0x01])]);
    await raw.send([Buffer.from("ZGHB01"), Buffer.from([0x42])]);
    await waitFor(() => monitor.stats().received === 3);
    expect(monitor.stats()).toMatchObject({
      heartbeats: 1,
      protocolErrors: 1,
      unknownCommands: 1,
      clampedIntervals: 1,
    });
  });
});
