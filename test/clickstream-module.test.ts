// The clickstream module as synthesized: streams (the input's shards from the environment), the
// beacon route as a Kinesis service proxy with the seed's template, the two Lambdas and their
// event source mappings, the SQL runtime's mode decided from the SQL, the clock tick, the alert
// topic with subscriptions from the environment, and the legacy Kinesis Analytics switch.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import application from "../sql/clickstream.application.json";
import { GENERATOR_RATE, RUNTIME_SOURCE_SETTINGS, STATE_TABLE_NAME, STREAM_NAMES, TOPIC_NAME, sqlRuntimePlan } from "../modules/clickstream";
import { only, resources, synthTo } from "./helpers/synth";

const SQL = readFileSync(new URL("../sql/clickstream.sql", import.meta.url), "utf8");
let stack: ReturnType<ReturnType<typeof synthTo>["stack"]>;
beforeAll(() => {
  stack = synthTo("aws").stack("platform-us-east-1");
});

const all = (type: string) => Object.entries(resources(stack, type));
/** The logical id of a resource of `type` whose construct path ends with `path`. */
const idOf = (type: string, path: string) => all(type).find(([, r]) => r["//"].metadata.path.endsWith(path))![0];
const byPath = (type: string, path: string) => resources(stack, type)[idOf(type, path)];
const ref = (type: string, path: string, attribute: string) => `\${${type}.${idOf(type, path)}.${attribute}}`;
const fn = (name: string) => all("aws_lambda_function").map(([, f]) => f).find((f) => f.function_name === name)!;

