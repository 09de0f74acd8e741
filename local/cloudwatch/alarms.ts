// CloudWatch metric alarms of one account in one region, evaluated on the local clock as
// CloudWatch evaluates them ("Using Amazon CloudWatch alarms", "Configuring how CloudWatch alarms
// treat missing data"):
// - every EVALUATION_INTERVAL_MS the alarm looks at its last `evaluationPeriods` complete periods;
// - it goes to ALARM when at least `datapointsToAlarm` of them breach the threshold; otherwise to
//   OK when any period has data (or missing data is filled as breaching / not breaching); when
//   none has, to INSUFFICIENT_DATA (`missing`) or it stays as it is (`ignore`). Alarms on the
//   AWS/DynamoDB namespace always ignore missing data, as CloudWatch documents;
// - a new alarm starts in INSUFFICIENT_DATA; every change of state runs the actions of the new
//   state (ALARM, OK, INSUFFICIENT_DATA) with CloudWatch's notification message.
import type { Clock, Scheduled } from "../lib/clock";
import { metricData, type MetricDataQuery } from "./metric-data";
import type { Dimension, MetricStore } from "./metrics";

export type AlarmStateValue = "OK" | "ALARM" | "INSUFFICIENT_DATA";
export type TreatMissingData = "missing" | "ignore" | "breaching" | "notBreaching";
export const COMPARISONS = {
  GreaterThanOrEqualToThreshold: { test: (v: number, t: number) => v >= t, words: "greater than or equal to" },
  GreaterThanThreshold: { test: (v: number, t: number) => v > t, words: "greater than" },
  LessThanThreshold: { test: (v: number, t: number) => v < t, words: "less than" },
  LessThanOrEqualToThreshold: { test: (v: number, t: number) => v <= t, words: "less than or equal to" },
} as const;
export type ComparisonOperator = keyof typeof COMPARISONS;

/** How often alarms are evaluated, in local time (CloudWatch evaluates about every minute; shorter periods need more). */
export const EVALUATION_INTERVAL_MS = 5_000;

export interface AlarmConfig {
  name: string;
  arn: string;
  accountId: string;
  region: string;
  description?: string;
  /** A single metric, or `queries` (metric math). */
  metric?: { namespace: string; metricName: string; dimensions: Dimension[]; statistic: string; period: number; unit?: string };
  queries?: MetricDataQuery[];
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparisonOperator: ComparisonOperator;
  treatMissingData: TreatMissingData;
  actionsEnabled: boolean;
  alarmActions: string[];
  okActions: string[];
  insufficientDataActions: string[];
  /** When the alarm was configured (local epoch ms). */
  updatedAt: number;
}

export interface AlarmState {
  value: AlarmStateValue;
  reason: string;
  reasonData?: string;
  updatedAt: number;
}

export interface HistoryItem {
  alarmName: string;
  timestamp: number;
  type: "StateUpdate" | "Action";
  summary: string;
}

export interface Alarm {
  config: AlarmConfig;
  state: AlarmState;
  /** The last complete period evaluated: an alarm is evaluated again when a new one completes. */
  evaluatedThrough?: number;
}

/** Sends a notification to an action's target (an SNS topic); resolves with why it failed, if it did. */
export type Notify = (topicArn: string, subject: string, message: string, alarm: AlarmConfig) => Promise<string | undefined>;

export interface AlarmsOptions {
  clock: Clock;
  metrics: MetricStore;
  notify: Notify;
  log(line: string): void;
}

const HISTORY_KEPT = 1000;

export class Alarms {
  private readonly alarms = new Map<string, Alarm>();
  readonly history: HistoryItem[] = [];
  private timer?: Scheduled;

  constructor(private readonly options: AlarmsOptions) {}

  put(config: AlarmConfig): Alarm {
    const alarm: Alarm = { config, state: { value: "INSUFFICIENT_DATA", reason: "Unchecked: Initial alarm creation", updatedAt: config.updatedAt } };
    this.alarms.set(config.name, alarm);
    this.start();
    return alarm;
  }

  get(name: string): Alarm | undefined {
    return this.alarms.get(name);
  }

  list(): Alarm[] {
    return [...this.alarms.values()].sort((a, b) => a.config.name.localeCompare(b.config.name));
  }

  /** SetAlarmState: the state until the next evaluation says otherwise; the new state's actions run. */
  async setState(name: string, value: AlarmStateValue, reason: string, reasonData?: string): Promise<void> {
    const alarm = this.alarms.get(name);
    if (!alarm) throw new Error(`no alarm ${name}`);
    await this.transition(alarm, { value, reason, reasonData, updatedAt: this.options.clock.now() });
  }

