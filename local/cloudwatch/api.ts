// CloudWatch's API behind the edge (signing name `monitoring`), in both wire protocols its clients
// speak: awsJson1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`, query-compatible
// errors), which the AWS SDK for JavaScript sends since it moved CloudWatch off the query
// protocol, and awsQuery (form-encoded `Action=...`, XML answers), which the AWS CLI v2.9 of
// Debian sends. One set of operations over the CloudWatch of the caller's account in the region;
// IAM actions are `cloudwatch:<Operation>` on alarm and dashboard ARNs as the Service
// Authorization Reference names them, `*` for metrics.
import { AwsServiceError } from "../lib/aws-wire";
import { jsonRequestBody } from "../lib/json-protocol";
import { xmlEscape, type AwsProtocol } from "../lib/aws-protocols";
import type { HttpRequest, HttpResponse } from "../lib/http-serve";
import type { EdgeCall, EdgeService, Requirement } from "../edge/types";
import type { Alarm, AlarmStateValue } from "./alarms";
import { metricData, type MetricDataQuery } from "./metric-data";
import { checkStatistic, MetricError, type Dimension } from "./metrics";
import type { CloudWatch } from "./state";

const TARGET_PREFIX = "GraniteServiceVersion20100801.";
const XMLNS = "http://monitoring.amazonaws.com/doc/2010-08-01/";
const JSON_PROTOCOL: AwsProtocol = { kind: "json", version: "1.0" };
const QUERY_PROTOCOL: AwsProtocol = { kind: "query", xmlns: XMLNS };

type Input = Record<string, any>;

interface Operation {
  /** ARNs the call acts on: `*` when absent. */
  resources?(cw: CloudWatch, input: Input): string[];
  run(cw: CloudWatch, input: Input): unknown | Promise<unknown>;
}

const isJson = (request: HttpRequest) => String(request.headers["x-amz-target"] ?? "").startsWith(TARGET_PREFIX);

/** A form's flattened names (`Dimensions.member.1.Name`) as the nested values the JSON protocol sends (strings stay strings). */
function unflatten(form: URLSearchParams): Input {
  const root: Input = {};
  for (const [name, value] of form) {
    if (name === "Action" || name === "Version") continue;
    const path = name.split(".");
    let node: any = root;
    for (let i = 0; i < path.length; i++) {
      let key: string | number = path[i];
      if (path[i + 1] === "member" || path[i + 1] === "entry") {
        // `X.member.N...`: element N-1 of list X.
        node[key] ??= [];
        node = node[key];
        key = Number(path[i + 2]) - 1;
        i += 2;
      }
      if (i === path.length - 1) node[key] = value;
      else node = node[key] ??= {};
    }
  }
  return root;
}

function parse(call: EdgeCall): { name: string; input: Input } {
  const { request } = call;
  if (isJson(request)) {
    const name = String(request.headers["x-amz-target"]).slice(TARGET_PREFIX.length);
    return { name, input: jsonRequestBody(request.body) as Input };
  }
  const form = new URLSearchParams(request.method === "GET" ? request.rawQuery : request.body.toString("utf8"));
  return { name: form.get("Action") ?? "", input: unflatten(form) };
}

// Readers that take either protocol's value (the query protocol sends every scalar as text).
const text = (value: unknown, name: string, required = false): string | undefined => {
  if (value === undefined || value === null || value === "") {
    if (required) throw new AwsServiceError("MissingParameter", `The parameter ${name} is required.`);
    return undefined;
  }
  return String(value);
};
const number = (value: unknown, name: string, required = false): number | undefined => {
  const raw = text(value, name, required);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new AwsServiceError("InvalidParameterValue", `The value ${raw} for parameter ${name} is not a number.`);
  return n;
};
/** JSON sends epoch seconds, the query protocol ISO 8601. */
const time = (value: unknown, name: string): number => {
  const raw = text(value, name, true)!;
  const ms = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new AwsServiceError("InvalidParameterValue", `The value ${raw} for parameter ${name} is not a timestamp.`);
  return ms;
};
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? value.filter((v) => v !== undefined) : []);
const dimensions = (value: unknown): Dimension[] =>
  list<Input>(value).map((d, i) => ({ Name: text(d.Name, `Dimensions.member.${i + 1}.Name`, true)!, Value: text(d.Value, `Dimensions.member.${i + 1}.Value`, true)! }));

