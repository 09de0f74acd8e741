// Clickstream anomaly detection (post "Real-time Clickstream Anomaly Detection with
// Amazon Kinesis Analytics"): GET /beacon puts {"browseraction","site"} records on the input
// stream; the SQL runtime Lambda runs sql/clickstream.sql on them (Kinesis Data Analytics for
// SQL takes no new applications since 2025-10-15) and writes anomalous CTR windows as CSV to the
// output stream; the anomaly Lambda publishes them to the SNS topic ClickStreamEvent. The legacy
// Kinesis Analytics application running the same SQL exists only where the environment's
// features.legacyKinesisAnalytics is on, and then the SQL runtime stands down.
//
// The input stream has the environment's shards (or is on-demand); the SQL runtime counts each
// shard's beacons in parallel when the SQL allows it (every pump reading the input is a GROUP BY
// over a tumbling window), which is decided here, at synth, and said: other SQL runs on one
// writer, and synth warns so.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Construct } from "constructs";
import { Annotations, Fn, TerraformIterator, Token, type IResolvable } from "cdktf";
import { ApiGatewayRequestValidator } from "@cdktf/provider-aws/lib/api-gateway-request-validator";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KinesisAnalyticsApplication } from "@cdktf/provider-aws/lib/kinesis-analytics-application";
import { KinesisStream } from "@cdktf/provider-aws/lib/kinesis-stream";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import application from "../../sql/clickstream.application.json";
import { compile, type PartitionPlan } from "../../lambdas/lib/streaming-sql";
import type { HealthDependencies } from "../health";
import { policyDocument, serviceTrustPolicy, type PolicyStatement } from "../iam/policy";
import { NodejsFunction } from "../nodejs-function";
import { REPO_ROOT } from "../nodejs-function/bundle";
import type { RestApi } from "../rest-api";

export const STREAM_NAMES = { input: "CSEKinesisBeaconInputStream", output: "CSEKinesisBeaconOutputStream" } as const;
export const STATE_TABLE_NAME = "ClickstreamSqlState";
export const TOPIC_NAME = "ClickStreamEvent";
export const BEACON_ROUTE = { httpMethod: "GET", path: "/beacon" } as const;
/**
 * The SQL runtime's event source mapping, chosen for throughput. A shard takes at most 1,000
 * records/s, which one batch at a time per shard counts in a few ms of Lambda time (see
 * `npm run bench:clickstream-scale`), so a parallelization factor above 1 would buy nothing and
 * would break the per-shard order the runtime's exactly-once counting relies on (the last
 * sequence number counted per shard). A 1 s batching window makes the batches of a busy shard
 * about a second of its records: one state write per shard per second, a window (10 s) closing
 * about a second after its end. The batch size lets a shard catch up after a pause with batches
 * of 5 s of its full rate, at about 700 bytes per record in the event, within Lambda's 6 MB.
 */
export const RUNTIME_SOURCE_SETTINGS = { batchSize: 5000, maximumBatchingWindowInSeconds: 1, parallelizationFactor: 1 } as const;
/** Hours the input stream keeps records: also how long the runtime keeps a finished shard's item. */
export const INPUT_RETENTION_HOURS = 24;
/** How often the SQL runtime's clock is moved on, so that windows close when traffic stops. */
export const TICK_SCHEDULE = "rate(1 minute)";
export const SQL_PATH = "sql/clickstream.sql";
/**
 * The generator's pace against AWS: 5 beacons/s is about 50 per 10-second window, the pacing
 * that finds the injected anomaly with the fewest false alerts (npm run bench:detection-quality).
 */
export const GENERATOR_RATE = 5;

/**
 * The seed's body mapping template, with the stream named by its Terraform reference. Velocity
 * reads "" inside a double-quoted string as one quote, so Data is the base64 of
 * { "browseraction" : "<query parameter>", "site" : "<Host header>" }. The seed's partition key
 * was the Host header, the same for every beacon: Kinesis puts a record on the shard whose hash
 * key range holds the MD5 of its partition key, so every beacon went to one shard and no shard
 * count could help. The request id spreads beacons evenly over the shards.
 */
