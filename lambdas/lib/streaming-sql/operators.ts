// The runtime pieces a compiled application is made of: in-application streams that push rows
// to the pumps reading them, and the stateful operators of those pumps (tumbling-window
// aggregation, the ROWTIME join, RANDOM_CUT_FOREST). Rows are tuples: the column values in
// order, then the ROWTIME.
import { RandomCutForest, Shingle, type ForestSnapshot, type ShingleSnapshot } from "../random-cut-forest";
import { SqlError, SqlRuntimeError } from "./errors";
import type { Tuple } from "./expressions";
import { checkedDouble, toExact } from "./values";
import { isExactNumeric, typeText, type SqlType, type Value } from "./types";

export type Emit = (tuple: Tuple) => void;
/** Reports a row a pump failed on (it goes to error_stream). */
export type Report = (rowtime: number, error: SqlRuntimeError) => void;

export const rowtimeOf = (tuple: Tuple) => tuple[tuple.length - 1] as number;

/** Runs `fn`; a SqlRuntimeError becomes a report (the row is dropped), anything else is a bug and propagates. */
export function guarded(report: Report, rowtime: number, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof SqlRuntimeError)) throw error;
    report(rowtime, error);
  }
}

export interface Column {
  name: string;
  type: SqlType;
}

export interface OutputRow {
  stream: string;
  rowtime: number;
  /** In the stream's column order. */
  values: Value[];
}

export class StreamNode {
  private readonly readers: { handler: Emit; report: Report }[] = [];
  readonly listeners = new Set<(row: OutputRow) => void>();

  constructor(
    readonly name: string,
    readonly columns: Column[],
  ) {}

  /** A pump reading this stream; its failures on a row are reported, not thrown. */
  addReader(handler: Emit, report: Report): void {
    this.readers.push({ handler, report });
  }

  insert(tuple: Tuple): void {
    const rowtime = rowtimeOf(tuple);
    if (this.listeners.size > 0) {
      const row: OutputRow = { stream: this.name, rowtime, values: tuple.slice(0, -1) };
      for (const listener of this.listeners) listener(row);
    }
    for (const { handler, report } of this.readers) guarded(report, rowtime, () => handler(tuple));
  }
}

export interface StatefulOperator {
  /** Stable for the same SQL: names the operator's part of a snapshot. */
  readonly id: string;
  /** The application clock moved to `clock`: close what ended (windows, join buffers). */
  advance?(clock: number): void;
  snapshot(): unknown;
  restore(state: unknown): void;
}

/** A tumbling window: window n covers [origin + n * size, origin + (n + 1) * size). */
export interface WindowSpec {
  origin: number;
  size: number;
}

export type AggregateFunction = "COUNT" | "SUM" | "AVG" | "MIN" | "MAX";

export interface AggregateSpec {
  fn: AggregateFunction;
  /** Absent for COUNT(*). */
  argument?: (tuple: Tuple) => Value;
  type: SqlType;
}

/**
 * One group of a tumbling window: what a window aggregate holds until the window closes, and
 * what a shard hands over as its partial result of the window (plain JSON).
 */
export interface PartialGroup {
  window: number;
  end: number;
  /** GROUP BY values, in GROUP BY order. */
  keys: Value[];
  /** Accumulators: one slot per aggregate, two for AVG (sum, count). */
  accumulators: Value[];
  /** ROWTIME of the group's first row: groups of a window are emitted in this order. */
  first: number;
}

/**
 * GROUP BY over a tumbling window of ROWTIME (FLOOR(... TO unit), STEP(... BY interval)): each
 * group collects its rows; when the clock reaches the window's end the group emits one row,
 * with ROWTIME = the window's end, and is dropped.
 */
export class WindowAggregate implements StatefulOperator {
  private groups = new Map<string | number, PartialGroup>();
  private readonly slots: number[] = [];
  private readonly width: number;

  constructor(
    readonly id: string,
    readonly window: WindowSpec,
    /** GROUP BY expressions: the window's key and any others (which partition the window). */
    private readonly keys: ((tuple: Tuple) => Value)[],
    /** Indexes in `keys` of the partitioning (non-window) keys. */
    private readonly partitionKeys: number[],
    private readonly aggregates: AggregateSpec[],
    /** From [keys..., aggregate results..., window end] to the output tuple. */
    private readonly project: (grouped: Tuple) => Tuple,
    private readonly emit: Emit,
    private readonly report: Report,
  ) {
    let width = 0;
    for (const a of aggregates) {
      this.slots.push(width);
      width += a.fn === "AVG" ? 2 : 1;
    }
    this.width = width;
  }

