#!/usr/bin/env node
// zg-console: a web page that shows a live zg system.
import { defineApp, runApp } from "@zg/app-kit";
import { ConsoleServer } from "./console-server.js";
import { options, parseTargets } from "./config.js";

const app = defineApp({
  name: "console",
  bin: "zg-console",
  description:
    "a live web console for a zg system: brokers, services, workers, latency, presence, errors",
  guide:
    'ch. 5 "Presence Detection" (robots come and go) and the error logging console of the author\'s notes',
  options,
  async start(ctx) {
    const server = ctx.add(
      "console",
      new ConsoleServer({
        listen: ctx.options.listen,
        targets: parseTargets(ctx.options.targets),
        pollInterval: ctx.options.pollInterval,
        window: ctx.options.window,
        ...(ctx.options.logs === undefined ? {} : { logs: ctx.options.logs }),
        ...(ctx.options.presence === undefined ? {} : { presence: ctx.options.presence }),
        logger: ctx.logger,
      }),
    );
    const started = await server.start();
    return {
      endpoints: { presence: started.presence },
      info: { url: started.url },
    };
  },
});

await runApp(app);
