// The clickstream analytics application (sql/clickstream.sql) on our own streaming SQL runtime,
// in place of Kinesis Data Analytics for SQL. Invoked by the input stream's event source mapping
// with batches of beacon records, and every minute by an EventBridge schedule whose tick moves
// the clock on so that windows close when traffic stops. Rows of DESTINATION_SQL_STREAM go to
// the output stream as CSV, as Kinesis Analytics' CSV output writes them; the application's
// state lives in DynamoDB between invocations.
//
// Environment: OUTPUT_STREAM_NAME, STATE_TABLE_NAME; optional APPLICATION_NAME (the state item's
// key, default "clickstream") and CLOCK_GRACE_SECONDS (how far behind a tick's time the clock
// is moved, to leave room for records still on their way; default 5).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import sql from "../../sql/clickstream.sql" with { type: "text" };
import application from "../../sql/clickstream.application.json";
import { isKinesisEvent, recordText, shardOf, type KinesisEventRecord } from "../lib/kinesis-event";
import { instrumented, logger, traced } from "../lib/observability";
import { compile, ERROR_STREAM, SqlError, toCsvLine, type Application, type ApplicationSnapshot } from "../lib/streaming-sql";
import { RuntimeError } from "./errors";
import { inputDecoder } from "./input-records";
import { StateStore, type OutputRecord } from "./state-store";

const INPUT = application.input.name;
const OUTPUT = application.output.name;
const INPUTS = [application.input];
/** Conflicting writes retried before the invocation fails (and Lambda retries it). */
const MAX_ATTEMPTS = 5;
const PUT_RECORDS_LIMIT = 500;

const dynamodb = traced(new DynamoDBClient({}));
// HTTP/1.1: the Kinesis client would otherwise use HTTP/2, which kinesalite does not speak.
const kinesis = traced(new KinesisClient({ requestHandler: new NodeHttpHandler() }));
const decode = inputDecoder(application.input);

export interface ScheduledEvent {
  source: "aws.events";
  "detail-type": "Scheduled Event";
  /** When the rule fired, ISO 8601. */
  time: string;
}

export interface RuntimeSummary {
  /** Records in the batch (0 for a tick). */
  records: number;
  inserted: number;
  /** Records already processed by an earlier delivery of the batch. */
  duplicates: number;
  /** Records the input schema could not read (logged with the reason). */
  rejected: number;
  /** Rows written to the output stream. */
  outputs: number;
  /** The application's clock after the invocation (epoch ms), if it has one. */
  clock?: number;
}

interface Config {
  outputStream: string;
  table: string;
  application: string;
  graceMs: number;
}

/** The application as of the last write this container made, reused while no one else wrote. */
let cached: { version: number; app: Application } | undefined;

export const handler = instrumented(async (event: unknown): Promise<RuntimeSummary> => {
  const config = readConfig();
  const store = new StateStore(dynamodb, config.table, config.application);
  const work = isKinesisEvent(event)
    ? (app: Application, shards: Record<string, string>) => processRecords(app, event.Records, shards)
    : isScheduledEvent(event)
      ? (app: Application) => tick(app, Date.parse(event.time) - config.graceMs)
      : undefined;
  if (!work) {
    throw new RuntimeError("UNKNOWN_EVENT", `expected a Kinesis batch or an EventBridge scheduled event, got ${JSON.stringify(event)?.slice(0, 200)}`);
  }

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const stored = await store.load();
    // A previous invocation committed these rows but may not have delivered them.
    if (stored.outbox.length > 0) await deliver(config.outputStream, stored.outbox);

    const app = applicationAt(stored.version, stored.snapshot);
    const outputs: OutputRecord[] = [];
    const columns = app.columns(OUTPUT);
    const unsubscribe = [
      app.subscribe(OUTPUT, (row) => outputs.push({ data: toCsvLine(columns, row.values), partitionKey: String(row.rowtime) })),
      app.subscribe(ERROR_STREAM, (row) => log("warn", "SQL_RUNTIME", { pump: row.pump, rowtime: row.rowtime, error: row.message })),
    ];
    const shards = { ...stored.shards };
    const summary = work(app, shards);
    for (const stop of unsubscribe) stop();

    const version = await store.commit(stored.version, app.snapshot(), shards, outputs);
    if (version === undefined) {
      log("info", "STATE_CONFLICT", { attempt, detail: "another invocation wrote the state first; reading it and redoing" });
      continue;
    }
    cached = { version, app };
    if (outputs.length > 0) {
      await deliver(config.outputStream, outputs);
      const cleared = await store.clearOutbox(version);
      cached = cleared === undefined ? undefined : { version: cleared, app };
    }
    return { ...summary, outputs: outputs.length, clock: app.clock };
  }
  throw new RuntimeError("STATE_CONFLICT", `the state of "${config.application}" changed under ${MAX_ATTEMPTS} attempts in a row; the batch will be retried`);
});

