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
    ctx.add("ppqueue", queue, {
      // On SIGTERM, wait (up to --drain-timeout) for queued requests and busy workers.
      inFlight: () => {
        const s = queue.stats();
        return s.queued + s.workers - s.idleWorkers;
      },
    });
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
