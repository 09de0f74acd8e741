// CloudWatch metrics of one account in one region: datapoints by namespace, name and dimensions,
// and the statistics CloudWatch computes over them per period ("CloudWatch statistics
// definitions": SampleCount, Sum, Average, Minimum, Maximum, pNN percentiles). A period without
// datapoints has no value, as in CloudWatch. Datapoints are kept per second (values kept for
// percentiles) for RETENTION_MS of local time.

export interface Dimension {
  Name: string;
  Value: string;
}

export interface MetricId {
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
}

/** One datapoint as PutMetricData takes it: a value, or a statistic set. */
export type Datapoint = { value: number; count?: number } | { statistics: { SampleCount: number; Sum: number; Minimum: number; Maximum: number } };

interface Bucket {
  second: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Raw values, for percentiles (a statistic set has none). */
  values: number[];
}

interface Series {
  id: MetricId;
  unit?: string;
  buckets: Bucket[];
}

export const RETENTION_MS = 24 * 3600 * 1000;
const STATISTICS = new Set(["SampleCount", "Sum", "Average", "Minimum", "Maximum"]);

export class MetricError extends Error {
  constructor(
    readonly code: "InvalidParameterValue" | "InvalidParameterCombination",
    message: string,
  ) {
    super(message);
  }
}

/** `Sum`, `p99`, `p99.9`: what CloudWatch accepts as a statistic (trimmed means and the like are refused by name). */
export function checkStatistic(stat: string): void {
  if (!STATISTICS.has(stat) && !/^p(\d{1,2}(\.\d+)?|100)$/.test(stat)) {
    throw new MetricError("InvalidParameterValue", `The statistic ${stat} is not emulated: use SampleCount, Sum, Average, Minimum, Maximum or pNN`);
  }
}

export function metricKey(id: MetricId): string {
  const dimensions = [...id.Dimensions].sort((a, b) => a.Name.localeCompare(b.Name)).map((d) => `${d.Name}=${d.Value}`);
  return `${id.Namespace}\u0000${id.MetricName}\u0000${dimensions.join("\u0000")}`;
}

export class MetricStore {
  private readonly series = new Map<string, Series>();
  private writes = 0;

  /** Records one datapoint at `timestamp` (local epoch ms). */
  put(id: MetricId, datapoint: Datapoint, timestamp: number, unit?: string): void {
    const key = metricKey(id);
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = { id: { ...id, Dimensions: [...id.Dimensions].sort((a, b) => a.Name.localeCompare(b.Name)) }, unit, buckets: [] }));
    const second = Math.floor(timestamp / 1000);
    let bucket = series.buckets.at(-1);
    if (!bucket || bucket.second !== second) {
      // Datapoints arrive in time order from the emulators; one from the past goes where it belongs.
      const index = series.buckets.findIndex((b) => b.second >= second);
      bucket = index >= 0 && series.buckets[index].second === second ? series.buckets[index] : undefined;
      if (!bucket) {
        bucket = { second, count: 0, sum: 0, min: Infinity, max: -Infinity, values: [] };
        series.buckets.splice(index >= 0 ? index : series.buckets.length, 0, bucket);
      }
    }
    if ("statistics" in datapoint) {
      const s = datapoint.statistics;
      bucket.count += s.SampleCount;
      bucket.sum += s.Sum;
      bucket.min = Math.min(bucket.min, s.Minimum);
      bucket.max = Math.max(bucket.max, s.Maximum);
    } else {
      const count = datapoint.count ?? 1;
      bucket.count += count;
      bucket.sum += datapoint.value * count;
      bucket.min = Math.min(bucket.min, datapoint.value);
      bucket.max = Math.max(bucket.max, datapoint.value);
      for (let i = 0; i < count; i++) bucket.values.push(datapoint.value);
    }
    if (++this.writes % 1000 === 0) this.prune(timestamp - RETENTION_MS);
  }

  /** Metrics that have datapoints, optionally filtered as ListMetrics filters. */
  list(filter: { Namespace?: string; MetricName?: string; Dimensions?: { Name: string; Value?: string }[] } = {}): MetricId[] {
    return [...this.series.values()]
      .map((s) => s.id)
      .filter(
        (id) =>
          (!filter.Namespace || id.Namespace === filter.Namespace) &&
          (!filter.MetricName || id.MetricName === filter.MetricName) &&
          (filter.Dimensions ?? []).every((wanted) => id.Dimensions.some((d) => d.Name === wanted.Name && (wanted.Value === undefined || d.Value === wanted.Value))),
      );
  }

  /**
   * The statistic per period from `start` (inclusive) to `end` (exclusive), periods aligned to
   * `start`, oldest first; periods without datapoints are left out.
   */
  statistic(id: MetricId, stat: string, periodSeconds: number, start: number, end: number): { timestamps: number[]; values: number[] } {
    checkStatistic(stat);
    const periodMs = periodSeconds * 1000;
    const series = this.series.get(metricKey(id));
    const timestamps: number[] = [];
    const values: number[] = [];
    if (!series) return { timestamps, values };
    for (let from = start; from < end; from += periodMs) {
      const to = Math.min(from + periodMs, end);
      const inPeriod = series.buckets.filter((b) => b.second * 1000 >= from && b.second * 1000 < to);
      const value = computeStatistic(inPeriod, stat);
      if (value === undefined) continue;
      timestamps.push(from);
      values.push(value);
    }
    return { timestamps, values };
  }

  private prune(before: number) {
    for (const series of this.series.values()) {
      const keep = series.buckets.findIndex((b) => b.second * 1000 >= before);
      series.buckets.splice(0, keep < 0 ? series.buckets.length : keep);
    }
  }
}

function computeStatistic(buckets: Bucket[], stat: string): number | undefined {
  const count = buckets.reduce((n, b) => n + b.count, 0);
  if (count === 0) return undefined;
  switch (stat) {
    case "SampleCount":
      return count;
    case "Sum":
      return buckets.reduce((n, b) => n + b.sum, 0);
    case "Average":
      return buckets.reduce((n, b) => n + b.sum, 0) / count;
    case "Minimum":
      return Math.min(...buckets.map((b) => b.min));
    case "Maximum":
      return Math.max(...buckets.map((b) => b.max));
  }
  // Percentiles need the values: datapoints sent as statistic sets have none.
  const values = buckets.flatMap((b) => b.values).sort((a, b) => a - b);
  if (values.length === 0) return undefined;
  const rank = Math.ceil((Number(stat.slice(1)) / 100) * values.length);
  return values[Math.min(values.length, Math.max(1, rank)) - 1];
}
