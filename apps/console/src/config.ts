import { AppError, type OptionSpecs } from "@zg/app-kit";
import { DEFAULT_CONSOLE_POLL_INTERVAL, type ConsoleTarget } from "./console-server.js";
import { DEFAULT_CONSOLE_WINDOW } from "./model.js";

/** Default address of the console page (project-chosen; the Guide names none). */
export const DEFAULT_CONSOLE_LISTEN = "127.0.0.1:5590";

/** The options of `zg-console`. */
export const options = {
  listen: {
    type: "address",
    default: DEFAULT_CONSOLE_LISTEN,
    description: "host:port to serve the web page on (port 0 = any free port)",
  },
  targets: {
    type: "string",
    default: "",
    description:
      "comma-separated name=URL pairs: the /stats URLs of the apps to watch (app-kit --metrics), e.g. majordomo=http://127.0.0.1:9100/stats",
  },
  pollInterval: {
    type: "duration",
    default: DEFAULT_CONSOLE_POLL_INTERVAL,
    min: 10,
    description: "how often each target's /stats is read",
  },
  window: {
    type: "duration",
    default: DEFAULT_CONSOLE_WINDOW,
    min: 1000,
    description: "how much history the charts keep in memory",
  },
  logs: {
    type: "endpoints",
    description:
      "a zg-log-broker's endpoints: warnings and errors of every app that logs to it appear in the error console",
  },
  presence: {
    type: "endpoints",
    description:
      "bind a presence router here (HeartbeatRouter): peers that connect a HeartbeatDealer appear, go silent, expire and return",
  },
} as const satisfies OptionSpecs;

/**
 * Parses `--targets` (`name=url,name=url`).
 *
 * @throws {@link AppError} naming the option.
 */
export function parseTargets(text: string): ConsoleTarget[] {
  const bad = (why: string): AppError =>
    new AppError(`--targets: ${why}`, { app: "console", option: "targets" });
  const targets: ConsoleTarget[] = [];
  for (const part of text.split(",").map((s) => s.trim())) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) throw bad(`expected name=URL, got ${JSON.stringify(part)}`);
    const name = part.slice(0, eq);
    const url = part.slice(eq + 1);
    if (!/^https?:\/\/./.test(url))
      throw bad(`not an http URL for ${name}: ${JSON.stringify(url)}`);
    if (targets.some((t) => t.name === name)) throw bad(`${name} given twice`);
    targets.push({ name, url });
  }
  return targets;
}
