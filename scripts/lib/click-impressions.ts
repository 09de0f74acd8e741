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

export interface TimedBeacon {
  action: BrowserAction;
  anomalous: boolean;
  /** Arrival time (epoch ms): ROWTIME in the analytics application. */
  rowtime: number;
}

/**
 * The beacons of a run as the application sees them when the generator paces them evenly,
 * `requestsPerWindow` per 10-second window, the first arriving at `startMs`.
 */
export function pacedBeacons(options: ClickImpressionOptions, requestsPerWindow: number, startMs: number): TimedBeacon[] {
  const beacons: TimedBeacon[] = [];
  for (const step of clickImpressions(options)) {
    if (step.kind !== "beacon") continue;
    beacons.push({ action: step.action, anomalous: step.anomalous, rowtime: startMs + Math.floor((beacons.length * 10_000) / requestsPerWindow) });
  }
  return beacons;
}

export interface BeaconRun {
  sent: number;
  seconds: number;
  /** Answers other than 2xx, by "HTTP <status>". */
  refused: Map<string, number>;
  /** Why the run stopped early, when the API could not be reached. */
  unreachable?: string;
}

export interface SendOptions {
  /** Requests per second, on a fixed schedule; without it, one after another as fast as answered (as the Python script). */
  rate?: number;
  /** The Python script's progress output: "_" (normal), "-" (anomaly), "+" (click). */
  onProgress?: (text: string) => void;
  /** Called once a beacon is answered, with the real times (epoch ms) it was sent and answered. */
  onBeacon?: (beacon: Step & { kind: "beacon" }, sentAt: number, answeredAt: number) => void;
}

/** Sends the run's beacons to `<apiBaseUrl>/beacon?browseraction=...` over HTTP. */
export async function sendBeacons(apiBaseUrl: string, options: ClickImpressionOptions, send: SendOptions = {}): Promise<BeaconRun> {
  const beaconUrl = `${apiBaseUrl.replace(/\/+$/, "")}/beacon?browseraction=`;
  const started = performance.now();
  const run: BeaconRun = { sent: 0, seconds: 0, refused: new Map() };
  for (const step of clickImpressions(options)) {
    if (step.kind === "progress") {
      send.onProgress?.(step.text);
      continue;
    }
    if (send.rate !== undefined) {
      const wait = started + (run.sent * 1000) / send.rate - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const sentAt = Date.now();
    try {
      const response = await fetch(beaconUrl + step.action);
      await response.arrayBuffer();
      const refusal = `HTTP ${response.status}`;
      if (!response.ok) run.refused.set(refusal, (run.refused.get(refusal) ?? 0) + 1);
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      run.unreachable = `cannot reach ${beaconUrl}${step.action} (${cause})`;
      break;
    }
    run.sent++;
    send.onBeacon?.(step, sentAt, Date.now());
  }
  run.seconds = (performance.now() - started) / 1000;
  return run;
}