  push(tuple: Tuple): void {
    const rowtime = rowtimeOf(tuple);
    const window = Math.floor((rowtime - this.window.origin) / this.window.size);
    // Evaluate everything first, so that a failing expression leaves no half-counted row.
    const values = this.aggregates.map((a) => (a.argument ? a.argument(tuple) : null));
    let key: string | number = window;
    if (this.partitionKeys.length > 0) key = JSON.stringify([window, ...this.partitionKeys.map((k) => this.keys[k](tuple))]);
    let group = this.groups.get(key);
    if (!group) {
      group = {
        window,
        end: this.window.origin + (window + 1) * this.window.size,
        keys: this.keys.map((k) => k(tuple)),
        accumulators: this.aggregates.flatMap((a) => (a.fn === "AVG" ? [0, 0] : a.fn === "COUNT" ? [0] : [null])),
        first: rowtime,
      };
      this.groups.set(key, group);
    }
    const acc = group.accumulators;
    for (let i = 0; i < this.aggregates.length; i++) {
      const { fn, argument } = this.aggregates[i];
      const slot = this.slots[i];
      const v = values[i];
      if (argument && v === null) continue;
      switch (fn) {
        case "COUNT":
          (acc[slot] as number)++;
          break;
        case "SUM":
          acc[slot] = acc[slot] === null ? v : (acc[slot] as number) + (v as number);
          break;
        case "AVG":
          (acc[slot] as number) += v as number;
          (acc[slot + 1] as number)++;
          break;
        case "MIN":
          if (acc[slot] === null || v! < acc[slot]!) acc[slot] = v;
          break;
        case "MAX":
          if (acc[slot] === null || v! > acc[slot]!) acc[slot] = v;
          break;
      }
    }
  }

  /** The ends of the windows this operator holds groups of. */
  pendingEnds(): number[] {
    return [...this.groups.values()].map((g) => g.end);
  }

  /** Hands over every group collected so far (a shard's partial windows) and forgets them. */
  drain(): PartialGroup[] {
    const groups = [...this.groups.values()];
    this.groups = new Map();
    return groups;
  }

  /**
   * Adds groups collected elsewhere (by other shards, or by earlier batches of the same shard):
   * a group already here combines their accumulators, as if one operator had seen all the rows.
   * COUNT, SUM, MIN and MAX combine by their own function, AVG by its sum and count. Groups stay
   * in window order, and within a window in the order of their first row, so that the rows a
   * window emits do not depend on which shard delivered first.
   */
  absorb(groups: readonly PartialGroup[]): void {
    for (const group of groups) {
      if (group?.accumulators?.length !== this.width || !Array.isArray(group.keys)) {
        throw new SqlError("SQL_SNAPSHOT", `operator ${this.id}`, "partial window state does not match this aggregation");
      }
      const key = this.groupKey(group.window, group.keys);
      const own = this.groups.get(key);
      if (!own) {
        this.groups.set(key, { ...group, keys: [...group.keys], accumulators: [...group.accumulators] });
        continue;
      }
      own.first = Math.min(own.first, group.first);
      for (let i = 0; i < this.aggregates.length; i++) this.combine(this.aggregates[i].fn, own.accumulators, group.accumulators, this.slots[i]);
    }
    const ordered = [...this.groups.entries()].sort(([ka, a], [kb, b]) => a.window - b.window || a.first - b.first || (String(ka) < String(kb) ? -1 : 1));
    this.groups = new Map(ordered);
  }

  advance(clock: number): void {
    // Rows arrive in ROWTIME order (and absorbed groups are kept sorted), so groups are in window order: stop at the first open one.
    for (const [key, group] of this.groups) {
      if (group.end > clock) break;
      this.groups.delete(key);
      guarded(this.report, group.end, () => this.emit(this.project([...group.keys, ...this.results(group), group.end])));
    }
  }

  snapshot(): unknown {
    return [...this.groups.entries()];
  }

  restore(state: unknown): void {
    const entries = state as [string | number, PartialGroup][];
    if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 2 && e[1]?.accumulators?.length === this.width)) {
      throw new SqlError("SQL_SNAPSHOT", `operator ${this.id}`, "snapshot state does not match this aggregation");
    }
    this.groups = new Map(entries);
  }

  /** The key `push` files a group under, from the group's own values. */
  private groupKey(window: number, keys: readonly Value[]): string | number {
    return this.partitionKeys.length > 0 ? JSON.stringify([window, ...this.partitionKeys.map((k) => keys[k])]) : window;
  }

  /** Folds `from`'s accumulator of one aggregate into `into`'s. */
  private combine(fn: AggregateFunction, into: Value[], from: readonly Value[], slot: number): void {
    const a = into[slot];
    const b = from[slot];
    switch (fn) {
      case "COUNT":
        into[slot] = (a as number) + (b as number);
        break;
      case "AVG":
        into[slot] = (a as number) + (b as number);
        into[slot + 1] = (into[slot + 1] as number) + (from[slot + 1] as number);
        break;
      case "SUM":
        into[slot] = a === null ? b : b === null ? a : (a as number) + (b as number);
        break;
      case "MIN":
        if (a === null || (b !== null && b < a)) into[slot] = b;
        break;
      case "MAX":
        if (a === null || (b !== null && b > a)) into[slot] = b;
        break;
    }
  }

  private results(group: PartialGroup): Value[] {
    return this.aggregates.map(({ fn, type }, i) => {
      const slot = this.slots[i];
      const value = group.accumulators[slot];
      if (fn === "AVG") {
        const count = group.accumulators[slot + 1] as number;
        return count === 0 ? null : checkedDouble((value as number) / count);
      }
      if (fn === "SUM" && value !== null) return isExactNumeric(type) ? toExact(value as number, type) : checkedDouble(value as number);
      return value;
    });
  }
}

