// A handler's logs through the local Lambda, as Lambda's advanced logging controls treat them
// ("Log-level filtering"): with the JSON log format, a warning the handler logs through Powertools'
// Logger is recorded at WARN, with the invocation's context and no event; with the application log
// level ERROR it is dropped, and so is the EMF metric line (no level: INFO), while the runtime's own
// ERROR line of a failed invocation stays. The handler is the platform's deep ping with STATUS=fail,
// which warns and counts a failure; bundled as synth bundles it, run in the local Lambda's worker.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LambdaService, type FunctionConfig } from "../local/lambda/service";
import { LogGroups } from "../local/logs/state";
import { bundleLambda } from "../modules/nodejs-function/bundle";

const ACCOUNT = "111111111111";
const REGION = "us-east-1";
let logs: LogGroups;
let lambda: LambdaService;
let zipPath: string;
let errorDemoZip: string;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "lambda-logging-"));
  zipPath = bundleLambda("lambdas/healthcheck/index.ts", join(dir, "zips")).zipPath;
  errorDemoZip = bundleLambda("lambdas/error-demo/index.ts", join(dir, "zips")).zipPath;
  logs = new LogGroups(REGION, ACCOUNT, join(dir, "logs"));
  lambda = new LambdaService({ dataDir: dir, logs: () => logs, platformEnvironment: () => ({}) });
}, 60_000);

afterAll(async () => {
  await lambda?.stop();
  await logs?.close();
});

function deepPing(name: string, logging: Pick<FunctionConfig, "logFormat" | "applicationLogLevel">): FunctionConfig {
  const config: FunctionConfig = {
    name,
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    region: REGION,
    accountId: ACCOUNT,
    handler: "index.handler",
    runtime: "nodejs22.x",
    roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
    timeoutSeconds: 10,
    memorySizeMb: 256,
    environment: { STATUS: "fail", CHECK_TABLES: "", CHECK_STREAMS: "", POWERTOOLS_SERVICE_NAME: name, POWERTOOLS_METRICS_NAMESPACE: "platform" },
    logGroupName: `/aws/lambda/${name}`,
    tracing: "PassThrough",
    zipPath,
    ...logging,
  };
  lambda.createFunction(config);
  return config;
}

async function invokeAndRead(config: FunctionConfig): Promise<Record<string, any>[]> {
  const result = await lambda.invoke(config.name, { requestContext: { requestId: "api-request-1" } });
  expect(result.ok).toBe(true);
  await logs.flush();
  return logs.eventsOf(config.logGroupName).map((e) => JSON.parse(e.message));
}

describe("Powertools' Logger under the local Lambda's JSON log format", () => {
  it("records the warning at WARN with the invocation's context, and the EMF metric line", async () => {
    const lines = await invokeAndRead(deepPing("deep-ping-info", { logFormat: "JSON", applicationLogLevel: "INFO" }));
    const warning = lines.find((l) => l.message === "the region is unhealthy");
    expect(warning).toMatchObject({
      level: "WARN",
      service: "deep-ping-info",
      function_name: "deep-ping-info",
      cold_start: true,
      correlation_id: "api-request-1",
      checks: { STATUS: 'forced to "fail" by the STATUS environment variable' },
    });
    expect(warning!.function_request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.find((l) => l._aws)).toMatchObject({ HealthCheckFailures: 1, service: "deep-ping-info" });
    expect(lines.map((l) => l.type).filter(Boolean)).toEqual(["platform.start", "platform.report"]);
  });

  it("drops the warning and the metric line when the application log level is ERROR", async () => {
    const lines = await invokeAndRead(deepPing("deep-ping-error", { logFormat: "JSON", applicationLogLevel: "ERROR" }));
    expect(lines.filter((l) => l.level === "WARN" || l._aws)).toEqual([]);
    // Lambda's own records are system logs, at the system log level (INFO by default).
    expect(lines.map((l) => l.type)).toEqual(["platform.start", "platform.report"]);
  });

  it("keeps what is ERROR or worse: the runtime's record of a failed invocation", async () => {
    const base = deepPing("deep-ping-unused", { logFormat: "JSON", applicationLogLevel: "ERROR" });
    const demo = { ...base, name: "error-demo", arn: base.arn.replace("deep-ping-unused", "error-demo"), logGroupName: "/aws/lambda/error-demo", zipPath: errorDemoZip };
    lambda.createFunction(demo);
    const result = await lambda.invoke(demo.name, { failureStatus: "500" });
    expect(result.ok).toBe(false);
    await logs.flush();
    const lines = logs.eventsOf(demo.logGroupName).map((e) => JSON.parse(e.message));
    expect(lines.find((l) => l.level === "ERROR")).toMatchObject({ message: "Invoke Error", errorType: "InternalServerError", requestId: result.requestId });
  });
});
