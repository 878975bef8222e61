#!/usr/bin/env node
// zg-clock: the clock / timer device as a deployable process.
import { defineApp, runApp } from "@zg/app-kit";
import { ClockDevice, resolutionName } from "@zg/devices";
import { options, parseResolutions } from "./config.js";

const app = defineApp({
  name: "clock",
  bin: "zg-clock",
  description: "a clock device: drift-free ticks at each resolution, one PUB topic per resolution",
  guide:
    'author\'s notes "A Clock Device" / "timer service" (booksbyus/zguide notes; no example code)',
  options,
  async start(ctx) {
    const resolutions = parseResolutions(ctx.options.resolutions);
    const device = new ClockDevice({
      endpoints: ctx.options.endpoints,
      resolutions,
      logger: ctx.logger,
    });
    ctx.add("clock", device, { labelHints: { resolutions: "resolution" } });
    device.on("tick:skipped", (e) =>
      ctx.logger.warn("ticks skipped: the process could not run when they were due", e),
    );
    const { endpoints } = await device.start();
    return {
      endpoints: { clock: endpoints },
      info: { resolutions: device.periods.map(resolutionName) },
    };
  },
});

await runApp(app);
