// GetMetricData's core, shared by the API and the alarms: metric stat queries over the store and
// metric math expressions over their results.
import { evaluateMath, MathError, type Series } from "./math";
import { MetricError, type MetricId, type MetricStore } from "./metrics";

export interface MetricDataQuery {
  Id: string;
  MetricStat?: { Metric: MetricId; Period: number; Stat: string; Unit?: string };
  Expression?: string;
  Label?: string;
  /** Default true. */
  ReturnData?: boolean;
  Period?: number;
}

export interface MetricDataResult {
  Id: string;
  Label: string;
  /** Newest first, as GetMetricData answers by default (ScanBy TimestampDescending). */
  Timestamps: number[];
  Values: number[];
  StatusCode: "Complete";
}

const ID = /^[a-z][a-zA-Z0-9_]*$/;

/** Runs the queries over [start, end) and answers those with ReturnData (all by default). */
export function metricData(store: MetricStore, queries: MetricDataQuery[], start: number, end: number, ascending = false): MetricDataResult[] {
  if (queries.length === 0) throw new MetricError("InvalidParameterValue", "MetricDataQueries must hold at least one query");
  const series = new Map<string, Series>();
  const results: MetricDataResult[] = [];
  for (const query of queries) {
    if (!ID.test(query.Id)) throw new MetricError("InvalidParameterValue", `The Id ${JSON.stringify(query.Id)} must start with a lower-case letter and hold only letters, digits and _`);
    if (!query.MetricStat === !query.Expression) throw new MetricError("InvalidParameterCombination", `Query ${query.Id} must have exactly one of MetricStat and Expression`);
  }
  // Metric queries first: an expression may name any of them.
  for (const query of queries.filter((q) => q.MetricStat)) {
    const { Metric, Period, Stat } = query.MetricStat!;
    if (!(Period > 0) || (Period >= 60 ? Period % 60 !== 0 : ![1, 5, 10, 20, 30].includes(Period))) {
      throw new MetricError("InvalidParameterValue", `The period ${Period} of query ${query.Id} must be 1, 5, 10, 20, 30 or a multiple of 60 seconds`);
    }
    const { timestamps, values } = store.statistic(Metric, Stat, Period, alignedStart(start, Period), end);
    series.set(query.Id, new Map(timestamps.map((t, i) => [t, values[i]])));
  }
  for (const query of queries) {
    let result = series.get(query.Id);
    if (query.Expression) {
      let value;
      try {
        value = evaluateMath(query.Expression, series);
      } catch (error) {
        if (error instanceof MathError) throw new MetricError("InvalidParameterValue", error.message);
        throw error;
      }
      if (!(value instanceof Map)) throw new MetricError("InvalidParameterValue", `The expression of query ${query.Id} must give one time series, not ${Array.isArray(value) ? "an array" : "a number"}`);
      series.set(query.Id, (result = value));
    }
    if (query.ReturnData === false) continue;
    const points = [...result!.entries()].sort(([a], [b]) => (ascending ? a - b : b - a));
    results.push({
      Id: query.Id,
      Label: query.Label ?? query.MetricStat?.Metric.MetricName ?? query.Id,
      Timestamps: points.map(([t]) => t),
      Values: points.map(([, v]) => v),
      StatusCode: "Complete",
    });
  }
  return results;
}

/** CloudWatch rounds the start of a query down to a multiple of its period. */
function alignedStart(start: number, periodSeconds: number): number {
  const periodMs = periodSeconds * 1000;
  return Math.floor(start / periodMs) * periodMs;
}
