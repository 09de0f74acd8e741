// The streaming SQL engine running the seed's SQL: tumbling windows, the ROWTIME join, the
// CTR as a DOUBLE, RANDOM_CUT_FOREST scores, snapshots, and what it does with bad rows.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import application from "../sql/clickstream.application.json";
import { compile, toCsvLine, type Application, type OutputRow } from "../lambdas/lib/streaming-sql";
import { SeededRandom } from "../lambdas/lib/seeded-random";

const SEED_SQL = readFileSync(new URL("../sql/clickstream.sql", import.meta.url), "utf8");
const INPUTS = [application.input];
const SOURCE = "SOURCE_SQL_STREAM_001";
/** A multiple of a minute, so windows start at T0. */
const T0 = 1_699_999_980_000;

function record(stream: string, app: Application): OutputRow[] {
  const rows: OutputRow[] = [];
  app.subscribe(stream, (row) => rows.push(row));
  return rows;
}

/** Beacons for one 10 s window starting at `start`: `impressions` spread over it, `clicks` with the first ones. */
function feedWindow(app: Application, start: number, impressions: number, clicks: number): void {
  for (let i = 0; i < impressions; i++) {
    const t = start + Math.floor((i * 10_000) / impressions);
    app.insert(SOURCE, { browseraction: "Impression", site: "example.com" }, t);
    if (i < clicks) app.insert(SOURCE, { browseraction: "Click", site: "example.com" }, t);
  }
}

