// What an operator sees of the running platform in the local cloud: the health drill (STATUS=fail
// on us-east-1's deep ping) drives the stage's 5XX alarm and Route 53's health check alarm to
// ALARM and back to OK, each transition an SNS delivery to the alerts topic; the alarms and
// metrics answer through CloudWatch's API (DescribeAlarms, GetMetricData) at the edge; the
// platform's own EMF metrics and the functions' X-Ray subsegments arrive. A second cloud, with a
// WAF limit of 10 requests a minute and a 1-request burst on POST /orders, shows WAF's 403 for one
// client while another gets through, and a per-method throttle answering 429 on its method only.
// Both run on manual time: the test moves the clock by Route 53's 30 s interval, and each move
// runs the health checks and the alarm evaluations due on the way, in order.
import { request as httpRequest } from "node:http";
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import type { Delivery } from "../local/sns/state";
import { loadConfig } from "../stacks/config";
import { setHealthStatus } from "../scripts/drill";

const REGION = "us-east-1";
/** Route 53's request interval: the clock moves by it, so that every health check probes once per move. */
const INTERVAL_MS = 30_000;

async function startCloud(name: string, configure?: (config: ReturnType<typeof loadConfig>) => void): Promise<LocalCloud> {
  const config = loadConfig();
  configure?.(config);
  return startPlatformCloud(name, { config, clock: "manual" });
}

function cloudWatch(cloud: LocalCloud): CloudWatchClient {
  const endpoints = cloud.endpoints();
  const { accessKeyId, secretAccessKey } = endpoints.credentials[endpoints.regions[REGION].accountId];
  return new CloudWatchClient({ region: REGION, endpoint: endpoints.services.monitoring, credentials: { accessKeyId, secretAccessKey } });
}

async function alarmState(client: CloudWatchClient, name: string): Promise<string | undefined> {
  const { MetricAlarms } = await client.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  return MetricAlarms?.[0]?.StateValue;
}

async function deliveries(cloud: LocalCloud): Promise<Delivery[]> {
  return (await fetch(`${cloud.endpoints().sns.deliveries}?region=${REGION}`)).json() as Promise<Delivery[]>;
}

