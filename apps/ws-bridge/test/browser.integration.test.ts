// The README's second example page in headless Debian chromium (playwright-core with the system
// executable): a request and a subscription from the browser through the bridge.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { expect, onTestFinished, test } from "vitest";
import * as zmq from "zeromq";
import { CloneClient, CloneServer } from "@zg/clone";
import { MajordomoBroker, MajordomoWorker } from "@zg/pirate";
import { closeAfter, tcpEndpoint, waitFor } from "@zg/testing";
import { WsBridge } from "../src/ws-bridge.js";

const CHROMIUM = process.env["ZG_CHROMIUM"] ?? "/usr/bin/chromium";
const missing = !existsSync(CHROMIUM) && !process.env["CI"];

(missing ? test.skip : test)(
  `example page: a request, a subscription and a Clone subtree from the browser${missing ? ` [skipped: ${CHROMIUM} not installed; apt-get install chromium]` : ""}`,
  async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`chromium is required in CI (${CHROMIUM}; apt-get install chromium)`);
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint() }));
    const endpoint = (await broker.start()).endpoints[0] ?? "";
    await closeAfter(
      new MajordomoWorker({ broker: endpoint, service: "echo", handler: (b) => b }),
    ).start();
    const pub = new zmq.Publisher({ linger: 0 });
    await pub.bind(tcpEndpoint());
    onTestFinished(() => pub.close());
    const any = "tcp://127.0.0.1:*";
    const clone = closeAfter(
      new CloneServer({
        bind: { snapshot: any, publisher: any, collector: any },
        hugzInterval: 100,
      }),
    );
    const cloneEndpoints = await clone.start();
    const writer = closeAfter(new CloneClient({ servers: cloneEndpoints, subscribeWait: 300 }));
    await writer.start();
    await writer.waitSynced({ timeout: 10_000 });
    await writer.set("/cfg/a", "1");
    const bridge = closeAfter(
      new WsBridge({
        listen: "127.0.0.1:0",
        broker: endpoint,
        publishers: [pub.lastEndpoint ?? ""],
        clone: [cloneEndpoints],
        cloneSubtrees: ["/cfg/"],
      }),
    );
    const { page: pageUrl } = await bridge.start();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${pageUrl}?clone=/cfg/`);
    await waitFor(async () => (await page.textContent("#reply")) !== "…", {
      what: "the reply on the page",
      timeout: 15_000,
      interval: 50,
    });
    expect(await page.textContent("#reply")).toBe('["hello from the browser",[0,255]]');
    await waitFor(async () => (await page.getAttribute("body", "data-subscribed")) === "true", {
      what: "the page subscribed",
      timeout: 15_000,
      interval: 50,
    });
    let sent = 0;
    await waitFor(
      async () => {
        await pub.send(["news", `item ${++sent}`]);
        return Number(await page.textContent("#count")) >= 3;
      },
      { what: "three published messages on the page", timeout: 15_000, interval: 50 },
    );
    expect(await page.textContent("#last")).toMatch(/^news item \d+$/);
    const shown = async (): Promise<string | null> => page.textContent("#clone");
    await waitFor(async () => (await shown()) === "/cfg/a=1", {
      what: "the Clone snapshot on the page",
      timeout: 15_000,
      interval: 50,
    });
    await writer.set("/cfg/b", "2");
    await writer.delete("/cfg/a");
    await waitFor(async () => (await shown()) === "/cfg/b=2", {
      what: "the Clone update and delete on the page",
      timeout: 15_000,
      interval: 50,
    });
    console.log(
      `ws bridge browser example: ${sent} published, ${await page.textContent("#count")} shown, bridge delivered ${bridge.stats().delivered}`,
    );
  },
  60_000,
);
