import type { OptionSpecs } from "@zg/app-kit";

/** The options of the reference-system launcher (`pnpm start -- …`). */
export const options = {
  noDemo: {
    type: "boolean",
    default: false,
    description: "run the brokers only: no demo workers, clients or worker kills",
  },
  heartbeatInterval: {
    type: "duration",
    default: 1000,
    min: 10,
    description:
      "Majordomo heartbeat interval of the broker and the demo workers (the Guide's 2500 ms makes recovery slow to watch)",
  },
  chaosInterval: {
    type: "duration",
    default: 10_000,
    description:
      "how often the demo kills (SIGKILL) one worker and restarts it 1.5 s later; 0 = never",
  },
  slowDelay: {
    type: "duration",
    default: 250,
    description: "how long the slow service takes per request",
  },
  statusInterval: {
    type: "duration",
    description:
      "status refresh period; default 1 s on a terminal, 5 s when stdout is not a terminal",
  },
  duration: {
    type: "duration",
    default: 0,
    description: "stop by itself after this long (0 = run until Ctrl-C)",
  },
  untilRestarts: {
    type: "integer",
    default: 0,
    min: 0,
    description:
      "stop by itself once this many killed workers have been restarted (0 = never); with --duration, whichever comes first",
  },
  console: {
    type: "address",
    default: "127.0.0.1:0",
    description:
      "host:port of the web console (zg-console; port 0 = a free port, printed at start)",
  },
  noConsole: {
    type: "boolean",
    default: false,
    description: "run without the web console and the log broker that feeds its error console",
  },
  federation: {
    type: "boolean",
    default: false,
    description:
      "run a second Majordomo broker (B) federated with the first (A): one echo worker and the slow worker on B, clients on A; requests A cannot serve overflow to B and the status shows the peers",
  },
  keepLogs: {
    type: "boolean",
    default: false,
    description: "keep the run directory (process logs, Titanic data) after a clean stop",
  },
} as const satisfies OptionSpecs;
