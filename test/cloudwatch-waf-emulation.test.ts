// The local cloud's CloudWatch and WAF against AWS's documentation, on a clock the test moves:
// - alarm evaluation: "Using Amazon CloudWatch alarms" (evaluation periods, datapoints to alarm)
//   and "Configuring how CloudWatch alarms treat missing data" (missing / ignore / breaching /
//   notBreaching; AWS/DynamoDB alarms always ignore missing data);
// - alarm notifications: the JSON message CloudWatch publishes to SNS ("Using Amazon SNS to
//   notify", the Trigger fields);
// - metric math: "Using math expressions with CloudWatch metrics" (SUM, METRICS, arithmetic);
// - EMF: "Specification: Embedded metric format" (dimension sets, value arrays, invalid events);
// - WAF: "Using rate-based rule statements" (per IP in a sliding evaluation window) and the "Core
//   rule set (CRS) managed rule group" sizes and NoUserAgent_HEADER.
import { describe, expect, it } from "vitest";
import { Alarms, notification, type AlarmConfig } from "../local/cloudwatch/alarms";
import { emfDatapoints } from "../local/cloudwatch/emf";
import { evaluateMath, type Series } from "../local/cloudwatch/math";
import { metricData } from "../local/cloudwatch/metric-data";
import { MetricStore } from "../local/cloudwatch/metrics";
import { ManualClock } from "../local/lib/clock";
import { WafState, type InspectedRequest, type WebAcl } from "../local/wafv2/state";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** The local cloud's manual clock, at T0; advancing it runs the alarms' own evaluation timer on the way. */
const manualClock = (start = T0) => new ManualClock(start);

function alarm(overrides: Partial<AlarmConfig> = {}): AlarmConfig {
  return {
    name: "api-5xx",
    arn: "arn:aws:cloudwatch:us-east-1:111111111111:alarm:api-5xx",
    accountId: "111111111111",
    region: "us-east-1",
    metric: { namespace: "AWS/ApiGateway", metricName: "5XXError", dimensions: [{ Name: "ApiName", Value: "api" }], statistic: "Average", period: 60 },
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    threshold: 0.01,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "missing",
    actionsEnabled: true,
    alarmActions: ["arn:aws:sns:us-east-1:111111111111:alerts"],
    okActions: ["arn:aws:sns:us-east-1:111111111111:alerts"],
    insufficientDataActions: [],
    updatedAt: T0,
    ...overrides,
  };
}

function setup(config: AlarmConfig) {
  const clock = manualClock();
  const metrics = new MetricStore();
  const sent: { topic: string; subject: string; message: any }[] = [];
  const alarms = new Alarms({
    clock,
    metrics,
    notify: async (topic, subject, message) => {
      sent.push({ topic, subject, message: JSON.parse(message) });
      return undefined;
    },
    log: () => {},
  });
  alarms.put(config);
  const id = { Namespace: config.metric?.namespace ?? "AWS/DynamoDB", MetricName: config.metric?.metricName ?? "x", Dimensions: config.metric?.dimensions ?? [] };
  /** One datapoint in minute `minute` after T0. */
  const put = (minute: number, value: number) => metrics.put(id, { value }, T0 + minute * MINUTE + 1000);
  /** Evaluates at the start of minute `minute` (the minutes before it are complete). */
  const at = async (minute: number) => {
    await clock.advanceTo(T0 + minute * MINUTE);
    await alarms.evaluate();
    return alarms.get(config.name)!.state.value;
  };
  return { alarms, put, at, sent, metrics };
}

