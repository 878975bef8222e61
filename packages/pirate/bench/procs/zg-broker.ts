// The zg MajordomoBroker with its defaults, as its own process. Prints its endpoint, runs until killed.
import { MajordomoBroker } from "../../src/index.js";

const broker = new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" });
const { endpoints } = await broker.start();
process.stdout.write(`${endpoints[0]}\n`);
process.on("SIGTERM", () => void broker.close().then(() => process.exit(0)));
