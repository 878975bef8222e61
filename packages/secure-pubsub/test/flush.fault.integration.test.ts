import { expect, test } from "vitest";
import { closeAfter, spawnChild, waitFor } from "@zg/testing";
import { SecurePubSubBroker, SecurePubSubClient } from "../src/index.js";
import { testIssuer } from "./helpers/identities.js";

const I = 200;
const L = 3;
const fixture = new URL("./fixtures/subscriber.ts", import.meta.url);

async function setup() {
  const issuer = testIssuer();
  const broker = closeAfter(
    new SecurePubSubBroker({ issuers: [issuer.signKey], refreshInterval: I, liveness: L }),
  );
  const [endpoint] = (await broker.start()).endpoints;
  const p = issuer.identity({ publish: ["t"] });
  const pub = closeAfter(
    new SecurePubSubClient({
      broker: endpoint as string,
      secretKey: p.secretKey,
      token: p.token,
      refreshInterval: I,
    }),
  );
  await pub.start();
  const s = issuer.identity({ subscribe: ["t"] });
  const child = await spawnChild(fixture, {
    args: [
      JSON.stringify({
        endpoint,
        secretKey: s.secretKey,
        token: Buffer.from(s.token).toString("base64"),
        topic: "t",
        refreshInterval: I,
      }),
    ],
  });
  return { broker, pub, child };
}

test("G8: a subscriber killed with SIGKILL is flushed from both tables within L·I + slack", async () => {
  const { broker, pub, child } = await setup();
  await waitFor(() => broker.stats().subscriptions === 1, {
    what: "precondition: the child subscribed",
  });
  await pub.publish("t", "before", { ack: true });
  expect((await child.waitForEvent("message", { predicate: (d) => d === "before" })).data).toBe(
    "before",
  );
  const flushed = broker.next("client:expired");
  const killedAt = performance.now();
  await child.kill("SIGKILL");
  await flushed;
  const after = performance.now() - killedAt;
  console.log(`G8 SIGKILL: flushed ${after.toFixed(0)} ms after kill -9 (L·I = ${L * I} ms)`);
  expect(after).toBeLessThanOrEqual(L * I + 10 + 0.5 * L * I);
  expect(broker.stats()).toMatchObject({ clients: 1, subscriptions: 0, expired: 1 });
});

test("G8: a SIGSTOPped subscriber is flushed; after SIGCONT it must log in again, and then receives again", async () => {
  const { broker, pub, child } = await setup();
  await waitFor(() => broker.stats().subscriptions === 1, {
    what: "precondition: the child subscribed",
  });
  const flushed = broker.next("client:expired");
  child.pause();
  await flushed;
  expect(broker.stats().subscriptions).toBe(0);
  await pub.publish("t", "while stopped", { ack: true }); // routed to nobody
  child.resume();
  await child.waitForEvent("restored");
  await waitFor(() => broker.stats().subscriptions === 1, {
    what: "resubscribed after the new login",
  });
  await pub.publish("t", "after", { ack: true });
  expect((await child.waitForEvent("message", { predicate: (d) => d === "after" })).data).toBe(
    "after",
  );
  expect(child.events.some((e) => e.name === "message" && e.data === "while stopped")).toBe(false);
  console.log(
    `G8 SIGSTOP: flushed, re-logged in (logins ${broker.stats().logins}), expired ${broker.stats().expired}`,
  );
  expect(broker.stats().logins).toBe(3);
});
