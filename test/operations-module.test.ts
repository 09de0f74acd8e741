// What the platform gives an operator, on the synthesized Terraform: the monitoring module's alarms
// and dashboard, the stage's WAF web ACL, per-method throttling and the stage's canary. Values that
// come from config/environments.json are Terraform expressions of the workspace's environment: the
// tests evaluate them (with the local deployer's evaluator) for a workspace, so that "from config"
// means the config's value comes out, and a changed config changes it.
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateConfig, type Scope } from "../local/deployer/expressions/evaluate";
import { COMMON_RULE_SET, RATE_RULE_NAME, REDACTED_HEADERS } from "../modules/waf";
import { TABLE_OPERATIONS } from "../modules/monitoring";
import { loadConfig, type PlatformConfig } from "../stacks/config";
import { synth } from "../scripts/lib/synth";
import type { TerraformJson } from "../scripts/lib/synthesized";
import { only, resources, synthTo, type Synthesized } from "./helpers/synth";

const REGIONAL = ["platform-us-east-1", "platform-us-west-2"];
let config: PlatformConfig;
let aws: Synthesized;

beforeAll(() => {
  config = loadConfig();
  aws = synthTo("aws");
}, 120_000);

/** A value of the synthesized JSON as Terraform computes it in `workspace` (with `each` for a for_each instance). */
function inWorkspace(value: unknown, workspace: string, each?: { key: string; value: unknown }, from = config): any {
  const scope: Scope = {
    root(name) {
      if (name === "local") return { environments: from.environments, environment: from.environments[workspace] };
      if (name === "terraform") return { workspace };
      if (name === "each" && each) return each;
      throw new Error(`the test evaluates only values of the environment, not ${name}`);
    },
  };
  return evaluateConfig(value, scope);
}

const alarms = (json: TerraformJson) => Object.values(resources(json, "aws_cloudwatch_metric_alarm"));
const alarmNamed = (json: TerraformJson, name: string) => {
  const found = alarms(json).find((a) => a.alarm_name === name);
  if (!found) throw new Error(`no alarm ${name}; have ${alarms(json).map((a) => a.alarm_name).join(", ")}`);
  return found;
};
const functionNames = (json: TerraformJson) =>
  Object.entries(resources(json, "aws_lambda_function")).map(([id, fn]) => ({ id, name: fn.function_name as string, timeout: fn.timeout as number }));