describe("CloudWatch alarm evaluation (Using Amazon CloudWatch alarms)", () => {
  it("goes to ALARM when 2 of the last 3 periods breach, back to OK when fewer do, with the actions of each state", async () => {
    const { put, at, sent } = setup(alarm());
    expect(await at(0)).toBe("INSUFFICIENT_DATA");
    put(0, 0);
    expect(await at(1)).toBe("OK");
    put(1, 1);
    expect(await at(2)).toBe("OK"); // 1 of 3 breaching
    put(2, 1);
    expect(await at(3)).toBe("ALARM"); // 2 of 3
    put(3, 0);
    expect(await at(4)).toBe("ALARM"); // minutes 1..3: still 2 of 3
    put(4, 0);
    expect(await at(5)).toBe("OK");
    expect(sent.map((s) => `${s.message.OldStateValue}->${s.message.NewStateValue}`)).toEqual(["INSUFFICIENT_DATA->OK", "OK->ALARM", "ALARM->OK"]);
    const alarmed = sent[1];
    expect(alarmed.subject).toBe('ALARM: "api-5xx" in US East (N. Virginia)');
    expect(alarmed.message.NewStateReason).toBe(
      "Threshold Crossed: 2 out of the last 3 datapoints [1.0 (01/01/26 12:02:00), 1.0 (01/01/26 12:01:00)] were greater than the threshold (0.01) (minimum 2 datapoints for OK -> ALARM transition).",
    );
    expect(alarmed.message.Trigger).toMatchObject({ MetricName: "5XXError", Namespace: "AWS/ApiGateway", Statistic: "AVERAGE", Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2, ComparisonOperator: "GreaterThanThreshold", Threshold: 0.01, TreatMissingData: "missing" });
  });

  it.each([
    ["missing", "INSUFFICIENT_DATA"],
    ["ignore", "OK"],
    ["breaching", "ALARM"],
    ["notBreaching", "OK"],
  ] as const)("with no data in the evaluation range, treatMissingData %s gives %s (from OK)", async (treatMissingData, expected) => {
    const { put, at } = setup(alarm({ treatMissingData }));
    for (const minute of [-2, -1, 0]) put(minute, 0);
    expect(await at(1)).toBe("OK");
    expect(await at(10)).toBe(expected);
  });

  it("missing periods among present ones: breaching fills them as breaching, missing leaves them out", async () => {
    const breaching = setup(alarm({ treatMissingData: "breaching" }));
    breaching.put(0, 1);
    expect(await breaching.at(3)).toBe("ALARM"); // 1 breaching + 2 missing counted as breaching
    const missing = setup(alarm({ treatMissingData: "missing" }));
    missing.put(0, 1);
    expect(await missing.at(3)).toBe("OK"); // 1 of 3 breaching
  });

  it("an alarm on AWS/DynamoDB ignores missing data whatever it is told", async () => {
    const dynamo = alarm({
      name: "table-throttles",
      metric: { namespace: "AWS/DynamoDB", metricName: "ThrottledRequests", dimensions: [{ Name: "TableName", Value: "T" }], statistic: "Sum", period: 60 },
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "breaching",
    });
    const { at } = setup(dynamo);
    expect(await at(10)).toBe("INSUFFICIENT_DATA");
  });

  it("a metric math alarm sums its metrics per period", async () => {
    const clock = manualClock();
    const metrics = new MetricStore();
    const alarms = new Alarms({ clock, metrics, notify: async () => undefined, log: () => {} });
    const metric = (name: string) => ({ Namespace: "AWS/DynamoDB", MetricName: name, Dimensions: [{ Name: "TableName", Value: "T" }] });
    alarms.put(
      alarm({
        name: "throttles",
        metric: undefined,
        queries: [
          { Id: "r", MetricStat: { Metric: metric("ReadThrottleEvents"), Period: 60, Stat: "Sum" }, ReturnData: false },
          { Id: "w", MetricStat: { Metric: metric("WriteThrottleEvents"), Period: 60, Stat: "Sum" }, ReturnData: false },
          { Id: "total", Expression: "SUM(METRICS())" },
        ],
        threshold: 3,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
      }),
    );
    metrics.put(metric("ReadThrottleEvents"), { value: 1 }, T0 + 1000);
    metrics.put(metric("WriteThrottleEvents"), { value: 2 }, T0 + 2000);
    await clock.advanceTo(T0 + MINUTE);
    await alarms.evaluate();
    expect(alarms.get("throttles")!.state.value).toBe("ALARM");
  });

  it("the notification of a metric math alarm lists its queries in Trigger.Metrics", () => {
    const config = alarm({ metric: undefined, queries: [{ Id: "m0", MetricStat: { Metric: { Namespace: "N", MetricName: "M", Dimensions: [] }, Period: 60, Stat: "Sum" }, ReturnData: false }, { Id: "t", Expression: "SUM(METRICS())" }] });
    const { message } = notification(config, { value: "OK", reason: "", updatedAt: T0 }, { value: "ALARM", reason: "r", updatedAt: T0 });
    expect(JSON.parse(message).Trigger.Metrics.map((m: { Id: string }) => m.Id)).toEqual(["m0", "t"]);
  });
});

