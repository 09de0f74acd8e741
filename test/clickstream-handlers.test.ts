// The clickstream Lambdas against real Kinesis and DynamoDB emulators on loopback: the SQL
// runtime on beacon batches and clock ticks (state in DynamoDB, CSV rows on the output stream),
// in both its modes, and the anomaly function's alert text. Publishing to SNS is covered end to
// end on the local cloud; many shards, failures and resharding in clickstream-scale.test.ts.
import { DeleteItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { anomalyAlert } from "../lambdas/clickstream-anomaly/message";
import { beacon, captureLogs, kinesisEvent, scheduledEvent, shardId, startRuntimeRig, streamReader, TABLE, type RuntimeRig } from "./helpers/clickstream-runtime";

const INPUT_STREAM = "CSEKinesisBeaconInputStream";
const OUTPUT_STREAM = "CSEKinesisBeaconOutputStream";
/** A multiple of 10 s: window k is [T0 + 10k s, T0 + 10(k+1) s). */
const T0 = 1_699_999_980_000;

let rig: RuntimeRig;
let readOutput: () => Promise<string[]>;

/** Beacons of window k: `impressions` over the window, `clicks` of them followed by a click. */
function windowBeacons(k: number, impressions: number, clicks: number, shard = shardId(0)) {
  const records: { data: string; arrivalMs: number; shard: string }[] = [];
  for (let i = 0; i < impressions; i++) {
    const arrivalMs = T0 + k * 10_000 + Math.floor((i * 10_000) / impressions);
    records.push({ data: beacon("Impression"), arrivalMs, shard });
    if (i < clicks) records.push({ data: beacon("Click"), arrivalMs, shard });
  }
  return records;
}

const batch = (records: Parameters<typeof kinesisEvent>[1], raw = false) => kinesisEvent(INPUT_STREAM, records, raw);

beforeAll(async () => {
  rig = await startRuntimeRig({ OUTPUT_STREAM_NAME: OUTPUT_STREAM, INPUT_STREAM_NAME: INPUT_STREAM });
  await rig.createStream(OUTPUT_STREAM, 1);
  await rig.createStream(INPUT_STREAM, 2);
  const read = streamReader(rig.kinesis, OUTPUT_STREAM);
  readOutput = async () => (await read()).map((r) => r.data);
});

afterAll(async () => {
  await rig?.stop();
});

// A test that fails while collecting log lines leaves none collected for the next.
afterEach(() => {
  vi.restoreAllMocks();
});

describe("clickstream-sql-runtime", () => {
  beforeEach(async () => {
    const { Items } = await rig.dynamodb.send(new ScanCommand({ TableName: TABLE }));
    for (const item of Items ?? []) await rig.dynamodb.send(new DeleteItemCommand({ TableName: TABLE, Key: { application: item.application } }));
    delete process.env.SQL_RUNTIME_MODE;
    await readOutput(); // skip what earlier tests wrote
  });

  it("runs the seed SQL across invocations and containers, writing the anomalous window as CSV", async () => {
    let handler = await rig.coldStart();
    const logs = captureLogs();
    const clicks = [4, 5, 4, 3, 4, 5, 4, 4, 3, 5, 4, 4, 5, 4, 3, 4, 4, 5, 4, 4, 20, 4];
    // Both open shards count: shard 1 sends one beacon per window, so windows close as both pass them.
    for (let k = 0; k < clicks.length; k++) {
      // A new container half way: the state comes from DynamoDB, not from memory.
      if (k === 11) handler = await rig.coldStart();
      await handler(batch([{ data: beacon("Impression"), arrivalMs: T0 + k * 10_000, shard: shardId(1) }]));
      const summary = await handler(batch(windowBeacons(k, 40, clicks[k])));
      expect(summary).toMatchObject({ mode: "partitioned", records: 40 + clicks[k], inserted: 40 + clicks[k], duplicates: 0, rejected: 0 });
      // Window k-1 closed when both shards had passed its end; only window 20 (20 of 41 impressions) is an anomaly.
      expect(summary.windowsClosed).toBe(k === 0 ? 0 : 1);
      expect(summary.outputs).toBe(k === 21 ? 1 : 0);
    }
    const closed = logs.take().filter((l) => l.code === "WINDOW_CLOSED");
    logs.restore();
    expect(closed[3]).toMatchObject({ end: T0 + 40_000, rows: { CLICKSTREAM: [[3]], IMPRESSIONSTREAM: [[41]] } });
    const [row] = await readOutput();
    expect(row).toMatch(/^48\.78048780487805,(\d+\.\d+)\n$/);
    expect(Number(row.split(",")[1])).toBeGreaterThan(2);
  });

  it("closes the last window on a clock tick when traffic stops", async () => {
    const handler = await rig.coldStart();
    for (let k = 0; k < 14; k++) await handler(batch([...windowBeacons(k, 40, 4), ...windowBeacons(k, 1, 0, shardId(1))]));
    await handler(batch([...windowBeacons(14, 40, 30), ...windowBeacons(14, 1, 0, shardId(1))]));
    expect(await readOutput()).toEqual([]);

    // The tick's time minus the 5 s grace must pass the window's end (T0 + 150 s).
    const early = await handler(scheduledEvent(T0 + 154_000));
    expect(early).toMatchObject({ records: 0, windowsClosed: 0, outputs: 0 });
    const late = await handler(scheduledEvent(T0 + 156_000));
    expect(late).toMatchObject({ windowsClosed: 1, outputs: 1, clock: T0 + 151_000 });
    // 30 clicks over 41 impressions (shard 1 sent one).
    expect(await readOutput()).toEqual([expect.stringMatching(/^73\.17073170731707,\d+\.\d+\n$/)]);
  });

  it("does not count a batch twice when Lambda delivers it again", async () => {
    const handler = await rig.coldStart();
    const event = batch(windowBeacons(0, 20, 5));
    expect(await handler(event)).toMatchObject({ inserted: 25, duplicates: 0 });
    expect(await handler(event)).toMatchObject({ inserted: 0, duplicates: 25 });
    const logs = captureLogs();
    await handler(scheduledEvent(T0 + 20_000));
    const closed = logs.take().filter((l) => l.code === "WINDOW_CLOSED");
    logs.restore();
    expect(closed).toEqual([expect.objectContaining({ end: T0 + 10_000, rows: { CLICKSTREAM: [[5]], IMPRESSIONSTREAM: [[20]] } })]);
  });

  it("counts two shards at once without a conflict, each in its own item", async () => {
    const [first, second] = [await rig.coldStart(), await rig.coldStart()];
    const logs = captureLogs();
    const results = await Promise.all([first(batch(windowBeacons(0, 10, 0, shardId(0)))), second(batch(windowBeacons(0, 10, 5, shardId(1))))]);
    await first(scheduledEvent(T0 + 20_000));
    const lines = logs.take();
    logs.restore();
    expect(results.map((r) => r.inserted)).toEqual([10, 15]);
    const invocations = lines.filter((l) => l.code === "INVOCATION" && l.event === "records");
    expect(invocations.map((l) => l.conflicts)).toEqual([0, 0]);
    expect(lines.find((l) => l.code === "WINDOW_CLOSED")).toMatchObject({ rows: { CLICKSTREAM: [[5]], IMPRESSIONSTREAM: [[20]] } });
  });

  it("as a single writer (SQL_RUNTIME_MODE=single-writer), keeps both invocations' work when two shards and a tick contend for its one item", async () => {
    process.env.SQL_RUNTIME_MODE = "single-writer";
    const first = await rig.coldStart();
    const second = await rig.coldStart(); // another container
    const logs = captureLogs();
    const results = await Promise.all([first(batch(windowBeacons(0, 10, 0, shardId(0)))), second(batch(windowBeacons(0, 10, 5, shardId(1)))), first(scheduledEvent(T0 + 5_000))]);
    await first(scheduledEvent(T0 + 15_000));
    const lines = logs.take();
    logs.restore();
    expect(results.map((r) => [r.mode, r.inserted])).toEqual([["single-writer", 10], ["single-writer", 15], ["single-writer", 0]]);
    // All three read the same version, so two of them lost the conditional write and redid their work.
    expect(lines.filter((l) => l.code === "STATE_CONFLICT").length).toBeGreaterThanOrEqual(2);
    // 5 clicks over the 20 impressions of both shards: nothing was lost to a concurrent write.
    expect(lines.find((l) => l.code === "WINDOW_CLOSED")).toMatchObject({ end: T0 + 10_000, rows: { CLICKSTREAM: [[5]], IMPRESSIONSTREAM: [[20]] } });
  });

  it("rejects records the input schema cannot read, logs why, and keeps the rest", async () => {
    const handler = await rig.coldStart();
    const logs = captureLogs();
    const shard = shardId(0);
    const event = batch([
      { data: beacon("Impression"), arrivalMs: T0, shard },
      { data: "not json", arrivalMs: T0 + 1, shard },
      { data: '{ "browseraction" : 5 }', arrivalMs: T0 + 2, shard },
      { data: `{ "browseraction" : "${"x".repeat(40)}" }`, arrivalMs: T0 + 3, shard },
      { data: "[1,2]", arrivalMs: T0 + 4, shard },
      { data: beacon("Click"), arrivalMs: T0 + 5, shard },
    ]);
    event.Records.push(batch([{ data: "%%%not-base64", arrivalMs: T0 + 6, shard }], true).Records[0]);
    const summary = await handler(event);
    const lines = logs.take();
    logs.restore();
    expect(summary).toMatchObject({ records: 7, inserted: 2, rejected: 5 });
    const reasons = lines.filter((l) => l.code === "INPUT_REJECTED").map((l) => l.reason);
    expect(reasons).toEqual([
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/column "browseraction".*expected VARCHAR\(32\), got 5/),
      expect.stringMatching(/at most 32 characters/),
      "not a JSON object",
      "data is not base64",
    ]);
  });

  it("refuses events it does not know and a missing or wrong configuration, by name", async () => {
    const handler = await rig.coldStart();
    await expect(handler({ hello: "world" })).rejects.toMatchObject({ code: "UNKNOWN_EVENT" });
    await expect(handler({ ...scheduledEvent(T0), time: "yesterday" })).rejects.toThrow(/"yesterday" is not an ISO 8601 time/);
    const saved = process.env.OUTPUT_STREAM_NAME;
    delete process.env.OUTPUT_STREAM_NAME;
    await expect(handler(scheduledEvent(T0))).rejects.toThrow(/OUTPUT_STREAM_NAME is not set/);
    process.env.OUTPUT_STREAM_NAME = saved;
    process.env.SQL_RUNTIME_MODE = "sharded";
    await expect(handler(scheduledEvent(T0))).rejects.toThrow(/SQL_RUNTIME_MODE must be "partitioned" or "single-writer", got "sharded"/);
  });
});

