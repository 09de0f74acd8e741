// What an on-call engineer watches in one region: CloudWatch alarms on the REST API stage, every
// Lambda function, every DynamoDB table and Kinesis stream of the region, and the platform's own
// metrics (Powertools EMF: SAML refusals by reason, clickstream anomalies), all sending their ALARM
// and OK transitions to one alerts topic with the environment's subscriptions, and a dashboard
// showing the same metrics. Thresholds are Terraform values of the workspace's environment.
// The alarms follow the URL shortener post's (4XX / 5XX share of requests, p99 latency) and AWS's
// recommended alarms for Lambda, DynamoDB and Kinesis. Route 53's health check alarms live in
// us-east-1 with the health checks' metrics: HealthCheckAlarms, used by the global-dns stack.
import { Construct } from "constructs";
import { Fn, Op, TerraformIterator, Token, type IResolvable } from "cdktf";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { METRICS } from "../../lambdas/lib/metric-names";
import type { NodejsFunction } from "../nodejs-function";

/** The DynamoDB operations whose SystemErrors count for a table (a metric math alarm takes at most 10 metrics). */
export const TABLE_OPERATIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem", "TransactWriteItems"] as const;

/** The environment's thresholds (Terraform values): config monitoring.*. */
export interface Thresholds {
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  api: { serverErrorRate: number; clientErrorRate: number; p99LatencyMs: number };
  lambda: { errors: number; throttles: number; durationOfTimeout: number; iteratorAgeMs: number };
  dynamodb: { throttledRequests: number; systemErrors: number };
  kinesis: { writeThrottles: number };
  /** refusalsByReason: a map reason -> threshold. */
  saml: { refusals: number; refusalsByReason: IResolvable };
  anomalies: { published: number };
}

export interface MonitoringProps {
  project: string;
  region: string;
  /** The REST API (its name and stage are the metrics' dimensions). */
  api: { name: string; stageName: string };
  /** Who gets the alarms (lists from the environment; may be empty). */
  alerts: { email: string[]; sms: string[] };
  thresholds: Thresholds;
  functions: NodejsFunction[];
  /** Functions fed by a stream's event source mapping: they also get an iterator age alarm. */
  streamConsumers: NodejsFunction[];
  tables: { name: string }[];
  streams: { name: string }[];
  /** Powertools' namespace and the services (function names) publishing the platform's metrics. */
  platformMetrics: { namespace: string; samlService: string; anomalyService: string };
  /** The stage's web ACL, for the dashboard. */
  webAclName?: string;
}

type AlarmSpec = Omit<CloudwatchMetricAlarmConfig, "alarmActions" | "okActions" | "evaluationPeriods" | "datapointsToAlarm" | "period"> & {
  /** Metric math alarms give their queries' periods themselves. */
  period?: number;
};

type MetricRow = (string | Record<string, unknown>)[];

export class Monitoring extends Construct {
  readonly topic: SnsTopic;
  readonly alarms: CloudwatchMetricAlarm[] = [];
  private readonly props: MonitoringProps;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.props = props;
    this.topic = alertsTopic(this, props.project, props.alerts);
    const t = props.thresholds;
    const { name: apiName, stageName } = props.api;
    const stage = { ApiName: apiName, Stage: stageName };

    // The API stage: the share of requests answered 5XX / 4XX (Average of the 0/1 metric), p99 latency.
    this.alarm(`api-5xx`, {
      alarmName: `${apiName}-5xx-rate`,
      alarmDescription: `More than the configured share of ${apiName}/${stageName} requests answered 5XX`,
      namespace: "AWS/ApiGateway",
      metricName: "5XXError",
      dimensions: stage,
      statistic: "Average",
      comparisonOperator: "GreaterThanThreshold",
      threshold: t.api.serverErrorRate,
      treatMissingData: "notBreaching",
    });
    this.alarm(`api-4xx`, {
      alarmName: `${apiName}-4xx-rate`,
      alarmDescription: `A spike of ${apiName}/${stageName} requests answered 4XX (refused by authorizers, validators, throttling or WAF)`,
      namespace: "AWS/ApiGateway",
      metricName: "4XXError",
      dimensions: stage,
      statistic: "Average",
      comparisonOperator: "GreaterThanThreshold",
      threshold: t.api.clientErrorRate,
      treatMissingData: "notBreaching",
    });
    this.alarm(`api-latency`, {
      alarmName: `${apiName}-p99-latency`,
      alarmDescription: `p99 latency of ${apiName}/${stageName} above the configured milliseconds`,
      namespace: "AWS/ApiGateway",
      metricName: "Latency",
      dimensions: stage,
      extendedStatistic: "p99",
      comparisonOperator: "GreaterThanThreshold",
      threshold: t.api.p99LatencyMs,
      treatMissingData: "notBreaching",
    });

