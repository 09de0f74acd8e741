// Splitting an application's work by shard: which SQL can be split (every pump reading the input
// is a GROUP BY over a tumbling ROWTIME window), and that shards aggregating their own rows into
// partial windows, merged window by window, give exactly the rows of one application seeing
// every row.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import application from "../sql/clickstream.application.json";
import { compile, type Application, type OutputRow, type Partials } from "../lambdas/lib/streaming-sql";
import { SeededRandom } from "../lambdas/lib/seeded-random";
import { SEED_BEHAVIOUR, pacedBeacons } from "../scripts/lib/click-impressions";

const SEED_SQL = readFileSync(new URL("../sql/clickstream.sql", import.meta.url), "utf8");
const INPUTS = [application.input];
const SOURCE = "SOURCE_SQL_STREAM_001";
const T0 = 1_699_999_980_000;

function watch(app: Application, streams: string[]): OutputRow[] {
  const rows: OutputRow[] = [];
  for (const stream of streams) app.subscribe(stream, (row) => rows.push(row));
  return rows;
}

interface Row {
  values: Record<string, unknown>;
  rowtime: number;
}

/**
 * Runs `rows` as `shards` shards would: each row goes to a random shard, each shard hands over
 * its partial windows after random batches, and the merger closes a window once every shard's
 * ROWTIME has passed its end, as the runtime does.
 */
type Inputs = Parameters<typeof compile>[1]["inputs"];

function runSplit(sql: string, inputs: Inputs, rows: Row[], shards: number, seed: number, streams: string[], end: number): OutputRow[] {
  const random = new SeededRandom(seed);
  const byShard: Row[][] = Array.from({ length: shards }, () => []);
  for (const row of rows) byShard[Math.floor(random.next() * shards)].push(row);
  const workers = byShard.map(() => compile(sql, { inputs }));
  const merger = compile(sql, { inputs });
  const out = watch(merger, streams);
  const pending: Partials[] = [];
  const positions = byShard.map(() => 0);
  const clocks = byShard.map(() => Number.NEGATIVE_INFINITY);
  let closed = Number.NEGATIVE_INFINITY;
  const close = (through: number) => {
    for (const partials of pending) merger.absorbPartials(partials, { after: closed, through });
    merger.closeWindows(through);
    closed = through;
  };
  while (positions.some((p, s) => p < byShard[s].length)) {
    const shard = Math.floor(random.next() * shards);
    const batch = byShard[shard].slice(positions[shard], positions[shard] + 1 + Math.floor(random.next() * 40));
    positions[shard] += batch.length;
    for (const row of batch) workers[shard].accumulate(SOURCE, row.values, row.rowtime);
    if (batch.length > 0) clocks[shard] = batch.at(-1)!.rowtime;
    pending.push(workers[shard].takePartials());
    const everyShardPassed = Math.min(...clocks.map((c, s) => (positions[s] < byShard[s].length ? c : Number.POSITIVE_INFINITY)));
    if (Number.isFinite(everyShardPassed) && everyShardPassed > closed) close(everyShardPassed);
  }
  close(end);
  return out;
}

function runWhole(sql: string, inputs: Inputs, rows: Row[], streams: string[], end: number): OutputRow[] {
  const app = compile(sql, { inputs });
  const out = watch(app, streams);
  for (const row of rows) app.insert(SOURCE, row.values, row.rowtime);
  app.advanceTo(end);
  return out;
}

