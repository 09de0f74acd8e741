// A compiled streaming SQL application: rows go in through its input streams with their ROWTIME,
// rows come out of any stream to subscribers, and the whole state (clock, open windows, join
// buffers, forests) is a plain-JSON snapshot that another process can restore and continue.
import { SqlError, type ErrorRow, type SourcePosition, type SqlRuntimeError } from "./errors";
import type { Column, OutputRow, PartialGroup, Report, StatefulOperator, StreamNode, WindowAggregate } from "./operators";
import { integerRange, isExactNumeric, isNumeric, isText, typeText, type SqlType, type Value } from "./types";

/** The pseudo-stream that carries rows a pump failed on, as in Kinesis Analytics. */
export const ERROR_STREAM = "error_stream" as const;

export interface ApplicationSnapshot {
  format: "streaming-sql/1";
  /** Which application (SQL, input schemas, seed) the state belongs to. */
  fingerprint: string;
  clock: number | null;
  operators: Record<string, unknown>;
}

/** What the compiler knows of a pump, for deciding whether its work can be split by shard. */
export interface PumpSummary {
  name: string;
  target: string;
  /** The streams its query reads. */
  reads: string[];
  position: SourcePosition;
  form: "windowed aggregate" | "row by row" | "join" | "RANDOM_CUT_FOREST";
  /** The operator of a "windowed aggregate": one GROUP BY over a tumbling ROWTIME window of one stream. */
  aggregate?: WindowAggregate;
}

/**
 * How the application's work can be spread over the input stream's shards. "partitioned": every
 * pump reading an input stream is a GROUP BY over a tumbling ROWTIME window with decomposable
 * aggregates (COUNT, SUM, AVG, MIN, MAX), so each shard can aggregate its own rows into partial
 * windows (`accumulate`, `takePartials`) and one merger combines them window by window
 * (`absorbPartials`, `closeWindows`) before the rest of the application sees the window's rows.
 * "single-writer": some pump needs every input row in arrival order; the reason names it.
 */
export type PartitionPlan = { mode: "partitioned"; shardPumps: string[] } | { mode: "single-writer"; reason: string };

/** Partial window groups by operator id: what one shard has aggregated and not yet handed on. */
export type Partials = Record<string, PartialGroup[]>;

/** A failed row no one subscribed to error_stream for: raised rather than lost. */
export class UnreportedRowError extends Error {
  readonly code = "SQL_RUNTIME";
  constructor(readonly row: ErrorRow) {
    super(`pump ${row.pump} dropped a row (ROWTIME ${row.rowtime}): ${row.message}; subscribe to ${ERROR_STREAM} to receive such rows`);
    this.name = "UnreportedRowError";
  }
}

export class ErrorChannel {
  readonly listeners = new Set<(row: ErrorRow) => void>();

  reporter(pump: string): Report {
    return (rowtime: number, error: SqlRuntimeError) => {
      const row: ErrorRow = { code: "SQL_RUNTIME", pump, rowtime, message: error.message };
      if (this.listeners.size === 0) throw new UnreportedRowError(row);
      for (const listener of this.listeners) listener(row);
    };
  }
}

