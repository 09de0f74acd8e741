// The multi-region post's failover drill against the running local cloud: sets STATUS of one
// region's health Lambda, as the seed does in the Lambda console (through the Lambda API, so
// `aws lambda update-function-configuration --endpoint-url` does the same). Options: npm run drill -- --help.
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
  const lambda = new LambdaClient({
    region,
    endpoint: endpoints.services.lambda,
    credentials: { accessKeyId: "local-operator", secretAccessKey: "local-operator" },
  });
  try {
    // UpdateFunctionConfiguration replaces every variable: keep the others, as the console does.
    const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const variables = { ...(current.Environment?.Variables ?? {}), ...changes };
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, Environment: { Variables: variables } }));
  } finally {
    lambda.destroy();
  }
}

const cli = defineCli({
  command: "npm run drill --",
  summary:
    "Sets STATUS of one region's health check Lambda in the running local cloud (npm start): fail makes its deep ping fail, " +
    "so Route 53's health check fails after its failure threshold and the latency records answer with the other region; ok recovers. " +
    "The change lasts until the local cloud stops.",
  options: {
    region: { type: "string", value: "<region>", required: true, description: "the region whose deep ping changes, e.g. us-east-1" },
    status: { type: "string", value: "<fail|ok>", required: true, choices: ["fail", "ok"], description: "what the health Lambda answers from now on" },
    endpoints: { type: "string", value: "<file>", description: "the running local cloud's endpoints (default .local/endpoints.json)" },
  },
  notes: ["examples:", "  npm run drill -- --region us-east-1 --status fail", "  npm run drill -- --region us-east-1 --status ok"],
});

if (runsAsScript(import.meta.url)) {
  cli.main(async ({ values }) => {
    const endpoints = readLocalEndpoints(values.endpoints);
    if (!endpoints.regions[values.region]) {
      throw new UsageError(`--region must be a region of the local cloud (${Object.keys(endpoints.regions).join(", ")}), got "${values.region}"`);
    }
    const fn = await setHealthStatus(endpoints, values.region, values.status);
    console.log(`${values.region}: ${fn} now has STATUS=${values.status}; Route 53 notices within interval x failure threshold.`);
    return 0;
  });
}
