#!/usr/bin/env node
// zg-clone-server: the Guide's Clone server (clonesrv5/clonesrv6) as a deployable process: a
// key-value state server, alone or one half of a Binary Star pair, optionally with a data directory.
import { defineApp, runApp } from "@zg/app-kit";
import { CloneServer } from "@zg/clone";
import { options, roleOf, serverOptions } from "./config.js";

const app = defineApp({
  name: "clone-server",
  bin: "zg-clone-server",
  description:
    "a Clone key-value state server (12/CHP): alone, or run one --primary and one --backup",
  guide:
    'Clone, chapter 5 "Reliable Pub-Sub (Clone Pattern)" (booksbyus/zguide examples/C/clonesrv5.c, clonesrv6.c)',
  options,
  async start(ctx) {
    const role = roleOf(ctx.options);
    const dataDir =
      ctx.options.dataDir === undefined ? undefined : await ctx.ensureDirectory("dataDir");
    const server = ctx.add(
      "clone_server",
      new CloneServer({
        ...serverOptions(ctx.options, role),
        ...(dataDir === undefined ? {} : { dataDir }),
        logger: ctx.logger,
      }),
    );
    const e = await server.start();
    return {
      endpoints: {
        snapshot: [e.snapshot],
        publisher: [e.publisher],
        collector: [e.collector],
        ...(e.state === undefined ? {} : { state: [e.state] }),
      },
      info: { role, sequence: String(server.sequence), keys: server.stats().keys },
    };
  },
});

await runApp(app);