describe("the seed SQL", () => {
  it("compiles, with the streams it declares", () => {
    const app = compile(SEED_SQL, { inputs: INPUTS });
    expect(app.streamNames.sort()).toEqual(["CLICKSTREAM", "CTRSTREAM", "DESTINATION_SQL_STREAM", "IMPRESSIONSTREAM", SOURCE].sort());
    expect(app.columns("DESTINATION_SQL_STREAM")).toEqual([
      { name: "CTRPERCENT", type: { name: "DOUBLE" } },
      { name: "ANOMALY_SCORE", type: { name: "DOUBLE" } },
    ]);
  });

  it("counts clicks and impressions in 10-second tumbling windows, one row per window at its end", () => {
    const app = compile(SEED_SQL, { inputs: INPUTS });
    const clicks = record("CLICKSTREAM", app);
    const impressions = record("IMPRESSIONSTREAM", app);
    const counts: [number, number][] = [[40, 4], [25, 5], [33, 0], [10, 10]];
    counts.forEach(([n, c], k) => feedWindow(app, T0 + k * 10_000, n, c));

    // The last window is still open: nothing ends it until a later record or the clock passes its end.
    expect(impressions.map((r) => [r.rowtime, r.values])).toEqual([
      [T0 + 10_000, [40]],
      [T0 + 20_000, [25]],
      [T0 + 30_000, [33]],
    ]);
    // No click in the third window: COUNT(*) over a group without rows emits no row.
    expect(clicks.map((r) => [r.rowtime, r.values])).toEqual([
      [T0 + 10_000, [4]],
      [T0 + 20_000, [5]],
    ]);
    app.advanceTo(T0 + 40_000 - 1);
    expect(impressions).toHaveLength(3);
    app.advanceTo(T0 + 40_000);
    expect(impressions.at(-1)).toEqual({ stream: "IMPRESSIONSTREAM", rowtime: T0 + 40_000, values: [10] });
    expect(clicks.at(-1)).toEqual({ stream: "CLICKSTREAM", rowtime: T0 + 40_000, values: [10] });
  });

  it("joins the two counts on ROWTIME into CTR = clicks / impressions * 100 as a DOUBLE", () => {
    const app = compile(SEED_SQL, { inputs: INPUTS });
    const ctr = record("CTRSTREAM", app);
    feedWindow(app, T0, 7, 3);
    feedWindow(app, T0 + 10_000, 45, 0);
    feedWindow(app, T0 + 20_000, 40, 4);
    app.advanceTo(T0 + 30_000);
    // 3 / 7 * 100 in IEEE doubles, as Java computes it; the window without clicks has no CTR row (inner join).
    expect(ctr.map((r) => [r.rowtime, r.values[0]])).toEqual([
      [T0 + 10_000, (3 / 7) * 100],
      [T0 + 20_000 + 10_000, 10],
    ]);
    expect(ctr[0].values[0]).toBe(42.857142857142854);
  });

  it("would give 0 with INTEGER counts, as the blog warns (integer division truncates)", () => {
    const integerSql = SEED_SQL.replace(/"CLICKCOUNT" DOUBLE/, '"CLICKCOUNT" INTEGER').replace(/"IMPRESSIONCOUNT" DOUBLE/, '"IMPRESSIONCOUNT" INTEGER');
    const app = compile(integerSql, { inputs: INPUTS });
    const ctr = record("CTRSTREAM", app);
    feedWindow(app, T0, 40, 4);
    app.advanceTo(T0 + 10_000);
    expect(ctr.map((r) => r.values[0])).toEqual([0]);
  });

  it("scores CTRs with RANDOM_CUT_FOREST: nothing before 12 windows, then only the anomalous window passes ANOMALY_SCORE > 2", () => {
    const app = compile(SEED_SQL, { inputs: INPUTS, seed: 1 });
    const ctr = record("CTRSTREAM", app);
    const alerts = record("DESTINATION_SQL_STREAM", app);
    const clicksPerWindow = [4, 5, 4, 3, 4, 5, 4, 4, 3, 5, 4, 4, 5, 4, 3, 4, 4, 5, 4, 4, 20, 4, 4, 5, 4, 3, 4];
    clicksPerWindow.forEach((c, k) => feedWindow(app, T0 + k * 10_000, 40, c));
    app.advanceTo(T0 + clicksPerWindow.length * 10_000);
    expect(ctr).toHaveLength(clicksPerWindow.length);
    expect(alerts.map((r) => r.values[0])).toEqual([50]);
    expect(alerts[0].rowtime).toBe(T0 + 21 * 10_000);
    expect(alerts[0].values[1]).toBeGreaterThan(2);
    expect(toCsvLine(app.columns("DESTINATION_SQL_STREAM"), alerts[0].values)).toMatch(/^50\.0,\d+\.\d+\n$/);
  });

  it("continues from a snapshot (JSON, mid-window, mid-forest) exactly as an uninterrupted run", () => {
    const random = new SeededRandom(3);
    const input: [string, number][] = [];
    let t = T0 + 1234;
    for (let i = 0; i < 3000; i++) {
      t += 100 + Math.floor(random.next() * 200);
      input.push(["Impression", t]);
      const rate = i >= 2000 && i < 2150 ? 0.5 : 0.1;
      if (random.next() < rate) input.push(["Click", t]);
    }
    const run = (app: Application, rows: [string, number][]) => rows.forEach(([action, time]) => app.insert(SOURCE, { browseraction: action }, time));
    const watch = (app: Application) => {
      const rows: OutputRow[] = [];
      for (const stream of ["CTRSTREAM", "DESTINATION_SQL_STREAM"]) app.subscribe(stream, (row) => rows.push(row));
      return rows;
    };

    const whole = compile(SEED_SQL, { inputs: INPUTS, seed: 9 });
    const expected = watch(whole);
    run(whole, input);
    whole.advanceTo(t + 60_000);

    const half = Math.floor(input.length * 0.6) + 1; // lands inside a window
    const first = compile(SEED_SQL, { inputs: INPUTS, seed: 9 });
    const before = watch(first);
    run(first, input.slice(0, half));
    const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
    const second = compile(SEED_SQL, { inputs: INPUTS, seed: 9 });
    second.restore(snapshot);
    const after = watch(second);
    run(second, input.slice(half));
    second.advanceTo(t + 60_000);

    expect(expected.filter((r) => r.stream === "CTRSTREAM").length).toBeGreaterThan(50);
    expect(expected.filter((r) => r.stream === "DESTINATION_SQL_STREAM").length).toBeGreaterThan(0);
    expect(before.length).toBeGreaterThan(0);
    expect([...before, ...after]).toEqual(expected);
    expect(second.snapshot()).toEqual(whole.snapshot());
  });

  it("refuses a snapshot of another application", () => {
    const snapshot = compile(SEED_SQL, { inputs: INPUTS, seed: 1 }).snapshot();
    const other = compile(SEED_SQL.replace("/ 10 TO SECOND", "/ 20 TO SECOND"), { inputs: INPUTS, seed: 1 });
    expect(() => other.restore(snapshot)).toThrow(expect.objectContaining({ code: "SQL_SNAPSHOT", message: expect.stringMatching(/another application/) }));
  });
});

