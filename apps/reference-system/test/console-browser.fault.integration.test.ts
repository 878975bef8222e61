// The console in a real browser: headless Debian chromium (driven by playwright-core with the
// system executable; no browser download) loads the page while the reference system runs with
// its chaos (a worker SIGKILLed and restarted every few seconds), and checks what the page shows.
// Screenshots go to .tmp/console-browser/ with a JSON of the page's structure next to each; the
// test compares those structures (elements present, numbers moving), never pixels.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";
import { expect, onTestFinished, test } from "vitest";
import { builtBin, spawnApp } from "@zg/app-kit/testing";
import { waitFor } from "@zg/testing";

const launcher = builtBin(import.meta.url);
const CHROMIUM = process.env["ZG_CHROMIUM"] ?? "/usr/bin/chromium";
const shots = fileURLToPath(new URL("../../../.tmp/console-browser/", import.meta.url));

/** `test` when chromium is installed or in CI (where its absence must fail), else a visible skip. */
function browserTest(name: string, fn: () => Promise<void>, timeout: number): void {
  if (!existsSync(CHROMIUM) && !process.env["CI"]) {
    test.skip(`${name} [skipped: ${CHROMIUM} not installed; apt-get install chromium]`, fn);
    return;
  }
  test(
    name,
    async () => {
      if (!existsSync(CHROMIUM))
        throw new Error(
          `chromium is required in CI for the console browser test (${CHROMIUM}; apt-get install chromium)`,
        );
      await fn();
    },
    timeout,
  );
}

interface PageState {
  snapshots: number;
  connection: string;
  totals: Record<string, number>;
  targets: { name: string; up: boolean }[];
  services: { key: string; up: boolean; workers: number; served: number; chartPoints: number }[];
  presence: { key: string; state: string; returned: number }[];
  chartPoints: Record<string, number>;
  logs: string[];
}

/**
 * What the page shows, read from its DOM. Plain JavaScript evaluated in the page (the
 * test project has no DOM types, on purpose).
 */
const READ_PAGE = `(() => {
  const all = (sel) => [...document.querySelectorAll(sel)];
  const cell = (tr, field) => tr.querySelector('[data-field="' + field + '"]')?.textContent ?? "";
  return {
    snapshots: Number(document.body.dataset.snapshots ?? 0),
    connection: document.getElementById("connection")?.dataset.state ?? "",
    totals: Object.fromEntries(all("#totals [data-field]").map((b) => [b.dataset.field, Number(b.textContent)])),
    targets: all(".target").map((li) => ({ name: li.dataset.name, up: li.dataset.up === "true" })),
    services: all("tr.service").map((tr) => ({
      key: tr.dataset.key,
      up: tr.dataset.up === "true",
      workers: Number(cell(tr, "workers")),
      served: Number(cell(tr, "served")),
      chartPoints: Number(tr.querySelector("svg")?.dataset.points ?? 0),
    })),
    presence: all(".peer").map((li) => ({ key: li.dataset.key, state: li.dataset.state, returned: Number(li.dataset.returned ?? 0) })),
    chartPoints: Object.fromEntries(all("svg.chart").map((s) => [s.id, Number(s.dataset.points ?? 0)])),
    logs: all("#logs .log").map((li) => li.textContent ?? ""),
  };
})()`;

let lastRead: PageState | undefined;
function read(page: Page): Promise<PageState> {
  return page.evaluate<PageState>(READ_PAGE).then((s) => (lastRead = s));
}

