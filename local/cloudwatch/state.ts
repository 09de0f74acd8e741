// CloudWatch of one account in one region: its metrics (what the emulated services publish, what
// PutMetricData sends, what EMF log events carry), its alarms and its dashboards.
import type { Clock } from "../lib/clock";
import { Alarms, type Notify } from "./alarms";
import { emfDatapoints } from "./emf";
import { MetricStore, type Dimension } from "./metrics";

export interface Dashboard {
  name: string;
  arn: string;
  body: string;
  updatedAt: number;
}

export interface CloudWatchOptions {
  region: string;
  accountId: string;
  clock: Clock;
  notify: Notify;
  log(line: string): void;
}

export class CloudWatch {
  readonly metrics = new MetricStore();
  readonly alarms: Alarms;
  readonly dashboards = new Map<string, Dashboard>();
  readonly region: string;
  readonly accountId: string;

  constructor(private readonly options: CloudWatchOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.alarms = new Alarms({ clock: options.clock, metrics: this.metrics, notify: options.notify, log: options.log });
  }

  now(): number {
    return this.options.clock.now();
  }

  /** One datapoint of a metric an AWS service publishes, now. */
  record(namespace: string, metricName: string, dimensions: Record<string, string>, value: number, unit?: string): void {
    const list: Dimension[] = Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value }));
    this.metrics.put({ Namespace: namespace, MetricName: metricName, Dimensions: list }, { value }, this.now(), unit);
  }

  /**
   * The metrics of a log event in the embedded metric format, as CloudWatch Logs extracts them.
   * They are dated when the local cloud received the event: its clock may run faster than the
   * function's.
   */
  ingestLogEvent(message: string): void {
    for (const datapoint of emfDatapoints(message)) {
      const id = { Namespace: datapoint.namespace, MetricName: datapoint.metricName, Dimensions: datapoint.dimensions };
      for (const value of datapoint.values) this.metrics.put(id, { value }, this.now(), datapoint.unit);
    }
  }

  putDashboard(name: string, body: string): Dashboard {
    const dashboard = { name, arn: `arn:aws:cloudwatch::${this.accountId}:dashboard/${name}`, body, updatedAt: this.now() };
    this.dashboards.set(name, dashboard);
    return dashboard;
  }

  stop(): void {
    this.alarms.stop();
  }
}