describe("ROWTIME and input rows", () => {
  it("keeps ROWTIME monotonic: a late row takes the clock's time", () => {
    const app = compile('CREATE OR REPLACE STREAM "OUT" ("A" VARCHAR(32)); CREATE OR REPLACE PUMP "P" STARTED AS INSERT INTO "OUT" SELECT STREAM "browseraction" FROM "SOURCE_SQL_STREAM_001";', { inputs: INPUTS });
    const out = record("OUT", app);
    app.insert(SOURCE, { browseraction: "Click" }, T0 + 5000);
    app.insert(SOURCE, { browseraction: "Impression" }, T0 + 1000);
    expect(out.map((r) => r.rowtime)).toEqual([T0 + 5000, T0 + 5000]);
  });

  it("refuses a value that does not fit its column, naming it", () => {
    const app = compile(SEED_SQL, { inputs: INPUTS });
    expect(() => app.insert(SOURCE, { browseraction: 42 }, T0)).toThrow(expect.objectContaining({ code: "SQL_INPUT", message: expect.stringMatching(/column "browseraction" of SOURCE_SQL_STREAM_001.*VARCHAR\(32\)/) }));
    expect(() => app.insert(SOURCE, { browseraction: "x".repeat(33) }, T0)).toThrow(/at most 32 characters/);
    expect(() => app.insert("CTRSTREAM", {}, T0)).toThrow(/not an input stream/);
    expect(() => app.insert(SOURCE, {}, Number.NaN)).toThrow(/ROWTIME/);
  });
});

