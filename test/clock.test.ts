// The local cloud's one clock (local/lib/clock.ts): manual time moves only when told and runs
// what falls due on the way in order, each task awaited; scaled time runs faster than real time;
// worker threads read the same time from the shared state.
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { localNow, ManualClock, MAX_RUNS_PER_MOVE, parseDuration, ScaledClock } from "../local/lib/clock";

const START = Date.parse("2026-01-01T23:59:50Z");

describe("manual clock", () => {
  it("stands still until moved, then runs due tasks in time order, each awaited, at its own instant", async () => {
    const clock = new ManualClock(START);
    const ran: string[] = [];
    clock.every(10_000, async () => {
      ran.push(`tick ${clock.now() - START}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      ran.push(`tick done ${clock.now() - START}`);
    });
    clock.after(15_000, () => ran.push(`once ${clock.now() - START}`));
    clock.after(10_000, () => ran.push(`same instant, scheduled later ${clock.now() - START}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(clock.now()).toBe(START);
    expect(ran).toEqual([]);

    expect(await clock.advance(25_000)).toBe(START + 25_000);
    expect(ran).toEqual([
      "tick 10000",
      "tick done 10000",
      "same instant, scheduled later 10000",
      "once 15000",
      "tick 20000",
      "tick done 20000",
    ]);
  });

  it("runs a catch-up-once task (a TTL sweep) once at the end of a long move, not once per period", async () => {
    const clock = new ManualClock(START);
    const sweeps: number[] = [];
    clock.every(1000, () => sweeps.push(clock.now() - START), { catchUp: "once" });
    await clock.advance(3_600_000);
    expect(sweeps).toEqual([3_600_000]);
    await clock.advance(500);
    expect(sweeps).toEqual([3_600_000]);
    await clock.advance(500);
    expect(sweeps).toEqual([3_600_000, 3_601_000]);
  });

  it("settles before every step and at the end", async () => {
    const events: string[] = [];
    const clock = new ManualClock(START, async () => void events.push(`settle ${clock.now() - START}`));
    clock.after(1000, () => events.push(`task ${clock.now() - START}`));
    await clock.advance(2000);
    expect(events).toEqual(["settle 0", "task 1000", "settle 1000", "settle 2000"]);
  });

  it("moves one caller at a time and only forward, with errors that say why", async () => {
    const clock = new ManualClock(START);
    const [a, b] = await Promise.all([clock.advance(1000), clock.advance(1000)]);
    expect([a, b]).toEqual([START + 1000, START + 2000]);
    await expect(clock.advanceTo(START)).rejects.toThrow(/time only moves forward: 2026-01-01T23:59:50.000Z is before 2026-01-01T23:59:52.000Z/);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(RangeError);
    clock.every(1, () => {});
    await expect(clock.advance(MAX_RUNS_PER_MOVE + 1)).rejects.toThrow(/would run \d+ scheduled tasks/);
    expect(clock.now()).toBe(START + 2000);
  });

  it("a failing task is logged and the move goes on", async () => {
    const clock = new ManualClock(START);
    const ran: number[] = [];
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(" "));
    try {
      clock.after(1000, () => {
        throw new Error("boom");
      });
      clock.after(2000, () => ran.push(clock.now() - START));
      await clock.advance(3000);
    } finally {
      console.error = original;
    }
    expect(ran).toEqual([2000]);
    expect(String(errors[0])).toContain("boom");
  });

  it("tells the local time at a real instant: what arrived before a move belongs to the time before it", async () => {
    const clock = new ManualClock(START);
    const before = Date.now();
    await clock.advance(10_000);
    const after = Date.now();
    expect(clock.at(before)).toBe(START);
    expect(clock.at(after)).toBe(START + 10_000);
  });

  it("is the time worker threads read from the shared state", async () => {
    const clock = new ManualClock(START);
    await clock.advance(42_000);
    expect(localNow(new Float64Array(clock.shared), Date.now())).toBe(START + 42_000);
    const worker = new Worker(
      `const { workerData, parentPort } = require("node:worker_threads");
       const view = new Float64Array(workerData);
       parentPort.postMessage(view[0] === 1 ? view[3] : NaN);`,
      { eval: true, workerData: clock.shared },
    );
    const seen = await new Promise((resolve) => worker.once("message", resolve));
    await worker.terminate();
    expect(seen).toBe(START + 42_000);
  });
});

describe("scaled clock", () => {
  it("runs `scale` times faster than real time from its start", async () => {
    const clock = new ScaledClock(10);
    const realStart = Date.now();
    const localStart = clock.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const real = Date.now() - realStart;
    const local = clock.now() - localStart;
    expect(local).toBeGreaterThanOrEqual(real * 10 - 10);
    expect(local).toBeLessThanOrEqual((real + 2) * 10);
    expect(clock.at(realStart + 1000) - clock.at(realStart)).toBe(10_000);
  });

  it("refuses a scale that is not a positive finite number", () => {
    for (const scale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new ScaledClock(scale)).toThrow(/positive finite number/);
  });
});

describe("durations", () => {
  it("reads a number and a unit", () => {
    expect([parseDuration("250ms"), parseDuration("10s"), parseDuration("1.5m"), parseDuration("2h"), parseDuration("1d")]).toEqual([250, 10_000, 90_000, 7_200_000, 86_400_000]);
    for (const bad of ["10", "s", "-1s", "10 parsecs", "1e3s", ""]) expect(() => parseDuration(bad), bad).toThrow(/a duration is a number and a unit/);
  });
});
