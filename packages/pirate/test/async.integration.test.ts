import { expect, test } from "vitest";
import { closeAfter, waitFor } from "@zg/testing";
import { AsyncClient, AsyncServer } from "../src/index.js";

test("async client/server: 0..n replies per request, per-client state destroyed after silence", async () => {
  const destroyed: string[] = [];
  const server = closeAfter(
    new AsyncServer<{ count: number }>({
      clientExpiry: 150,
      createState: () => ({ count: 0 }),
      destroyState: (_s, id) => destroyed.push(id.toString()),
      handler: (request, ctx) => {
        ctx.state.count++;
        const n = Number(request[0]?.toString().split("#")[1] ?? 0) % 3; // 0, 1 or 2 replies
        for (let i = 0; i < n; i++)
          setTimeout(() => ctx.reply([`${request[0]?.toString() ?? ""}/${i}`]), 5 * i);
      },
    }),
  );
  const [endpoint] = (await server.start()).endpoints;
  const a = closeAfter(new AsyncClient({ server: endpoint as string, routingId: "AAAA-0001" }));
  const b = closeAfter(new AsyncClient({ server: endpoint as string, routingId: "BBBB-0002" }));
  await a.start();
  await b.start();
  for (let i = 0; i < 6; i++) {
    a.send(`request #${i}`);
    b.send(`request #${i}`);
  }
  // 6 requests → 0+1+2+0+1+2 = 6 replies each.
  await waitFor(() => a.stats().received === 6 && b.stats().received === 6, {
    what: "6 replies each",
  });
  const got: string[] = [];
  for await (const r of a.replies()) {
    got.push(r[0]?.toString() ?? "");
    if (got.length === 6) break;
  }
  expect(got.sort()).toEqual([
    "request #1/0",
    "request #2/0",
    "request #2/1",
    "request #4/0",
    "request #5/0",
    "request #5/1",
  ]);
  expect(server.stats()).toMatchObject({ clients: 2, requests: 12, replies: 12 });
  expect(server.stateOf(Buffer.from("AAAA-0001"))).toEqual({ count: 6 });
  // b keeps talking, a goes silent: only a's state is destroyed.
  const keepAlive = setInterval(() => b.send("request #0"), 50);
  try {
    await waitFor(() => destroyed.includes("AAAA-0001"), {
      timeout: 2000,
      what: "a's state destroyed",
    });
    expect(destroyed).not.toContain("BBBB-0002");
    expect(server.stats().clients).toBe(1);
  } finally {
    clearInterval(keepAlive);
  }
  // a comes back: fresh state.
  a.send("request #0");
  await waitFor(() => server.stateOf(Buffer.from("AAAA-0001"))?.count === 1);
});
