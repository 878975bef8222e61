#!/usr/bin/env node
// zg-ws-bridge: browsers call Majordomo services and subscribe to pub-sub topics over a WebSocket.
import { defineApp, runApp } from "@zg/app-kit";
import { cloneServers } from "./clone.js";
import { options } from "./config.js";
import { WsBridge } from "./ws-bridge.js";

const app = defineApp({
  name: "ws-bridge",
  bin: "zg-ws-bridge",
  description:
    "a WebSocket bridge: Majordomo requests, pub-sub subscriptions and Clone subtrees from browsers",
  guide: 'seed "web interfaces (including NullMQ)"; 7/MDP through AsyncMajordomoClient',
  options,
  async start(ctx) {
    const o = ctx.options;
    const list = (text: string): string[] =>
      text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    const origins = list(o.allowedOrigins);
    const bridge = ctx.add(
      "ws_bridge",
      new WsBridge({
        listen: o.listen,
        broker: o.broker,
        ...(o.publishers === undefined ? {} : { publishers: o.publishers }),
        allowedOrigins: origins,
        ...(o.token === undefined ? {} : { token: o.token }),
        maxMessageSize: o.maxMessageSize,
        maxInFlight: o.maxInFlight,
        maxSubscriptions: o.maxSubscriptions,
        maxBuffered: o.maxBuffered,
        maxConnections: o.maxConnections,
        requestTimeout: o.requestTimeout,
        ...(o.clone === undefined ? {} : { clone: cloneServers(o.clone) }),
        cloneSubtrees: list(o.cloneSubtrees),
        cloneSet: o.cloneSet,
        cloneSyncTimeout: o.cloneSyncTimeout,
        logger: ctx.logger,
      }),
    );
    const { url, page } = await bridge.start();
    return { endpoints: { ws: [url] }, info: { page } };
  },
});

await runApp(app);
