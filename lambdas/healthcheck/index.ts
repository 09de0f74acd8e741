// GET /healthcheck: the deep ping Route 53 health checks call. It answers 200 {"status":"ok"}
// only when STATUS is "ok" and every table and stream of the region is reachable and active;
// otherwise 503 with what failed, so HTTPS_STR_MATCH fails on the status code whatever the body.
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeStreamSummaryCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { json, type ProxyResult } from "../lib/http";
import { METRICS } from "../lib/metric-names";
import { countEvent, instrumented, logger, traced } from "../lib/observability";

const CHECK_TIMEOUT_MS = 2000;
const requestHandler = () => new NodeHttpHandler({ connectionTimeout: CHECK_TIMEOUT_MS, requestTimeout: CHECK_TIMEOUT_MS });
const dynamodb = traced(new DynamoDBClient({ requestHandler: requestHandler(), maxAttempts: 1 }));
// HTTP/1.1: the Kinesis client would otherwise use HTTP/2, which kinesalite does not speak.
const kinesis = traced(new KinesisClient({ requestHandler: requestHandler(), maxAttempts: 1 }));

type CheckResult = "ACTIVE" | string;

function names(variable: string): string[] {
  return (process.env[variable] ?? "").split(",").map((n) => n.trim()).filter(Boolean);
}

async function checkTable(name: string): Promise<CheckResult> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
  return Table?.TableStatus ?? "UNKNOWN";
}

async function checkStream(name: string): Promise<CheckResult> {
  const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  const status = StreamDescriptionSummary?.StreamStatus ?? "UNKNOWN";
  // A stream being resharded still takes records.
  return status === "UPDATING" ? "ACTIVE" : status;
}

async function settle(check: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await check();
  } catch (error) {
    const e = error as Error;
    return `${e.name}: ${e.message}`;
  }
}

export const handler = instrumented(async (): Promise<ProxyResult> => {
  const forced = process.env.STATUS ?? "ok";
  const entries = await Promise.all([
    ...names("CHECK_TABLES").map(async (t) => [`dynamodb:${t}`, await settle(() => checkTable(t))] as const),
    ...names("CHECK_STREAMS").map(async (s) => [`kinesis:${s}`, await settle(() => checkStream(s))] as const),
  ]);
  const checks: Record<string, string> = Object.fromEntries(entries);
  if (forced !== "ok") checks.STATUS = `forced to "${forced}" by the STATUS environment variable`;

  const healthy = forced === "ok" && entries.every(([, result]) => result === "ACTIVE");
  if (healthy) return json(200, { status: "ok" });
  logger.warn("the region is unhealthy", { checks });
  countEvent(METRICS.healthCheckFailures);
  return json(503, { status: "fail", checks });
});
