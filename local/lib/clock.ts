// The local cloud's one clock. Everything time-dependent reads it: functions' `Date` inside their
// workers, TTL sweeps, analytics ROWTIME and windows, schedules, health-check polling, usage-plan
// rates and quota periods, the authorizer cache, STS and presigned-URL expiry, signing times, KMS
// and JWT times. Two modes:
// - scaled: real time, `scale` times faster since the cloud started (`--time-scale`);
// - manual: time moves only when told (`advance`, `advanceTo`); due work runs in order, each step
//   awaited, before the call returns, so that a test decides exactly what happens in each window.
// Deadlines on real work (a Lambda's timeout, an integration's 29 s, a health probe's 4 s) stay on
// real time in both modes: the machine computes no faster because the clock runs faster.
// Worker threads share the clock through a SharedArrayBuffer (`shared`), read by the Lambda
// bootstrap's `Date`.

export interface Scheduled {
  cancel(): void;
}

export interface Clock {
  readonly mode: "scaled" | "manual";
  /** Epoch milliseconds on the local clock. */
  now(): number;
  /** The local time at a real instant (epoch ms), for timestamps backends take on real time (kinesalite's arrival times). */
  at(realMs: number): number;
  /** Runs `task` after `ms` of local time. */
  after(ms: number, task: () => unknown): Scheduled;
  /**
   * Runs `task` every `ms` of local time. `catchUp: "once"` (a TTL sweep): when manual time jumps
   * over several periods, it runs once, at the end, instead of once per period.
   */
  every(ms: number, task: () => unknown, options?: { catchUp?: "each" | "once" }): Scheduled;
  /** What worker threads read (see `localNow`). */
  readonly shared: SharedArrayBuffer;
}

/** A move of the manual clock runs at most this many tasks: a jump of years must not hang the cloud. */
export const MAX_RUNS_PER_MOVE = 20_000;

/** Layout of `shared`: [mode (0 scaled, 1 manual), origin (ms), scale, manual now (ms)]. */
const MODE = 0;
const ORIGIN = 1;
const SCALE = 2;
const MANUAL_NOW = 3;

function sharedState(mode: number, origin: number, scale: number): { buffer: SharedArrayBuffer; view: Float64Array } {
  const buffer = new SharedArrayBuffer(4 * Float64Array.BYTES_PER_ELEMENT);
  const view = new Float64Array(buffer);
  view[MODE] = mode;
  view[ORIGIN] = origin;
  view[SCALE] = scale;
  view[MANUAL_NOW] = origin;
  return { buffer, view };
}

/** The local time as a worker reads it from `shared` (the same formula as the clocks below). */
export function localNow(view: Float64Array, realNow: number): number {
  return Math.floor(view[MODE] === 1 ? view[MANUAL_NOW] : view[ORIGIN] + (realNow - view[ORIGIN]) * view[SCALE]);
}

export class ScaledClock implements Clock {
  readonly mode = "scaled" as const;
  readonly shared: SharedArrayBuffer;
  private readonly origin = Date.now();

  constructor(readonly scale = 1) {
    if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`the time scale must be a positive finite number, got ${scale}`);
    this.shared = sharedState(0, this.origin, scale).buffer;
  }

  now(): number {
    return this.at(Date.now());
  }

  at(realMs: number): number {
    return Math.floor(this.origin + (realMs - this.origin) * this.scale);
  }

  after(ms: number, task: () => unknown): Scheduled {
    const timer = setTimeout(() => void run(task), ms / this.scale);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  }

  every(ms: number, task: () => unknown): Scheduled {
    const timer = setInterval(() => void run(task), ms / this.scale);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  }
}

interface ManualTask {
  due: number;
  period?: number;
  catchUpOnce?: boolean;
  task: () => unknown;
  cancelled: boolean;
  /** Order of scheduling, for tasks due at the same moment. */
  sequence: number;
}

export class ManualClock implements Clock {
  readonly mode = "manual" as const;
  readonly shared: SharedArrayBuffer;
  private readonly view: Float64Array;
  private tasks: ManualTask[] = [];
  private sequence = 0;
  /** (real ms, local ms) at every change, for `at`. */
  private readonly history: Array<[number, number]>;
  private moving: Promise<void> = Promise.resolve();

  /**
   * `settle`: what must be finished before time moves on (the records already on streams reaching
   * their functions), awaited before each step.
   */
  constructor(
    start = Date.now(),
    private readonly settle: () => Promise<void> = async () => {},
  ) {
    const state = sharedState(1, start, 1);
    this.shared = state.buffer;
    this.view = state.view;
    this.history = [[Date.now(), start]];
  }

  now(): number {
    return this.view[MANUAL_NOW];
  }

  at(realMs: number): number {
    // Recent instants are the ones asked about (a record that just arrived): search from the end.
    for (let i = this.history.length - 1; i > 0; i--) if (this.history[i][0] <= realMs) return this.history[i][1];
    return this.history[0][1];
  }