export class Application {
  private clockMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly fingerprint: string,
    private readonly streams: Map<string, StreamNode>,
    private readonly inputs: ReadonlySet<string>,
    /** Upstream pumps first, so that rows a clock step releases reach the operators below in the same step. */
    private readonly operators: StatefulOperator[],
    private readonly errors: ErrorChannel,
    /** Upstream pumps first. */
    private readonly pumps: readonly PumpSummary[],
  ) {
    this.partitionPlan = planPartitions(pumps, inputs);
    this.shardAggregates = this.partitionPlan.mode === "partitioned" ? pumps.filter((p) => p.reads.some((r) => inputs.has(r))).map((p) => p.aggregate!) : [];
  }

  readonly partitionPlan: PartitionPlan;
  /** The window aggregates each shard runs on its own rows (partitioned plans only). */
  private readonly shardAggregates: WindowAggregate[];

  /** Streams filled by a windowed GROUP BY: one row per group each time a window closes. */
  get windowStreams(): string[] {
    return [...new Set(this.pumps.filter((p) => p.form === "windowed aggregate").map((p) => p.target))];
  }

  /** The latest ROWTIME or clock time seen; undefined before any. */
  get clock(): number | undefined {
    return Number.isFinite(this.clockMs) ? this.clockMs : undefined;
  }

  /** Names of the in-application streams. */
  get streamNames(): string[] {
    return [...this.streams.keys()];
  }

  columns(stream: string): readonly Column[] {
    return this.stream(stream).columns;
  }

  /**
   * Inserts a row into an input stream. `rowtime` is its arrival time (epoch ms); ROWTIME never
   * goes back, so a row older than the clock takes the clock's time, as an in-application
   * stream's ROWTIME is the time the row entered it. Missing columns are NULL.
   */
  insert(stream: string, values: Readonly<Record<string, unknown>>, rowtime: number): void {
    const node = this.inputStream(stream, rowtime);
    const tuple = node.columns.map((column) => inputValue(values[column.name], column, stream));
    const time = Math.max(rowtime, this.clockMs);
    this.advanceTo(time);
    tuple.push(time);
    node.insert(tuple);
  }

  /**
   * One shard's share of the work: the row goes through the shard's pumps (WHERE, GROUP BY
   * keys, aggregates) into partial windows, which nothing closes here; the clock does not move.
   * `rowtime` is the row's ROWTIME as its shard sees it (never going back within the shard).
   */
  accumulate(stream: string, values: Readonly<Record<string, unknown>>, rowtime: number): void {
    this.requirePartitioned("accumulate");
    const node = this.inputStream(stream, rowtime);
    const tuple = node.columns.map((column) => inputValue(values[column.name], column, stream));
    tuple.push(rowtime);
    node.insert(tuple);
  }

  /** The partial windows accumulated so far, handed over and forgotten. */
  takePartials(): Partials {
    this.requirePartitioned("takePartials");
    return Object.fromEntries(this.shardAggregates.map((a) => [a.id, a.drain()]));
  }

  /**
   * Adds partial windows from shards (or from earlier batches of one shard). With `range`, only
   * windows ending after `range.after` and at or before `range.through` are taken.
   */
  absorbPartials(partials: Partials, range?: { after: number; through: number }): void {
    this.requirePartitioned("absorbPartials");
    const known = new Set(this.shardAggregates.map((a) => a.id));
    const unknown = Object.keys(partials).find((id) => !known.has(id));
    if (unknown !== undefined) throw new SqlError("SQL_SNAPSHOT", "partial windows", `operator ${unknown} is not a shard aggregate of this application`);
    for (const aggregate of this.shardAggregates) {
      const groups = partials[aggregate.id] ?? [];
      aggregate.absorb(range ? groups.filter((g) => g.end > range.after && g.end <= range.through) : groups);
    }
  }

  /**
   * Closes every absorbed window that ends at or before `through`, one window end at a time in
   * time order, so that the operators below see each window's rows before the next window's;
   * then the clock stands at `through`.
   */
  closeWindows(through: number): void {
    this.requirePartitioned("closeWindows");
    const ends = [...new Set(this.shardAggregates.flatMap((a) => a.pendingEnds()))].filter((end) => end <= through).sort((a, b) => a - b);
    for (const end of ends) this.advanceTo(end);
    this.advanceTo(through);
  }

  /** The first end of a shard window after `time`: a shard whose ROWTIME passes it may complete a window. */
  nextWindowEnd(time: number): number {
    this.requirePartitioned("nextWindowEnd");
    return Math.min(...this.shardAggregates.map(({ window }) => window.origin + (Math.floor((time - window.origin) / window.size) + 1) * window.size));
  }

  /** Moves the clock forward: windows that end at or before `clock` emit their rows. */
  advanceTo(clock: number): void {
    if (!Number.isFinite(clock)) throw new SqlError("SQL_INPUT", "clock", `must be a finite epoch-milliseconds number, got ${clock}`);
    if (clock <= this.clockMs) return;
    this.clockMs = clock;
    for (const operator of this.operators) operator.advance?.(clock);
  }

  /** Calls `listener` with every row inserted into `stream` (or every failed row, for error_stream). */
  subscribe(stream: typeof ERROR_STREAM, listener: (row: ErrorRow) => void): () => void;
  subscribe(stream: string, listener: (row: OutputRow) => void): () => void;
  subscribe(stream: string, listener: ((row: OutputRow) => void) | ((row: ErrorRow) => void)): () => void {
    const listeners = (stream === ERROR_STREAM ? this.errors.listeners : this.stream(stream).listeners) as Set<typeof listener>;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  snapshot(): ApplicationSnapshot {
    return {
      format: "streaming-sql/1",
      fingerprint: this.fingerprint,
      clock: this.clock ?? null,
      operators: Object.fromEntries(this.operators.map((o) => [o.id, o.snapshot()])),
    };
  }

  /** Continues from a snapshot of this same application (same SQL, inputs and seed). */
  restore(snapshot: ApplicationSnapshot): void {
    if (snapshot?.format !== "streaming-sql/1") {
      throw new SqlError("SQL_SNAPSHOT", "snapshot", `format ${JSON.stringify(snapshot?.format)} is not streaming-sql/1`);
    }
    if (snapshot.fingerprint !== this.fingerprint) {
      throw new SqlError("SQL_SNAPSHOT", "snapshot", "it belongs to another application (different SQL, input schema or seed)");
    }
    const clock = snapshot.clock;
    if (clock !== null && !Number.isFinite(clock)) throw new SqlError("SQL_SNAPSHOT", "snapshot", `clock ${clock} is not a time`);
    for (const operator of this.operators) {
      if (!(operator.id in (snapshot.operators ?? {}))) throw new SqlError("SQL_SNAPSHOT", "snapshot", `it has no state for operator ${operator.id}`);
      operator.restore(snapshot.operators[operator.id]);
    }
    this.clockMs = clock ?? Number.NEGATIVE_INFINITY;
  }

  private inputStream(stream: string, rowtime: number): StreamNode {
    const node = this.stream(stream);
    if (!this.inputs.has(stream)) {
      throw new SqlError("SQL_INPUT", `stream ${stream}`, `is not an input stream; inputs: ${[...this.inputs].join(", ")}`);
    }
    if (!Number.isFinite(rowtime)) throw new SqlError("SQL_INPUT", "ROWTIME", `must be a finite epoch-milliseconds number, got ${rowtime}`);
    return node;
  }

  private requirePartitioned(method: string): void {
    if (this.partitionPlan.mode !== "partitioned") throw new Error(`${method}: this application runs as a single writer (${this.partitionPlan.reason})`);
  }

  private stream(name: string): StreamNode {
    const node = this.streams.get(name);
    if (!node) throw new SqlError("SQL_INPUT", `stream ${name}`, `is not a stream of this application; streams: ${this.streamNames.join(", ")}`);
    return node;
  }
}

