// The runtime for SQL whose input pumps are GROUP BYs over tumbling windows (the clickstream SQL):
// each shard's invocations count their own records into partial windows in the shard's own item
// (one write per batch, no contention between shards), and a window closes once every open shard
// has passed its end, or a tick says it is over: its partial results are merged and fed, once
// and in window order, to the rest of the application (the ROWTIME join, RANDOM_CUT_FOREST, the
// ANOMALY_SCORE filter), whose state is written once per window close.
//
// Exactly once: a shard item records the last sequence number counted, so a redelivered batch
// is cut there; partial windows are written with that sequence number in one conditional write,
// so an invocation that dies after writing them loses nothing (the next close merges them); a
// window is closed by one conditional write of the windows item, which moves `closedThrough`
// past it, so it is never merged twice. A shard's ROWTIME never goes back and a shard's clock is
// never behind `closedThrough`, so no record can fall into a closed window. A tick closing
// windows that a quiet shard has not reached moves that shard's clock first (a conditional
// write: if the shard wrote meanwhile, the tick reads again), so its later records count in
// open windows. Rows for the output stream are committed in the windows item's outbox with the
// window close, and written to the stream by the holder of a delivery lease.
import { log } from "./meter";
import { RuntimeError } from "./errors";
import { feedRecords } from "./input-records";
import { isOpen, listShards, progressOf, type ShardProgress } from "./input-shards";
import { deliverRows } from "./output";
import { PartitionStore, type OutboxRow, type ShardState, type WindowsState } from "./partition-store";
import { byShard } from "./single-writer";
import { INPUT, MAX_ATTEMPTS, OUTPUT, decode, newApplication, nextWindowEnd, restoredApplication } from "./sql-application";
import { emptySummary, stateTableOf, type RuntimeContext, type RuntimeSummary, type Work } from "./context";
import { watchWindows } from "./window-log";
import { ERROR_STREAM, toCsvLine, type Application, type Partials } from "../lib/streaming-sql";
import type { KinesisEventRecord } from "../lib/kinesis-event";

/**
 * A shard item holding more partial windows than this (other shards far behind and no tick
 * coming) closes windows up to its own clock, as a tick would: items stay far below 400 KB.
 */
export const PARTIALS_SOFT_LIMIT = 64 * 1024;

/** This container's application for counting a shard's records: it never closes a window, so it is reused. */
let counter: Application | undefined;
/** The merged application as of the windows item version this container last wrote. */
let merged: { version: number; app: Application } | undefined;

export async function runPartitioned(context: RuntimeContext, work: Work): Promise<RuntimeSummary> {
  const store = new PartitionStore(stateTableOf(context));
  const closer = new WindowCloser(context, store);
  if (work.kind === "tick") {
    const closed = await closer.close({ fenceTo: work.clock, askStream: true });
    return { ...emptySummary("partitioned", 0), windowsClosed: closed.windows, outputs: closed.outputs, clock: closed.closedThrough };
  }
  const summary = emptySummary("partitioned", work.records.length);
  for (const [shardId, records] of byShard(work.records)) {
    const counted = await countShard(context, store, shardId, records);
    summary.inserted += counted.inserted;
    summary.duplicates += counted.duplicates;
    summary.rejected += counted.rejected;
    summary.clock = counted.clock;
    if (counted.close) {
      const closed = await closer.close(counted.close);
      summary.windowsClosed += closed.windows;
      summary.outputs += closed.outputs;
    }
  }
  return summary;
}

interface Counted {
  inserted: number;
  duplicates: number;
  rejected: number;
  clock?: number;
  /** Set when the shard passed a window's end (it may have been the last to) or outgrew its item. */
  close?: CloseOptions;
}

