import type { NamesTable } from "../names/names-file.js";

/**
 * The server side of the names feed: publishes the whole table to every
 * agent, snapshot first, then each new version. {@link ZnsServer} uses
 * {@link routerFeed} unless given another {@link NamesFeed} (a Clone-based
 * feed implements the same two interfaces).
 */
export interface NamesFeedPublisher {
  /** Binds; resolves with the endpoints agents connect to. */
  start(): Promise<{ endpoints: string[] }>;
  /** Publishes a new table (every agent receives it). */
  publish(table: NamesTable): void;
  /** Counters. */
  stats(): Record<string, number>;
  /** Stops and releases everything. Idempotent. */
  close(): Promise<void>;
  /** Resolves when the publisher stops, with its fatal error if any. */
  readonly closed: Promise<Error | undefined>;
}

/** The agent side of the names feed. */
export interface NamesFeedSubscriber {
  /** Connects; `onTable` is called with every table received, snapshot first. */
  start(onTable: (table: NamesTable) => void): Promise<void>;
  /** Monotonic ms when a server was last heard (`performance.now()`, or the agent's `clock`), or undefined. */
  lastHeard(): number | undefined;
  /** Counters. */
  stats(): Record<string, number>;
  /** Stops and releases everything. Idempotent. */
  close(): Promise<void>;
  /** Resolves when the subscriber stops, with its fatal error if any. */
  readonly closed: Promise<Error | undefined>;
}

/** A names feed: how a server publishes and an agent subscribes. */
export interface NamesFeed {
  /** A publisher bound to `endpoint`. */
  publisher(endpoint: string): NamesFeedPublisher;
  /** A subscriber connected to `endpoints` (several servers: any one answers). */
  subscriber(endpoints: readonly string[]): NamesFeedSubscriber;
}