    for (const fn of props.functions) {
      const dimensions = { FunctionName: fn.functionName };
      const lambda = (kind: string, spec: Omit<AlarmSpec, "namespace" | "dimensions" | "alarmName">) =>
        this.alarm(`${fn.node.id}-${kind}`.replace(/[^A-Za-z0-9-]/g, "-"), { ...spec, alarmName: `${fn.serviceName}-${kind}`, namespace: "AWS/Lambda", dimensions });
      lambda("errors", {
        alarmDescription: `Invocations of ${fn.functionName} that failed (an error, a timeout, out of memory)`,
        metricName: "Errors",
        statistic: "Sum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: t.lambda.errors,
        treatMissingData: "notBreaching",
      });
      lambda("throttles", {
        alarmDescription: `Invocations of ${fn.functionName} refused for want of concurrency`,
        metricName: "Throttles",
        statistic: "Sum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: t.lambda.throttles,
        treatMissingData: "notBreaching",
      });
      lambda("duration", {
        alarmDescription: `${fn.functionName} runs close to its ${fn.timeoutSeconds} s timeout`,
        metricName: "Duration",
        statistic: "Maximum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: Op.mul(fn.timeoutSeconds * 1000, t.lambda.durationOfTimeout),
        treatMissingData: "notBreaching",
      });
      if (props.streamConsumers.includes(fn)) {
        lambda("iterator-age", {
          alarmDescription: `${fn.functionName} falls behind its stream: the newest record of a batch was older than the configured milliseconds`,
          metricName: "IteratorAge",
          statistic: "Maximum",
          comparisonOperator: "GreaterThanThreshold",
          threshold: t.lambda.iteratorAgeMs,
          treatMissingData: "notBreaching",
        });
      }
    }

    // Table and stream names may be references: the alarms' construct ids count them.
    for (const [id, table] of props.tables.entries()) {
      // Throttle events and system errors are reported per table, and per table and operation:
      // metric math adds them up for the table.
      this.alarm(`table-${id}-throttles`, {
        alarmName: `${table.name}-throttles`,
        alarmDescription: `Reads and writes of ${table.name} that DynamoDB throttled`,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: t.dynamodb.throttledRequests,
        treatMissingData: "notBreaching",
        metricQuery: sumOf(
          ["ReadThrottleEvents", "WriteThrottleEvents"].map((metricName) => ({ namespace: "AWS/DynamoDB", metricName, dimensions: { TableName: table.name } })),
          t.periodSeconds,
          `${table.name} throttled requests`,
        ),
      });
      this.alarm(`table-${id}-system-errors`, {
        alarmName: `${table.name}-system-errors`,
        alarmDescription: `Requests to ${table.name} that failed inside DynamoDB (HTTP 500)`,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: t.dynamodb.systemErrors,
        treatMissingData: "notBreaching",
        metricQuery: sumOf(
          TABLE_OPERATIONS.map((operation) => ({ namespace: "AWS/DynamoDB", metricName: "SystemErrors", dimensions: { TableName: table.name, Operation: operation } })),
          t.periodSeconds,
          `${table.name} system errors`,
        ),
      });
    }

    for (const [id, stream] of props.streams.entries()) {
      this.alarm(`stream-${id}-write-throttles`, {
        alarmName: `${stream.name}-write-throttles`,
        alarmDescription: `Records refused by ${stream.name} for exceeding its shards' write throughput`,
        namespace: "AWS/Kinesis",
        metricName: "WriteProvisionedThroughputExceeded",
        dimensions: { StreamName: stream.name },
        statistic: "Sum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: t.kinesis.writeThrottles,
        treatMissingData: "notBreaching",
      });
    }

