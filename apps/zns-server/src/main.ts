#!/usr/bin/env node
// zg-zns-server: the central ZNS server as a deployable process.
import { AppError, defineApp, runApp } from "@zg/app-kit";
import { ZnsServer } from "@zg/zns";
import { options } from "./config.js";

const app = defineApp({
  name: "zns-server",
  bin: "zg-zns-server",
  description:
    "the central name server: loads a ZPL names file, watches it, and publishes it to every zg-zns-agent",
  guide:
    'the author\'s notes "A ZeroMQ Name Service" and ch. 4 "Freelance" (booksbyus/zguide; no example code)',
  options,
  async start(ctx) {
    const names = ctx.options.names;
    if (names === undefined)
      throw new AppError("--names: a names file is required", {
        app: "zns-server",
        option: "names",
      });
    const [endpoint] = ctx.options.endpoint;
    const server = new ZnsServer({
      names,
      ...(endpoint === undefined ? {} : { endpoint }),
      watchInterval: ctx.options.watchInterval,
      ...(ctx.options.announce
        ? { announce: { port: ctx.options.beaconPort, interval: ctx.options.beaconInterval } }
        : {}),
      logger: ctx.logger,
    });
    ctx.add("zns_server", server);
    server.on("names:invalid", ({ error }) =>
      ctx.logger.warn("names file not valid; the last good table stays published", {
        error: error.message,
      }),
    );
    const { endpoints } = await server.start();
    return { endpoints: { feed: endpoints }, info: { names: server.table?.names.size ?? 0 } };
  },
});

await runApp(app);