/** An HTTP request from a chosen loopback address (WAF tells clients apart by source IP). */
function send(url: string, options: { from: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "GET", localAddress: options.from, headers: { "user-agent": "operations-test", ...options.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("the health drill on the local cloud's alarms", () => {
  let cloud: LocalCloud;
  let client: CloudWatchClient;

  beforeAll(async () => {
    cloud = await startCloud("operations-drill");
    client = cloudWatch(cloud);
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await cloud?.stop();
  });

  /** Moves the clock by `minutes`, one health check interval at a time. */
  async function minutesPass(minutes: number) {
    for (let i = 0; i < (minutes * 60_000) / INTERVAL_MS; i++) await cloud.advance(INTERVAL_MS);
  }

  it("STATUS=fail drives the 5XX and health check alarms to ALARM and back to OK, with an SNS delivery for each transition", async () => {
    const watched = ["platform-api-5xx-rate", "platform-health-us-east-1"];
    // Before the drill the probes answer 200: 3 periods of 60 s with data and no breach.
    await minutesPass(4);
    for (const name of watched) expect(await alarmState(client, name), name).toBe("OK");
    await setHealthStatus(cloud.endpoints(), REGION, "fail");
    try {
      // The health check fails after 2 probes (threshold 2); both alarms need 2 of 3 breaching periods.
      await minutesPass(4);
      for (const name of watched) expect(await alarmState(client, name), name).toBe("ALARM");
    } finally {
      await setHealthStatus(cloud.endpoints(), REGION, "ok");
    }
    await minutesPass(4);
    for (const name of watched) expect(await alarmState(client, name), name).toBe("OK");

    const topic = `arn:aws:sns:${REGION}:${cloud.endpoints().regions[REGION].accountId}:platform-alerts`;
    const sent = (await deliveries(cloud)).filter((d) => d.topicArn === topic);
    for (const name of watched) {
      const transitions = sent
        .map((d) => JSON.parse(d.message) as { AlarmName: string; OldStateValue: string; NewStateValue: string; NewStateReason: string })
        .filter((m) => m.AlarmName === name)
        .map((m) => `${m.OldStateValue}->${m.NewStateValue}`);
      expect(transitions, name).toEqual(expect.arrayContaining(["OK->ALARM", "ALARM->OK"]));
      expect(transitions.indexOf("ALARM->OK"), name).toBeGreaterThan(transitions.indexOf("OK->ALARM"));
      const alarmed = sent.find((d) => d.subject === `ALARM: "${name}" in US East (N. Virginia)`);
      expect(alarmed?.protocol).toBe("email");
      expect(JSON.parse(alarmed!.message).NewStateReason).toMatch(/^Threshold Crossed: [23] out of the last 3 datapoints \[.*\] were (greater|less) than the threshold/);
    }
  }, 120_000);

  it("GetMetricData answers the stage's 5XX errors and the deep ping's failures it published (EMF)", async () => {
    const end = new Date(cloud.now());
    const start = new Date(end.getTime() - 30 * 60_000);
    const { MetricDataResults } = await client.send(
      new GetMetricDataCommand({
        StartTime: start,
        EndTime: end,
        MetricDataQueries: [
          { Id: "errors", MetricStat: { Metric: { Namespace: "AWS/ApiGateway", MetricName: "5XXError", Dimensions: [{ Name: "ApiName", Value: "platform-api" }, { Name: "Stage", Value: "prod" }] }, Period: 60, Stat: "Sum" } },
          { Id: "failures", MetricStat: { Metric: { Namespace: "platform", MetricName: "HealthCheckFailures", Dimensions: [{ Name: "service", Value: "platform-healthcheck" }] }, Period: 60, Stat: "Sum" } },
          { Id: "both", Expression: "errors - failures", Label: "5XX not from the deep ping" },
        ],
      }),
    );
    const sum = (id: string) => MetricDataResults!.find((r) => r.Id === id)!.Values!.reduce((a, b) => a + b, 0);
    expect(sum("errors")).toBeGreaterThanOrEqual(2);
    // Every 503 of the stage was a failing deep ping, which counted itself.
    expect(sum("failures")).toBe(sum("errors"));
    expect(MetricDataResults!.find((r) => r.Id === "both")!.Values!.every((v) => v === 0)).toBe(true);
  });

  it("a traced function's AWS SDK calls reach X-Ray as subsegments", async () => {
    const response = await fetch(`${cloud.endpoints().regions[REGION].apiUrl}/healthcheck`);
    expect(response.status).toBe(200);
    await cloud.flushLogs();
    const lambda = cloud.regions.get(REGION)!.logsOf(cloud.endpoints().regions[REGION].accountId).eventsOf("/aws/lambda/platform-healthcheck");
    const traceIds = lambda.map((e) => /"xray_trace_id":"([^"]+)"/.exec(e.message)?.[1]).filter(Boolean) as string[];
    expect(traceIds.length).toBeGreaterThan(0);
    await expect
      .poll(() => traceIds.flatMap((id) => cloud.xray!.segments(id)).flatMap(function names(s): string[] { return [s.name, ...(s.subsegments ?? []).flatMap(names)]; }), { timeout: 5_000 })
      .toEqual(expect.arrayContaining(["## index.handler", "DynamoDB", "Kinesis"]));
  });
});

describe("WAF and per-method throttling on the local cloud", () => {
  let cloud: LocalCloud;
  let api: string;

  beforeAll(async () => {
    cloud = await startCloud("operations-waf", (config) => {
      config.environments.dev.waf = { ...config.environments.dev.waf, rateLimit: 10, evaluationWindowSeconds: 60 };
      config.environments.dev.api.methodThrottles = { "orders/POST": { rateLimit: 1, burstLimit: 1 } };
    });
    api = cloud.endpoints().regions[REGION].apiUrl;
  }, 120_000);

  afterAll(async () => {
    await cloud?.stop();
  });

  it("a burst over the rate-based rule's limit from one client gets WAF's 403; another client is unaffected", async () => {
    const statuses: number[] = [];
    let blocked: Awaited<ReturnType<typeof send>> | undefined;
    for (let i = 0; i < 14; i++) {
      const answer = await send(`${api}/helloworld`, { from: "127.0.0.2" });
      statuses.push(answer.status);
      if (answer.status === 403) blocked ??= answer;
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses.slice(10)).toEqual([403, 403, 403, 403]);
    expect(blocked!.headers["x-amzn-errortype"]).toBe("ForbiddenException");
    expect(JSON.parse(blocked!.body)).toMatchObject({ message: "Forbidden", type: "WAF_FILTERED" });

    expect((await send(`${api}/helloworld`, { from: "127.0.0.4" })).status).toBe(200);

    await cloud.flushLogs();
    const logs = cloud.regions.get(REGION)!.logsOf(cloud.endpoints().regions[REGION].accountId);
    const waf = logs.eventsOf("aws-waf-logs-platform-api").map((e) => JSON.parse(e.message));
    expect(waf.filter((l) => l.action === "BLOCK" && l.httpRequest.clientIp === "127.0.0.2")).toHaveLength(4);
    expect(waf.find((l) => l.action === "BLOCK")).toMatchObject({ terminatingRuleId: "rate-per-client-ip", terminatingRuleType: "RATE_BASED" });
    const access = logs.eventsOf("/aws/apigateway/platform-api/access").map((e) => JSON.parse(e.message));
    expect(access.filter((l) => l.wafResponseCode === "WAF_BLOCK").map((l) => l.status)).toEqual(["403", "403", "403", "403"]);
  });

  it("a per-method throttle answers 429 on its method only", async () => {
    const order = JSON.stringify([{ "account-id": "abcdef123456", type: "STOCK", symbol: "AMZN", shares: 100, details: { limit: 1000 } }]);
    const post = () => send(`${api}/orders`, { from: "127.0.0.3", method: "POST", headers: { "content-type": "application/json" }, body: order });
    const posted = [await post(), await post(), await post()];
    expect(posted[0].status).toBe(200);
    expect(posted.slice(1).map((a) => a.status)).toEqual([429, 429]);
    expect(JSON.parse(posted[1].body)).toMatchObject({ message: "Too Many Requests", type: "THROTTLED" });
    const listed = await send(`${api}/orders`, { from: "127.0.0.3", headers: { "account-id": "1234" } });
    expect(listed.status).toBe(200);
  });
});
