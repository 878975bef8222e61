#!/usr/bin/env node
// zg-majordomo-broker: the Majordomo broker (7/MDP, 18/MDP, 8/MMI), optionally
// with Titanic (9/TSP) in the same process, as a deployable process.
import { AppError, connectableEndpoint, DEFAULT_LABEL_HINTS, defineApp, runApp } from "@zg/app-kit";
import { MajordomoBroker, Titanic } from "@zg/pirate";
import { brokerOptions, options, titanicOptions } from "./config.js";

const app = defineApp({
  name: "majordomo-broker",
  bin: "zg-majordomo-broker",
  description:
    "the Majordomo broker (7/MDP 0.1 and 18/MDP 0.2 with 8/MMI), optionally with Titanic (9/TSP)",
  guide:
    "Majordomo broker, chapter 4 (booksbyus/zguide examples/C/mdbroker.c; with --titanic also titanic.c)",
  options,
  async start(ctx) {
    // Check the data directory before binding anything, so a bad one is the only error.
    const directory = ctx.options.titanic ? await ctx.ensureDirectory("dataDir") : undefined;
    const broker = new MajordomoBroker({
      ...brokerOptions(ctx.options, process.argv.slice(2)),
      logger: ctx.logger,
    });
    // On SIGTERM/SIGINT/SIGHUP the kit calls broker.drain() (bounded by --drain-timeout):
    // queued requests are answered "503 broker shutting down", busy workers' replies still routed.
    // With --name the federation figures are labelled per peer (`…_federation_per_peer_…{peer="B"}`).
    ctx.add("majordomo_broker", broker, {
      labelHints: { ...DEFAULT_LABEL_HINTS, perPeer: "peer" },
    });
    // The broker counts expired workers in total; count removals per service
    // and reason from its events, for --metrics and the reference-system status.
    const removed: Record<string, Record<string, number>> = {};
    broker.on("worker:removed", ({ service, reason }) => {
      const counts = (removed[service] ??= {
        expired: 0,
        disconnected: 0,
        unreachable: 0,
        violation: 0,
        timeout: 0,
      });
      counts[reason] = (counts[reason] ?? 0) + 1;
    });
    ctx.add("majordomo_workers_removed", {
      stats: () => ({ perService: removed }),
      close: () => Promise.resolve(),
    });
    const { endpoints } = await broker.start();
    const peering = broker.stats().federation?.endpoints;
    const all = { broker: endpoints, ...(peering === undefined ? {} : { peering }) };
    if (directory === undefined) return { endpoints: all };
    // Titanic is an MDP worker (titanic.request/reply/close) and an MDP client of
    // the real services: in this process it connects to the broker's own endpoint.
    const titanic = ctx.add(
      "titanic",
      new Titanic({
        ...titanicOptions(ctx.options, connectableEndpoint(endpoints), directory),
        logger: ctx.logger,
      }),
    );
    try {
      await titanic.start();
    } catch (error) {
      // The data directory is locked by another instance, unreadable, …: one line naming --data-dir.
      if ((error as { code?: string }).code === "ZG_STORAGE")
        throw new AppError((error as Error).message, {
          app: "majordomo-broker",
          option: "dataDir",
          exitCode: 1,
          cause: error,
        });
      throw error;
    }
    return {
      endpoints: all,
      info: { titanic: { directory, fsync: ctx.options.fsync } },
    };
  },
});

await runApp(app);