/** {@link waitFor} on the page; a timeout reports what the page showed last. */
async function waitForPage(
  page: Page,
  predicate: (s: PageState) => boolean,
  what: string,
): Promise<PageState> {
  try {
    return await waitFor(
      async () => {
        const s = await read(page);
        return predicate(s) ? s : undefined;
      },
      { timeout: 40_000, interval: 200, what },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; the page showed ${JSON.stringify(lastRead)}`);
  }
}

const SERVICES = [
  "majordomo/majordomo_broker/echo",
  "majordomo/majordomo_broker/slow",
  "ppqueue/ppqueue/ppqueue",
];

browserTest(
  "console in headless chromium: services and workers appear, numbers move, a killed worker goes and comes back",
  async () => {
    mkdirSync(shots, { recursive: true });
    const app = spawnApp(launcher, [
      "--chaos-interval",
      "2500ms",
      "--status-interval",
      "1s",
      "--duration",
      "150s",
    ]);
    onTestFinished(async () => {
      await app.stop("SIGTERM");
    });
    const line = await app.waitForLine(
      (l) => String(l.msg).startsWith("console: "),
      30_000,
      "the console URL line of pnpm start",
    );
    const url = String(line.msg).slice("console: ".length);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    onTestFinished(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(url);
    await page.selectOption("#level-filter", "info");

    const first = await waitForPage(
      page,
      (s) =>
        s.connection === "live" &&
        SERVICES.every((k) => s.services.some((r) => r.key === k && r.up && r.workers >= 1)) &&
        // six peers known, at least five alive (the demo's chaos may have one down right now)
        s.presence.length >= 6 &&
        s.presence.filter((p) => p.state === "alive").length >= 5 &&
        (s.chartPoints["chart-rate"] ?? 0) >= 3,
      "the three services with workers, six presence peers (five alive) and a chart with 3 points on the page",
    );
    expect(first.targets.map((t) => t.name).sort()).toEqual([
      "clone-server",
      "log-broker",
      "majordomo",
      "ppqueue",
    ]);
    expect(first.targets.every((t) => t.up)).toBe(true);
    expect(first.totals["workers"]).toBeGreaterThanOrEqual(6);
    await page.screenshot({ path: join(shots, "1-services.png"), fullPage: true });
    writeFileSync(join(shots, "1-services.json"), JSON.stringify(first, null, 2));

    // The launcher's chaos kills a worker and restarts it 1.5 s later: wait for both, by name.
    const killed = await app.waitForLine(
      (l) => /^event: killed \S+/.test(String(l.msg)),
      30_000,
      "a worker killed by the demo",
    );
    const victim = /^event: killed (\S+)/.exec(String(killed.msg))?.[1] ?? "";
    await app.waitForLine(
      (l) => String(l.msg).startsWith(`event: restarted ${victim} `),
      30_000,
      `${victim} restarted`,
    );
    const before = first.presence.find((p) => p.key === victim)?.returned ?? 0;
    const second = await waitForPage(
      page,
      (s) => {
        const peer = s.presence.find((p) => p.key === victim);
        return (
          peer !== undefined &&
          peer.state === "alive" &&
          peer.returned > before &&
          s.logs.some((l) => l.includes(`presence: ${victim} expired`)) &&
          s.logs.some((l) => / workers \d+ → \d+/.test(l)) &&
          SERVICES.every((k) => {
            const now = s.services.find((r) => r.key === k);
            const then = first.services.find((r) => r.key === k);
            return now !== undefined && then !== undefined && now.up && now.served > then.served;
          })
        );
      },
      `${victim} expired and returned on the page, a worker count change logged, and every service's served count grown`,
    );
    await page.screenshot({ path: join(shots, "2-worker-returned.png"), fullPage: true });
    writeFileSync(join(shots, "2-worker-returned.json"), JSON.stringify(second, null, 2));

    // Structural comparison of the two screenshots' pages: same elements, numbers moved.
    expect(second.services.map((r) => r.key)).toEqual(first.services.map((r) => r.key));
    expect(second.presence.map((p) => p.key)).toEqual(first.presence.map((p) => p.key));
    expect(second.snapshots).toBeGreaterThan(first.snapshots);
    expect(second.chartPoints["chart-rate"]).toBeGreaterThan(first.chartPoints["chart-rate"] ?? 0);
    for (const k of SERVICES) {
      const row = second.services.find((r) => r.key === k);
      expect(row?.chartPoints, k).toBeGreaterThan(
        first.services.find((r) => r.key === k)?.chartPoints ?? 0,
      );
    }
    const kills = app.stdout.match(/^event: killed /gm)?.length ?? 0;
    const restarts = app.stdout.match(/^event: restarted /gm)?.length ?? 0;
    console.log(
      `console browser test: ${kills} kills, ${restarts} restarts by the demo; ${second.snapshots} snapshots on the page; ${victim} returned ×${second.presence.find((p) => p.key === victim)?.returned}; screenshots in ${shots}`,
    );
    const exit = await app.stop("SIGTERM");
    expect(exit, app.stdout + app.stderr).toMatchObject({ code: 0 });
  },
  120_000,
);
