import { describe, expect, it } from "vitest";
import { ManualClock, toFrame } from "@zg/core";
import {
  BinaryStarFsm,
  decodeBinaryStarState,
  encodeBinaryStarState,
  type BinaryStarEvent,
  type BinaryStarRole,
  type BinaryStarState,
  type BinaryStarStep,
} from "../src/bstar/fsm.js";

const HB = 100;

/** An FSM of `role` brought into `state` with the peer alive (heard just now). */
function inState(
  role: BinaryStarRole,
  state: BinaryStarState,
  options: { canTakeOver?: () => boolean } = {},
): { fsm: BinaryStarFsm; clock: ManualClock } {
  const clock = new ManualClock(1000);
  const fsm = new BinaryStarFsm({ role, heartbeat: HB, clock, ...options });
  if (state === "active") {
    if (role === "primary") fsm.peerState("backup");
    else {
      fsm.peerState("active"); // → passive
      clock.advance(2 * HB);
      fsm.tick();
      expect(fsm.clientRequest().accept).toBe(true); // failover vote
    }
  } else if (state === "passive") {
    fsm.peerState("active");
  } else if (state !== role) {
    throw new Error(`a ${role} never returns to ${state}`);
  }
  expect(fsm.state).toBe(state);
  return { fsm, clock };
}

function fire(fsm: BinaryStarFsm, event: BinaryStarEvent): BinaryStarStep {
  return event === "client-request"
    ? fsm.clientRequest()
    : fsm.peerState(event.slice("peer-".length) as BinaryStarState);
}

const EVENTS: BinaryStarEvent[] = [
  "peer-primary",
  "peer-backup",
  "peer-active",
  "peer-passive",
  "client-request",
];

// protocols.md §13.2 / bstar.py, with the peer alive (a state heard within the expiry).
// [role, state, event] → [next state, accept, split]
type Row = [BinaryStarRole, BinaryStarState, BinaryStarEvent, BinaryStarState, boolean, string?];
const TABLE: Row[] = [
  ["primary", "primary", "peer-primary", "primary", true],
  ["primary", "primary", "peer-backup", "active", true],
  ["primary", "primary", "peer-active", "passive", true],
  ["primary", "primary", "peer-passive", "primary", true],
  ["primary", "primary", "client-request", "primary", false], // failback protection
  ["backup", "backup", "peer-primary", "backup", true],
  ["backup", "backup", "peer-backup", "backup", true],
  ["backup", "backup", "peer-active", "passive", true],
  ["backup", "backup", "peer-passive", "backup", true],
  ["backup", "backup", "client-request", "backup", false],
];
for (const role of ["primary", "backup"] as const) {
  TABLE.push(
    [role, "active", "peer-primary", "active", true],
    [role, "active", "peer-backup", "active", true],
    [role, "active", "peer-active", "active", true, "dual-active"],
    [role, "active", "peer-passive", "active", true],
    [role, "active", "client-request", "active", true],
    [role, "passive", "peer-primary", "active", true],
    [role, "passive", "peer-backup", "active", true],
    [role, "passive", "peer-active", "passive", true],
    [role, "passive", "peer-passive", "passive", true, "dual-passive"],
    [role, "passive", "client-request", "passive", false], // peer alive: no vote
  );
}

describe("BinaryStarFsm: every (state, event) pair, peer alive", () => {
  it("covers every reachable (role, state) × event", () => {
    const pairs = new Set(TABLE.map(([r, s, e]) => `${r}/${s}/${e}`));
    for (const [role, states] of [
      ["primary", ["primary", "active", "passive"]],
      ["backup", ["backup", "active", "passive"]],
    ] as const)
      for (const s of states) for (const e of EVENTS) expect(pairs).toContain(`${role}/${s}/${e}`);
  });

  for (const [role, state, event, next, accept, split] of TABLE) {
    it(`${role} in ${state} + ${event} → ${next}${split ? ` (${split})` : ""}`, () => {
      const { fsm } = inState(role, state);
      const step = fire(fsm, event);
      expect(step).toMatchObject({ from: state, to: next, accept });
      expect(step.split).toBe(split);
      expect(fsm.state).toBe(next);
      expect(fsm.failed).toBe(split);
    });
  }
});

