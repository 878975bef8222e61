#!/usr/bin/env node
// zg-log-broker: the logging subsystem's broker as a deployable process.
import { defineApp, runApp } from "@zg/app-kit";
import { LogBroker } from "@zg/devices";
import { options } from "./config.js";

const app = defineApp({
  name: "log-broker",
  bin: "zg-log-broker",
  description:
    "the log broker: stores records from every app in rotating files and serves zg-log tail (replay, then live)",
  guide: 'author\'s notes "Logging Subsystem" (seed 000) and chapter 8 (Zyre logging)',
  options,
  async start(ctx) {
    const dir = await ctx.ensureDirectory("dir");
    const broker = new LogBroker({
      dir,
      endpoints: ctx.options.endpoint,
      ...(ctx.options.publish === undefined ? {} : { publish: ctx.options.publish }),
      maxFileBytes: ctx.options.maxFileBytes,
      rotateInterval: ctx.options.rotateInterval,
      maxFiles: ctx.options.maxFiles,
      logger: ctx.logger,
    });
    ctx.add("broker", broker);
    const { endpoints, publish } = await broker.start();
    return {
      endpoints: { endpoint: endpoints, ...(publish.length > 0 ? { publish } : {}) },
      info: { dir, stored: broker.stats().bseq },
    };
  },
});

await runApp(app);
