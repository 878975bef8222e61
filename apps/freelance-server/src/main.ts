#!/usr/bin/env node
// zg-freelance-server: a Freelance (10/FLP) server as a deployable process.
import { AppError, defineApp, runApp } from "@zg/app-kit";
import { FreelanceServer } from "@zg/pirate";
import { options, serverOptions } from "./config.js";

const app = defineApp({
  name: "freelance-server",
  bin: "zg-freelance-server",
  description:
    "a Freelance server (brokerless reliability, 10/FLP): run several, clients talk to all of them",
  guide:
    "Freelance pattern, chapter 4 (booksbyus/zguide examples/C/flserver1.c, flserver2.c, flserver3.c)",
  options,
  async start(ctx) {
    if (ctx.options.endpoint.length !== 1) {
      throw new AppError("--endpoint takes exactly one endpoint", {
        app: "freelance-server",
        option: "endpoint",
      });
    }
    if (ctx.options.model > 3) {
      throw new AppError(`--model: expected 1, 2 or 3, got ${ctx.options.model}`, {
        app: "freelance-server",
        option: "model",
      });
    }
    const server = ctx.add(
      "freelance_server",
      new FreelanceServer({ ...serverOptions(ctx.options), logger: ctx.logger }),
    );
    const { endpoints } = await server.start();
    return { endpoints: { server: endpoints }, info: { model: server.model } };
  },
});

await runApp(app);