/** Counts a shard's new records into its partial windows: one conditional write of the shard's item. */
async function countShard(context: RuntimeContext, store: PartitionStore, shardId: string, records: KinesisEventRecord[]): Promise<Counted> {
  const app = counterApplication();
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { shard, frontier } = await store.readShard(shardId);
    let start = shard.clock;
    if (shard.version === 0 || shard.retired) {
      const closedThrough = (await registerShards(context, store, shardId)).closedThrough;
      if (closedThrough !== undefined) start = Math.max(start ?? closedThrough, closedThrough);
    }

    app.takePartials(); // whatever a failed attempt left behind
    if (shard.fingerprint === app.fingerprint) app.absorbPartials(shard.partials);
    else if (shard.fingerprint !== undefined) log("warn", "STATE_DISCARDED", { shard: shardId, reason: "its partial windows belong to another version of the SQL" });
    let clock = start;
    const fed = feedRecords(shardId, records, shard.lastSequence, decode, (values, arrivalMs) => {
      // A shard's ROWTIME never goes back, and never behind the windows already closed.
      const rowtime = clock === undefined ? arrivalMs : Math.max(arrivalMs, clock);
      app.accumulate(INPUT, values, rowtime);
      clock = rowtime;
    });
    if (fed.last === undefined) {
      // Every record was counted before: an invocation that died after writing them may not have
      // closed the windows they completed, so close them if the frontier has not passed them.
      const unclosed = shard.clock !== undefined && shard.clock >= nextWindowEnd(frontier ?? Number.NEGATIVE_INFINITY);
      return { ...fed, clock: shard.clock, close: unclosed ? {} : undefined };
    }

    const partials = withoutClosedWindows(app.takePartials(), frontier);
    const written = await store.writeShard(shard, { lastSequence: fed.last, clock, partials, fingerprint: app.fingerprint });
    if (!written) {
      log("info", "STATE_CONFLICT", { shard: shardId, attempt, detail: "a tick moved the shard's clock; reading it and counting again" });
      continue;
    }
    const passedWindowEnd = clock !== undefined && (shard.clock === undefined || clock >= nextWindowEnd(shard.clock));
    const outgrown = clock !== undefined && JSON.stringify(partials).length > PARTIALS_SOFT_LIMIT;
    return { ...fed, clock, close: outgrown ? { fenceTo: clock } : passedWindowEnd ? {} : undefined };
  }
  throw new RuntimeError("STATE_CONFLICT", `shard ${shardId}'s state changed under ${MAX_ATTEMPTS} attempts in a row; the batch will be retried`);
}

/**
 * Registers every open shard of the input stream (and this one) with the windows item, the
 * first time a shard writes: from then on no window closes before each of them has passed it.
 */
async function registerShards(context: RuntimeContext, store: PartitionStore, shardId: string): Promise<WindowsState> {
  const stream = requireInputStream(context);
  const open = (await listShards(context.kinesis, stream)).filter(isOpen).map((s) => s.ShardId!);
  return store.register([...new Set([shardId, ...open])]);
}

function withoutClosedWindows(partials: Partials, closedThrough: number | undefined): Partials {
  if (closedThrough === undefined) return partials;
  return Object.fromEntries(Object.entries(partials).map(([id, groups]) => [id, groups.filter((g) => g.end > closedThrough)]));
}

interface CloseOptions {
  /** A tick's time (less the grace): windows ending by then close, shards that have not reached it are moved to it. */
  fenceTo?: number;
  /**
   * Ask the input stream where each shard that has not reached `fenceTo` stands: one with
   * records waiting is waited for, not moved; one read to its end after a reshard is no longer
   * waited for. Without it (a shard item outgrowing its limit), every such shard is moved.
   */
  askStream?: boolean;
}

interface Closed {
  windows: number;
  outputs: number;
  closedThrough?: number;
}

class WindowCloser {
  constructor(
    private readonly context: RuntimeContext,
    private readonly store: PartitionStore,
  ) {}