describe("other queries of the dialect", () => {
  const ORDERS = [{ name: "SOURCE_SQL_STREAM_001", columns: [{ name: "ticker", sqlType: "VARCHAR(4)" }, { name: "price", sqlType: "DOUBLE" }, { name: "qty", sqlType: "INTEGER" }] }];
  const trade = (app: Application, ticker: string, price: number, qty: number, t: number) => app.insert(SOURCE, { ticker, price, qty }, t);

  it("STEP windows partitioned by a column, with SUM, AVG, MIN, MAX and the window's ROWTIME", () => {
    const app = compile(
      `CREATE OR REPLACE STREAM "STATS" (t TIMESTAMP, ticker VARCHAR(4), n BIGINT, volume BIGINT, average DOUBLE, low DOUBLE, high DOUBLE);
       CREATE OR REPLACE PUMP "STATS_PUMP" STARTED AS INSERT INTO "STATS"
       SELECT STREAM ROWTIME, "ticker", COUNT(*), SUM("qty"), AVG("price"), MIN("price"), MAX("price")
       FROM "SOURCE_SQL_STREAM_001" AS s
       WHERE s."price" > 0
       GROUP BY "ticker", STEP(s.ROWTIME BY INTERVAL '60' SECOND);`,
      { inputs: ORDERS },
    );
    const stats = record("STATS", app);
    trade(app, "AMZN", 10, 1, T0 + 1_000);
    trade(app, "MSFT", 5, 2, T0 + 2_000);
    trade(app, "AMZN", 20, 3, T0 + 3_000);
    trade(app, "AMZN", -1, 100, T0 + 4_000);
    trade(app, "AMZN", 30, 1, T0 + 61_000);
    expect(stats.map((r) => r.values)).toEqual([
      [T0 + 60_000, "AMZN", 2, 4, 15, 10, 20],
      [T0 + 60_000, "MSFT", 1, 2, 5, 5, 5],
    ]);
  });

  it("FLOOR(ROWTIME TO MINUTE) windows, CAST and arithmetic", () => {
    const app = compile(
      `CREATE OR REPLACE STREAM "OUT" (label VARCHAR(20), doubled INTEGER);
       CREATE OR REPLACE PUMP "P" STARTED AS INSERT INTO "OUT"
       SELECT STREAM CAST(COUNT(*) AS VARCHAR(20)) || ' trades', CAST(SUM("qty") * 2 AS INTEGER)
       FROM "SOURCE_SQL_STREAM_001" GROUP BY FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE);`,
      { inputs: ORDERS },
    );
    const out = record("OUT", app);
    trade(app, "AMZN", 1, 3, T0 + 1_000);
    trade(app, "AMZN", 1, 4, T0 + 2_000);
    app.advanceTo(T0 + 60_000);
    expect(out.map((r) => r.values)).toEqual([["2 trades", 14]]);
  });

  it("sends a row that fails (division by zero) to error_stream and keeps going", () => {
    const app = compile(
      `CREATE OR REPLACE STREAM "OUT" (x DOUBLE);
       CREATE OR REPLACE PUMP "RATIO" STARTED AS INSERT INTO "OUT" SELECT STREAM "price" / "qty" FROM "SOURCE_SQL_STREAM_001";`,
      { inputs: ORDERS },
    );
    const out = record("OUT", app);
    const errors: unknown[] = [];
    app.subscribe("error_stream", (e) => errors.push(e));
    trade(app, "A", 10, 0, T0);
    trade(app, "A", 10, 4, T0 + 1);
    expect(out.map((r) => r.values)).toEqual([[2.5]]);
    expect(errors).toEqual([{ code: "SQL_RUNTIME", pump: "RATIO", rowtime: T0, message: "division by zero" }]);
  });

  it("raises a failed row when nobody listens to error_stream, instead of losing it", () => {
    const app = compile(
      `CREATE OR REPLACE STREAM "OUT" (x DOUBLE);
       CREATE OR REPLACE PUMP "RATIO" STARTED AS INSERT INTO "OUT" SELECT STREAM "price" / "qty" FROM "SOURCE_SQL_STREAM_001";`,
      { inputs: ORDERS },
    );
    expect(() => trade(app, "A", 10, 0, T0)).toThrow(expect.objectContaining({ code: "SQL_RUNTIME", message: expect.stringMatching(/pump RATIO dropped a row.*division by zero/) }));
  });

  it("RANDOM_CUT_FOREST with defaults, a shingle and pass-through columns", () => {
    const app = compile(
      `CREATE OR REPLACE STREAM "SCORED" (ticker VARCHAR(4), price DOUBLE, score DOUBLE);
       CREATE OR REPLACE PUMP "P" STARTED AS INSERT INTO "SCORED"
       SELECT STREAM "ticker", "price", ANOMALY_SCORE
       FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM "ticker", "price" FROM "SOURCE_SQL_STREAM_001"), 50, 32, 1000, 2));`,
      { inputs: ORDERS, seed: 4 },
    );
    const scored = record("SCORED", app);
    for (let i = 0; i < 200; i++) trade(app, "AMZN", 100 + (i % 5), 1, T0 + i * 1000);
    trade(app, "AMZN", 180, 1, T0 + 201_000);
    // One row needed to fill the shingle, then 32 to fill the sample: 33 zeros.
    expect(scored.slice(0, 33).every((r) => r.values[2] === 0)).toBe(true);
    expect(scored[33].values[2]).toBeGreaterThan(0);
    expect(scored.at(-1)!.values.slice(0, 2)).toEqual(["AMZN", 180]);
    expect(scored.at(-1)!.values[2]).toBeGreaterThan(2);
    expect(Math.max(...scored.slice(100, -1).map((r) => r.values[2] as number))).toBeLessThan(2);
  });
});
