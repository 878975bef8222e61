import { describe, expect, it } from "vitest";
import { flattenStats, MetricsServer, metricName, statsToJson } from "../src/index.js";

describe("flattenStats", () => {
  it("flattens numbers, booleans and nested objects, and labels tables", () => {
    const samples = flattenStats("zg_majordomo-broker", {
      workers: 2,
      requestsForwarded: 7,
      up: true,
      name: "skipped",
      latency: { p50: 1.5, p99: 9 },
      perService: { echo: { workers: 1, queued: 0 }, slow: { workers: 1, queued: 3 } },
      servers: [{ endpoint: "tcp://a:1", alive: true }],
    });
    expect(samples).toEqual(
      expect.arrayContaining([
        { name: "zg_majordomo_broker_workers", kind: "gauge", labels: {}, value: 2 },
        { name: "zg_majordomo_broker_up", kind: "gauge", labels: {}, value: 1 },
        { name: "zg_majordomo_broker_latency_p99", kind: "gauge", labels: {}, value: 9 },
        {
          name: "zg_majordomo_broker_per_service_queued",
          kind: "gauge",
          labels: { service: "slow" },
          value: 3,
        },
        {
          name: "zg_majordomo_broker_per_service_workers",
          kind: "gauge",
          labels: { service: "echo" },
          value: 1,
        },
        {
          name: "zg_majordomo_broker_servers_alive",
          kind: "gauge",
          labels: { server: "0" },
          value: 1,
        },
        {
          name: "zg_majordomo_broker_requests_forwarded_total",
          kind: "counter",
          labels: {},
          value: 7,
        },
      ]),
    );
    expect(samples.some((s) => s.name.includes("name"))).toBe(false);
  });

  it("reads Maps and bigints", () => {
    expect(flattenStats("x", { services: new Map([["a", { n: 1n }]]) })).toEqual([
      { name: "x_services_n_total", kind: "counter", labels: { service: "a" }, value: 1 },
    ]);
    expect(statsToJson({ m: new Map([["a", 1n]]) })).toBe('{"m":{"a":1}}');
    expect(metricName("requestsReceived")).toBe("requests_received");
  });

  it("renders the Prometheus text format through prom-client", async () => {
    let queued = 3;
    let served = 1;
    const server = new MetricsServer("test", () => [
      { name: "ppqueue", stats: () => ({ queued, perService: { echo: { served } } }) },
    ]);
    let text = await server.prometheus();
    expect(text).toContain("# TYPE zg_ppqueue_queued gauge");
    expect(text).toContain("zg_ppqueue_queued 3");
    expect(text).toContain("# TYPE zg_ppqueue_per_service_served_total counter");
    expect(text).toContain('zg_ppqueue_per_service_served_total{service="echo"} 1');
    expect(text).toContain("zg_process_");
    queued = 4;
    served = 5;
    text = await server.prometheus();
    expect(text).toContain("zg_ppqueue_queued 4");
    expect(text).toContain('zg_ppqueue_per_service_served_total{service="echo"} 5');
    expect(JSON.parse(server.json())).toMatchObject({
      app: "test",
      components: { ppqueue: { queued: 4 } },
    });
    await server.close();
  });
});
