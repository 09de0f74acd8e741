// What ClickImpressionGenerator.py (seed: "Real-time Clickstream Anomaly Detection with Amazon
// Kinesis Analytics") does, as a sequence of steps: each iteration sends an Impression beacon,
// then decides with the click rate (0.5 during the anomaly, 0.1 otherwise) whether a Click
// follows, printing "_" (normal) or "-" (anomaly) and "+" for a click. The generator script
// sends the beacons over HTTP; the detection-quality benchmark feeds them to the engine.
import { SeededRandom } from "../../lambdas/lib/seeded-random";

export interface ClickImpressionOptions {
  iterations: number;
  clickRate: number;
  /** First iteration of the anomaly. */
  anomalyStart: number;
  /** First iteration after it. */
  anomalyEnd: number;
  anomalyRate: number;
  seed: number;
}

/** The seed script's constants. */
export const SEED_BEHAVIOUR: Omit<ClickImpressionOptions, "seed"> = {
  iterations: 2500,
  clickRate: 0.1,
  anomalyStart: 1950,
  anomalyEnd: 2000,
  anomalyRate: 0.5,
};

export type BrowserAction = "Impression" | "Click";

export type Step =
  | { kind: "beacon"; action: BrowserAction; iteration: number; anomalous: boolean }
  | { kind: "progress"; text: "_" | "-" | "+" };

export function* clickImpressions(options: ClickImpressionOptions): Generator<Step> {
  const random = new SeededRandom(options.seed);
  for (let i = 0; i < options.iterations; i++) {
    const anomalous = i >= options.anomalyStart && i < options.anomalyEnd;
    yield { kind: "beacon", action: "Impression", iteration: i, anomalous };
    // getClicked(rate): random.random() <= rate
    const clicked = random.next() <= (anomalous ? options.anomalyRate : options.clickRate);
    yield { kind: "progress", text: anomalous ? "-" : "_" };
    if (clicked) {
      yield { kind: "beacon", action: "Click", iteration: i, anomalous };
      yield { kind: "progress", text: "+" };
    }
  }
}

/** Checks options from a command line; returns the problems, each naming its option. */
export function optionProblems(options: ClickImpressionOptions): string[] {
  const problems: string[] = [];
  const { iterations, clickRate, anomalyStart, anomalyEnd, anomalyRate, seed } = options;
  if (!Number.isInteger(iterations) || iterations < 1) problems.push(`--iterations must be a positive integer, got ${iterations}`);
  for (const [name, rate] of [["--click-rate", clickRate], ["--anomaly-rate", anomalyRate]] as const) {
    if (!(rate >= 0 && rate <= 1)) problems.push(`${name} must be a probability from 0 to 1, got ${rate}`);
  }
  if (!Number.isInteger(anomalyStart) || anomalyStart < 0) problems.push(`--anomaly-start must be an integer >= 0, got ${anomalyStart}`);
  if (!Number.isInteger(anomalyEnd) || anomalyEnd < anomalyStart) problems.push(`--anomaly-end must be an integer >= --anomaly-start, got ${anomalyEnd}`);
  if (!Number.isInteger(seed)) problems.push(`--seed must be an integer, got ${seed}`);
  return problems;
}