describe("BinaryStarFsm: votes after the peer expiry", () => {
  it("primary alone: drops requests for 2 × heartbeat after start, then becomes active", () => {
    const clock = new ManualClock(0);
    const fsm = new BinaryStarFsm({ role: "primary", heartbeat: HB, clock });
    clock.advance(2 * HB - 1);
    fsm.tick();
    expect(fsm.clientRequest()).toMatchObject({ accept: false, reason: "peer-alive" });
    clock.advance(1);
    expect(fsm.clientRequest()).toMatchObject({ from: "primary", to: "active", accept: true });
  });

  it("backup alone never serves, however long it waits", () => {
    const clock = new ManualClock(0);
    const fsm = new BinaryStarFsm({ role: "backup", heartbeat: HB, clock });
    for (let i = 0; i < 20; i++) {
      clock.advance(HB);
      fsm.tick();
      expect(fsm.clientRequest()).toMatchObject({ accept: false, reason: "backup-alone" });
    }
    expect(fsm.state).toBe("backup");
  });

  for (const role of ["primary", "backup"] as const) {
    it(`${role} passive: a vote fails over exactly at the peer expiry`, () => {
      const { fsm, clock } = inState(role, "passive");
      clock.advance(HB);
      fsm.tick();
      clock.advance(HB - 1);
      fsm.tick();
      expect(fsm.clientRequest()).toMatchObject({ accept: false, reason: "peer-alive" });
      clock.advance(1);
      expect(fsm.peerAlive).toBe(false);
      expect(fsm.clientRequest()).toMatchObject({ from: "passive", to: "active", accept: true });
    });

    it(`${role} passive: each peer state pushes the expiry back`, () => {
      const { fsm, clock } = inState(role, "passive");
      for (let i = 0; i < 10; i++) {
        clock.advance(HB);
        fsm.tick();
        fsm.peerState("active");
        expect(fsm.clientRequest().accept).toBe(false);
      }
    });

    it(`${role} passive: the witness can veto the takeover`, () => {
      let witness = false;
      const { fsm, clock } = inState(role, "passive", { canTakeOver: () => witness });
      clock.advance(HB);
      fsm.tick();
      clock.advance(HB);
      fsm.tick();
      expect(fsm.clientRequest()).toMatchObject({ accept: false, reason: "witness" });
      witness = true;
      expect(fsm.clientRequest()).toMatchObject({ to: "active", accept: true });
    });
  }

  it("the witness also gates a lone primary's vote", () => {
    const clock = new ManualClock(0);
    const fsm = new BinaryStarFsm({
      role: "primary",
      heartbeat: HB,
      clock,
      canTakeOver: () => false,
    });
    clock.advance(2 * HB);
    expect(fsm.clientRequest()).toMatchObject({ accept: false, reason: "witness" });
  });

  it("after a split the FSM drops every request and stays put", () => {
    const { fsm } = inState("primary", "active");
    expect(fsm.peerState("active").split).toBe("dual-active");
    for (const e of EVENTS) fire(fsm, e);
    expect(fsm.clientRequest()).toMatchObject({ accept: false, reason: "failed" });
    expect(fsm.state).toBe("active");
    expect(fsm.failed).toBe("dual-active");
  });
});

describe("BinaryStarFsm: stall guard", () => {
  it("an active primary frozen past the expiry restarts as primary before handling the backlog", () => {
    const { fsm, clock } = inState("primary", "active");
    clock.advance(5 * HB); // SIGSTOP: no tick ran
    // First input after SIGCONT: the peer's state (it took over meanwhile).
    const step = fsm.peerState("active");
    expect(step).toMatchObject({ from: "active", to: "passive", stalled: 5 * HB });
    expect(step.split).toBeUndefined();
    expect(fsm.clientRequest().accept).toBe(false);
  });

  it("a frozen active server drops the first queued request instead of serving it", () => {
    const { fsm, clock } = inState("primary", "active");
    clock.advance(5 * HB);
    expect(fsm.clientRequest()).toMatchObject({
      from: "active",
      to: "primary",
      accept: false,
      stalled: 5 * HB,
    });
  });

  it("a tick notices the stall and publishes the configured role", () => {
    const { fsm, clock } = inState("backup", "active");
    clock.advance(3 * HB);
    const beat = fsm.tick();
    expect(beat.state).toBe("backup");
    expect(beat.step).toMatchObject({ from: "active", to: "backup", stalled: 3 * HB });
  });

  it("a backup restarted by the guard has seen its primary: it may take over after the expiry", () => {
    const { fsm, clock } = inState("backup", "active");
    clock.advance(3 * HB);
    expect(fsm.clientRequest().accept).toBe(false);
    clock.advance(HB);
    fsm.tick();
    clock.advance(HB);
    expect(fsm.clientRequest()).toMatchObject({ from: "backup", to: "active", accept: true });
  });

  it("a gap up to the expiry is not a stall; stallGuard: false turns it off", () => {
    const { fsm, clock } = inState("primary", "active");
    clock.advance(2 * HB);
    expect(fsm.clientRequest()).toMatchObject({ to: "active", accept: true });
    expect(fsm.clientRequest().stalled).toBeUndefined();
    const clock2 = new ManualClock(0);
    const off = new BinaryStarFsm({
      role: "primary",
      heartbeat: HB,
      clock: clock2,
      stallGuard: false,
    });
    off.peerState("backup");
    clock2.advance(10 * HB);
    expect(off.peerState("active").split).toBe("dual-active");
  });
});

describe("state codec", () => {
  it("round-trips the four states as one ASCII digit", () => {
    for (const s of ["primary", "backup", "active", "passive"] as const) {
      const frame = encodeBinaryStarState(s);
      expect(frame.toString()).toBe(
        String(["primary", "backup", "active", "passive"].indexOf(s) + 1),
      );
      expect(decodeBinaryStarState([frame])).toEqual({ ok: true, state: s });
    }
  });

  it("rejects wrong frame counts, non-numeric states and states outside 1..4", () => {
    const bad: Buffer[][] = [
      [],
      [toFrame("1"), toFrame("1")],
      [toFrame("")],
      [toFrame("0")],
      [toFrame("5")],
      [toFrame("x")],
      [toFrame("12")],
      [toFrame(" 1")],
      [Buffer.from([0x01])],
      [Buffer.from([0xb3])],
    ];
    for (const m of bad) expect(decodeBinaryStarState(m).ok).toBe(false);
  });
});