/** The statements of a policy rendered with jsonencode: Sid, actions and resources. */
function statements(policy: string) {
  return [...policy.matchAll(/\{"Sid" = "(\w+)", "Effect" = "Allow", "Action" = \[([^\]]*)\], "Resource" = \[([^\]]*)\]\}/g)].map(([, sid, actions, resources]) => ({
    sid,
    actions: actions.split(", ").map((a) => a.replace(/"/g, "")),
    resources: resources.split(", ").map((r) => r.replace(/"/g, "")),
  }));
}
const policyOf = (rolePath: string) => all("aws_iam_role_policy").map(([, p]) => p).find((p) => p.role.includes(idOf("aws_iam_role", rolePath)))!.policy as string;

describe("clickstream module", () => {
  it("has the seed's two streams, encrypted, the input with the environment's shards or on demand", () => {
    for (const [key, name] of Object.entries(STREAM_NAMES)) {
      expect(byPath("aws_kinesis_stream", `${key}-stream`)).toMatchObject({ name, encryption_type: "KMS", kms_key_id: "alias/aws/kinesis", retention_period: 24 });
    }
    expect(byPath("aws_kinesis_stream", "input-stream")).toMatchObject({
      shard_count: '${lookup(local.environment.clickstream.inputStream, "shards", null)}',
      stream_mode_details: { stream_mode: "${local.environment.clickstream.inputStream.mode}" },
    });
    expect(byPath("aws_kinesis_stream", "output-stream")).toMatchObject({ shard_count: 1, stream_mode_details: { stream_mode: "PROVISIONED" } });
    const environments = stack.locals!.environments as Record<string, { clickstream: { inputStream: unknown } }>;
    expect(environments.dev.clickstream.inputStream).toEqual({ mode: "PROVISIONED", shards: 2 });
    expect(environments.prod.clickstream.inputStream).toEqual({ mode: "ON_DEMAND" });
  });

  it("GET /beacon puts the seed's record on the input stream through a PutRecord-only role", () => {
    const integration = byPath("aws_api_gateway_integration", "integration-GET-beacon");
    expect(integration).toMatchObject({
      type: "AWS",
      integration_http_method: "POST",
      uri: "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord",
      credentials: ref("aws_iam_role", "clickstream/beacon-role", "arn"),
      request_parameters: { "integration.request.header.Content-Type": "'application/x-amz-json-1.1'" },
    });
    const template: string = integration.request_templates["application/json"];
    expect(template).toContain(`"Data": "$util.base64Encode("{ ""browseraction"" : ""$input.params('browseraction')"", ""site"" : ""$input.params('Host')"" }")"`);
    // A partition key per request spreads beacons over the shards (the seed's Host header sent all to one).
    expect(template).toContain(`"PartitionKey" : "$context.requestId"`);
    expect(template).toContain(`"StreamName" : "${ref("aws_kinesis_stream", "input-stream", "name")}"`);

    const method = byPath("aws_api_gateway_method", "method-GET-beacon");
    expect(method.request_parameters).toEqual({ "method.request.querystring.browseraction": true });
    expect(method.request_validator_id).toBe(ref("aws_api_gateway_request_validator", "beacon-validator", "id"));
    expect(statements(policyOf("clickstream/beacon-role"))).toEqual([
      { sid: "PutBeacons", actions: ["kinesis:PutRecord"], resources: [ref("aws_kinesis_stream", "input-stream", "arn").slice(2, -1)] },
    ]);
  });

  it("runs the SQL runtime on the input stream (split by shard, one batch per shard at a time, 1 s batches) and the anomaly function on the output stream (batch size 1)", () => {
    const runtime = fn("platform-clickstream-sql-runtime");
    expect(runtime.environment.variables).toMatchObject({
      INPUT_STREAM_NAME: ref("aws_kinesis_stream", "input-stream", "name"),
      OUTPUT_STREAM_NAME: ref("aws_kinesis_stream", "output-stream", "name"),
      STATE_TABLE_NAME: ref("aws_dynamodb_table", "state-table", "name"),
      SQL_RUNTIME_MODE: "partitioned",
      INPUT_RETENTION_HOURS: "24",
    });
    expect(runtime.description).toContain("counting each shard in parallel");
    expect(RUNTIME_SOURCE_SETTINGS).toEqual({ batchSize: 5000, maximumBatchingWindowInSeconds: 1, parallelizationFactor: 1 });
    expect(byPath("aws_lambda_event_source_mapping", "sql-runtime-source")).toMatchObject({
      event_source_arn: ref("aws_kinesis_stream", "input-stream", "arn"),
      function_name: ref("aws_lambda_function", "sql-runtime/function", "arn"),
      batch_size: 5000,
      maximum_batching_window_in_seconds: 1,
      parallelization_factor: 1,
      starting_position: "LATEST",
      enabled: "${local.environment.features.legacyKinesisAnalytics ? false : true}",
    });
    expect(byPath("aws_lambda_event_source_mapping", "anomaly-source")).toMatchObject({
      event_source_arn: ref("aws_kinesis_stream", "output-stream", "arn"),
      function_name: ref("aws_lambda_function", "anomaly/function", "arn"),
      batch_size: 1,
    });
    for (const mapping of ["sql-runtime", "anomaly"]) {
      expect(byPath("aws_lambda_event_source_mapping", `${mapping}-source`).depends_on).toContain(`aws_iam_role_policy.${idOf("aws_iam_role_policy", `${mapping}/policy`)}`);
    }
    expect(fn("platform-clickstream-anomaly").environment.variables.TOPIC_ARN).toBe(ref("aws_sns_topic", "clickstream/topic", "arn"));
  });

  it("gives each function only what it uses: no wildcard actions, every data resource named", () => {
    const runtime = statements(policyOf("sql-runtime/role"));
    expect(runtime.find((s) => s.sid === "KeepState")).toEqual({
      sid: "KeepState",
      actions: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      resources: [ref("aws_dynamodb_table", "state-table", "arn").slice(2, -1)],
    });
    expect(runtime.find((s) => s.sid === "WriteAnomalies")!.actions).toEqual(["kinesis:PutRecords"]);
    expect(statements(policyOf("anomaly/role")).find((s) => s.sid === "Alert")).toEqual({
      sid: "Alert",
      actions: ["sns:Publish"],
      resources: [ref("aws_sns_topic", "clickstream/topic", "arn").slice(2, -1)],
    });
    for (const role of ["sql-runtime/role", "anomaly/role", "clickstream/beacon-role", "clickstream/analytics-role"]) {
      for (const s of statements(policyOf(role))) {
        expect(s.actions.every((a) => !a.includes("*")), `${role} ${s.sid}`).toBe(true);
        if (s.sid !== "Tracing") expect(s.resources.every((r) => r !== "*"), `${role} ${s.sid}`).toBe(true);
      }
    }
  });

  it("keeps the runtime's state in an encrypted table with point-in-time recovery, where finished shards' items expire", () => {
    expect(byPath("aws_dynamodb_table", "state-table")).toMatchObject({
      name: STATE_TABLE_NAME,
      hash_key: "application",
      billing_mode: "PAY_PER_REQUEST",
      server_side_encryption: { enabled: true },
      point_in_time_recovery: { enabled: true },
      ttl: { attribute_name: "expiresAt", enabled: true },
    });
  });

  it("decides at synth whether the SQL runtime can split the SQL by shard, and names what keeps other SQL on one writer", () => {
    expect(sqlRuntimePlan(SQL)).toEqual({ mode: "partitioned", shardPumps: ["CLICKPUMP", "IMPRESSIONPUMP"] });
    const rowByRow = `${SQL}\nCREATE OR REPLACE STREAM "RAW" ("A" VARCHAR(32));\nCREATE OR REPLACE PUMP "RAWPUMP" STARTED AS INSERT INTO "RAW" SELECT STREAM "browseraction" FROM "SOURCE_SQL_STREAM_001";`;
    expect(sqlRuntimePlan(rowByRow)).toEqual({ mode: "single-writer", reason: expect.stringMatching(/^pump RAWPUMP \(line \d+\) reads SOURCE_SQL_STREAM_001 row by row/) });
  });

  it("ticks the runtime's clock every minute (off when the legacy application runs)", () => {
    const rule = byPath("aws_cloudwatch_event_rule", "clickstream/tick");
    expect(rule).toMatchObject({ schedule_expression: "rate(1 minute)", state: '${local.environment.features.legacyKinesisAnalytics ? "DISABLED" : "ENABLED"}' });
    expect(byPath("aws_cloudwatch_event_target", "tick-target")).toMatchObject({
      rule: ref("aws_cloudwatch_event_rule", "clickstream/tick", "name"),
      arn: ref("aws_lambda_function", "sql-runtime/function", "arn"),
    });
    expect(byPath("aws_lambda_permission", "tick-permission")).toMatchObject({
      principal: "events.amazonaws.com",
      source_arn: ref("aws_cloudwatch_event_rule", "clickstream/tick", "arn"),
    });
  });

  it("alerts through the SNS topic ClickStreamEvent, to the environment's e-mail and SMS subscribers", () => {
    expect(byPath("aws_sns_topic", "clickstream/topic")).toMatchObject({ name: TOPIC_NAME, kms_master_key_id: "alias/aws/sns" });
    for (const protocol of ["email", "sms"]) {
      expect(byPath("aws_sns_topic_subscription", `${protocol}-alerts`)).toMatchObject({
        for_each: `\${toset(local.environment.alerts.${protocol})}`,
        protocol,
        endpoint: "${each.value}",
        topic_arn: ref("aws_sns_topic", "clickstream/topic", "arn"),
      });
    }
  });

  it("declares the legacy Kinesis Analytics application with the seed SQL, the input schema and CSV output, only when the environment asks", () => {
    const count = "${local.environment.features.legacyKinesisAnalytics ? 1 : 0}";
    const app = only(stack, "aws_kinesis_analytics_application");
    const roleArn = `\${aws_iam_role.${idOf("aws_iam_role", "analytics-role")}[0].arn}`;
    expect(app).toMatchObject({
      count,
      code: SQL,
      start_application: true,
      inputs: {
        name_prefix: "SOURCE_SQL_STREAM",
        kinesis_stream: { resource_arn: ref("aws_kinesis_stream", "input-stream", "arn"), role_arn: roleArn },
        schema: {
          record_columns: application.input.columns.map(({ name, sqlType, mapping }) => ({ name, sql_type: sqlType, mapping })),
          record_format: { mapping_parameters: { json: { record_row_path: "$" } } },
        },
      },
      outputs: [
        { name: "DESTINATION_SQL_STREAM", schema: { record_format_type: "CSV" }, kinesis_stream: { resource_arn: ref("aws_kinesis_stream", "output-stream", "arn"), role_arn: roleArn } },
      ],
    });
    expect(byPath("aws_iam_role", "analytics-role").count).toBe(count);
    expect(stack.locals?.environments).toSatisfy((envs: Record<string, { features: { legacyKinesisAnalytics: boolean } }>) =>
      Object.values(envs).every((e) => e.features.legacyKinesisAnalytics === false),
    );
  });

  it("lets the region's health check ping the streams and the state table", () => {
    const variables = fn("platform-healthcheck").environment.variables;
    expect(variables.CHECK_STREAMS.split(",")).toEqual([ref("aws_kinesis_stream", "input-stream", "name"), ref("aws_kinesis_stream", "output-stream", "name")]);
    expect(variables.CHECK_TABLES.split(",")).toContain(ref("aws_dynamodb_table", "state-table", "name"));
  });

  it("outputs the beacon URL and the generator command for this region, as the post's stack outputs its ExecutionCommand", () => {
    const outputs = stack.output as Record<string, { value: string }>;
    const invokeUrl = ref("aws_api_gateway_stage", "api/stage", "invoke_url");
    expect(outputs.ClickstreamBeaconUrl.value).toBe(`${invokeUrl}/beacon`);
    expect(outputs.ExecutionCommand.value).toBe(`npm run clickstream:generate -- --url ${invokeUrl} --rate ${GENERATOR_RATE}`);
  });
});
