// The clickstream pipeline end to end on the local cloud, over HTTP, on manual time: the
// generator's default scenario (2,500 iterations, click rate 0.1, 0.5 for iterations 1,950-1,999)
// sent to GET /beacon (Kinesis PutRecord service proxy), the SQL runtime Lambda on the input
// stream running sql/clickstream.sql, the anomaly Lambda on the output stream, and the SNS topic
// ClickStreamEvent's e-mail subscription, as the control endpoint lists its deliveries.
//
// Time: the test moves the clock, so each 10-second window holds exactly the beacons it was given
// (50, the pacing the generator uses against AWS: 5 beacons per second), whatever the machine's
// load: a beacon's ROWTIME is the local time it arrived at, and time does not move while the test
// sends a window's beacons (all at the window's start: the SQL counts per window, so where in the
// window they arrive changes nothing). Each move waits until every record put so far reached its
// function, so a window's alert is published at the instant the next window's beacons close it.
//
// What is asserted, and why this seed: generator seed 1 is the first run of
// bench:detection-quality, not a seed picked for its outcome. The seed SQL's detector
// (RANDOM_CUT_FOREST, ANOMALY_SCORE > 2) raises false alerts on the seed's own normal traffic
// (0.45 per run at this pacing over seeds 1-40, which the benchmark reports; seed 1 has two). The
// seed promises an alert for the anomaly, so the test asserts that, and that the pipeline
// publishes exactly what the SQL application raises on those windows when fed directly (the
// streaming SQL engine in this process): every false alert is the detector's, none is the
// pipeline's (a window split, merged or late), and no alert is lost.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import type { Delivery } from "../local/sns/state";
import { compile, type OutputRow } from "../lambdas/lib/streaming-sql";
import application from "../sql/clickstream.application.json";
import { clickImpressions, SEED_BEHAVIOUR, type BrowserAction, type ClickImpressionOptions } from "../scripts/lib/click-impressions";
import { synth } from "../scripts/lib/synth";

const SCENARIO: ClickImpressionOptions = { ...SEED_BEHAVIOUR, seed: 1 };
const WINDOW_MS = 10_000;
/** 50 beacons per window (5 per second of the local clock, the pacing the generator uses against AWS). */
const BEACONS_PER_WINDOW = 50;
/** The SQL runtime's EventBridge schedule (rate(1 minute)) closes the last window, its clock 5 s behind the tick. */
const TICK_MS = 60_000;
const TICK_GRACE_MS = 5_000;
const ALERT = /^Anomaly detected with a click through rate of ([\d.]+)% and an anomaly score of ([\d.]+)$/;
const SQL = readFileSync(new URL("../sql/clickstream.sql", import.meta.url), "utf8");

interface Beacon {
  action: BrowserAction;
  anomalous: boolean;
  /** The local time it is sent at: its ROWTIME. */
  at: number;
}

let cloud: LocalCloud;
let dataDir: string;
/** A minute boundary: windows and the schedule's ticks start there. */
let start: number;

beforeAll(async () => {
  const outdir = mkdtempSync(join(tmpdir(), "local-cloud-clickstream-synth-"));
  synth({ target: "aws", outdir });
  dataDir = mkdtempSync(join(tmpdir(), "local-cloud-clickstream-"));
  start = Math.ceil(Date.now() / TICK_MS) * TICK_MS;
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir, port: 0, clock: "manual", clockStart: new Date(start) });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

function scenarioBeacons(): Beacon[] {
  const beacons: Beacon[] = [];
  for (const step of clickImpressions(SCENARIO)) {
    if (step.kind !== "beacon") continue;
    beacons.push({ action: step.action, anomalous: step.anomalous, at: start + Math.floor(beacons.length / BEACONS_PER_WINDOW) * WINDOW_MS });
  }
  return beacons;
}

/** What the SQL application raises on these beacons when fed directly: one row per alerting window, ROWTIME its end. */
function expectedAlerts(beacons: Beacon[]): OutputRow[] {
  const app = compile(SQL, { inputs: [application.input] });
  const rows: OutputRow[] = [];
  app.subscribe("DESTINATION_SQL_STREAM", (row) => rows.push(row as OutputRow));
  for (const beacon of beacons) app.insert(application.input.name, { browseraction: beacon.action, site: "localhost" }, beacon.at);
  app.advanceTo(beacons.at(-1)!.at + 2 * WINDOW_MS);
  return rows;
}

describe("clickstream anomaly detection on the local cloud (manual time)", () => {
  it("publishes by SNS the alert for the anomalous window, and exactly the alerts the SQL application raises on those windows", async () => {
    const beacons = scenarioBeacons();
    const beaconUrl = `${cloud.endpoints().regions["us-east-1"].apiUrl}/beacon?browseraction=`;
    for (let first = 0; first < beacons.length; first += BEACONS_PER_WINDOW) {
      const window = beacons.slice(first, first + BEACONS_PER_WINDOW);
      await cloud.advanceTo(window[0].at);
      const answers = await Promise.all(window.map((beacon) => fetch(beaconUrl + beacon.action).then(async (r) => `${r.status} ${await r.text()}`)));
      for (const answer of answers) expect(answer).toMatch(/^200 /);
    }
    const lastBeaconAt = beacons.at(-1)!.at;
    // Past the tick that closes the last window, and the output stream's Lambda after it.
    await cloud.advanceTo(lastBeaconAt + TICK_MS + TICK_GRACE_MS + WINDOW_MS);

    const deliveries = (await (await fetch(cloud.endpoints().sns.deliveries)).json()) as Delivery[];
    const alerts = deliveries.filter((d) => d.topicArn.endsWith(":ClickStreamEvent"));
    for (const alert of alerts) expect(alert).toMatchObject({ protocol: "email", endpoint: "platform-dev-alerts@example.com", subject: "Anomaly Detected" });

    // A window closes when the next window's first beacon arrives, or (the last one) at the first
    // tick whose clock, 5 s behind it, has passed the window's end.
    const publishedAt = (windowEnd: number) => (windowEnd <= lastBeaconAt ? windowEnd : start + Math.ceil((windowEnd + TICK_GRACE_MS - start) / TICK_MS) * TICK_MS);
    const expected = expectedAlerts(beacons).map((row) => ({
      deliveredAt: new Date(publishedAt(row.rowtime)).toISOString(),
      ctr: Number((row.values[0] as number).toFixed(6)),
      score: Number((row.values[1] as number).toFixed(6)),
    }));
    const published = alerts.map((alert) => {
      const [, ctr, score] = ALERT.exec(alert.message) ?? [];
      expect(alert.message).toMatch(ALERT);
      return { deliveredAt: alert.deliveredAt, ctr: Number(Number(ctr).toFixed(6)), score: Number(Number(score).toFixed(6)) };
    });
    expect(published).toEqual(expected);

    // The seed's promise: the anomaly is alerted, in a window that holds anomalous beacons.
    const windowOf = (at: number) => Math.floor((at - start) / WINDOW_MS);
    const anomalousWindows = new Set(beacons.filter((b) => b.anomalous).map((b) => windowOf(b.at)));
    const alertedWindows = expectedAlerts(beacons).map((row) => windowOf(row.rowtime) - 1);
    expect(alertedWindows.filter((w) => anomalousWindows.has(w)).length).toBeGreaterThan(0);

    // The same deliveries are in the SNS log on disk.
    const logged = readFileSync(join(dataDir, "sns-deliveries.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Delivery);
    expect(logged.filter((d) => d.topicArn.endsWith(":ClickStreamEvent")).map((d) => d.messageId)).toEqual(alerts.map((a) => a.messageId));
  }, 120_000);
});