  async close(options: CloseOptions): Promise<Closed> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const windows = await this.store.readWindows();
      const before = windows.closedThrough ?? Number.NEGATIVE_INFINITY;
      const retired = new Set(windows.retired);
      const shards = await this.store.readShards(windows.shards);
      // A registered shard that has not written yet is where the windows are: it holds them open.
      const clockOf = (id: string) => shards.get(id)!.clock ?? before;
      const short = (id: string) => options.fenceTo !== undefined && clockOf(id) < options.fenceTo;
      const progress = options.askStream ? await this.progressOf(windows.shards.filter((id) => !retired.has(id) && short(id)), shards) : new Map<string, ShardProgress>();
      const finished = [...progress].filter(([, p]) => p === "finished").map(([id]) => id);
      const live = windows.shards.filter((id) => !retired.has(id) && !finished.includes(id));
      const natural = live.length > 0 ? Math.min(...live.map(clockOf)) : before;
      // A shard with records waiting is behind, not quiet: windows wait for it.
      const waitedFor = Math.min(Number.POSITIVE_INFINITY, ...live.filter((id) => progress.get(id) === "behind").map(clockOf));
      const target = Math.max(natural, Math.min(options.fenceTo ?? Number.NEGATIVE_INFINITY, waitedFor));
      // Only a window some shard has counted rows in needs closing; empty windows give no rows.
      const closes = windows.shards.some((id) => firstWindowEnd(shards.get(id)!.partials, before) <= target);
      if (closes && !(await this.fence(live.filter((id) => clockOf(id) < target), shards, target))) continue;
      const through = closes ? target : before;
      const retiredNow = [...windows.retired, ...finished];
      const gone = retiredNow.filter((id) => lastWindowEnd(shards.get(id)!.partials, before) <= through);
      const pending = windows.outbox.filter((r) => r.ordinal > windows.deliveredThrough);
      const leaseFree = !windows.lease || windows.lease.until < this.context.now;
      if (!closes && finished.length === 0 && gone.length === 0 && !(pending.length > 0 && leaseFree)) {
        return { windows: 0, outputs: 0, closedThrough: windows.closedThrough };
      }

      const app = mergedApplication(windows);
      const rows: OutboxRow[] = [];
      let nextOrdinal = windows.nextOrdinal;
      const columns = app.columns(OUTPUT);
      const watch = watchWindows(app);
      const stops = [
        app.subscribe(OUTPUT, (row) => rows.push({ ordinal: nextOrdinal++, data: toCsvLine(columns, row.values), partitionKey: String(row.rowtime) })),
        app.subscribe(ERROR_STREAM, (row) => log("warn", "SQL_RUNTIME", { pump: row.pump, rowtime: row.rowtime, message: row.message })),
      ];
      if (closes) {
        for (const id of windows.shards) {
          const shard = shards.get(id)!;
          if (shard.fingerprint === app.fingerprint) app.absorbPartials(shard.partials, { after: before, through });
        }
        app.closeWindows(through);
      }
      for (const stop of stops) stop();
      watch.stop();