    const { namespace, samlService, anomalyService } = props.platformMetrics;
    // The platform's events: alarms on their count in a period.
    const events = (id: string, spec: Pick<AlarmSpec, "forEach" | "alarmName" | "alarmDescription" | "metricName" | "dimensions" | "threshold">) =>
      this.alarm(id, { ...spec, namespace, statistic: "Sum", comparisonOperator: "GreaterThanOrEqualToThreshold", treatMissingData: "notBreaching" });
    events("saml-refusals", {
      alarmName: `${props.project}-saml-refusals`,
      alarmDescription: "SAML logins refused, any reason (a broken IdP configuration, an attack)",
      metricName: METRICS.samlLoginRefused,
      dimensions: { service: samlService },
      threshold: t.saml.refusals,
    });
    const reasons = TerraformIterator.fromMap(t.saml.refusalsByReason);
    events("saml-refusals-by-reason", {
      forEach: reasons,
      alarmName: `${props.project}-saml-refusals-${reasons.key}`,
      alarmDescription: `SAML logins refused because of ${reasons.key}`,
      metricName: METRICS.samlLoginRefused,
      dimensions: { service: samlService, reason: reasons.key },
      threshold: Token.asNumber(reasons.value),
    });
    events("anomalies", {
      alarmName: `${props.project}-clickstream-anomalies`,
      alarmDescription: "Anomalous click-through rates published to the ClickStreamEvent topic",
      metricName: METRICS.anomaliesPublished,
      dimensions: { service: anomalyService },
      threshold: t.anomalies.published,
    });

    this.dashboard();
  }

  private alarm(id: string, spec: AlarmSpec): CloudwatchMetricAlarm {
    const t = this.props.thresholds;
    const alarm = new CloudwatchMetricAlarm(this, id, {
      period: spec.metricQuery ? undefined : t.periodSeconds,
      evaluationPeriods: t.evaluationPeriods,
      datapointsToAlarm: t.datapointsToAlarm,
      ...spec,
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
    });
    this.alarms.push(alarm);
    return alarm;
  }

  /** One dashboard of the region: the stage, the functions, the tables and streams, WAF, the platform's metrics, the alarms. */
  private dashboard(): void {
    const { props } = this;
    const region = props.region;
    const period = props.thresholds.periodSeconds;
    const stage = ["ApiName", props.api.name, "Stage", props.api.stageName];
    const widget = (title: string, metrics: MetricRow[], stat: string, y: number, x = 0): Record<string, unknown> => ({
      type: "metric",
      x,
      y,
      width: 12,
      height: 6,
      properties: { title, region, view: "timeSeries", stat, period, metrics },
    });
    const perFunction = (metricName: string) => props.functions.map((fn): MetricRow => ["AWS/Lambda", metricName, "FunctionName", fn.functionName]);
    const widgets = [
      widget("API requests and errors", [["AWS/ApiGateway", "Count", ...stage], ["AWS/ApiGateway", "4XXError", ...stage], ["AWS/ApiGateway", "5XXError", ...stage]], "Sum", 0),
      widget("API latency (p99)", [["AWS/ApiGateway", "Latency", ...stage], ["AWS/ApiGateway", "IntegrationLatency", ...stage]], "p99", 0, 12),
      widget("Lambda errors", perFunction("Errors"), "Sum", 6),
      widget("Lambda throttles", perFunction("Throttles"), "Sum", 6, 12),
      widget("Lambda duration (max)", perFunction("Duration"), "Maximum", 12),
      widget(
        "Stream consumers' iterator age (max)",
        props.streamConsumers.map((fn): MetricRow => ["AWS/Lambda", "IteratorAge", "FunctionName", fn.functionName]),
        "Maximum",
        12,
        12,
      ),
      widget(
        "DynamoDB throttle events",
        props.tables.flatMap((table): MetricRow[] => [
          ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", table.name],
          ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", table.name],
        ]),
        "Sum",
        18,
      ),
      widget(
        "Kinesis write throttles",
        props.streams.map((stream): MetricRow => ["AWS/Kinesis", "WriteProvisionedThroughputExceeded", "StreamName", stream.name]),
        "Sum",
        18,
        12,
      ),
      widget(
        "SAML refusals and clickstream anomalies",
        [
          [props.platformMetrics.namespace, METRICS.samlLoginRefused, "service", props.platformMetrics.samlService],
          [props.platformMetrics.namespace, METRICS.anomaliesPublished, "service", props.platformMetrics.anomalyService],
        ],
        "Sum",
        24,
      ),
      ...(props.webAclName
        ? [
            widget(
              "WAF allowed and blocked requests",
              ["AllowedRequests", "BlockedRequests"].map((metricName): MetricRow => ["AWS/WAFV2", metricName, "WebACL", props.webAclName!, "Region", region, "Rule", "ALL"]),
              "Sum",
              24,
              12,
            ),
          ]
        : []),
      { type: "alarm", x: 0, y: 30, width: 24, height: 8, properties: { title: "Alarms", alarms: this.alarms.filter((a) => !a.forEach).map((a) => a.arn) } },
    ];
    new CloudwatchDashboard(this, "dashboard", { dashboardName: `${props.project}-${region}`, dashboardBody: Fn.jsonencode({ widgets }) });
  }
}