describe("monitoring: alarms of every region", () => {
  it.each(REGIONAL)("%s: every alarm sends ALARM and OK to the alerts topic, which has the environment's subscriptions", (name) => {
    const json = aws.stack(name);
    const topic = Object.entries(resources(json, "aws_sns_topic")).find(([, t]) => t.name === "platform-alerts")!;
    const topicArn = `\${aws_sns_topic.${topic[0]}.arn}`;
    expect(topic[1].kms_master_key_id).toBeUndefined();
    for (const alarm of alarms(json)) {
      expect(alarm.alarm_actions, alarm.alarm_name).toEqual([topicArn]);
      expect(alarm.ok_actions, alarm.alarm_name).toEqual([topicArn]);
    }
    const subscriptions = Object.values(resources(json, "aws_sns_topic_subscription")).filter((s) => s.topic_arn === topicArn);
    expect(subscriptions.map((s) => [s.protocol, inWorkspace(s.for_each, "prod")])).toEqual([
      ["email", config.environments.prod.alerts.email],
      ["sms", config.environments.prod.alerts.sms],
    ]);
    const policy = JSON.stringify(only({ resource: { aws_sns_topic_policy: Object.fromEntries(Object.entries(resources(json, "aws_sns_topic_policy")).filter(([, p]) => p.arn === topicArn)) } } as TerraformJson, "aws_sns_topic_policy").policy);
    expect(policy).toContain("cloudwatch.amazonaws.com");
  });

  it.each(REGIONAL)("%s: the stage's 5XX and 4XX shares and p99 latency, with thresholds and periods from config", (name) => {
    const json = aws.stack(name);
    const fiveXx = alarmNamed(json, "platform-api-5xx-rate");
    expect(fiveXx).toMatchObject({ namespace: "AWS/ApiGateway", metric_name: "5XXError", statistic: "Average", comparison_operator: "GreaterThanThreshold" });
    expect(fiveXx.dimensions.ApiName).toBe("platform-api");
    for (const workspace of ["dev", "prod"]) {
      const m = config.environments[workspace].monitoring;
      expect(inWorkspace(fiveXx.threshold, workspace)).toBe(m.api.serverErrorRate);
      expect(inWorkspace(alarmNamed(json, "platform-api-4xx-rate").threshold, workspace)).toBe(m.api.clientErrorRate);
      expect(inWorkspace(fiveXx.period, workspace)).toBe(m.periodSeconds);
      expect(inWorkspace(fiveXx.evaluation_periods, workspace)).toBe(m.evaluationPeriods);
      expect(inWorkspace(fiveXx.datapoints_to_alarm, workspace)).toBe(m.datapointsToAlarm);
    }
    const latency = alarmNamed(json, "platform-api-p99-latency");
    expect(latency).toMatchObject({ metric_name: "Latency", extended_statistic: "p99" });
    expect(inWorkspace(latency.threshold, "staging")).toBe(config.environments.staging.monitoring.api.p99LatencyMs);

    const changed = structuredClone(config);
    changed.environments.dev.monitoring.api.serverErrorRate = 0.05;
    expect(inWorkspace(fiveXx.threshold, "dev", undefined, changed)).toBe(0.05);
  });

  it.each(REGIONAL)("%s: every function has errors, throttles and duration alarms; stream consumers an iterator age alarm", (name) => {
    const json = aws.stack(name);
    const consumers = new Set(Object.values(resources(json, "aws_lambda_event_source_mapping")).map((m) => m.function_name));
    const functions = functionNames(json);
    expect(functions.length).toBeGreaterThanOrEqual(9);
    for (const fn of functions) {
      const dimension = `\${aws_lambda_function.${fn.id}.function_name}`;
      for (const kind of ["errors", "throttles", "duration"]) {
        const alarm = alarmNamed(json, `${fn.name}-${kind}`);
        expect(alarm.namespace).toBe("AWS/Lambda");
        expect(alarm.dimensions).toEqual({ FunctionName: dimension });
      }
      // Near the timeout: the configured share of this function's timeout, in milliseconds.
      const duration = alarmNamed(json, `${fn.name}-duration`);
      expect(inWorkspace(duration.threshold, "dev")).toBeCloseTo(fn.timeout * 1000 * config.environments.dev.monitoring.lambda.durationOfTimeout);
      const consumes = consumers.has(`\${aws_lambda_function.${fn.id}.arn}`);
      expect(alarms(json).some((a) => a.alarm_name === `${fn.name}-iterator-age`), fn.name).toBe(consumes);
    }
    expect(alarmNamed(json, "platform-clickstream-anomaly-iterator-age").metric_name).toBe("IteratorAge");
    expect(inWorkspace(alarmNamed(json, "platform-hello-errors").threshold, "prod")).toBe(config.environments.prod.monitoring.lambda.errors);
  });

  it.each(REGIONAL)("%s: every table has throttle and system error alarms summing its metrics; every stream a write throttle alarm", (name) => {
    const json = aws.stack(name);
    for (const table of ["SAMLSessions", "SAMLAssertions", "SAMLUsers", "Comments"]) {
      const throttles = alarmNamed(json, `${table}-throttles`);
      expect(throttles.metric_query.map((q: any) => q.metric?.metric_name ?? q.expression)).toEqual(["ReadThrottleEvents", "WriteThrottleEvents", "SUM(METRICS())"]);
      expect(throttles.metric_query[0].metric.dimensions).toEqual({ TableName: table });
      expect(inWorkspace(throttles.threshold, "dev")).toBe(config.environments.dev.monitoring.dynamodb.throttledRequests);
      const errors = alarmNamed(json, `${table}-system-errors`);
      const metrics = errors.metric_query.filter((q: any) => q.metric);
      expect(metrics.map((q: any) => q.metric.dimensions)).toEqual(TABLE_OPERATIONS.map((Operation) => ({ TableName: table, Operation })));
      expect(metrics.length).toBeLessThanOrEqual(10);
    }
    const streams = Object.keys(resources(json, "aws_kinesis_stream"));
    for (const id of streams) {
      const alarm = alarms(json).find((a) => a.dimensions?.StreamName === `\${aws_kinesis_stream.${id}.name}`)!;
      expect(alarm).toMatchObject({ namespace: "AWS/Kinesis", metric_name: "WriteProvisionedThroughputExceeded", statistic: "Sum" });
    }
  });

  it.each(REGIONAL)("%s: the platform's own metrics: SAML refusals, in all and by configured reason, and anomalies published", (name) => {
    const json = aws.stack(name);
    const all = alarmNamed(json, "platform-saml-refusals");
    expect(all).toMatchObject({ namespace: "platform", metric_name: "SamlLoginRefused", dimensions: { service: "platform-process-saml" } });
    const byReason = alarmNamed(json, "platform-saml-refusals-${each.key}");
    const reasons = inWorkspace(byReason.for_each, "prod");
    expect(reasons).toEqual(config.environments.prod.monitoring.saml.refusalsByReason);
    const [reason, threshold] = Object.entries(reasons)[0];
    expect(inWorkspace(byReason.dimensions, "prod", { key: reason, value: threshold })).toEqual({ service: "platform-process-saml", reason });
    expect(inWorkspace(byReason.threshold, "prod", { key: reason, value: threshold })).toBe(threshold);
    expect(alarmNamed(json, "platform-clickstream-anomalies")).toMatchObject({ metric_name: "AnomaliesPublished", dimensions: { service: "platform-clickstream-anomaly" } });
  });

  it.each(REGIONAL)("%s: a dashboard of the region with the stage, functions, tables, streams, WAF, the platform's metrics and the alarms", (name) => {
    const dashboard = only(aws.stack(name), "aws_cloudwatch_dashboard");
    expect(dashboard.dashboard_name).toBe(name);
    const body = String(dashboard.dashboard_body);
    for (const wanted of ["5XXError", "Latency", "Errors", "IteratorAge", "ReadThrottleEvents", "WriteProvisionedThroughputExceeded", "BlockedRequests", "SamlLoginRefused", "AnomaliesPublished", '"alarms" = [aws_cloudwatch_metric_alarm.']) {
      expect(body, wanted).toContain(wanted);
    }
  });

  it("global-dns: an alarm per region's health check in us-east-1, notifying us-east-1's alerts topic", () => {
    const json = aws.stack("global-dns");
    expect(json.provider!.aws![0].region).toBe("us-east-1");
    const checks = resources(json, "aws_route53_health_check");
    for (const region of config.regions) {
      const alarm = alarmNamed(json, `platform-health-${region}`);
      const check = Object.keys(checks).find((id) => id.startsWith(`health-check-${region}`))!;
      expect(alarm).toMatchObject({ namespace: "AWS/Route53", metric_name: "HealthCheckStatus", statistic: "Minimum", comparison_operator: "LessThanThreshold", threshold: 1, treat_missing_data: "missing" });
      expect(alarm.dimensions).toEqual({ HealthCheckId: `\${aws_route53_health_check.${check}.id}` });
      expect(alarm.alarm_actions).toEqual(["${data.terraform_remote_state.state-us-east-1.outputs.alerts_topic_arn}"]);
      expect(inWorkspace(alarm.evaluation_periods, "prod")).toBe(config.environments.prod.monitoring.evaluationPeriods);
    }
  });
});

