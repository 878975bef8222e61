#!/usr/bin/env node
// zg-trace: the message-flow tracing proxy as a deployable process.
import { createWriteStream, type WriteStream } from "node:fs";
import type { Writable } from "node:stream";
import { AppError, defineApp, runApp } from "@zg/app-kit";
import { TraceProxy } from "@zg/devices";
import { endpoints, options } from "./config.js";

/** Opens a capture file; resolves once it is open, or fails with one line naming the option. */
function openFile(path: string, option: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const s = createWriteStream(path, { flags: "a" });
    s.once("open", () => resolve(s));
    s.once("error", (error) =>
      reject(
        new AppError(`--${option}: cannot open ${path}: ${error.message}`, {
          app: "trace",
          option,
          exitCode: 1,
        }),
      ),
    );
  });
}

const end = (s: Writable): Promise<void> =>
  new Promise((resolve) => {
    if (s === process.stderr) resolve();
    else s.end(() => resolve());
  });

const app = defineApp({
  name: "trace",
  bin: "zg-trace",
  description:
    "a transparent proxy that forwards every message unchanged and captures each part (JSONL + readable dump)",
  guide:
    'author\'s notes "a queue device that prints out message parts" and ch. 5 "Pub-Sub Tracing (Espresso)"',
  options,
  async start(ctx) {
    const o = ctx.options;
    if (o.mode === "router-dealer" && o.backendBind) {
      throw new AppError("--backend-bind: router-dealer connects one DEALER per client", {
        app: "trace",
        option: "backendBind",
      });
    }
    const jsonl = o.capture === undefined ? undefined : await openFile(o.capture, "capture");
    const dump =
      o.dump === undefined
        ? undefined
        : o.dump === "-"
          ? process.stderr
          : await openFile(o.dump, "dump");
    // Registered first, so closed last: the files end after the proxy flushed into them.
    ctx.add("files", {
      stats: () => ({}),
      close: async () => {
        for (const s of [jsonl, dump]) if (s !== undefined) await end(s);
      },
    });
    const proxy = new TraceProxy({
      ...endpoints(o),
      ...(jsonl === undefined ? {} : { jsonl }),
      ...(dump === undefined ? {} : { dump }),
      captureBuffer: o.captureBuffer,
      peerIdle: o.peerIdle,
      logger: ctx.logger,
    });
    ctx.add("trace", proxy);
    const bound = await proxy.start();
    return {
      endpoints: bound,
      info: { mode: o.mode, capture: o.capture ?? null, dump: o.dump ?? null },
    };
  },
});

await runApp(app);