describe("partition plan", () => {
  it("splits the clickstream SQL: both counting pumps run per shard, the join and the forest after the merge", () => {
    expect(compile(SEED_SQL, { inputs: INPUTS }).partitionPlan).toEqual({ mode: "partitioned", shardPumps: ["CLICKPUMP", "IMPRESSIONPUMP"] });
  });

  it.each([
    ["a pump passing input rows on one by one", 'CREATE OR REPLACE STREAM "OUT" (a VARCHAR(32));\nCREATE OR REPLACE PUMP "COPY" STARTED AS INSERT INTO "OUT" SELECT STREAM "browseraction" FROM "SOURCE_SQL_STREAM_001";', /pump COPY \(line 2\) reads SOURCE_SQL_STREAM_001 row by row/],
    [
      "RANDOM_CUT_FOREST over input rows",
      'CREATE OR REPLACE STREAM "OUT" (a VARCHAR(32), x DOUBLE, s DOUBLE);\nCREATE OR REPLACE PUMP "SCORE" STARTED AS INSERT INTO "OUT" SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM "browseraction", 1.0 FROM "SOURCE_SQL_STREAM_001")));',
      /pump SCORE \(line 2\) reads SOURCE_SQL_STREAM_001 into RANDOM_CUT_FOREST/,
    ],
  ])("runs %s as a single writer, and says which pump needs it", (_, sql, reason) => {
    const plan = compile(sql, { inputs: INPUTS }).partitionPlan;
    expect(plan.mode).toBe("single-writer");
    expect(plan.mode === "single-writer" && plan.reason).toMatch(reason);
    expect(() => compile(sql, { inputs: INPUTS }).takePartials()).toThrow(/runs as a single writer/);
  });
});

describe("partial windows merged across shards", () => {
  it("the default scenario over 4 shards gives the CTR rows and anomaly scores of one application", () => {
    const beacons = pacedBeacons({ ...SEED_BEHAVIOUR, seed: 18 }, 50, T0 + 700);
    const rows = beacons.map((b) => ({ values: { browseraction: b.action, site: "example.com" }, rowtime: b.rowtime }));
    const streams = ["CLICKSTREAM", "IMPRESSIONSTREAM", "CTRSTREAM", "DESTINATION_SQL_STREAM"];
    const end = beacons.at(-1)!.rowtime + 20_000;
    const whole = runWhole(SEED_SQL, INPUTS, rows, streams, end);
    expect(whole.filter((r) => r.stream === "DESTINATION_SQL_STREAM").length).toBeGreaterThan(0);
    const sorted = (out: OutputRow[]) => [...out].sort((a, b) => a.rowtime - b.rowtime || streams.indexOf(a.stream) - streams.indexOf(b.stream));
    for (const seed of [1, 2, 3]) {
      const split = runSplit(SEED_SQL, INPUTS, rows, 4, seed, streams, end);
      // Per stream, the same rows in the same order; across streams, the same rows per window.
      for (const stream of streams) expect(split.filter((r) => r.stream === stream)).toEqual(whole.filter((r) => r.stream === stream));
      expect(sorted(split)).toEqual(sorted(whole));
    }
  });

  it("combines COUNT, SUM, AVG, MIN and MAX per GROUP BY key, emitting a window's groups in the order of their first row", () => {
    const inputs = [{ name: SOURCE, columns: [{ name: "ticker", sqlType: "VARCHAR(4)" }, { name: "price", sqlType: "INTEGER" }] }];
    const sql = `CREATE OR REPLACE STREAM "STATS" (t TIMESTAMP, ticker VARCHAR(4), n BIGINT, total BIGINT, average DOUBLE, low INTEGER, high INTEGER);
      CREATE OR REPLACE PUMP "STATS_PUMP" STARTED AS INSERT INTO "STATS"
      SELECT STREAM ROWTIME, "ticker", COUNT(*), SUM("price"), AVG("price"), MIN("price"), MAX("price")
      FROM "SOURCE_SQL_STREAM_001" WHERE "price" > 0
      GROUP BY "ticker", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);`;
    const random = new SeededRandom(7);
    const tickers = ["AMZN", "MSFT", "GOOG", "AAPL"];
    const rows: Row[] = Array.from({ length: 2_000 }, (_, i) => ({
      values: { ticker: tickers[Math.floor(random.next() * tickers.length)], price: Math.floor(random.next() * 200) - 20 },
      rowtime: T0 + i * 97,
    }));
    const end = T0 + 2_000 * 97 + 10_000;
    const whole = runWhole(sql, inputs, rows, ["STATS"], end);
    expect(whole.length).toBeGreaterThan(70);
    expect(runSplit(sql, inputs, rows, 3, 11, ["STATS"], end)).toEqual(whole);
  });
});
