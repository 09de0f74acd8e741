// The multi-region post's failover drill against the running local cloud: sets STATUS of one
// region's health Lambda, as the seed does in the Lambda console (through the Lambda API, so
// `aws lambda update-function-configuration --endpoint-url` does the same).
//
//   npm run drill -- --region us-east-1 --status fail     fail that region's deep ping
//   npm run drill -- --region us-east-1 --status ok       and recover
//
// and a whole-region outage (the local cloud's control endpoint, no AWS API does this):
//
//   npm run drill -- --region us-east-1 --outage start    its API Gateway, Lambda and DynamoDB answer 503
//   npm run drill -- --region us-east-1 --outage end      and it is back
//
// Reads .local/endpoints.json (written by npm start); the change lasts until the local cloud stops.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { GetFunctionConfigurationCommand, LambdaClient, UpdateFunctionConfigurationCommand } from "@aws-sdk/client-lambda";
import type { LocalEndpoints } from "../local/cloud";
import { REPO_ROOT } from "./lib/synth";

export class DrillError extends Error {
  readonly code = "DRILL";
}

export async function setHealthStatus(endpoints: LocalEndpoints, region: string, status: string): Promise<string> {
  const functionName = endpoints.regions[region]?.healthFunction;
  if (!functionName) throw new DrillError(`no health check function in region ${region} (regions: ${Object.keys(endpoints.regions).join(", ")})`);
  await setFunctionVariables(endpoints, region, functionName, { STATUS: status });
  return functionName;
}

/** Sets some environment variables of a function in the running local cloud, keeping the others. */
export async function setFunctionVariables(endpoints: LocalEndpoints, region: string, functionName: string, changes: Record<string, string>): Promise<void> {
  // As the account's administrator (endpoints.json lists its key pair).
  const { accessKeyId, secretAccessKey } = endpoints.credentials[endpoints.regions[region].accountId];
  const lambda = new LambdaClient({ region, endpoint: endpoints.services.lambda, credentials: { accessKeyId, secretAccessKey } });
  try {
    // UpdateFunctionConfiguration replaces every variable: keep the others, as the console does.
    const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const variables = { ...(current.Environment?.Variables ?? {}), ...changes };
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, Environment: { Variables: variables } }));
  } finally {
    lambda.destroy();
  }
}

/** Starts or ends an outage of a whole region through the local cloud's control endpoint. */
export async function setRegionOutage(endpoints: LocalEndpoints, region: string, outage: "start" | "end"): Promise<void> {
  const response = await fetch(`${endpoints.control.url}/regions/${encodeURIComponent(region)}/outage`, { method: outage === "start" ? "PUT" : "DELETE" });
  if (!response.ok) throw new DrillError(((await response.json()) as { message: string }).message);
}

async function main() {
  const { values } = parseArgs({ options: { region: { type: "string" }, status: { type: "string" }, outage: { type: "string" }, endpoints: { type: "string" } } });
  const usage = "usage: npm run drill -- --region <region> (--status <fail|ok> | --outage <start|end>)";
  if (!values.region || !values.status === !values.outage) throw new DrillError(usage);
  if (values.outage && values.outage !== "start" && values.outage !== "end") throw new DrillError(`--outage must be start or end, got "${values.outage}"; ${usage}`);
  const file = values.endpoints ?? join(REPO_ROOT, ".local", "endpoints.json");
  let endpoints: LocalEndpoints;
  try {
    endpoints = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new DrillError(`cannot read ${file} (${(error as Error).message}): is the local cloud running (npm start)?`);
  }
  if (values.outage) {
    await setRegionOutage(endpoints, values.region, values.outage as "start" | "end");
    console.log(`${values.region}: ${values.outage === "start" ? "down: its API Gateway, Lambda and DynamoDB answer 503" : "back up"}.`);
    return;
  }
  const fn = await setHealthStatus(endpoints, values.region, values.status!);
  console.log(`${values.region}: ${fn} now has STATUS=${values.status}; Route 53 notices within interval x failure threshold.`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: Error) => {
    console.error(`drill failed: ${error.message}`);
    process.exit(1);
  });
}