function metricQueries(value: unknown): MetricDataQuery[] {
  return list<Input>(value).map((q, i) => ({
    Id: text(q.Id, `MetricDataQueries.member.${i + 1}.Id`, true)!,
    Expression: text(q.Expression, "Expression"),
    Label: text(q.Label, "Label"),
    ReturnData: q.ReturnData === undefined ? undefined : q.ReturnData === true || q.ReturnData === "true",
    Period: number(q.Period, "Period"),
    MetricStat: q.MetricStat
      ? {
          Metric: { Namespace: text(q.MetricStat.Metric?.Namespace, "Namespace", true)!, MetricName: text(q.MetricStat.Metric?.MetricName, "MetricName", true)!, Dimensions: dimensions(q.MetricStat.Metric?.Dimensions) },
          Period: number(q.MetricStat.Period, "Period", true)!,
          Stat: text(q.MetricStat.Stat, "Stat", true)!,
          Unit: text(q.MetricStat.Unit, "Unit"),
        }
      : undefined,
  }));
}

const alarmArn = (cw: CloudWatch, name: string) => `arn:aws:cloudwatch:${cw.region}:${cw.accountId}:alarm:${name}`;

function describeAlarm(alarm: Alarm) {
  const { config, state } = alarm;
  const m = config.metric;
  const percentile = m && /^p\d/.test(m.statistic);
  return {
    AlarmName: config.name,
    AlarmArn: config.arn,
    AlarmDescription: config.description,
    AlarmConfigurationUpdatedTimestamp: new Date(config.updatedAt),
    ActionsEnabled: config.actionsEnabled,
    OKActions: config.okActions,
    AlarmActions: config.alarmActions,
    InsufficientDataActions: config.insufficientDataActions,
    StateValue: state.value,
    StateReason: state.reason,
    StateReasonData: state.reasonData,
    StateUpdatedTimestamp: new Date(state.updatedAt),
    ...(m
      ? {
          MetricName: m.metricName,
          Namespace: m.namespace,
          ...(percentile ? { ExtendedStatistic: m.statistic } : { Statistic: m.statistic }),
          Dimensions: m.dimensions,
          Period: m.period,
          Unit: m.unit,
        }
      : {
          Metrics: config.queries!.map((q) => ({
            Id: q.Id,
            Expression: q.Expression,
            Label: q.Label,
            ReturnData: q.ReturnData !== false,
            Period: q.Period,
            MetricStat: q.MetricStat && { Metric: q.MetricStat.Metric, Period: q.MetricStat.Period, Stat: q.MetricStat.Stat, Unit: q.MetricStat.Unit },
          })),
        }),
    EvaluationPeriods: config.evaluationPeriods,
    DatapointsToAlarm: config.datapointsToAlarm,
    Threshold: config.threshold,
    ComparisonOperator: config.comparisonOperator,
    TreatMissingData: config.treatMissingData,
  };
}

function alarmNamed(cw: CloudWatch, name: string): Alarm {
  const alarm = cw.alarms.get(name);
  if (!alarm) throw new AwsServiceError("ResourceNotFound", `Alarm ${name} does not exist in ${cw.region} of account ${cw.accountId}.`, 404);
  return alarm;
}