/** A metric math query summing `metrics` (each a Sum over `period`) into one series. */
function sumOf(metrics: { namespace: string; metricName: string; dimensions: Record<string, string> }[], period: number, label: string) {
  return [
    ...metrics.map((metric, i) => ({ id: `m${i}`, metric: { ...metric, period, stat: "Sum" }, returnData: false })),
    { id: "total", expression: "SUM(METRICS())", label, returnData: true },
  ];
}

/**
 * The alerts topic and its subscriptions. Not encrypted: CloudWatch cannot publish to a topic
 * encrypted with the AWS managed key (alias/aws/sns), and alarm notifications carry no secrets.
 * Its policy lets this account's alarms (the CloudWatch service, on their behalf) publish.
 */
function alertsTopic(scope: Construct, project: string, alerts: { email: string[]; sms: string[] }): SnsTopic {
  const topic = new SnsTopic(scope, "alerts", { name: `${project}-alerts` });
  new SnsTopicPolicy(scope, "alerts-policy", {
    arn: topic.arn,
    policy: Token.asString(
      Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AlarmsOfThisAccount",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Resource: topic.arn,
            Condition: { StringEquals: { "aws:SourceAccount": topic.owner }, ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:*:${topic.owner}:alarm:*` } },
          },
          {
            Sid: "OwnerManagesTheTopic",
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${topic.owner}:root` },
            Action: ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListSubscriptionsByTopic"],
            Resource: topic.arn,
          },
        ],
      }),
    ),
  });
  for (const protocol of ["email", "sms"] as const) {
    const endpoints = TerraformIterator.fromList(alerts[protocol]);
    new SnsTopicSubscription(scope, `alerts-${protocol}`, { forEach: endpoints, topicArn: topic.arn, protocol, endpoint: Token.asString(endpoints.value) });
  }
  return topic;
}

export interface HealthCheckAlarmsProps {
  project: string;
  /** Route 53 health check ids by the region they check. */
  healthChecks: Record<string, string>;
  /** The alerts topic (of the us-east-1 regional stack: alarms can only notify a topic of their own region). */
  topicArn: string;
  thresholds: Pick<Thresholds, "periodSeconds" | "evaluationPeriods" | "datapointsToAlarm">;
}

/**
 * An alarm per Route 53 health check. Route 53 publishes HealthCheckStatus (1 healthy, 0 not) in
 * us-east-1 only, so these alarms are created there, by the global-dns stack. It publishes it
 * every minute, so missing data only precedes the first checks of a new health check: missing, not
 * breaching, or every new health check would raise an alarm.
 */
export class HealthCheckAlarms extends Construct {
  readonly alarms: CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: HealthCheckAlarmsProps) {
    super(scope, id);
    const t = props.thresholds;
    this.alarms = Object.entries(props.healthChecks).map(
      ([region, healthCheckId]) =>
        new CloudwatchMetricAlarm(this, `health-${region}`, {
          alarmName: `${props.project}-health-${region}`,
          alarmDescription: `Route 53's health check of ${region} fails: the latency records answer with the other regions`,
          namespace: "AWS/Route53",
          metricName: "HealthCheckStatus",
          dimensions: { HealthCheckId: healthCheckId },
          statistic: "Minimum",
          comparisonOperator: "LessThanThreshold",
          threshold: 1,
          period: t.periodSeconds,
          evaluationPeriods: t.evaluationPeriods,
          datapointsToAlarm: t.datapointsToAlarm,
          treatMissingData: "missing",
          alarmActions: [props.topicArn],
          okActions: [props.topicArn],
        }),
    );
  }
}
