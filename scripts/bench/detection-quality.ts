// Detection quality of the clickstream application (sql/clickstream.sql on the streaming SQL
// engine) over seeded runs of the generator's default scenario (2,500 iterations, click rate 0.1,
// 0.5 for iterations 1,950-1,999), no HTTP: beacons are paced evenly, N per 10-second window,
// starting at a seed-dependent point of a window. A window is anomalous when it holds an
// anomalous beacon; an alert (a DESTINATION_SQL_STREAM row, ANOMALY_SCORE > 2) for any other
// window is a false alert. Target: every injected anomaly found, at most one false alert per run.
//
//   options: npm run bench:detection-quality -- --help
import { readFileSync } from "node:fs";
import application from "../../sql/clickstream.application.json";
import { compile, type OutputRow } from "../../lambdas/lib/streaming-sql";
import { SEED_BEHAVIOUR, pacedBeacons } from "../lib/click-impressions";
import { defineCli, integerListOption, integerOption } from "../lib/cli";

const cli = defineCli({
  command: "npm run bench:detection-quality --",
  summary:
    "Detection quality of sql/clickstream.sql over seeded runs of the generator's default scenario, beacons paced evenly per 10-second window: " +
    "runs that found the injected anomaly, and false alerts per run. Target: every anomaly found, at most one false alert per run.",
  options: {
    runs: { type: "string", value: "<n>", default: "20", description: "seeded runs per pacing (seeds 1..n)" },
    "per-window": { type: "string", value: "<n,n,...>", default: "50,100,200", description: "pacings to compare: beacons per window" },
  },
});

const SQL = readFileSync(new URL("../../sql/clickstream.sql", import.meta.url), "utf8");
const WINDOW_MS = 10_000;
/** A minute boundary, so that windows start at whole multiples of 10 s from it. */
const T0 = 1_767_225_600_000;

interface RunResult {
  found: boolean;
  falseAlerts: number;
  alerts: { window: number; ctr: number; score: number; anomalous: boolean }[];
}

function run(seed: number, requestsPerWindow: number): RunResult {
  const app = compile(SQL, { inputs: [application.input] });
  const rows: OutputRow[] = [];
  app.subscribe("DESTINATION_SQL_STREAM", (row) => rows.push(row as OutputRow));
  // Where in a window the run starts varies with the seed, as it does for a person starting the script.
  const beacons = pacedBeacons({ ...SEED_BEHAVIOUR, seed }, requestsPerWindow, T0 + ((seed * 7_919) % WINDOW_MS));
  const anomalousWindows = new Set<number>();
  for (const beacon of beacons) {
    app.insert(application.input.name, { browseraction: beacon.action, site: "bench.example.com" }, beacon.rowtime);
    if (beacon.anomalous) anomalousWindows.add(Math.floor(beacon.rowtime / WINDOW_MS));
  }
  app.advanceTo(beacons.at(-1)!.rowtime + 2 * WINDOW_MS);
  // A window's row carries the window's end as ROWTIME.
  const alerts = rows.map((row) => {
    const window = row.rowtime / WINDOW_MS - 1;
    return { window, ctr: row.values[0] as number, score: row.values[1] as number, anomalous: anomalousWindows.has(window) };
  });
  return { found: alerts.some((a) => a.anomalous), falseAlerts: alerts.filter((a) => !a.anomalous).length, alerts };
}

cli.main(({ values }) => {
  const runs = integerOption("runs", values.runs, { min: 1 });
  const pacings = integerListOption("per-window", values["per-window"], { min: 1 });
  console.log(`detection quality: ${runs} seeded runs of the default scenario per pacing (seeds 1-${runs})`);
  console.log("requests/window  windows/run  recall     false alerts/run (mean, max)  runs with >1 false alert");
  for (const perWindow of pacings) {
    const results = Array.from({ length: runs }, (_, i) => run(i + 1, perWindow));
    const found = results.filter((r) => r.found).length;
    const falseAlerts = results.map((r) => r.falseAlerts);
    const windows = Math.ceil((SEED_BEHAVIOUR.iterations * (1 + SEED_BEHAVIOUR.clickRate)) / perWindow);
    console.log(
      `${String(perWindow).padStart(15)}  ${String(`~${windows}`).padStart(11)}  ${`${found}/${runs}`.padEnd(9)}  ` +
        `${(falseAlerts.reduce((a, b) => a + b, 0) / runs).toFixed(2).padStart(6)}, ${String(Math.max(...falseAlerts)).padEnd(21)}  ` +
        `${results.filter((r) => r.falseAlerts > 1).length}`,
    );
    const missed = results.map((r, i) => [i + 1, r] as const).filter(([, r]) => !r.found);
    if (missed.length > 0) console.log(`${"".padStart(17)}missed in seeds ${missed.map(([s]) => s).join(", ")}`);
  }
  return 0;
});
