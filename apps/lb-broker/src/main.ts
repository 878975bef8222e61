#!/usr/bin/env node
// zg-lb-broker: the Guide's load-balancing broker as a deployable process.
import { defineApp, runApp } from "@zg/app-kit";
import { LoadBalancingBroker } from "@zg/pirate";
import { brokerOptions, options } from "./config.js";

const app = defineApp({
  name: "lb-broker",
  bin: "zg-lb-broker",
  description: "the load-balancing broker: requests go to the least recently used idle worker",
  guide: "load-balancing broker, chapter 3 (booksbyus/zguide examples/C/lbbroker.c, lbbroker3.c)",
  options,
  async start(ctx) {
    const broker = new LoadBalancingBroker({ ...brokerOptions(ctx.options), logger: ctx.logger });
    ctx.add("lb_broker", broker); // drained on SIGTERM: it stops taking requests and finishes those in flight
    const { frontend, backend } = await broker.start();
    return { endpoints: { frontend, backend } };
  },
});

await runApp(app);