function processRecords(app: Application, records: KinesisEventRecord[], shards: Record<string, string>): RuntimeSummary {
  const summary: RuntimeSummary = { records: records.length, inserted: 0, duplicates: 0, rejected: 0, outputs: 0 };
  for (const record of records) {
    const shard = shardOf(record);
    const { sequenceNumber, approximateArrivalTimestamp } = record.kinesis;
    const last = shards[shard];
    if (last !== undefined && BigInt(sequenceNumber) <= BigInt(last)) {
      summary.duplicates++;
      continue;
    }
    shards[shard] = sequenceNumber;
    const text = recordText(record);
    const decoded = text === undefined ? { problem: "data is not base64" } : decode(text);
    const reject = (reason: string) => {
      summary.rejected++;
      log("warn", "INPUT_REJECTED", { shard, sequenceNumber, reason });
    };
    if ("problem" in decoded) {
      reject(decoded.problem);
      continue;
    }
    try {
      app.insert(INPUT, decoded.values, Math.round(approximateArrivalTimestamp * 1000));
      summary.inserted++;
    } catch (error) {
      if (!(error instanceof SqlError && error.code === "SQL_INPUT")) throw error;
      reject(error.message);
    }
  }
  return summary;
}

function tick(app: Application, clock: number): RuntimeSummary {
  if (!Number.isFinite(clock)) throw new RuntimeError("UNKNOWN_EVENT", "the scheduled event's time is not an ISO 8601 time");
  app.advanceTo(clock);
  return { records: 0, inserted: 0, duplicates: 0, rejected: 0, outputs: 0 };
}

/** The application at a stored version: this container's copy if it is that version, else restored. */
function applicationAt(version: number, snapshot: ApplicationSnapshot | undefined): Application {
  const reuse = cached?.version === version ? cached.app : undefined;
  cached = undefined; // whatever happens next changes it; it is cached again after a successful write
  if (reuse) return reuse;
  const app = compile(sql, { inputs: INPUTS });
  if (!snapshot) return app;
  try {
    app.restore(snapshot);
  } catch (error) {
    // A new version of the SQL starts afresh, as a Kinesis Analytics application does when its code changes.
    if (!(error instanceof SqlError && error.code === "SQL_SNAPSHOT")) throw error;
    log("warn", "STATE_DISCARDED", { reason: error.message });
    return compile(sql, { inputs: INPUTS });
  }
  return app;
}

async function deliver(stream: string, records: OutputRecord[]): Promise<void> {
  for (let start = 0; start < records.length; start += PUT_RECORDS_LIMIT) {
    let pending = records.slice(start, start + PUT_RECORDS_LIMIT);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const result = await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: pending.map((r) => ({ Data: Buffer.from(r.data, "utf8"), PartitionKey: r.partitionKey })),
        }),
      );
      const failed = pending.filter((_, i) => result.Records?.[i]?.ErrorCode);
      if (failed.length > 0 && attempt >= 3) {
        const reason = result.Records?.find((r) => r.ErrorCode)?.ErrorMessage;
        throw new RuntimeError("OUTPUT_FAILED", `${failed.length} row(s) could not be written to ${stream}: ${reason}; they stay in the state's outbox and go with the next invocation`);
      }
      pending = failed;
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

function isScheduledEvent(event: unknown): event is ScheduledEvent {
  const e = event as Partial<ScheduledEvent> | undefined;
  return e?.source === "aws.events" && e["detail-type"] === "Scheduled Event" && typeof e.time === "string";
}

function readConfig(): Config {
  const required = (name: string) => {
    const value = process.env[name];
    if (!value) throw new RuntimeError("CONFIG_INVALID", `environment variable ${name} is not set`);
    return value;
  };
  const grace = Number(process.env.CLOCK_GRACE_SECONDS ?? "5");
  if (!(grace >= 0)) throw new RuntimeError("CONFIG_INVALID", `CLOCK_GRACE_SECONDS must be a number of seconds >= 0, got ${process.env.CLOCK_GRACE_SECONDS}`);
  return {
    outputStream: required("OUTPUT_STREAM_NAME"),
    table: required("STATE_TABLE_NAME"),
    application: process.env.APPLICATION_NAME || "clickstream",
    graceMs: grace * 1000,
  };
}

function log(level: "info" | "warn", code: string, detail: Record<string, unknown>): void {
  logger[level](code, { code, ...detail });
}