/**
 * Inner join of two streams on equal ROWTIME (`a.ROWTIME = b.ROWTIME`): each side keeps its rows
 * until the clock passes their ROWTIME, since no later row of the other side can match them.
 */
export class RowtimeJoin implements StatefulOperator {
  private buffers: [Map<number, Tuple[]>, Map<number, Tuple[]>] = [new Map(), new Map()];

  constructor(
    readonly id: string,
    /** Gets [left columns..., left ROWTIME, right columns..., right ROWTIME]. */
    private readonly emit: Emit,
  ) {}

  push(side: 0 | 1, tuple: Tuple): void {
    const rowtime = rowtimeOf(tuple);
    for (const other of this.buffers[1 - side].get(rowtime) ?? []) {
      this.emit(side === 0 ? [...tuple, ...other] : [...other, ...tuple]);
    }
    const own = this.buffers[side].get(rowtime);
    if (own) own.push(tuple);
    else this.buffers[side].set(rowtime, [tuple]);
  }

  advance(clock: number): void {
    for (const buffer of this.buffers) {
      for (const rowtime of buffer.keys()) if (rowtime < clock) buffer.delete(rowtime);
    }
  }

  snapshot(): unknown {
    return this.buffers.map((b) => [...b.entries()]);
  }

  restore(state: unknown): void {
    const sides = state as [number, Tuple[]][][];
    if (!Array.isArray(sides) || sides.length !== 2 || !sides.every(Array.isArray)) {
      throw new SqlError("SQL_SNAPSHOT", `operator ${this.id}`, "snapshot state does not match this join");
    }
    this.buffers = [new Map(sides[0]), new Map(sides[1])];
  }
}

export interface RandomCutForestParameters {
  numberOfTrees: number;
  subSampleSize: number;
  /** How many recent rows the sample favours: the decay per row is 1 / timeDecay. */
  timeDecay: number;
  shingleSize: number;
}

/**
 * RANDOM_CUT_FOREST as a table function: every input row passes through with ANOMALY_SCORE
 * added, computed from the row's numeric columns (shingled), scored before the forest learns
 * the row. Scores are 0 until the forest has seen subSampleSize points, as in Kinesis Analytics.
 */
export class RandomCutForestOperator implements StatefulOperator {
  private forest: RandomCutForest;
  private shingle: Shingle;

  constructor(
    readonly id: string,
    /** Tuple indexes of the numeric columns that make a point. */
    private readonly numericColumns: { index: number; name: string; type: SqlType }[],
    private readonly parameters: RandomCutForestParameters,
    private readonly seed: number,
    private readonly emit: Emit,
  ) {
    this.shingle = new Shingle(numericColumns.length, parameters.shingleSize);
    this.forest = this.newForest();
  }

  push(tuple: Tuple): void {
    const point = this.numericColumns.map(({ index, name, type }) => {
      const v = tuple[index];
      if (v === null) throw new SqlRuntimeError(`RANDOM_CUT_FOREST: column ${name} (${typeText(type)}) is NULL; every numeric column needs a value`);
      return v as number;
    });
    this.shingle.add(point);
    const score = this.shingle.isFull ? this.forest.scoreThenUpdate(this.shingle.current()) : 0;
    this.emit([...tuple.slice(0, -1), score, rowtimeOf(tuple)]);
  }

  snapshot(): unknown {
    return { forest: this.forest.snapshot(), shingle: this.shingle.snapshot() };
  }

  restore(state: unknown): void {
    const { forest, shingle } = (state ?? {}) as { forest?: ForestSnapshot; shingle?: ShingleSnapshot };
    try {
      const restored = RandomCutForest.restore(forest as ForestSnapshot);
      if (JSON.stringify(restored.options) !== JSON.stringify(this.forest.options)) throw new Error("its options differ");
      this.forest = restored;
      this.shingle = Shingle.restore(this.numericColumns.length, this.parameters.shingleSize, shingle as ShingleSnapshot);
    } catch (error) {
      throw new SqlError("SQL_SNAPSHOT", `operator ${this.id}`, `snapshot state is not this RANDOM_CUT_FOREST's: ${(error as Error).message}`);
    }
  }

  private newForest(): RandomCutForest {
    const { numberOfTrees, subSampleSize, timeDecay, shingleSize } = this.parameters;
    return RandomCutForest.create({
      dimensions: this.numericColumns.length * shingleSize,
      numberOfTrees,
      sampleSize: subSampleSize,
      timeDecay: 1 / timeDecay,
      outputAfter: subSampleSize,
      seed: this.seed,
    });
  }
}
