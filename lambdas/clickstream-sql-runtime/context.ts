// What every part of the runtime is given by the handler: configuration, clients, the meter, and
// the invocation's time, read once at the start so that no part of the runtime reads a clock of
// its own (a record's time is its arrival time, a tick's time is the tick's).
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import type { KinesisEventRecord } from "../lib/kinesis-event";
import type { StateMeter } from "./meter";

export interface RuntimeConfig {
  outputStream: string;
  /** The input stream: read by a tick to tell a finished (resharded) shard from a quiet one. */
  inputStream?: string;
  table: string;
  /** Prefix of the state items' keys. */
  application: string;
  /** How far behind a tick's time the tick closes windows, to leave room for records on their way. */
  graceMs: number;
  /** The input stream's retention: after it, no record of a finished shard can be delivered again. */
  retentionHours: number;
}

export interface RuntimeContext {
  config: RuntimeConfig;
  dynamodb: DynamoDBClient;
  kinesis: KinesisClient;
  meter: StateMeter;
  /** When the invocation started (epoch ms): leases on output delivery are timed with it. */
  now: number;
  /** When Lambda ends the invocation at the latest (epoch ms): a delivery lease lasts until then. */
  deadline: number;
  /** Names this invocation as the holder of a delivery lease. */
  invocationId: string;
}

/** A batch of records, or a clock tick that moves the application's time to `clock`. */
export type Work = { kind: "records"; records: KinesisEventRecord[] } | { kind: "tick"; clock: number };

/** Where the runtime's state items are, and what their writes are metered and dated with. */
export interface StateTable {
  dynamodb: DynamoDBClient;
  table: string;
  /** Prefix of the items' keys. */
  application: string;
  meter: StateMeter;
  /** ISO time written as updatedAt, for people reading the table. */
  updatedAt: string;
}

export function stateTableOf(context: RuntimeContext): StateTable {
  return { dynamodb: context.dynamodb, table: context.config.table, application: context.config.application, meter: context.meter, updatedAt: new Date(context.now).toISOString() };
}

export interface RuntimeSummary {
  mode: "partitioned" | "single-writer";
  /** Records in the batch (0 for a tick). */
  records: number;
  inserted: number;
  /** Records already processed by an earlier delivery of the batch. */
  duplicates: number;
  /** Records the input schema could not read (logged with the reason). */
  rejected: number;
  /** Windows closed by this invocation. */
  windowsClosed: number;
  /** Rows written to the output stream. */
  outputs: number;
  /** The application's clock after the invocation (epoch ms), if it has one. */
  clock?: number;
}

export function emptySummary(mode: RuntimeSummary["mode"], records: number): RuntimeSummary {
  return { mode, records, inserted: 0, duplicates: 0, rejected: 0, windowsClosed: 0, outputs: 0 };
}
