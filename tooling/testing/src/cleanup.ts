import { onTestFinished } from "vitest";

/** Anything with a close method (sockets, components, loops). */
export interface Closeable {
  close(): unknown;
}

/**
 * Registers `resource.close()` to run when the current test finishes, and
 * returns the resource: `const broker = closeAfter(new Broker(opts));`.
 */
export function closeAfter<T extends Closeable>(resource: T): T {
  onTestFinished(async () => {
    await resource.close();
  });
  return resource;
}