const HOW_PUMPS_READ: Record<PumpSummary["form"], string> = {
  "row by row": "row by row (no GROUP BY window)",
  join: "in a join",
  RANDOM_CUT_FOREST: "into RANDOM_CUT_FOREST",
  "windowed aggregate": "in a GROUP BY together with another stream",
};

function planPartitions(pumps: readonly PumpSummary[], inputs: ReadonlySet<string>): PartitionPlan {
  const readers = pumps.filter((p) => p.reads.some((r) => inputs.has(r)));
  if (readers.length === 0) return { mode: "single-writer", reason: "no pump reads an input stream" };
  const blocking = readers.find((p) => p.form !== "windowed aggregate" || p.reads.length !== 1);
  if (blocking) {
    const input = blocking.reads.find((r) => inputs.has(r));
    return {
      mode: "single-writer",
      reason:
        `pump ${blocking.name} (line ${blocking.position.line}) reads ${input} ${HOW_PUMPS_READ[blocking.form]}, so every row must pass one writer in arrival order; ` +
        "only pumps that GROUP BY a tumbling ROWTIME window of one input stream can be split by shard",
    };
  }
  return { mode: "partitioned", shardPumps: readers.map((p) => p.name) };
}

/** Checks an input value against its column's type, as the input schema's mapping would. */
function inputValue(value: unknown, column: Column, stream: string): Value {
  if (value === undefined || value === null) return null;
  const type: SqlType = column.type;
  const fail = (expected: string) =>
    new SqlError("SQL_INPUT", `column "${column.name}" of ${stream}`, `expected ${expected}, got ${JSON.stringify(value)?.slice(0, 60)}`);
  if (isText(type)) {
    if (typeof value !== "string") throw fail(typeText(type));
    if (type.length !== undefined && value.length > type.length) throw fail(`at most ${type.length} characters`);
    return value;
  }
  if (isNumeric(type) || type.name === "TIMESTAMP") {
    if (typeof value !== "number" || !Number.isFinite(value)) throw fail(`a finite number (${typeText(type)})`);
    if (isExactNumeric(type)) {
      const [min, max] = integerRange(type)!;
      if (!Number.isInteger(value) || value < min || value > max) throw fail(`an integer in ${typeText(type)}'s range`);
    }
    return value === 0 ? 0 : value;
  }
  if (type.name === "BOOLEAN") {
    if (typeof value !== "boolean") throw fail("true or false");
    return value;
  }
  throw fail(typeText(type));
}
