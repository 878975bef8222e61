// The zg console page: plain DOM, no build step. It receives a whole snapshot
// (see apps/console/src/model.ts ConsoleSnapshot) after every poll round over
// Server-Sent Events and redraws; EventSource reconnects by itself when the
// console restarts.
const LEVELS = ["debug", "info", "warn", "error"];
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
};
const svg = (tag, attrs = {}) => {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};
const fmt = (v, digits = 0) => (v === undefined || v === null ? "-" : Number(v).toFixed(digits));
const time = (ms) => new Date(ms).toTimeString().slice(0, 8);

let last;
let snapshots = 0;

/** Draws `points` ([t, value]) into `target` over [from, to]; returns the max value. */
function draw(target, points, from, to, width, height) {
  target.replaceChildren();
  const max = Math.max(1e-9, ...points.map((p) => p[1]));
  const span = Math.max(1, to - from);
  const coords = points
    .map(
      ([t, v]) =>
        `${(((t - from) / span) * width).toFixed(1)},${(height - (v / max) * (height - 2) - 1).toFixed(1)}`,
    )
    .join(" ");
  target.append(svg("polyline", { points: coords }));
  target.dataset.points = String(points.length);
  return max;
}

/** Sums (or takes the max of) every service's series per second. */
function combine(services, field, how) {
  const buckets = new Map();
  for (const s of services) {
    for (const p of s.series) {
      const k = Math.floor(p.t / 1000) * 1000;
      const prev = buckets.get(k);
      buckets.set(
        k,
        prev === undefined ? p[field] : how === "max" ? Math.max(prev, p[field]) : prev + p[field],
      );
    }
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]);
}

function renderServices(snap) {
  const body = $("services").tBodies[0];
  const rows = snap.services.map((s) => {
    const tr = el("tr", { class: "service", "data-key": s.key, "data-up": s.up });
    const cells = [
      ["target", s.target],
      ["service", s.service],
      ["workers", fmt(s.workers)],
      ["idle", fmt(s.idle)],
      ["queued", fmt(s.queued)],
      ["rate", fmt(s.rate, 1)],
      ["p50", fmt(s.p50, 1)],
      ["p99", fmt(s.p99, 1)],
      ["expired", fmt(s.expired)],
      ["purged", fmt(s.purged)],
      ["requeued", fmt(s.requeued)],
      ["served", fmt(s.served)],
    ];
    for (const [field, text] of cells) tr.append(el("td", { "data-field": field }, text));
    const spark = svg("svg", {
      class: "spark",
      viewBox: "0 0 120 20",
      preserveAspectRatio: "none",
    });
    draw(
      spark,
      s.series.map((p) => [p.t, p.rate]),
      snap.time - snap.window,
      snap.time,
      120,
      20,
    );
    const td = el("td", { "data-field": "chart" });
    td.append(spark);
    tr.append(td);
    return tr;
  });
  body.replaceChildren(...rows);
}

function renderLogs(snap) {
  const min = LEVELS.indexOf($("level-filter").value);
  const app = $("app-filter").value;
  const apps = [...new Set(snap.logs.map((l) => l.app))].sort();
  const select = $("app-filter");
  const known = [...select.options].map((o) => o.value);
  for (const a of apps) if (!known.includes(a)) select.append(el("option", { value: a }, a));
  const lines = snap.logs
    .filter((l) => LEVELS.indexOf(l.level) >= min && (app === "" || l.app === app))
    .slice(-200)
    .reverse()
    .map((l) =>
      el(
        "li",
        { class: "log", "data-level": l.level, "data-app": l.app },
        `${time(l.time)} ${l.level.toUpperCase().padEnd(5)} ${l.app}: ${l.msg}`,
      ),
    );
  $("logs").replaceChildren(...lines);
}

function render(snap) {
  last = snap;
  snapshots += 1;
  document.body.dataset.snapshots = String(snapshots);
  $("clock").textContent = time(snap.time);
  for (const [field, value] of Object.entries(snap.totals)) {
    const b = document.querySelector(`#totals [data-field="${field}"]`);
    if (b) b.textContent = field === "rate" ? fmt(value, 1) : fmt(value);
  }
  $("targets").replaceChildren(
    ...snap.targets.map((t) =>
      el(
        "li",
        { class: "target", "data-name": t.name, "data-up": t.up, title: t.lastError ?? t.url },
        `${t.name} ${t.up ? "up" : "DOWN"} since ${time(t.since)}`,
      ),
    ),
  );
  renderServices(snap);
  // The x axis spans the data held (up to the window), so a young console's charts are not squeezed.
  const oldest = Math.min(snap.time, ...snap.services.map((s) => s.series[0]?.t ?? snap.time));
  const from = Math.max(snap.time - snap.window, Math.min(oldest, snap.time - 10_000));
  for (const [id, field, how, digits] of [
    ["chart-rate", "rate", "sum", 1],
    ["chart-p99", "p99", "max", 1],
    ["chart-workers", "workers", "sum", 0],
  ]) {
    const max = draw(
      $(id),
      combine(
        snap.services.filter((s) => s.up),
        field,
        how,
      ),
      from,
      snap.time,
      300,
      80,
    );
    $(`${id}-max`).textContent = `max ${fmt(max, digits)}`;
  }
  $("presence").replaceChildren(
    ...(snap.presence.length === 0
      ? [el("li", { class: "empty" }, "no presence peers (start zg-console with --presence)")]
      : snap.presence.map((p) =>
          el(
            "li",
            {
              class: "peer",
              "data-key": p.key,
              "data-state": p.state,
              "data-returned": p.returned,
            },
            `${p.key} ${p.state} since ${time(p.since)}${p.returned > 0 ? ` (returned ×${p.returned})` : ""}`,
          ),
        )),
  );
  renderLogs(snap);
}

$("level-filter").addEventListener("change", () => last && renderLogs(last));
$("app-filter").addEventListener("change", () => last && renderLogs(last));

const source = new EventSource("/events");
source.addEventListener("open", () => {
  $("connection").dataset.state = "live";
  $("connection").textContent = "live";
});
source.addEventListener("error", () => {
  $("connection").dataset.state = "down";
  $("connection").textContent = "console unreachable, retrying…";
});
source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
