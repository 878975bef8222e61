#!/usr/bin/env node
// zg-titanic: Titanic (9/TSP) as its own process next to a Majordomo broker.
import { AppError, defineApp, runApp } from "@zg/app-kit";
import { Titanic } from "@zg/pirate";
import { options, titanicOptions } from "./config.js";

const app = defineApp({
  name: "titanic",
  bin: "zg-titanic",
  description: "Titanic (9/TSP): durable titanic.request/reply/close on a Majordomo broker",
  guide: "Titanic pattern, chapter 4 (booksbyus/zguide examples/C/titanic.c)",
  options,
  async start(ctx) {
    if (ctx.options.broker.length !== 1) {
      throw new AppError("--broker takes exactly one endpoint", {
        app: "titanic",
        option: "broker",
      });
    }
    const directory = await ctx.ensureDirectory("dataDir");
    const titanic = ctx.add(
      "titanic",
      new Titanic({ ...titanicOptions(ctx.options, directory), logger: ctx.logger }),
    );
    try {
      await titanic.start();
    } catch (error) {
      // The data directory is locked by another instance, unreadable, …: one line naming --data-dir.
      if ((error as { code?: string }).code === "ZG_STORAGE")
        throw new AppError((error as Error).message, {
          app: "titanic",
          option: "dataDir",
          exitCode: 1,
          cause: error,
        });
      throw error;
    }
    // Titanic binds nothing: it connects to the broker as workers and clients.
    return {
      endpoints: {},
      info: { connectsTo: { broker: ctx.options.broker[0] }, directory, fsync: ctx.options.fsync },
    };
  },
});

await runApp(app);
