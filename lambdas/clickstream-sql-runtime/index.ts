// The clickstream analytics application (sql/clickstream.sql) on our own streaming SQL runtime,
// in place of Kinesis Data Analytics for SQL. Invoked by the input stream's event source mapping
// with batches of beacon records (one shard per batch), and every minute by an EventBridge
// schedule whose tick closes the windows traffic has stopped feeding. Rows of
// DESTINATION_SQL_STREAM go to the output stream as CSV, as Kinesis Analytics' CSV output writes
// them; the application's state lives in DynamoDB between invocations.
//
// Two ways to run, decided from the SQL at deploy (SQL_RUNTIME_MODE) and checked here:
// - partitioned (partitioned.ts): every pump reading the input is a GROUP BY over a tumbling
//   window, so each shard counts its own records and windows are merged once per window;
// - single-writer (single-writer.ts): any other SQL; one state item, every record through it.
//
// Environment: OUTPUT_STREAM_NAME, STATE_TABLE_NAME; INPUT_STREAM_NAME (partitioned);
// SQL_RUNTIME_MODE (default: what the SQL allows); APPLICATION_NAME (prefix of the state items'
// keys, default "clickstream"); CLOCK_GRACE_SECONDS (how far behind a tick's time windows are
// closed, to leave room for records on their way; default 5); INPUT_RETENTION_HOURS (the input
// stream's retention, how long a finished shard's item is kept; default 24).
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { isKinesisEvent } from "../lib/kinesis-event";
import type { LambdaContext } from "../lib/lambda-context";
import { instrumented, traced } from "../lib/observability";
import type { RuntimeConfig, RuntimeContext, RuntimeSummary, Work } from "./context";
import { RuntimeError } from "./errors";
import { StateMeter, log } from "./meter";
import { runPartitioned } from "./partitioned";
import { runSingleWriter } from "./single-writer";
import { partitionPlan } from "./sql-application";

export type { RuntimeSummary } from "./context";

const dynamodb = traced(new DynamoDBClient({}));
// HTTP/1.1: the Kinesis client would otherwise use HTTP/2, which kinesalite does not speak.
const kinesis = traced(new KinesisClient({ requestHandler: new NodeHttpHandler() }));
/** Lambda's own limit when the context does not say (direct calls in tests). */
const DEFAULT_REMAINING_MS = 60_000;

export interface ScheduledEvent {
  source: "aws.events";
  "detail-type": "Scheduled Event";
  /** When the rule fired, ISO 8601. */
  time: string;
}

type Mode = RuntimeSummary["mode"];
let announced: Mode | undefined;

export const handler = instrumented(async (event: unknown, lambdaContext?: Pick<LambdaContext, "awsRequestId" | "getRemainingTimeInMillis">): Promise<RuntimeSummary> => {
  const now = Date.now();
  const config = readConfig();
  const mode = runtimeMode();
  const work = workOf(event, config.graceMs);
  const meter = new StateMeter();
  const context: RuntimeContext = {
    config,
    dynamodb,
    kinesis,
    meter,
    now,
    deadline: now + (lambdaContext?.getRemainingTimeInMillis() ?? DEFAULT_REMAINING_MS),
    invocationId: lambdaContext?.awsRequestId || randomUUID(),
  };
  let summary: RuntimeSummary | undefined;
  try {
    summary = mode === "partitioned" ? await runPartitioned(context, work) : await runSingleWriter(context, work);
    return summary;
  } finally {
    const { reads, writes, writeUnits, conflicts } = meter;
    log("info", "INVOCATION", { requestId: context.invocationId, event: work.kind, ...(summary ?? { mode, failed: true }), stateReads: reads, stateWrites: writes, writeUnits, conflicts });
  }
});

/** The mode SQL_RUNTIME_MODE asks for, refused when the SQL cannot run that way. */
function runtimeMode(): Mode {
  const asked = process.env.SQL_RUNTIME_MODE || partitionPlan.mode;
  if (asked !== "partitioned" && asked !== "single-writer") {
    throw new RuntimeError("CONFIG_INVALID", `SQL_RUNTIME_MODE must be "partitioned" or "single-writer", got ${JSON.stringify(asked)}`);
  }
  if (asked === "partitioned" && partitionPlan.mode === "single-writer") {
    throw new RuntimeError("CONFIG_INVALID", `SQL_RUNTIME_MODE is "partitioned" but the SQL cannot be split by shard: ${partitionPlan.reason}`);
  }
  if (announced !== asked) {
    log("info", "RUNTIME_MODE", { mode: asked, ...(partitionPlan.mode === "single-writer" ? { reason: partitionPlan.reason } : { shardPumps: partitionPlan.shardPumps }) });
    announced = asked;
  }
  return asked;
}

function workOf(event: unknown, graceMs: number): Work {
  if (isKinesisEvent(event)) return { kind: "records", records: event.Records };
  if (isScheduledEvent(event)) {
    const time = Date.parse(event.time);
    if (!Number.isFinite(time)) throw new RuntimeError("UNKNOWN_EVENT", `the scheduled event's time ${JSON.stringify(event.time)} is not an ISO 8601 time`);
    return { kind: "tick", clock: time - graceMs };
  }
  throw new RuntimeError("UNKNOWN_EVENT", `expected a Kinesis batch or an EventBridge scheduled event, got ${JSON.stringify(event)?.slice(0, 200)}`);
}

function isScheduledEvent(event: unknown): event is ScheduledEvent {
  const e = event as Partial<ScheduledEvent> | undefined;
  return e?.source === "aws.events" && e["detail-type"] === "Scheduled Event" && typeof e.time === "string";
}

function readConfig(): RuntimeConfig {
  const required = (name: string) => {
    const value = process.env[name];
    if (!value) throw new RuntimeError("CONFIG_INVALID", `environment variable ${name} is not set`);
    return value;
  };
  const number = (name: string, fallback: number, min: number) => {
    const value = Number(process.env[name] ?? fallback);
    if (!(value >= min)) throw new RuntimeError("CONFIG_INVALID", `${name} must be a number >= ${min}, got ${process.env[name]}`);
    return value;
  };
  return {
    outputStream: required("OUTPUT_STREAM_NAME"),
    inputStream: process.env.INPUT_STREAM_NAME || undefined,
    table: required("STATE_TABLE_NAME"),
    application: process.env.APPLICATION_NAME || "clickstream",
    graceMs: number("CLOCK_GRACE_SECONDS", 5, 0) * 1000,
    retentionHours: number("INPUT_RETENTION_HOURS", 24, 1),
  };
}