  after(ms: number, task: () => unknown): Scheduled {
    return this.schedule({ due: this.now() + ms, task, cancelled: false, sequence: this.sequence++ });
  }

  every(ms: number, task: () => unknown, options: { catchUp?: "each" | "once" } = {}): Scheduled {
    if (!(ms > 0)) throw new RangeError(`a repeating task needs a positive period, got ${ms}`);
    return this.schedule({ due: this.now() + ms, period: ms, catchUpOnce: options.catchUp === "once", task, cancelled: false, sequence: this.sequence++ });
  }

  /**
   * Moves time forward by `ms`, running every task due on the way, in order, each awaited. Moves
   * queue: two callers advancing 10 s each move the clock 20 s.
   */
  advance(ms: number): Promise<number> {
    if (!(ms >= 0) || !Number.isFinite(ms)) return Promise.reject(new RangeError(`time moves forward by a finite number of ms, got ${ms}`));
    return this.enqueue(() => this.now() + ms);
  }

  /** Moves time forward to `target` (epoch ms), running every task due on the way, in order. */
  advanceTo(target: number): Promise<number> {
    if (!Number.isFinite(target)) return Promise.reject(new RangeError(`time moves to a finite instant, got ${target}`));
    return this.enqueue(() => target);
  }

  private enqueue(targetOf: () => number): Promise<number> {
    const move = this.moving.then(() => this.move(targetOf()));
    this.moving = move.then(
      () => undefined,
      () => undefined,
    );
    return move;
  }

  private async move(target: number): Promise<number> {
    if (target < this.now()) throw new RangeError(`time only moves forward: ${new Date(target).toISOString()} is before ${new Date(this.now()).toISOString()}`);
    const runs = this.runsUntil(target);
    if (runs > MAX_RUNS_PER_MOVE) {
      throw new RangeError(
        `moving to ${new Date(target).toISOString()} would run ${runs} scheduled tasks (schedules, health checks) one after another; move at most ${MAX_RUNS_PER_MOVE} tasks' worth at a time`,
      );
    }
    await this.settle();
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      this.set(next.due);
      if (next.period) next.due += next.period;
      else this.tasks = this.tasks.filter((t) => t !== next);
      await run(next.task);
      await this.settle();
    }
    if (target > this.now()) this.set(target);
    for (const task of this.tasks.filter((t) => t.catchUpOnce && !t.cancelled && t.due <= target)) {
      while (task.due <= target) task.due += task.period!;
      await run(task.task);
    }
    await this.settle();
    return this.now();
  }

  /** How many task runs moving to `target` takes (catch-up-once tasks run once). */
  private runsUntil(target: number): number {
    let runs = 0;
    for (const task of this.tasks) {
      if (task.cancelled || task.due > target) continue;
      runs += task.period && !task.catchUpOnce ? Math.floor((target - task.due) / task.period) + 1 : 1;
    }
    return runs;
  }

  private nextDue(target: number): ManualTask | undefined {
    this.tasks = this.tasks.filter((t) => !t.cancelled);
    return this.tasks.filter((t) => t.due <= target && !t.catchUpOnce).sort((a, b) => a.due - b.due || a.sequence - b.sequence)[0];
  }

  private schedule(task: ManualTask): Scheduled {
    this.tasks.push(task);
    return { cancel: () => (task.cancelled = true) };
  }

  private set(local: number) {
    // Each change gets a real millisecond of its own, so that `at` tells what happened before it
    // (a record that arrived in an earlier millisecond) from what happened after.
    const before = Date.now();
    let real = before;
    while (real === before) real = Date.now();
    this.view[MANUAL_NOW] = local;
    this.history.push([real, local]);
  }
}

/** The clock a local cloud runs on. */
export type LocalClock = ScaledClock | ManualClock;

/** A task's failure is its own: it is reported where it runs (its log), never left unhandled. */
async function run(task: () => unknown): Promise<void> {
  try {
    await task();
  } catch (error) {
    console.error(`clock: a scheduled task failed: ${(error as Error)?.stack ?? String(error)}`);
  }
}

/** `10s`, `5m`, `1h`, `250ms`, `2d` -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new RangeError(`a duration is a number and a unit (ms, s, m, h, d), e.g. 10s; got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "ms" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

/**
 * An AWS SDK v3 client inside the local cloud (a Lambda poller, an operator's client) signs on
 * the local clock, which the edge checks signatures against: its clock offset is the local
 * clock's distance from real time, read at every request.
 */
export function signOnLocalClock<C extends { config: object }>(client: C, clock: Clock): C {
  Object.defineProperty(client.config, "systemClockOffset", {
    get: () => clock.now() - Date.now(),
    // The SDK corrects its offset from answers' Date headers; the local clock is already right.
    set: () => {},
    configurable: true,
  });
  return client;
}
