#!/usr/bin/env node
// zg-bstar-server: the Guide's Binary Star demo server (bstarsrv2) as a deployable process: an echo
// server that is one half of a primary/backup high-availability pair.
import { defineApp, runApp } from "@zg/app-kit";
import { BinaryStar, BinaryStarWitness } from "@zg/pirate/bstar";
import { options, roleOf, starOptions } from "./config.js";

const app = defineApp({
  name: "bstar-server",
  bin: "zg-bstar-server",
  description:
    "a Binary Star echo server (high-availability pair): run one --primary and one --backup",
  guide:
    'Binary Star, chapter 4 "High-Availability Pair" (booksbyus/zguide examples/C/bstarsrv2.c, bstar.c)',
  options,
  async start(ctx) {
    const role = roleOf(ctx.options);
    if (role === "witness") {
      const [primary = "", backup = ""] = ctx.options.watch ?? [];
      const witness = ctx.add(
        "bstar_witness",
        new BinaryStarWitness({
          primary,
          backup,
          endpoints: ctx.options.witnessBind,
          heartbeat: ctx.options.heartbeat,
          logger: ctx.logger,
        }),
      );
      const { endpoints } = await witness.start();
      return { endpoints: { witness: endpoints }, info: { role } };
    }
    const { frontendBind, ...star } = starOptions(ctx.options, role);
    const server = ctx.add(
      "bstar_server",
      new BinaryStar({
        ...star,
        logger: ctx.logger,
        // The echo body is the request: idempotent, so a request re-sent after a failover is safe.
        frontend: { endpoints: frontendBind, handler: (body) => body },
      }),
    );
    const endpoints = await server.start();
    return {
      endpoints: { frontend: endpoints.endpoints, state: endpoints.state, peer: [star.peer] },
      info: { role, state: server.pairState, heartbeat: server.heartbeat },
    };
  },
});

await runApp(app);