export function beaconTemplate(streamName: string): string {
  return `#set($inputRoot = $input.path('$'))
{
  "Data": "$util.base64Encode("{ ""browseraction"" : ""$input.params('browseraction')"", ""site"" : ""$input.params('Host')"" }")",
  "PartitionKey" : "$context.requestId",
  "StreamName" : "${streamName}"
}`;
}

export interface ClickstreamProps {
  api: RestApi;
  project: string;
  region: string;
  logRetentionDays: number;
  /** Who gets the anomaly alerts (lists from the environment; may be empty). */
  alerts: { email: string[]; sms: string[] };
  /** Run the SQL on Kinesis Data Analytics for SQL instead of the SQL runtime Lambda. */
  legacyKinesisAnalytics: boolean | IResolvable;
  /** The input stream's capacity mode (PROVISIONED or ON_DEMAND) and, when provisioned, its shards (null otherwise). */
  inputStream: { mode: string; shards: number };
}

/** How the SQL runtime can run `sql`: split by shard, or on one writer (with the reason). */
export function sqlRuntimePlan(sql: string): PartitionPlan {
  return compile(sql, { inputs: [application.input] }).partitionPlan;
}

export class Clickstream extends Construct {
  readonly inputStream: KinesisStream;
  readonly outputStream: KinesisStream;
  readonly stateTable: DynamodbTable;
  readonly topic: SnsTopic;
  readonly sqlRuntime: NodejsFunction;
  readonly anomalyFunction: NodejsFunction;
  /** What the region's health check should ping for this capability. */
  readonly dependencies: HealthDependencies;
  /** GET /beacon of this region's API, as browsers (and the generator) call it. */
  readonly beaconUrl: string;
  /** The command that sends the seed's traffic to this region (the post's ExecutionCommand output). */
  readonly executionCommand: string;

  constructor(scope: Construct, id: string, props: ClickstreamProps) {
    super(scope, id);
    const { project, region } = props;
    const common = { region, logRetentionDays: props.logRetentionDays };
    const legacy = props.legacyKinesisAnalytics;

    const stream = (streamId: string, name: string, capacity: { mode: string; shards: number }) =>
      new KinesisStream(this, streamId, {
        name,
        shardCount: capacity.shards,
        retentionPeriod: INPUT_RETENTION_HOURS,
        streamModeDetails: { streamMode: capacity.mode },
        encryptionType: "KMS",
        kmsKeyId: "alias/aws/kinesis",
      });
    this.inputStream = stream("input-stream", STREAM_NAMES.input, props.inputStream);
    // One shard: it carries only the anomalous windows' rows.
    this.outputStream = stream("output-stream", STREAM_NAMES.output, { mode: "PROVISIONED", shards: 1 });
    const sql = readFileSync(join(REPO_ROOT, SQL_PATH), "utf8");
    const plan = sqlRuntimePlan(sql);
    if (plan.mode === "single-writer") {
      Annotations.of(this).addWarning(`${SQL_PATH} cannot be split by shard, so the SQL runtime runs it on one writer whose one state item every shard's batches contend for: ${plan.reason}`);
    }

    this.stateTable = new DynamodbTable(this, "state-table", {
      name: STATE_TABLE_NAME,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "application",
      attribute: [{ name: "application", type: "S" }],
      // The items of shards that were resharded away expire once no record of theirs can come again.
      ttl: { attributeName: "expiresAt", enabled: true },
      serverSideEncryption: { enabled: true },
      pointInTimeRecovery: { enabled: true },
    });

    this.topic = new SnsTopic(this, "topic", { name: TOPIC_NAME, kmsMasterKeyId: "alias/aws/sns" });
    for (const protocol of ["email", "sms"] as const) {
      const endpoints = TerraformIterator.fromList(props.alerts[protocol]);
      new SnsTopicSubscription(this, `${protocol}-alerts`, {
        forEach: endpoints,
        topicArn: this.topic.arn,
        protocol,
        endpoint: Token.asString(endpoints.value),
      });
    }

    this.beaconRoute(props);
    this.beaconUrl = `${props.api.invokeUrl}${BEACON_ROUTE.path}`;
    this.executionCommand = `npm run clickstream:generate -- --url ${props.api.invokeUrl} --rate ${GENERATOR_RATE}`;

    this.sqlRuntime = new NodejsFunction(this, "sql-runtime", {
      ...common,
      functionName: `${project}-clickstream-sql-runtime`,
      description: `Runs ${SQL_PATH} on the beacon stream (in place of Kinesis Data Analytics for SQL), ${plan.mode === "partitioned" ? "counting each shard in parallel" : "as a single writer"}; anomalies go to the output stream as CSV`,
      entry: "lambdas/clickstream-sql-runtime/index.ts",
      memorySizeMb: 1024,
      timeoutSeconds: 60,
      environment: {
        INPUT_STREAM_NAME: this.inputStream.name,
        OUTPUT_STREAM_NAME: this.outputStream.name,
        STATE_TABLE_NAME: this.stateTable.name,
        SQL_RUNTIME_MODE: plan.mode,
        APPLICATION_NAME: "clickstream",
        CLOCK_GRACE_SECONDS: "5",
        INPUT_RETENTION_HOURS: String(INPUT_RETENTION_HOURS),
      },
      policyStatements: [
        // The event source mapping's reads, and the runtime's own: it lists the shards and reads a closed shard's end.
        readStream("ReadBeacons", this.inputStream.arn),
        { sid: "WriteAnomalies", actions: ["kinesis:PutRecords"], resources: [this.outputStream.arn] },
        { sid: "KeepState", actions: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], resources: [this.stateTable.arn] },
      ],
    });
    this.consume("sql-runtime-source", this.sqlRuntime, this.inputStream, { ...RUNTIME_SOURCE_SETTINGS, enabled: Fn.conditional(legacy, false, true) });
    const tick = new CloudwatchEventRule(this, "tick", {
      name: `${project}-clickstream-tick`,
      description: "Moves the clickstream SQL runtime's clock on, so that its windows close when traffic stops",
      scheduleExpression: TICK_SCHEDULE,
      state: Token.asString(Fn.conditional(legacy, "DISABLED", "ENABLED")),
    });
    new CloudwatchEventTarget(this, "tick-target", { rule: tick.name, arn: this.sqlRuntime.arn });
    new LambdaPermission(this, "tick-permission", {
      functionName: this.sqlRuntime.functionName,
      action: "lambda:InvokeFunction",
      principal: "events.amazonaws.com",
      sourceArn: tick.arn,
    });