describe("WAF: a web ACL on each stage", () => {
  it.each(REGIONAL)("%s: a regional web ACL with a rate-based rule per client IP from config, associated with the stage and logged without credentials", (name) => {
    const json = aws.stack(name);
    const acl = only(json, "aws_wafv2_web_acl");
    const aclId = Object.keys(resources(json, "aws_wafv2_web_acl"))[0];
    expect(acl.scope).toBe("REGIONAL");
    expect(acl.default_action).toEqual({ allow: {} });
    const [rate] = acl.rule;
    expect(rate).toMatchObject({ name: RATE_RULE_NAME, priority: 0, action: { block: {} } });
    for (const workspace of ["dev", "prod"]) {
      expect(inWorkspace(rate.statement.rate_based_statement, workspace)).toEqual({
        aggregate_key_type: "IP",
        limit: config.environments[workspace].waf.rateLimit,
        evaluation_window_sec: config.environments[workspace].waf.evaluationWindowSeconds,
      });
    }
    const stage = Object.keys(resources(json, "aws_api_gateway_stage"))[0];
    expect(only(json, "aws_wafv2_web_acl_association")).toMatchObject({ resource_arn: `\${aws_api_gateway_stage.${stage}.arn}`, web_acl_arn: `\${aws_wafv2_web_acl.${aclId}.arn}` });
    const logging = only(json, "aws_wafv2_web_acl_logging_configuration");
    const logGroup = Object.entries(resources(json, "aws_cloudwatch_log_group")).find(([, g]) => String(g.name).startsWith("aws-waf-logs-"))!;
    expect(logging.log_destination_configs).toEqual([`\${aws_cloudwatch_log_group.${logGroup[0]}.arn}`]);
    expect(logging.redacted_fields.map((f: any) => f.single_header.name)).toEqual(REDACTED_HEADERS);
  });

  it("AWS's core rule set only where the switch is on (dev off, staging and prod on)", () => {
    const acl = only(aws.stack("platform-us-east-1"), "aws_wafv2_web_acl");
    const managed = acl.dynamic.rule;
    expect(managed.content.statement.managed_rule_group_statement).toMatchObject({ vendor_name: "AWS", name: COMMON_RULE_SET });
    expect(managed.content.override_action).toEqual({ none: {} });
    for (const [workspace, env] of Object.entries(config.environments)) {
      expect(inWorkspace(managed.for_each, workspace), workspace).toEqual(env.waf.managedCommonRuleSet ? [COMMON_RULE_SET] : []);
    }
    expect(config.environments.dev.waf.managedCommonRuleSet).toBe(false);
    expect(config.environments.prod.waf.managedCommonRuleSet).toBe(true);
  });
});

