import { durationOption, type Logger } from "@zg/core";
import type { NamesFeed } from "../feed/feed.js";
import { routerFeed, type RouterFeedOptions } from "../feed/router-feed.js";
import { DEFAULT_WATCH_INTERVAL } from "./watch-file.js";

/** `true` → defaults, `false`/undefined → off, an object → itself. @internal */
export function toggleOption<T extends object>(
  value: boolean | T | undefined,
): T | Record<never, never> | undefined {
  return value === true ? {} : value === false ? undefined : value;
}

/** The `watchInterval` option of the server and the agent. @internal */
export function watchIntervalOption(value: number | undefined): number {
  return durationOption("watchInterval", value, DEFAULT_WATCH_INTERVAL, { min: 10 });
}

/** The `feed` option (default: the router feed with `feedOptions` and the component's logger). @internal */
export function feedOption(options: {
  feed?: NamesFeed;
  feedOptions?: RouterFeedOptions;
  logger?: Logger;
}): NamesFeed {
  return (
    options.feed ??
    routerFeed({ ...options.feedOptions, ...(options.logger ? { logger: options.logger } : {}) })
  );
}
