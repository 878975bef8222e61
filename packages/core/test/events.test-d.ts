import { describe, expectTypeOf, test } from "vitest";
import { Component, TypedEmitter, type ClosedEventMap, type EventName } from "../src/index.js";

interface Closed {
  "worker:expired": { identity: string };
  "worker:ready": { identity: string };
}

interface Open {
  [type: string]: unknown;
  "worker:expired": { identity: string };
}

describe("event maps are closed", () => {
  test("a misspelled event name does not compile", () => {
    const e = new TypedEmitter<Closed>();
    e.on("worker:expired", (ev) => expectTypeOf(ev.identity).toEqualTypeOf<string>());
    // @ts-expect-error: not an event of the map
    e.on("worker:expird", () => {});
    // @ts-expect-error: not an event of the map
    e.listenerCount("worker:gone");
    expectTypeOf<EventName<Closed>>().toEqualTypeOf<"worker:expired" | "worker:ready">();
  });

  test("a map with a string index signature is refused", () => {
    expectTypeOf<EventName<Open>>().toBeNever();
    const e = new TypedEmitter<Open>();
    // @ts-expect-error: no event name of an open map compiles
    e.on("worker:expired", () => {});
    expectTypeOf<ClosedEventMap<Open>>().not.toEqualTypeOf<object>();
    // @ts-expect-error: Component rejects an open map at the declaration
    abstract class _Bad extends Component<Open, object> {}
    expectTypeOf<typeof _Bad>().not.toBeAny();
  });

  test("every component has the one fatal event", () => {
    abstract class Good extends Component<Closed, object> {
      listen(): void {
        this.on("component:failed", (ev) => {
          expectTypeOf(ev.error).toEqualTypeOf<Error>();
        });
      }
    }
    expectTypeOf<Good["on"]>().toBeFunction();
  });
});
