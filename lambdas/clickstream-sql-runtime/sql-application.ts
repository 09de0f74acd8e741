// The clickstream application the runtime runs: sql/clickstream.sql with the input schema and
// output of sql/clickstream.application.json, bundled into the function.
import sql from "../../sql/clickstream.sql" with { type: "text" };
import application from "../../sql/clickstream.application.json";
import { compile, type Application, type PartitionPlan } from "../lib/streaming-sql";
import { inputDecoder } from "./input-records";

export const INPUT = application.input.name;
export const OUTPUT = application.output.name;
/** Conflicting writes retried before the invocation fails (and Lambda retries it). */
export const MAX_ATTEMPTS = 5;
export const decode = inputDecoder(application.input);

export function newApplication(): Application {
  return compile(sql, { inputs: [application.input] });
}

/** An instance for what does not depend on state: the plan and the window schedule. */
const reference = newApplication();

/** Whether the SQL can be split by shard, decided once per container. */
export const partitionPlan: PartitionPlan = reference.partitionPlan;

/** The first end of a shard window after `time` (partitioned plans only). */
export function nextWindowEnd(time: number): number {
  return reference.nextWindowEnd(time);
}
