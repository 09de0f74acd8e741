// The embedded metric format ("Specification: Embedded metric format"): a log event that is a JSON
// object with an `_aws` member whose CloudWatchMetrics directives name a namespace, dimension sets
// and metrics; the values are members of the root (a number, or an array of up to 100 numbers),
// the dimension values root strings. CloudWatch Logs extracts one datapoint per metric, dimension
// set and value; an event that breaks the format is kept as a log event and yields no metric.
import type { Dimension } from "./metrics";

export interface EmfDatapoint {
  namespace: string;
  metricName: string;
  dimensions: Dimension[];
  values: number[];
  unit?: string;
  /** `_aws.Timestamp`, epoch ms. */
  timestamp: number;
}

const MAX_DIMENSIONS = 30;
const MAX_VALUES = 100;

/** The datapoints of one log event; none when it is not (valid) EMF. */
export function emfDatapoints(message: string): EmfDatapoint[] {
  if (!message.includes('"_aws"')) return [];
  let root: Record<string, unknown>;
  try {
    root = JSON.parse(message);
  } catch {
    return [];
  }
  const aws = root?._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (!aws || typeof aws.Timestamp !== "number" || !Array.isArray(aws.CloudWatchMetrics)) return [];
  const datapoints: EmfDatapoint[] = [];
  for (const directive of aws.CloudWatchMetrics as Record<string, unknown>[]) {
    const { Namespace, Dimensions, Metrics } = directive ?? {};
    if (typeof Namespace !== "string" || Namespace === "" || !Array.isArray(Dimensions) || !Array.isArray(Metrics)) return [];
    const sets: Dimension[][] = [];
    for (const set of Dimensions) {
      if (!Array.isArray(set) || set.length > MAX_DIMENSIONS) return [];
      const dimensions = set.map((name) => ({ Name: String(name), Value: root[String(name)] }));
      if (dimensions.some((d) => typeof d.Value !== "string")) return [];
      sets.push(dimensions as Dimension[]);
    }
    for (const metric of Metrics as { Name?: unknown; Unit?: unknown }[]) {
      if (typeof metric?.Name !== "string") return [];
      const raw = root[metric.Name];
      const values = typeof raw === "number" ? [raw] : Array.isArray(raw) && raw.length <= MAX_VALUES && raw.every((v) => typeof v === "number") ? (raw as number[]) : undefined;
      if (!values) return [];
      // A directive without dimension sets still yields its metrics, without dimensions.
      for (const dimensions of sets.length > 0 ? sets : [[]]) {
        datapoints.push({ namespace: Namespace, metricName: metric.Name, dimensions, values, unit: typeof metric.Unit === "string" ? metric.Unit : undefined, timestamp: aws.Timestamp });
      }
    }
  }
  return datapoints;
}
