#!/usr/bin/env node
// zg-ppqueue: the Paranoid Pirate queue (6/PPP) as a deployable process.
import { defineApp, runApp } from "@zg/app-kit";
import { PirateQueue } from "@zg/pirate";
import { options, queueOptions } from "./config.js";

const app = defineApp({
  name: "ppqueue",
  bin: "zg-ppqueue",
  description: "the Paranoid Pirate queue (6/PPP): load balancing with heartbeats both ways",
  guide: "Paranoid Pirate queue, chapter 4 (booksbyus/zguide examples/C/ppqueue.c)",
  options,
  async start(ctx) {
    const queue = new PirateQueue({ ...queueOptions(ctx.options), logger: ctx.logger });
    ctx.add("ppqueue", queue); // drained on SIGTERM: it stops taking requests and finishes those in flight
    const { frontend, backend } = await queue.start();
    return {
      endpoints: { frontend, backend },
      info: {
        heartbeatInterval: queue.heartbeatInterval,
        heartbeatLiveness: queue.heartbeatLiveness,
      },
    };
  },
});

await runApp(app);