describe("per-method throttling", () => {
  it.each(REGIONAL)("%s: method settings per configured method, with its limits, beside the stage default", (name) => {
    const json = aws.stack(name);
    const settings = Object.values(resources(json, "aws_api_gateway_method_settings"));
    const perMethod = settings.find((s) => s.for_each)!;
    for (const workspace of ["dev", "prod"]) {
      const throttles = inWorkspace(perMethod.for_each, workspace);
      expect(Object.keys(throttles)).toEqual(["comments/POST", "saml/POST"]);
      for (const [methodPath, limits] of Object.entries(throttles) as [string, any][]) {
        const each = { key: methodPath, value: limits };
        expect(inWorkspace(perMethod.method_path, workspace, each)).toBe(methodPath);
        expect(inWorkspace(perMethod.settings, workspace, each)).toMatchObject({ throttling_rate_limit: limits.rateLimit, throttling_burst_limit: limits.burstLimit, metrics_enabled: true });
        // Lower than the stage's default for reads.
        expect(limits.rateLimit).toBeLessThan(config.environments[workspace].api.throttleRateLimit);
      }
    }
  });

  it("a method path that is no method of the API stops synth, naming it", () => {
    const wrong = structuredClone(config);
    wrong.environments.staging.api.methodThrottles["comment/POST"] = { rateLimit: 1, burstLimit: 1 };
    expect(() => synth({ target: "aws", outdir: aws.outdir + "-wrong", config: wrong })).toThrow(
      /environments\.staging\.api\.methodThrottles names comment\/POST, which is not a method of the API \(methods: .*comments\/POST/,
    );
  });
});

describe("canary releases", () => {
  const stageOf = (json: TerraformJson) => only(json, "aws_api_gateway_stage");
  const canaryDeployment = (json: TerraformJson) => Object.entries(resources(json, "aws_api_gateway_deployment")).find(([id]) => id.startsWith("api_canary-deployment"))!;

  it("the switch off (every environment today) gives no canary settings and no canary deployment", () => {
    const json = aws.stack("platform-us-east-1");
    for (const workspace of Object.keys(config.environments)) {
      expect(config.environments[workspace].api.canary.enabled).toBe(false);
      expect(inWorkspace(stageOf(json).dynamic.canary_settings.for_each, workspace)).toEqual([]);
      expect(inWorkspace(canaryDeployment(json)[1].count, workspace)).toBe(0);
    }
  });

  it("the switch on sends the configured share of requests to a deployment of the current API, with the stage variable overrides", () => {
    const on = structuredClone(config);
    on.environments.prod.api.canary = { enabled: true, percentTraffic: 5, stageVariableOverrides: { release: "canary" } };
    const json = aws.stack("platform-us-east-1");
    const canary = stageOf(json).dynamic.canary_settings;
    expect(inWorkspace(canary.for_each, "prod", undefined, on)).toEqual(["canary"]);
    const [id, deployment] = canaryDeployment(json);
    expect(inWorkspace(deployment.count, "prod", undefined, on)).toBe(1);
    expect(canary.content.deployment_id).toBe(`\${aws_api_gateway_deployment.${id}[0].id}`);
    expect(inWorkspace(canary.content.percent_traffic, "prod", undefined, on)).toBe(5);
    expect(inWorkspace(canary.content.stage_variable_overrides, "prod", undefined, on)).toEqual({ release: "canary" });
  });

  it("while the canary is on, the stage keeps the deployment it served: its trigger is held, not the current configuration", () => {
    const json = aws.stack("platform-us-east-1");
    const data = resources(json, "terraform_data");
    const [heldId, held] = Object.entries(data).find(([id]) => id.startsWith("api_stage-configuration"))!;
    const [currentId, current] = Object.entries(data).find(([id]) => id.startsWith("api_configuration"))!;
    expect(held.lifecycle).toEqual({ ignore_changes: ["input"] });
    expect(held.input).toBe(current.input);
    expect(held.triggers_replace).toBe(`\${local.environment.api.canary.enabled ? "canary" : terraform_data.${currentId}.output}`);
    const stageDeployment = Object.entries(resources(json, "aws_api_gateway_deployment")).find(([id]) => id.startsWith("api_deployment"))![1];
    expect(stageDeployment.triggers.configuration).toBe(`\${terraform_data.${heldId}.output}`);
    expect(stageOf(json).deployment_id).toMatch(/^\$\{aws_api_gateway_deployment\.api_deployment_\w+\.id\}$/);
    expect(canaryDeployment(json)[1].triggers.configuration).toBe(current.input);
  });
});