describe("statistics and metric math (Using math expressions with CloudWatch metrics)", () => {
  const store = new MetricStore();
  const latency = { Namespace: "AWS/ApiGateway", MetricName: "Latency", Dimensions: [] };
  for (let i = 1; i <= 100; i++) store.put(latency, { value: i }, T0 + i * 100);

  it("computes SampleCount, Sum, Average, Minimum, Maximum and percentiles per period", () => {
    const stat = (s: string) => store.statistic(latency, s, 60, T0, T0 + MINUTE).values[0];
    expect([stat("SampleCount"), stat("Sum"), stat("Average"), stat("Minimum"), stat("Maximum"), stat("p99"), stat("p50")]).toEqual([100, 5050, 50.5, 1, 100, 99, 50]);
    expect(() => stat("tm99")).toThrow(/not emulated/);
  });

  it("SUM(METRICS()) adds the series per timestamp; arithmetic keeps the timestamps both series have", () => {
    const a: Series = new Map([[1, 1], [2, 2]]);
    const b: Series = new Map([[2, 10], [3, 30]]);
    expect([...(evaluateMath("SUM(METRICS())", new Map([["a", a], ["b", b]])) as Series)]).toEqual([[1, 1], [2, 12], [3, 30]]);
    expect([...(evaluateMath("(a + b) * 2", new Map([["a", a], ["b", b]])) as Series)]).toEqual([[2, 24]]);
    expect(() => evaluateMath("ANOMALY_DETECTION_BAND(a)", new Map([["a", a]]))).toThrow(/ANOMALY_DETECTION_BAND is not emulated/);
  });

  it("GetMetricData answers newest first and refuses a query with both or neither of MetricStat and Expression", () => {
    const [result] = metricData(store, [{ Id: "l", MetricStat: { Metric: latency, Period: 1, Stat: "Maximum" } }], T0, T0 + 3000);
    expect(result.Timestamps).toEqual([T0 + 2000, T0 + 1000, T0]);
    expect(result.Values).toEqual([29, 19, 9]);
    expect(() => metricData(store, [{ Id: "x" }], T0, T0 + 1)).toThrow(/exactly one of MetricStat and Expression/);
  });
});

describe("embedded metric format (Specification: Embedded metric format)", () => {
  it("reads Powertools' line: one datapoint per metric, dimension set and value", () => {
    const line = JSON.stringify({
      _aws: { Timestamp: T0, CloudWatchMetrics: [{ Namespace: "platform", Dimensions: [["service"], ["service", "reason"]], Metrics: [{ Name: "SamlLoginRefused", Unit: "Count" }] }] },
      service: "platform-process-saml",
      reason: "assertion_replayed",
      SamlLoginRefused: 1,
    });
    expect(emfDatapoints(line)).toEqual([
      { namespace: "platform", metricName: "SamlLoginRefused", dimensions: [{ Name: "service", Value: "platform-process-saml" }], values: [1], unit: "Count", timestamp: T0 },
      {
        namespace: "platform",
        metricName: "SamlLoginRefused",
        dimensions: [{ Name: "service", Value: "platform-process-saml" }, { Name: "reason", Value: "assertion_replayed" }],
        values: [1],
        unit: "Count",
        timestamp: T0,
      },
    ]);
  });

  it("yields nothing from an event that breaks the format (a dimension without a value, a non-numeric value, no timestamp)", () => {
    const base = { _aws: { Timestamp: T0, CloudWatchMetrics: [{ Namespace: "n", Dimensions: [["d"]], Metrics: [{ Name: "m" }] }] }, d: "x", m: 1 };
    expect(emfDatapoints(JSON.stringify({ ...base, d: undefined }))).toEqual([]);
    expect(emfDatapoints(JSON.stringify({ ...base, m: "1" }))).toEqual([]);
    expect(emfDatapoints(JSON.stringify({ ...base, _aws: { ...base._aws, Timestamp: undefined } }))).toEqual([]);
    expect(emfDatapoints('{"level":"INFO","message":"not EMF"}')).toEqual([]);
  });
});

