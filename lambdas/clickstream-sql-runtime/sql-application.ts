// The clickstream application the runtime runs: sql/clickstream.sql with the input schema and
// output of sql/clickstream.application.json, bundled into the function.
import sql from "../../sql/clickstream.sql" with { type: "text" };
import application from "../../sql/clickstream.application.json";
import { compile, SqlError, type Application, type ApplicationSnapshot, type PartitionPlan } from "../lib/streaming-sql";
import { inputDecoder } from "./input-records";
import { log } from "./meter";

export const INPUT = application.input.name;
export const OUTPUT = application.output.name;
/** Conflicting writes retried before the invocation fails (and Lambda retries it). */
export const MAX_ATTEMPTS = 5;
export const decode = inputDecoder(application.input);

export function newApplication(): Application {
  return compile(sql, { inputs: [application.input] });
}

/** The application continued from a stored snapshot; a snapshot of another version of the SQL is discarded. */
export function restoredApplication(snapshot: ApplicationSnapshot | undefined): Application {
  const app = newApplication();
  if (!snapshot) return app;
  try {
    app.restore(snapshot);
  } catch (error) {
    // A new version of the SQL starts afresh, as a Kinesis Analytics application does when its code changes.
    if (!(error instanceof SqlError && error.code === "SQL_SNAPSHOT")) throw error;
    log("warn", "STATE_DISCARDED", { reason: error.message });
    return newApplication();
  }
  return app;
}

/** An instance for what does not depend on state: the plan and the window schedule. */
const reference = newApplication();

/** Whether the SQL can be split by shard, decided once per container. */
export const partitionPlan: PartitionPlan = reference.partitionPlan;

/** The first end of a shard window after `time` (partitioned plans only). */
export function nextWindowEnd(time: number): number {
  return reference.nextWindowEnd(time);
}
