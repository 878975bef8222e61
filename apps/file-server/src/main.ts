#!/usr/bin/env node
// zg-file-server: the @zg/harmony file server as a deployable process.
import { AppError, defineApp, runApp } from "@zg/app-kit";
import { FileServer } from "@zg/harmony";
import { options } from "./config.js";

const app = defineApp({
  name: "file-server",
  bin: "zg-file-server",
  description:
    "a file server: metadata with SHA-256 first, pipelined chunk requests with credit, resume by offset, a root jail",
  guide: "chapter 7 fileio3 and the chapter's list of what a real file-transfer protocol needs",
  options,
  async start(ctx) {
    const root = ctx.options.root;
    if (root === undefined || root === "")
      throw new AppError("--root: the directory to serve is required", {
        app: "file-server",
        option: "root",
      });
    const server = new FileServer({ root, endpoints: ctx.options.endpoints, logger: ctx.logger });
    ctx.add("file-server", server);
    server.on("request:refused", (e) => ctx.logger.info("request refused", e));
    const { endpoints } = await server.start();
    return { endpoints: { server: endpoints }, info: { root } };
  },
});

await runApp(app);
