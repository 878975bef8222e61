#!/usr/bin/env node
// zg-zns-agent: the local ZNS agent as a deployable process.
import { defineApp, runApp } from "@zg/app-kit";
import { ZnsAgent } from "@zg/zns";
import { options } from "./config.js";

const app = defineApp({
  name: "zns-agent",
  bin: "zg-zns-agent",
  description:
    "the local name-service agent: answers lookups on ipc:// from the central table, its cache and a local file",
  guide:
    'the author\'s notes "A ZeroMQ Name Service" (ipc://zns) and ch. 4 "Freelance" (booksbyus/zguide; no example code)',
  options,
  async start(ctx) {
    const o = ctx.options;
    const agent = new ZnsAgent({
      ...(o.servers === undefined || o.servers.length === 0 ? {} : { servers: o.servers }),
      ...(o.runtimeDir === undefined ? {} : { runtimeDir: o.runtimeDir }),
      ...(o.localFile === undefined ? {} : { localFile: o.localFile }),
      ...(o.env === undefined ? {} : { env: o.env }),
      serverTimeout: o.serverTimeout,
      ...(o.discover ? { discover: { port: o.beaconPort } } : {}),
      logger: ctx.logger,
    });
    ctx.add("zns_agent", agent);
    agent.on("feed:stale", (e) => ctx.logger.warn("central server silent: answers are stale", e));
    agent.on("feed:synced", () => ctx.logger.info("central server heard: answers are current"));
    const { endpoints } = await agent.start();
    return { endpoints: { lookup: endpoints }, info: { runtimeDir: agent.runtimeDir } };
  },
});

await runApp(app);
