// Throughput of the streaming SQL engine through the seed's SQL (sql/clickstream.sql): beacon
// rows per second inserted into SOURCE_SQL_STREAM_001, windows closing and the forest scoring as
// they go. Target: 100,000 rows/s. Baseline, same rows in the same run: hand-written TypeScript
// doing the SQL's work without the engine (tumbling-window counts per action, joined on the
// window, CTR), the floor any engine pays for the data.
//
//   options: npm run bench:streaming-sql -- --help
import { readFileSync } from "node:fs";
import application from "../../sql/clickstream.application.json";
import { compile } from "../../lambdas/lib/streaming-sql";
import { SEED_BEHAVIOUR, pacedBeacons, type TimedBeacon } from "../lib/click-impressions";
import { defineCli, integerOption } from "../lib/cli";

const cli = defineCli({
  command: "npm run bench:streaming-sql --",
  summary:
    "Beacon rows per second through the seed's SQL (sql/clickstream.sql) on the streaming SQL engine, windows closing and the forest scoring " +
    "as they go, against hand-written window counts and join on the same rows in the same run. Target: 100,000 rows/s.",
  options: {
    rows: { type: "string", value: "<n>", default: "1000000", description: "beacon rows inserted" },
    "per-window": { type: "string", value: "<n>", default: "1000", description: "rows per 10-second window" },
  },
});
const SQL = readFileSync(new URL("../../sql/clickstream.sql", import.meta.url), "utf8");
const T0 = 1_767_225_600_000;
const SOURCE = application.input.name;

type Row = { browseraction: string; site: string };

/** The generator's traffic (10% clicks), as many rows as asked for. */
function traffic(count: number, perWindow: number): { beacons: TimedBeacon[]; rows: Row[] } {
  const iterations = Math.ceil(count / (1 + SEED_BEHAVIOUR.clickRate));
  const beacons = pacedBeacons({ ...SEED_BEHAVIOUR, iterations, anomalyStart: iterations, anomalyEnd: iterations, seed: 1 }, perWindow, T0).slice(0, count);
  return { beacons, rows: beacons.map((b) => ({ browseraction: b.action, site: "bench.example.com" })) };
}

function engine(beacons: TimedBeacon[], rows: Row[]): { seconds: number; outputs: number } {
  const app = compile(SQL, { inputs: [application.input] });
  let outputs = 0;
  app.subscribe("CTRSTREAM", () => outputs++);
  const started = performance.now();
  for (let i = 0; i < beacons.length; i++) app.insert(SOURCE, rows[i], beacons[i].rowtime);
  app.advanceTo(beacons.at(-1)!.rowtime + 10_000);
  return { seconds: (performance.now() - started) / 1000, outputs };
}

function handWritten(input: TimedBeacon[], rows: Row[]): { seconds: number; outputs: number } {
  const started = performance.now();
  const ctr: number[] = [];
  let window = -1;
  let clicks = 0;
  let impressions = 0;
  const close = () => {
    if (window >= 0 && clicks > 0 && impressions > 0) ctr.push((clicks / impressions) * 100);
  };
  for (let i = 0; i < input.length; i++) {
    const w = Math.floor(input[i].rowtime / 10_000);
    if (w !== window) {
      close();
      window = w;
      clicks = impressions = 0;
    }
    if (rows[i].browseraction === "Click") clicks++;
    else if (rows[i].browseraction === "Impression") impressions++;
  }
  close();
  return { seconds: (performance.now() - started) / 1000, outputs: ctr.length };
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");

cli.main(({ values }) => {
  const count = integerOption("rows", values.rows, { min: 1 });
  const perWindow = integerOption("per-window", values["per-window"], { min: 1 });
  const { beacons, rows } = traffic(count, perWindow);
  handWritten(beacons, rows);
  engine(beacons, rows); // warm the JIT on a full run before measuring
  const runs = [1, 2, 3].map(() => engine(beacons, rows)).sort((a, b) => a.seconds - b.seconds);
  const baseline = [1, 2, 3].map(() => handWritten(beacons, rows)).sort((a, b) => a.seconds - b.seconds);
  const median = runs[1];
  console.log(`streaming SQL engine, seed SQL, ${format(count)} rows, ${perWindow} per 10 s window (${median.outputs} CTR rows)`);
  console.log(`  engine:       ${format(count / median.seconds)} rows/s (median of 3; ${median.seconds.toFixed(2)} s)`);
  console.log(`  baseline:     ${format(count / baseline[1].seconds)} rows/s (hand-written window counts + join, ${baseline[1].outputs} CTR rows)`);
  console.log(`  target:       100,000 rows/s: ${count / median.seconds >= 100_000 ? "met" : "NOT met"}`);
  console.log(`  memory:       ${format(process.memoryUsage().heapUsed / 2 ** 20)} MiB heap after the runs`);
  return 0;
});
