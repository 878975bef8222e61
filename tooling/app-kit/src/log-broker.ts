import { pino, type DestinationStream } from "pino";
import { createLogStream, LogPublisher } from "@zg/devices";

/**
 * `--log-broker`: a {@link LogPublisher} for the app and a pino destination
 * that writes every line to stdout (synchronously, as without the flag) **and**
 * sends it to the broker. The publisher never blocks the app: with the broker
 * down its records wait in a bounded buffer (drop-oldest, counted), and stdout
 * is written regardless.
 */
export function logBrokerDestination(
  app: string,
  endpoints: readonly string[],
): { publisher: LogPublisher; destination: DestinationStream } {
  const publisher = new LogPublisher({ broker: endpoints, app, closeTimeout: 300 });
  publisher.start().catch((error: unknown) => {
    process.stderr.write(`${app}: --log-broker: ${String(error)}\n`);
  });
  const destination = pino.multistream([
    { level: "trace", stream: pino.destination({ fd: 1, sync: true }) },
    { level: "trace", stream: createLogStream(publisher) },
  ]);
  return { publisher, destination };
}
