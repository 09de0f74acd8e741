// Reads input records the way the application's input schema maps them: JSON objects, each
// column taken from a top-level field (`$.browseraction`), a missing field being NULL.
import { recordText, type KinesisEventRecord } from "../lib/kinesis-event";
import { SqlError } from "../lib/streaming-sql";
import { log } from "./meter";

export interface InputSchema {
  name: string;
  recordFormat: string;
  recordRowPath: string;
  columns: { name: string; sqlType: string; mapping: string }[];
}

export type Decoded = { values: Record<string, unknown> } | { problem: string };

export function inputDecoder(schema: InputSchema): (text: string) => Decoded {
  if (schema.recordFormat !== "JSON" || schema.recordRowPath !== "$") {
    throw new Error(`input ${schema.name}: only JSON records with row path "$" are read, not ${schema.recordFormat} at ${schema.recordRowPath}`);
  }
  const fields = schema.columns.map((column) => {
    const match = /^\$\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(column.mapping);
    if (!match) throw new Error(`input ${schema.name} column ${column.name}: mapping ${column.mapping} is not a top-level field ($.name)`);
    return { column: column.name, field: match[1] };
  });
  return (text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return { problem: `not JSON: ${(error as Error).message}` };
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { problem: "not a JSON object" };
    const record = parsed as Record<string, unknown>;
    return { values: Object.fromEntries(fields.map(({ column, field }) => [column, record[field] ?? null])) };
  };
}

export interface FedRecords {
  inserted: number;
  /** Records at or before `after`: an earlier delivery of the batch processed them. */
  duplicates: number;
  /** Records the input schema could not read (logged with the reason). */
  rejected: number;
  /** Sequence number of the last record processed (inserted or rejected), if any. */
  last?: string;
}

/**
 * Feeds one shard's records, in order, to `insert` (which throws a SqlError SQL_INPUT for a
 * value its column refuses): those at or before sequence number `after` are skipped, those the
 * schema cannot read are logged and skipped. Sequence numbers grow within a shard, so `last` is
 * where a redelivered batch is cut.
 */
export function feedRecords(
  shard: string,
  records: readonly KinesisEventRecord[],
  after: string | undefined,
  decode: (text: string) => Decoded,
  insert: (values: Record<string, unknown>, arrivalMs: number) => void,
): FedRecords {
  const fed: FedRecords = { inserted: 0, duplicates: 0, rejected: 0 };
  let last = after === undefined ? undefined : BigInt(after);
  for (const record of records) {
    const { sequenceNumber, approximateArrivalTimestamp } = record.kinesis;
    const sequence = BigInt(sequenceNumber);
    if (last !== undefined && sequence <= last) {
      fed.duplicates++;
      continue;
    }
    last = sequence;
    fed.last = sequenceNumber;
    const text = recordText(record);
    const decoded = text === undefined ? { problem: "data is not base64" } : decode(text);
    const reject = (reason: string) => {
      fed.rejected++;
      log("warn", "INPUT_REJECTED", { shard, sequenceNumber, reason });
    };
    if ("problem" in decoded) {
      reject(decoded.problem);
      continue;
    }
    try {
      insert(decoded.values, Math.round(approximateArrivalTimestamp * 1000));
      fed.inserted++;
    } catch (error) {
      if (!(error instanceof SqlError && error.code === "SQL_INPUT")) throw error;
      reject(error.message);
    }
  }
  return fed;
}
