// The multi-region post's failover drill against the running local cloud: sets STATUS of one
// region's health Lambda, as the seed does in the Lambda console (through the Lambda API, so
// `aws lambda update-function-configuration --endpoint-url` does the same), or takes a whole
// region down and back through the local cloud's control endpoint (no AWS API does that).
// Options: npm run drill -- --help.
import { GetFunctionConfigurationCommand, LambdaClient, UpdateFunctionConfigurationCommand } from "@aws-sdk/client-lambda";
import type { LocalEndpoints } from "../local/cloud";
import { defineCli, runsAsScript, UsageError } from "./lib/cli";
import { readLocalEndpoints } from "./lib/local-endpoints";

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

const cli = defineCli({
  command: "npm run drill --",
  summary:
    "Drills the running local cloud (npm start). --status sets STATUS of one region's health check Lambda: fail makes its deep ping fail, " +
    "so Route 53's health check fails after its failure threshold and the latency records answer with the other region; ok recovers. " +
    "--outage takes the whole region down (its API Gateway, Lambda and DynamoDB answer 503) or brings it back. " +
    "The change lasts until the local cloud stops.",
  options: {
    region: { type: "string", value: "<region>", required: true, description: "the region to drill, e.g. us-east-1" },
    status: { type: "string", value: "<fail|ok>", choices: ["fail", "ok"], description: "what the health Lambda answers from now on" },
    outage: { type: "string", value: "<start|end>", choices: ["start", "end"], description: "take the whole region down, or bring it back" },
    endpoints: { type: "string", value: "<file>", description: "the running local cloud's endpoints (default .local/endpoints.json)" },
  },
  notes: [
    "examples:",
    "  npm run drill -- --region us-east-1 --status fail",
    "  npm run drill -- --region us-east-1 --status ok",
    "  npm run drill -- --region us-east-1 --outage start",
    "  npm run drill -- --region us-east-1 --outage end",
  ],
});

if (runsAsScript(import.meta.url)) {
  cli.main(async ({ values }) => {
    if (!values.status === !values.outage) throw new UsageError("give one of --status and --outage");
    const endpoints = readLocalEndpoints(values.endpoints);
    if (!endpoints.regions[values.region]) {
      throw new UsageError(`--region must be a region of the local cloud (${Object.keys(endpoints.regions).join(", ")}), got "${values.region}"`);
    }
    if (values.outage) {
      await setRegionOutage(endpoints, values.region, values.outage as "start" | "end");
      console.log(`${values.region}: ${values.outage === "start" ? "down: its API Gateway, Lambda and DynamoDB answer 503" : "back up"}.`);
      return 0;
    }
    const fn = await setHealthStatus(endpoints, values.region, values.status!);
    console.log(`${values.region}: ${fn} now has STATUS=${values.status}; Route 53 notices within interval x failure threshold.`);
    return 0;
  });
}