const OPERATIONS: Record<string, Operation> = {
  PutMetricData: {
    run: (cw, input) => {
      const namespace = text(input.Namespace, "Namespace", true)!;
      if (namespace.startsWith("AWS/")) throw new AwsServiceError("InvalidParameterValue", `The value ${namespace} for parameter Namespace is invalid: AWS/ is reserved for AWS services.`);
      for (const [i, datum] of list<Input>(input.MetricData).entries()) {
        const id = { Namespace: namespace, MetricName: text(datum.MetricName, `MetricData.member.${i + 1}.MetricName`, true)!, Dimensions: dimensions(datum.Dimensions) };
        const at = datum.Timestamp === undefined ? cw.now() : time(datum.Timestamp, "Timestamp");
        const unit = text(datum.Unit, "Unit");
        if (datum.StatisticValues) {
          const s = datum.StatisticValues;
          const statistics = { SampleCount: number(s.SampleCount, "SampleCount", true)!, Sum: number(s.Sum, "Sum", true)!, Minimum: number(s.Minimum, "Minimum", true)!, Maximum: number(s.Maximum, "Maximum", true)! };
          cw.metrics.put(id, { statistics }, at, unit);
        } else if (datum.Values) {
          const counts = list<unknown>(datum.Counts).map((c) => number(c, "Counts")!);
          list<unknown>(datum.Values).forEach((v, j) => cw.metrics.put(id, { value: number(v, "Values")!, count: counts[j] ?? 1 }, at, unit));
        } else {
          cw.metrics.put(id, { value: number(datum.Value, `MetricData.member.${i + 1}.Value`, true)! }, at, unit);
        }
      }
      return {};
    },
  },
  GetMetricData: {
    run: (cw, input) => {
      const ascending = input.ScanBy === "TimestampAscending";
      const results = metricData(cw.metrics, metricQueries(input.MetricDataQueries), time(input.StartTime, "StartTime"), time(input.EndTime, "EndTime"), ascending);
      return { MetricDataResults: results.map((r) => ({ ...r, Timestamps: r.Timestamps.map((t) => new Date(t)) })), Messages: [] };
    },
  },
  GetMetricStatistics: {
    run: (cw, input) => {
      const id = { Namespace: text(input.Namespace, "Namespace", true)!, MetricName: text(input.MetricName, "MetricName", true)!, Dimensions: dimensions(input.Dimensions) };
      const period = number(input.Period, "Period", true)!;
      const start = time(input.StartTime, "StartTime");
      const end = time(input.EndTime, "EndTime");
      const statistics = list<string>(input.Statistics);
      const extended = list<string>(input.ExtendedStatistics);
      if (statistics.length + extended.length === 0) throw new AwsServiceError("MissingParameter", "Statistics or ExtendedStatistics must be given.");
      const byTime = new Map<number, Input>();
      for (const stat of [...statistics, ...extended]) {
        checkStatistic(stat);
        const { timestamps, values } = cw.metrics.statistic(id, stat, period, start, end);
        timestamps.forEach((t, i) => {
          const point = byTime.get(t) ?? { Timestamp: new Date(t), Unit: "None" };
          if (extended.includes(stat)) (point.ExtendedStatistics ??= {})[stat] = values[i];
          else point[stat] = values[i];
          byTime.set(t, point);
        });
      }
      return { Label: id.MetricName, Datapoints: [...byTime.values()] };
    },
  },
  ListMetrics: {
    run: (cw, input) => ({
      Metrics: cw.metrics.list({
        Namespace: text(input.Namespace, "Namespace"),
        MetricName: text(input.MetricName, "MetricName"),
        Dimensions: list<Input>(input.Dimensions).map((d) => ({ Name: String(d.Name), Value: text(d.Value, "Value") })),
      }),
    }),
  },
  DescribeAlarms: {
    run: (cw, input) => {
      const names = list<string>(input.AlarmNames);
      const prefix = text(input.AlarmNamePrefix, "AlarmNamePrefix");
      const state = text(input.StateValue, "StateValue");
      const max = number(input.MaxRecords, "MaxRecords") ?? 100;
      const alarms = cw.alarms
        .list()
        .filter((a) => (names.length === 0 || names.includes(a.config.name)) && (!prefix || a.config.name.startsWith(prefix)) && (!state || a.state.value === state))
        .slice(0, max);
      return { MetricAlarms: alarms.map(describeAlarm), CompositeAlarms: [] };
    },
  },
  DescribeAlarmHistory: {
    resources: (cw, input) => (input.AlarmName ? [alarmArn(cw, String(input.AlarmName))] : ["*"]),
    run: (cw, input) => {
      const name = text(input.AlarmName, "AlarmName");
      const type = text(input.HistoryItemType, "HistoryItemType");
      const items = cw.alarms.history.filter((h) => (!name || h.alarmName === name) && (!type || h.type === type)).reverse();
      return {
        AlarmHistoryItems: items.map((h) => ({ AlarmName: h.alarmName, AlarmType: "MetricAlarm", Timestamp: new Date(h.timestamp), HistoryItemType: h.type, HistorySummary: h.summary })),
      };
    },
  },
  SetAlarmState: {
    resources: (cw, input) => [alarmArn(cw, text(input.AlarmName, "AlarmName", true)!)],
    run: async (cw, input) => {
      const alarm = alarmNamed(cw, text(input.AlarmName, "AlarmName", true)!);
      const value = text(input.StateValue, "StateValue", true) as AlarmStateValue;
      if (!["OK", "ALARM", "INSUFFICIENT_DATA"].includes(value)) throw new AwsServiceError("InvalidParameterValue", `The value ${value} for parameter StateValue is invalid: OK, ALARM or INSUFFICIENT_DATA.`);
      await cw.alarms.setState(alarm.config.name, value, text(input.StateReason, "StateReason", true)!, text(input.StateReasonData, "StateReasonData"));
      return {};
    },
  },
  GetDashboard: {
    resources: (cw, input) => [`arn:aws:cloudwatch::${cw.accountId}:dashboard/${text(input.DashboardName, "DashboardName", true)}`],
    run: (cw, input) => {
      const dashboard = cw.dashboards.get(String(input.DashboardName));
      if (!dashboard) throw new AwsServiceError("ResourceNotFound", `Dashboard ${input.DashboardName} does not exist`, 404);
      return { DashboardArn: dashboard.arn, DashboardBody: dashboard.body, DashboardName: dashboard.name };
    },
  },
  ListDashboards: {
    run: (cw, input) => ({
      DashboardEntries: [...cw.dashboards.values()]
        .filter((d) => !input.DashboardNamePrefix || d.name.startsWith(String(input.DashboardNamePrefix)))
        .map((d) => ({ DashboardName: d.name, DashboardArn: d.arn, LastModified: new Date(d.updatedAt), Size: Buffer.byteLength(d.body) })),
    }),
  },
};