describe("clickstream-anomaly", () => {
  it("words the alert as the seed's Lambda does, from the CSV fields as written", () => {
    expect(anomalyAlert("50.0,3.6942723186108605\n")).toEqual({
      alert: {
        subject: "Anomaly Detected",
        message: "Anomaly detected with a click through rate of 50.0% and an anomaly score of 3.6942723186108605",
        ctr: "50.0",
        score: "3.6942723186108605",
      },
    });
  });

  it.each([
    ["1.5,1.9\n", /not above 2/],
    ["50.0\n", /1 field/],
    ["abc,3.1", /two numbers/],
    ["", /two numbers|1 field/],
  ])("skips %j", (csv, reason) => {
    const row = anomalyAlert(csv);
    expect("skip" in row && row.skip).toMatch(reason);
  });

  it("skips rows that are not alerts without calling SNS, and fails (for a retry) when SNS cannot take an alert", async () => {
    Object.assign(process.env, { TOPIC_ARN: "arn:aws:sns:us-east-1:111111111111:ClickStreamEvent", AWS_ENDPOINT_URL_SNS: "http://127.0.0.1:9" });
    vi.resetModules();
    const { handler } = await import("../lambdas/clickstream-anomaly/index");
    const rows = (data: string) => kinesisEvent(OUTPUT_STREAM, [{ data, arrivalMs: T0, shard: shardId(0) }]);
    const log = captureLogs();
    await expect(handler(rows("9.5,0.8\n"))).resolves.toEqual({ published: 0, skipped: 1 });
    log.restore();
    await expect(handler(rows("50.0,3.1\n"))).rejects.toThrow();
    await expect(handler({ Records: [{ eventSource: "aws:sqs" }] })).rejects.toMatchObject({ code: "UNKNOWN_EVENT" });
  });
});