describe("AWS WAF rules (rate-based statements, the core rule set)", () => {
  const request = (clientIp: string, extra: Partial<InspectedRequest> = {}): InspectedRequest => ({
    clientIp,
    method: "GET",
    uri: "/prod/helloworld",
    rawQuery: "",
    httpVersion: "HTTP/1.1",
    headers: { "user-agent": "test" },
    body: Buffer.alloc(0),
    requestId: "r",
    ...extra,
  });
  const acl = (rules: WebAcl["rules"]): WebAcl => ({ id: "id", name: "acl", arn: "arn:aws:wafv2:us-east-1:111111111111:regional/webacl/acl/id", description: "", defaultAction: "ALLOW", metricName: "acl", rules, lockToken: "t" });

  it("blocks an address while more than `limit` of its requests fall in the window; other addresses are unaffected", async () => {
    const clock = manualClock();
    const waf = new WafState("us-east-1", "111111111111", clock);
    const web = acl([{ kind: "rate", name: "rate", priority: 0, action: "BLOCK", metricName: "rate", limit: 10, windowMs: MINUTE }]);
    waf.putWebAcl(web);
    const actions = Array.from({ length: 12 }, () => waf.evaluate(web, request("198.51.100.1")).action);
    expect(actions).toEqual([...Array(10).fill("ALLOW"), "BLOCK", "BLOCK"]);
    expect(waf.evaluate(web, request("198.51.100.2")).action).toBe("ALLOW");
    // The window slides: a minute later the address is under the limit again.
    await clock.advanceTo(T0 + MINUTE + 1);
    expect(waf.evaluate(web, request("198.51.100.1"))).toMatchObject({ action: "ALLOW", terminatingRuleId: "Default_Action" });
  });

  it("runs the documented core rules, with an override to count", () => {
    const waf = new WafState("us-east-1", "111111111111", manualClock());
    const web = acl([
      { kind: "managed", name: "crs", priority: 0, overrideAction: "none", metricName: "crs", vendorName: "AWS", groupName: "AWSManagedRulesCommonRuleSet", actionOverrides: { SizeRestrictions_BODY: "COUNT" } },
    ]);
    waf.putWebAcl(web);
    expect(waf.evaluate(web, request("1.1.1.1", { headers: {} }))).toMatchObject({ action: "BLOCK", matchedManagedRule: "NoUserAgent_HEADER" });
    expect(waf.evaluate(web, request("1.1.1.1", { rawQuery: "q=".padEnd(2049, "x") }))).toMatchObject({ action: "BLOCK", matchedManagedRule: "SizeRestrictions_QUERYSTRING" });
    expect(waf.evaluate(web, request("1.1.1.1", { body: Buffer.alloc(8193) }))).toMatchObject({ action: "ALLOW", counted: ["crs"] });
    expect(waf.evaluate(web, request("1.1.1.1", { body: Buffer.alloc(8192) }))).toMatchObject({ action: "ALLOW", counted: [] });
  });
});

describe("what the local cloud cannot run is refused or named at deploy", () => {
  const context = (type: string, config: Record<string, any>, services: Record<string, unknown>, logged: string[] = []) => ({
    type,
    name: "x",
    address: `${type}.x`,
    config,
    stack: { name: "platform-us-east-1", dir: "." },
    workspace: "dev",
    region: "us-east-1",
    accountId: "111111111111",
    services: services as never,
    stableId: () => "0123456789",
    log: (message: string) => logged.push(message),
  });
  const waf = () => new WafState("us-east-1", "111111111111", manualClock());
  const rule = (statement: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name: "r", priority: 0, action: { block: {} }, statement, visibility_config: { metric_name: "r" }, ...extra });

  it("a web ACL rule other than a rate-based statement or AWS's core rule set, naming the address and the statement", async () => {
    const { wafv2Resources } = await import("../local/wafv2/resources");
    const config = { name: "acl", scope: "REGIONAL", default_action: { allow: {} }, rule: [rule({ byte_match_statement: { search_string: "x" } })] };
    expect(() => wafv2Resources.aws_wafv2_web_acl(context("aws_wafv2_web_acl", config, { waf: waf() }))).toThrow(
      /platform-us-east-1: aws_wafv2_web_acl\.x: the local cloud cannot run this as AWS WAF does.*statement byte_match_statement is not emulated/,
    );
  });

  it("the core rule set deploys with the rules AWS does not publish named in the log", async () => {
    const { wafv2Resources } = await import("../local/wafv2/resources");
    const logged: string[] = [];
    const managed = rule({ managed_rule_group_statement: { vendor_name: "AWS", name: "AWSManagedRulesCommonRuleSet" } }, { action: undefined, override_action: { none: {} } });
    wafv2Resources.aws_wafv2_web_acl(context("aws_wafv2_web_acl", { name: "acl", scope: "REGIONAL", default_action: { allow: {} }, rule: [managed] }, { waf: waf() }, logged));
    expect(logged).toEqual([expect.stringMatching(/runs NoUserAgent_HEADER, SizeRestrictions_QUERYSTRING.*; AWS does not publish what UserAgent_BadBots_HEADER, .*CrossSiteScripting_URIPATH match, and the local cloud does not run them$/)]);
  });

  it("an anomaly detection alarm, naming the address", async () => {
    const { cloudWatchResources } = await import("../local/cloudwatch/resources");
    const config = { alarm_name: "a", comparison_operator: "GreaterThanUpperThreshold", threshold_metric_id: "ad1", evaluation_periods: 1, metric_query: [] };
    expect(() => cloudWatchResources.aws_cloudwatch_metric_alarm(context("aws_cloudwatch_metric_alarm", config, {}))).toThrow(
      /aws_cloudwatch_metric_alarm\.x: the local cloud cannot evaluate this alarm as CloudWatch does.*anomaly detection bands/,
    );
  });
});