/** JSON: timestamps as epoch seconds (the replacer sees the Date itself on its holder). */
function toJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    return this[key] instanceof Date ? (this[key] as Date).getTime() / 1000 : v;
  });
}

/** The query protocol's XML: lists as `<member>` elements, timestamps ISO 8601. */
function toXml(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join("");
  if (typeof value === "object") {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => (k === "ExtendedStatistics" ? `<${k}>${Object.entries(v as Input).map(([s, n]) => `<entry><key>${s}</key><value>${n}</value></entry>`).join("")}</${k}>` : `<${k}>${toXml(v)}</${k}>`))
      .join("");
  }
  return xmlEscape(String(value));
}

export function cloudWatchApi(cloudWatchOf: (region: string, accountId: string) => CloudWatch): EdgeService {
  const operation = (name: string) => {
    const found = OPERATIONS[name];
    if (!found) throw new AwsServiceError(`InvalidAction`, `The local CloudWatch does not implement ${name || "(no operation)"}: it emulates ${Object.keys(OPERATIONS).join(", ")}`);
    return found;
  };
  return {
    protocol: JSON_PROTOCOL,
    protocolOf: (request) => (isJson(request) ? JSON_PROTOCOL : QUERY_PROTOCOL),
    requirements(call): Requirement[] {
      const { name, input } = parse(call);
      const cw = cloudWatchOf(call.region, call.caller!.accountId);
      return (operation(name).resources?.(cw, input) ?? ["*"]).map((resource) => ({ action: `cloudwatch:${name}`, resource }));
    },
    async handle(call): Promise<HttpResponse> {
      const { name, input } = parse(call);
      const cw = cloudWatchOf(call.region, call.caller!.accountId);
      let result: unknown;
      try {
        result = await operation(name).run(cw, input);
      } catch (error) {
        if (error instanceof MetricError) throw new AwsServiceError(error.code, error.message);
        throw error;
      }
      if (isJson(call.request)) {
        return { status: 200, headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": call.requestId }, body: toJson(result) };
      }
      return {
        status: 200,
        headers: { "content-type": "text/xml", "x-amzn-requestid": call.requestId },
        body: `<${name}Response xmlns="${XMLNS}"><${name}Result>${toXml(result)}</${name}Result><ResponseMetadata><RequestId>${call.requestId}</RequestId></ResponseMetadata></${name}Response>`,
      };
    },
  };
}