    this.anomalyFunction = new NodejsFunction(this, "anomaly", {
      ...common,
      functionName: `${project}-clickstream-anomaly`,
      description: `Publishes anomalous click-through rates from ${STREAM_NAMES.output} to the SNS topic ${TOPIC_NAME}`,
      entry: "lambdas/clickstream-anomaly/index.ts",
      memorySizeMb: 256,
      timeoutSeconds: 10,
      environment: { TOPIC_ARN: this.topic.arn },
      policyStatements: [
        readStream("ReadAnomalies", this.outputStream.arn),
        { sid: "Alert", actions: ["sns:Publish"], resources: [this.topic.arn] },
      ],
    });
    // Batch size 1, as in the seed: one invocation, and one alert, per anomalous window.
    this.consume("anomaly-source", this.anomalyFunction, this.outputStream, { batchSize: 1 });

    this.legacyApplication(props, sql);

    this.dependencies = {
      tables: [{ name: this.stateTable.name, arn: this.stateTable.arn }],
      streams: [this.inputStream, this.outputStream].map((s) => ({ name: s.name, arn: s.arn })),
    };
  }

  /** GET /beacon?browseraction=...: API Gateway puts the beacon on the input stream itself (seed template). */
  private beaconRoute(props: ClickstreamProps): void {
    const { api, project, region } = props;
    const role = new IamRole(this, "beacon-role", {
      name: `${project}-clickstream-beacon-${region}`,
      description: `API Gateway's role for GET /beacon: PutRecord on ${STREAM_NAMES.input}, nothing else`,
      assumeRolePolicy: serviceTrustPolicy("apigateway.amazonaws.com"),
    });
    new IamRolePolicy(this, "beacon-role-policy", {
      name: "put-beacons",
      role: role.id,
      policy: policyDocument([{ sid: "PutBeacons", actions: ["kinesis:PutRecord"], resources: [this.inputStream.arn] }]),
    });
    const validator = new ApiGatewayRequestValidator(this, "beacon-validator", {
      restApiId: api.id,
      name: "clickstream-beacon-parameters",
      validateRequestParameters: true,
      validateRequestBody: false,
    });
    api.serve(validator);
    api.addMethod({
      ...BEACON_ROUTE,
      requestParameters: { "method.request.querystring.browseraction": true },
      requestValidatorId: validator.id,
      integration: {
        type: "AWS",
        integrationHttpMethod: "POST",
        uri: `arn:aws:apigateway:${region}:kinesis:action/PutRecord`,
        credentials: role.arn,
        requestParameters: { "integration.request.header.Content-Type": "'application/x-amz-json-1.1'" },
        requestTemplates: { "application/json": beaconTemplate(this.inputStream.name) },
        passthroughBehavior: "WHEN_NO_TEMPLATES",
        responses: [
          { statusCode: "200" },
          { statusCode: "400", selectionPattern: "4\\d{2}", responseTemplates: { "application/json": '{"message": "the beacon was refused"}' } },
          { statusCode: "500", selectionPattern: "5\\d{2}", responseTemplates: { "application/json": '{"message": "the beacon could not be recorded"}' } },
        ],
      },
    });
  }

  private consume(
    id: string,
    fn: NodejsFunction,
    stream: KinesisStream,
    settings: { batchSize: number; maximumBatchingWindowInSeconds?: number; parallelizationFactor?: number; enabled?: IResolvable },
  ): void {
    new LambdaEventSourceMapping(this, id, {
      functionName: fn.arn,
      eventSourceArn: stream.arn,
      startingPosition: "LATEST",
      ...settings,
      // Lambda checks the role's stream permissions when the mapping is created, so the role's
      // policy must exist first (NodejsFunction does not expose it: found by its construct id).
      dependsOn: [fn.function, fn.node.findChild("policy") as IamRolePolicy],
    });
  }

  /** The seed's Kinesis Analytics application, for accounts that still have the service (count 0 or 1). */
  private legacyApplication(props: ClickstreamProps, sql: string): void {
    const { project, region } = props;
    const count = Token.asNumber(Fn.conditional(props.legacyKinesisAnalytics, 1, 0));
    const role = new IamRole(this, "analytics-role", {
      count,
      name: `${project}-clickstream-analytics-${region}`,
      description: "Kinesis Data Analytics (legacy): reads the beacon stream, writes the anomaly stream",
      assumeRolePolicy: serviceTrustPolicy("kinesisanalytics.amazonaws.com"),
    });
    // Resources with a count are lists: the application and the policy exist exactly when the role does.
    const roleArn = Token.asString(`\${${role.fqn}[0].arn}`);
    new IamRolePolicy(this, "analytics-role-policy", {
      count,
      name: "read-beacons-write-anomalies",
      role: Token.asString(`\${${role.fqn}[0].id}`),
      policy: policyDocument([
        readStream("ReadBeacons", this.inputStream.arn),
        { sid: "WriteAnomalies", actions: ["kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"], resources: [this.outputStream.arn] },
      ]),
    });
    const { input, output } = application;
    new KinesisAnalyticsApplication(this, "analytics-application", {
      count,
      name: `${project}-clickstream-anomaly-detection`,
      description: "Legacy Kinesis Data Analytics for SQL application running the seed SQL",
      code: sql,
      startApplication: true,
      inputs: {
        // Kinesis Analytics numbers the in-application stream itself: SOURCE_SQL_STREAM -> SOURCE_SQL_STREAM_001.
        namePrefix: input.name.replace(/_\d{3}$/, ""),
        kinesisStream: { resourceArn: this.inputStream.arn, roleArn },
        parallelism: { count: 1 },
        schema: {
          recordEncoding: "UTF-8",
          recordColumns: input.columns.map((c) => ({ name: c.name, sqlType: c.sqlType, mapping: c.mapping })),
          recordFormat: { mappingParameters: { json: { recordRowPath: input.recordRowPath } } },
        },
        startingPositionConfiguration: [{ startingPosition: "NOW" }],
      },
      outputs: [
        {
          name: output.name,
          schema: { recordFormatType: output.recordFormat },
          kinesisStream: { resourceArn: this.outputStream.arn, roleArn },
        },
      ],
    });
  }
}

/** What a consumer of a stream needs (an event source mapping, or Kinesis Analytics). */
function readStream(sid: string, streamArn: string): PolicyStatement {
  return {
    sid,
    actions: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
    resources: [streamArn],
  };
}
