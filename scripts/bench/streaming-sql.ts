// Throughput of the streaming SQL engine through the seed's SQL (sql/clickstream.sql): beacon
// rows per second inserted into SOURCE_SQL_STREAM_001, windows closing and the forest scoring as
// they go. Target: 100,000 rows/s. Baseline, same rows in the same run: hand-written TypeScript
// doing the SQL's work without the engine (tumbling-window counts per action, joined on the
// window, CTR), the floor any engine pays for the data.
//
//   npm run bench:streaming-sql [-- --rows 1000000 --per-window 1000]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import application from "../../sql/clickstream.application.json";
import { compile } from "../../lambdas/lib/streaming-sql";
import { SEED_BEHAVIOUR, pacedBeacons, type TimedBeacon } from "../lib/click-impressions";

const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" }, "per-window": { type: "string", default: "1000" } } });
const ROWS = Number(values.rows);
const PER_WINDOW = Number(values["per-window"]);
if (!(Number.isInteger(ROWS) && ROWS > 0 && Number.isInteger(PER_WINDOW) && PER_WINDOW > 0)) {
  throw new Error(`--rows and --per-window take positive integers, got ${values.rows} / ${values["per-window"]}`);
}
const SQL = readFileSync(new URL("../../sql/clickstream.sql", import.meta.url), "utf8");
const T0 = 1_767_225_600_000;
const SOURCE = application.input.name;

// The generator's traffic (10% clicks), as many rows as asked for.
const iterations = Math.ceil(ROWS / (1 + SEED_BEHAVIOUR.clickRate));
const beacons = pacedBeacons({ ...SEED_BEHAVIOUR, iterations, anomalyStart: iterations, anomalyEnd: iterations, seed: 1 }, PER_WINDOW, T0).slice(0, ROWS);
const rows = beacons.map((b) => ({ browseraction: b.action, site: "bench.example.com" }));

function engine(): { seconds: number; outputs: number } {
  const app = compile(SQL, { inputs: [application.input] });
  let outputs = 0;
  app.subscribe("CTRSTREAM", () => outputs++);
  const started = performance.now();
  for (let i = 0; i < beacons.length; i++) app.insert(SOURCE, rows[i], beacons[i].rowtime);
  app.advanceTo(beacons.at(-1)!.rowtime + 10_000);
  return { seconds: (performance.now() - started) / 1000, outputs };
}

function handWritten(input: TimedBeacon[]): { seconds: number; outputs: number } {
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
handWritten(beacons);
engine(); // warm the JIT on a full run before measuring
const runs = [engine(), engine(), engine()].sort((a, b) => a.seconds - b.seconds);
const baseline = [handWritten(beacons), handWritten(beacons), handWritten(beacons)].sort((a, b) => a.seconds - b.seconds);
const median = runs[1];
console.log(`streaming SQL engine, seed SQL, ${format(ROWS)} rows, ${PER_WINDOW} per 10 s window (${median.outputs} CTR rows)`);
console.log(`  engine:       ${format(ROWS / median.seconds)} rows/s (median of 3; ${median.seconds.toFixed(2)} s)`);
console.log(`  baseline:     ${format(ROWS / baseline[1].seconds)} rows/s (hand-written window counts + join, ${baseline[1].outputs} CTR rows)`);
console.log(`  target:       100,000 rows/s: ${ROWS / median.seconds >= 100_000 ? "met" : "NOT met"}`);
console.log(`  memory:       ${format(process.memoryUsage().heapUsed / 2 ** 20)} MiB heap after the runs`);