      const outbox = [...pending, ...rows];
      const takeLease = outbox.length > 0 && leaseFree;
      const activeLease = windows.lease && !leaseFree ? windows.lease : undefined;
      const next: WindowsState = {
        version: windows.version + 1,
        closedThrough: closes ? through : windows.closedThrough,
        shards: windows.shards.filter((id) => !gone.includes(id)),
        retired: retiredNow.filter((id) => !gone.includes(id)),
        snapshot: app.snapshot(),
        outbox,
        deliveredThrough: windows.deliveredThrough,
        nextOrdinal,
        lease: takeLease ? { owner: this.context.invocationId, until: this.context.deadline } : activeLease,
      };
      if (!(await this.store.commitWindows(windows.version, next))) {
        log("info", "STATE_CONFLICT", { attempt, detail: "another invocation closed windows first; reading them again" });
        continue;
      }
      merged = { version: next.version, app };
      const closedWindows = watch.flush();
      if (closes) await this.store.publishFrontier(through);
      const expires = Math.ceil(this.context.now / 1000) + this.context.config.retentionHours * 3600;
      for (const id of gone) await this.store.retire(id, expires);
      if (finished.length > 0 || gone.length > 0) log("info", "SHARDS_RETIRED", { finished, merged: gone });
      const outputs = takeLease ? await this.deliver(next) : 0;
      return { windows: closedWindows, outputs, closedThrough: next.closedThrough };
    }
    throw new RuntimeError("STATE_CONFLICT", `the windows of "${this.context.config.application}" changed under ${MAX_ATTEMPTS} attempts in a row; the invocation will be retried`);
  }

  /** Moves each shard's clock to `clock`; false (a conflict) when one of them wrote since it was read. */
  private async fence(ids: string[], shards: Map<string, ShardState>, clock: number): Promise<boolean> {
    for (const id of ids) {
      if (!(await this.store.fence(shards.get(id)!, clock))) {
        log("info", "STATE_CONFLICT", { shard: id, detail: "the shard wrote while a tick was moving its clock; reading again" });
        return false;
      }
    }
    return true;
  }

  /** Where each shard stands in the input stream (see `progressOf`); a shard the stream no longer lists is past its retention: finished. */
  private async progressOf(ids: string[], shards: Map<string, ShardState>): Promise<Map<string, ShardProgress>> {
    const progress = new Map<string, ShardProgress>();
    if (ids.length === 0) return progress;
    const stream = requireInputStream(this.context);
    try {
      const listed = new Set((await listShards(this.context.kinesis, stream)).map((s) => s.ShardId!));
      for (const id of ids) progress.set(id, listed.has(id) ? await progressOf(this.context.kinesis, stream, id, shards.get(id)!.lastSequence) : "finished");
    } catch (error) {
      // Then every such shard counts as quiet and is moved on, so that windows keep closing.
      log("warn", "SHARDS_UNREADABLE", { stream, detail: (error as Error).message });
      progress.clear();
    }
    return progress;
  }

  /** Writes the outbox to the output stream while holding the lease, then gives the lease up. */
  private async deliver(state: WindowsState): Promise<number> {
    let delivered = state.deliveredThrough;
    let count = 0;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const pending = state.outbox.filter((r) => r.ordinal > delivered);
      if (pending.length > 0) {
        await deliverRows(this.context.kinesis, this.context.config.outputStream, pending);
        delivered = pending.at(-1)!.ordinal;
        count += pending.length;
      }
      if (await this.store.markDelivered(state.version, delivered)) {
        if (merged?.version === state.version) merged = { ...merged, version: state.version + 1 };
        return count;
      }
      state = await this.store.readWindows();
      if (state.lease?.owner !== this.context.invocationId) return count;
    }
    log("warn", "DELIVERY_UNFINISHED", { delivered, detail: "the windows item kept changing; the lease expires and a later invocation delivers the rest" });
    return count;
  }
}

/** Ends of the windows a shard holds partial results of, after `after`. */
function windowEnds(partials: Partials, after: number): number[] {
  return Object.values(partials).flatMap((groups) => groups.map((g) => g.end).filter((end) => end > after));
}

function firstWindowEnd(partials: Partials, after: number): number {
  return Math.min(Number.POSITIVE_INFINITY, ...windowEnds(partials, after));
}

function lastWindowEnd(partials: Partials, after: number): number {
  return Math.max(Number.NEGATIVE_INFINITY, ...windowEnds(partials, after));
}

function counterApplication(): Application {
  if (!counter) {
    counter = newApplication();
    counter.subscribe(ERROR_STREAM, (row) => log("warn", "SQL_RUNTIME", { pump: row.pump, rowtime: row.rowtime, message: row.message }));
  }
  return counter;
}

/** The application after the merge at the windows item's version: this container's copy, or restored. */
function mergedApplication(windows: WindowsState): Application {
  const reuse = merged?.version === windows.version ? merged.app : undefined;
  merged = undefined; // it changes now; it is kept again after a successful write
  return reuse ?? restoredApplication(windows.snapshot);
}

function requireInputStream(context: RuntimeContext): string {
  const stream = context.config.inputStream;
  if (!stream) throw new RuntimeError("CONFIG_INVALID", "environment variable INPUT_STREAM_NAME is not set: the partitioned runtime lists the input stream's shards");
  return stream;
}