  /** Evaluates every alarm whose next period has completed; resolves when their actions have run. */
  async evaluate(): Promise<void> {
    const now = this.options.clock.now();
    await Promise.all(
      [...this.alarms.values()].map(async (alarm) => {
        const periodMs = periodOf(alarm.config) * 1000;
        const through = Math.floor(now / periodMs) * periodMs;
        if (alarm.evaluatedThrough === through) return;
        alarm.evaluatedThrough = through;
        const next = evaluateAlarm(alarm, this.options.metrics, through, now);
        if (next && next.value !== alarm.state.value) await this.transition(alarm, next);
      }),
    );
  }

  start(): void {
    // A manual clock that jumps over several intervals evaluates once, at the end: each
    // evaluation looks at the last periods anyway.
    this.timer ??= this.options.clock.every(
      EVALUATION_INTERVAL_MS,
      () => this.evaluate().catch((error) => this.options.log(`cloudwatch: alarm evaluation failed: ${(error as Error).stack ?? error}`)),
      { catchUp: "once" },
    );
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private record(item: Omit<HistoryItem, "timestamp">) {
    this.history.push({ ...item, timestamp: this.options.clock.now() });
    if (this.history.length > HISTORY_KEPT) this.history.splice(0, this.history.length - HISTORY_KEPT);
  }

  private async transition(alarm: Alarm, next: AlarmState): Promise<void> {
    const previous = alarm.state;
    alarm.state = next;
    const { config } = alarm;
    this.record({ alarmName: config.name, type: "StateUpdate", summary: `Alarm updated from ${previous.value} to ${next.value}` });
    this.options.log(`cloudwatch: ${config.region} alarm ${config.name}: ${previous.value} -> ${next.value}: ${next.reason}`);
    if (!config.actionsEnabled) return;
    const actions = next.value === "ALARM" ? config.alarmActions : next.value === "OK" ? config.okActions : config.insufficientDataActions;
    const { subject, message } = notification(config, previous, next);
    for (const action of actions) {
      const failure = await this.options.notify(action, subject, message, config);
      this.record({
        alarmName: config.name,
        type: "Action",
        summary: failure ? `Failed to execute action ${action}. Received error: "${failure}"` : `Successfully executed action ${action}`,
      });
      if (failure) this.options.log(`cloudwatch: alarm ${config.name}: action ${action} failed: ${failure}`);
    }
  }
}

function periodOf(config: AlarmConfig): number {
  if (config.metric) return config.metric.period;
  const returned = config.queries!.find((q) => q.ReturnData !== false)!;
  return returned.Period ?? config.queries!.find((q) => q.MetricStat)!.MetricStat!.Period;
}

/** The alarm's queries: its metric as one MetricStat, or its metric math queries. */
export function alarmQueries(config: AlarmConfig): MetricDataQuery[] {
  if (config.queries) return config.queries;
  const m = config.metric!;
  return [
    {
      Id: "m",
      MetricStat: { Metric: { Namespace: m.namespace, MetricName: m.metricName, Dimensions: m.dimensions }, Period: m.period, Stat: m.statistic, Unit: m.unit },
    },
  ];
}

/** The state the last `evaluationPeriods` periods ending at `through` call for; undefined to keep the current one. */
export function evaluateAlarm(alarm: Alarm, metrics: MetricStore, through: number, now: number): AlarmState | undefined {
  const { config } = alarm;
  const periodMs = periodOf(config) * 1000;
  const n = config.evaluationPeriods;
  const start = through - n * periodMs;
  const [result] = metricData(metrics, alarmQueries(config), start, through, true);
  const byTime = new Map(result.Timestamps.map((t, i) => [t, result.Values[i]]));
  const namespaces = alarmQueries(config).flatMap((q) => (q.MetricStat ? [q.MetricStat.Metric.Namespace] : []));
  const treatment: TreatMissingData = namespaces.length > 0 && namespaces.every((ns) => ns === "AWS/DynamoDB") ? "ignore" : config.treatMissingData;
  const comparison = COMPARISONS[config.comparisonOperator];
  const periods = Array.from({ length: n }, (_, i) => start + i * periodMs);
  const present = periods.filter((t) => byTime.has(t));
  const breaching = present.filter((t) => comparison.test(byTime.get(t)!, config.threshold)).length + (treatment === "breaching" ? n - present.length : 0);
  const filled = treatment === "breaching" || treatment === "notBreaching";
  if (present.length === 0 && !filled) {
    if (treatment === "ignore") return undefined;
    return { value: "INSUFFICIENT_DATA", reason: `Insufficient Data: ${n} datapoint${n === 1 ? " was" : "s were"} unknown.`, updatedAt: now };
  }
  // The reason lists the datapoints that decided: the breaching ones for ALARM, the others for OK.
  const shown = (breachingWanted: boolean) =>
    present
      .filter((t) => comparison.test(byTime.get(t)!, config.threshold) === breachingWanted)
      .map((t) => `${formatValue(byTime.get(t)!)} (${formatTime(t)})`)
      .reverse()
      .join(", ");
  const reasonData = JSON.stringify({
    version: "1.0",
    queryDate: isoTime(now),
    startDate: isoTime(start),
    period: periodOf(config),
    recentDatapoints: present.map((t) => byTime.get(t)!),
    threshold: config.threshold,
  });
  if (breaching >= config.datapointsToAlarm) {
    return {
      value: "ALARM",
      reason: `Threshold Crossed: ${breaching} out of the last ${n} datapoints [${shown(true)}] ${breaching === 1 ? "was" : "were"} ${comparison.words} the threshold (${formatValue(config.threshold)}) (minimum ${config.datapointsToAlarm} datapoint${config.datapointsToAlarm === 1 ? "" : "s"} for OK -> ALARM transition).`,
      reasonData,
      updatedAt: now,
    };
  }
  const good = n - breaching;
  return {
    value: "OK",
    reason: `Threshold Crossed: ${good} out of the last ${n} datapoints [${shown(false)}] ${good === 1 ? "was" : "were"} not ${comparison.words} the threshold (${formatValue(config.threshold)}) (minimum 1 datapoint for ALARM -> OK transition).`,
    reasonData,
    updatedAt: now,
  };
}

/** The names CloudWatch's notifications give regions. */
const REGION_NAMES: Record<string, string> = {
  "us-east-1": "US East (N. Virginia)",
  "us-east-2": "US East (Ohio)",
  "us-west-1": "US West (N. California)",
  "us-west-2": "US West (Oregon)",
  "eu-west-1": "EU (Ireland)",
  "eu-central-1": "EU (Frankfurt)",
};

/** CloudWatch's SNS notification for a state change: its subject and its JSON message. */
export function notification(config: AlarmConfig, previous: AlarmState, next: AlarmState): { subject: string; message: string } {
  const region = REGION_NAMES[config.region] ?? config.region;
  const m = config.metric;
  const trigger = m
    ? {
        MetricName: m.metricName,
        Namespace: m.namespace,
        StatisticType: /^p\d/.test(m.statistic) ? "ExtendedStatistic" : "Statistic",
        ...(/^p\d/.test(m.statistic) ? { ExtendedStatistic: m.statistic } : { Statistic: m.statistic.toUpperCase() }),
        Unit: m.unit ?? null,
        Dimensions: m.dimensions.map((d) => ({ value: d.Value, name: d.Name })),
        Period: m.period,
      }
    : {
        Metrics: config.queries!.map((q) => ({
          Id: q.Id,
          ...(q.Expression ? { Expression: q.Expression } : {}),
          ...(q.Label ? { Label: q.Label } : {}),
          ReturnData: q.ReturnData !== false,
          ...(q.MetricStat ? { MetricStat: { Metric: { Dimensions: q.MetricStat.Metric.Dimensions.map((d) => ({ value: d.Value, name: d.Name })), MetricName: q.MetricStat.Metric.MetricName, Namespace: q.MetricStat.Metric.Namespace }, Period: q.MetricStat.Period, Stat: q.MetricStat.Stat } } : {}),
        })),
      };
  const message = {
    AlarmName: config.name,
    AlarmDescription: config.description ?? null,
    AWSAccountId: config.accountId,
    AlarmConfigurationUpdatedTimestamp: notificationTime(config.updatedAt),
    NewStateValue: next.value,
    NewStateReason: next.reason,
    StateChangeTime: notificationTime(next.updatedAt),
    Region: region,
    AlarmArn: config.arn,
    OldStateValue: previous.value,
    OKActions: config.okActions,
    AlarmActions: config.alarmActions,
    InsufficientDataActions: config.insufficientDataActions,
    Trigger: {
      ...trigger,
      EvaluationPeriods: config.evaluationPeriods,
      DatapointsToAlarm: config.datapointsToAlarm,
      ComparisonOperator: config.comparisonOperator,
      Threshold: config.threshold,
      TreatMissingData: config.treatMissingData,
      EvaluateLowSampleCountPercentile: "",
    },
  };
  return { subject: `${next.value}: "${config.name}" in ${region}`.slice(0, 100), message: JSON.stringify(message) };
}

const pad = (n: number) => String(n).padStart(2, "0");
/** `1.0`, `0.25`: as CloudWatch prints datapoints. */
function formatValue(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
/** `30/11/26 17:02:00`, UTC. */
function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
const isoTime = (ms: number) => new Date(ms).toISOString().replace("Z", "+0000");
/** `2026-11-30T17:02:00.123+0000`, as the notification writes times. */
const notificationTime = isoTime;
