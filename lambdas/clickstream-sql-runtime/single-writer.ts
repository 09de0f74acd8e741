// The runtime for SQL that cannot be split by shard (some pump reads input rows one by one): one
// application, its whole state in one DynamoDB item that every invocation reads and conditionally
// rewrites, every record inserted through it in turn. Correct with any number of shards, but
// every shard's invocations contend for the one item.
import { shardOf, type KinesisEventRecord } from "../lib/kinesis-event";
import { ERROR_STREAM, toCsvLine, type Application, type ApplicationSnapshot } from "../lib/streaming-sql";
import { RuntimeError } from "./errors";
import { feedRecords } from "./input-records";
import { deliverRows, type OutputRecord } from "./output";
import { log } from "./meter";
import { emptySummary, stateTableOf, type RuntimeContext, type RuntimeSummary, type Work } from "./context";
import { INPUT, OUTPUT, MAX_ATTEMPTS, decode, restoredApplication } from "./sql-application";
import { StateStore } from "./state-store";
import { watchWindows } from "./window-log";

/** The application as of the last write this container made, reused while no one else wrote. */
let cached: { version: number; app: Application } | undefined;

export async function runSingleWriter(context: RuntimeContext, work: Work): Promise<RuntimeSummary> {
  const { config } = context;
  const store = new StateStore(stateTableOf(context));
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const stored = await store.load();
    // A previous invocation committed these rows but may not have delivered them.
    if (stored.outbox.length > 0) await deliverRows(context.kinesis, config.outputStream, stored.outbox);

    const app = applicationAt(stored.version, stored.snapshot);
    const outputs: OutputRecord[] = [];
    const columns = app.columns(OUTPUT);
    const windows = watchWindows(app);
    const unsubscribe = [
      app.subscribe(OUTPUT, (row) => outputs.push({ data: toCsvLine(columns, row.values), partitionKey: String(row.rowtime) })),
      app.subscribe(ERROR_STREAM, (row) => log("warn", "SQL_RUNTIME", { pump: row.pump, rowtime: row.rowtime, message: row.message })),
    ];
    const shards = { ...stored.shards };
    const summary = work.kind === "records" ? processRecords(app, work.records, shards) : tick(app, work.clock);
    for (const stop of unsubscribe) stop();
    windows.stop();

    const version = await store.commit(stored.version, app.snapshot(), shards, outputs);
    if (version === undefined) {
      log("info", "STATE_CONFLICT", { attempt, detail: "another invocation wrote the state first; reading it and redoing" });
      continue;
    }
    cached = { version, app };
    summary.windowsClosed = windows.flush();
    if (outputs.length > 0) {
      await deliverRows(context.kinesis, config.outputStream, outputs);
      const cleared = await store.clearOutbox(version);
      cached = cleared === undefined ? undefined : { version: cleared, app };
    }
    return { ...summary, outputs: outputs.length, clock: app.clock };
  }
  throw new RuntimeError("STATE_CONFLICT", `the state of "${config.application}" changed under ${MAX_ATTEMPTS} attempts in a row; the batch will be retried`);
}

function processRecords(app: Application, records: KinesisEventRecord[], shards: Record<string, string>): RuntimeSummary {
  const summary = emptySummary("single-writer", records.length);
  for (const [shard, ofShard] of byShard(records)) {
    const fed = feedRecords(shard, ofShard, shards[shard], decode, (values, arrivalMs) => app.insert(INPUT, values, arrivalMs));
    if (fed.last !== undefined) shards[shard] = fed.last;
    summary.inserted += fed.inserted;
    summary.duplicates += fed.duplicates;
    summary.rejected += fed.rejected;
  }
  return summary;
}

function tick(app: Application, clock: number): RuntimeSummary {
  app.advanceTo(clock);
  return emptySummary("single-writer", 0);
}

/** Records grouped by shard, each group in delivery order (a batch comes from one shard; this keeps any other event right). */
export function byShard(records: readonly KinesisEventRecord[]): Map<string, KinesisEventRecord[]> {
  const shards = new Map<string, KinesisEventRecord[]>();
  for (const record of records) {
    const shard = shardOf(record);
    const list = shards.get(shard) ?? [];
    list.push(record);
    shards.set(shard, list);
  }
  return shards;
}

/** The application at a stored version: this container's copy if it is that version, else restored. */
function applicationAt(version: number, snapshot: ApplicationSnapshot | undefined): Application {
  const reuse = cached?.version === version ? cached.app : undefined;
  cached = undefined; // whatever happens next changes it; it is cached again after a successful write
  return reuse ?? restoredApplication(snapshot);
}
