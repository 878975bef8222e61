#!/usr/bin/env node
// zg-tcp-bridge: line-based TCP clients call Majordomo services.
import { defineApp, runApp } from "@zg/app-kit";
import { options } from "./config.js";
import { TcpBridge } from "./tcp-bridge.js";

const app = defineApp({
  name: "tcp-bridge",
  bin: "zg-tcp-bridge",
  description: "a TCP-to-ZeroMQ bridge: one request line in, one reply line out, via Majordomo",
  guide: 'ch. 7/8 "bridging 0MQ to other protocols" (no Guide example code)',
  options,
  async start(ctx) {
    const o = ctx.options;
    const bridge = ctx.add(
      "tcp_bridge",
      new TcpBridge({
        listen: o.listen,
        broker: o.broker,
        ...(o.service === undefined ? {} : { service: o.service }),
        maxConnections: o.maxConnections,
        maxLineLength: o.maxLineLength,
        idleTimeout: o.idleTimeout,
        requestTimeout: o.requestTimeout,
        maxPipelined: o.maxPipelined,
        logger: ctx.logger,
      }),
    );
    const { address } = await bridge.start();
    return { endpoints: { tcp: [`tcp://${address}`] }, info: { broker: o.broker } };
  },
});

await runApp(app);
