// The clickstream Lambdas against real Kinesis and DynamoDB emulators on loopback: the SQL
// runtime on beacon batches and clock ticks (state in DynamoDB, CSV rows on the output stream),
// and the anomaly function's alert text. Publishing to SNS is covered end to end on the local cloud.
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { startDynalite, type RunningEmulator } from "../local/dynamodb/dynalite";
import { startKinesalite } from "../local/kinesis/kinesalite";
import { captureStdout } from "./helpers/stdout-lines";
import { anomalyAlert } from "../lambdas/clickstream-anomaly/message";
import { StateStore } from "../lambdas/clickstream-sql-runtime/state-store";
import application from "../sql/clickstream.application.json";
import { compile, type OutputRow } from "../lambdas/lib/streaming-sql";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const OUTPUT_STREAM = "CSEKinesisBeaconOutputStream";
const TABLE = "ClickstreamSqlState";
const SITE = "abc123.execute-api.us-east-1.amazonaws.com";
/** A multiple of 10 s: window k is [T0 + 10k s, T0 + 10(k+1) s). */
const T0 = 1_699_999_980_000;
const SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;

type Runtime = typeof import("../lambdas/clickstream-sql-runtime/index");

let dynamo: RunningEmulator;
let kinesis: RunningEmulator;
let kinesisClient: KinesisClient;
let dynamodbClient: DynamoDBClient;

/** The record API Gateway's beacon template writes (spaces and all). */
const beacon = (action: string) => `{ "browseraction" : "${action}", "site" : "${SITE}" }`;

let sequence = 0n;
function kinesisEvent(records: { data: string; arrivalMs: number; shard?: string }[], raw = false) {
  return {
    Records: records.map(({ data, arrivalMs, shard = "shardId-000000000000" }) => {
      const sequenceNumber = String(SEQUENCE_BASE + sequence++);
      return {
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: SITE,
          sequenceNumber,
          data: raw ? data : Buffer.from(data, "utf8").toString("base64"),
          approximateArrivalTimestamp: arrivalMs / 1000,
        },
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${shard}:${sequenceNumber}`,
        eventName: "aws:kinesis:record",
        awsRegion: "us-east-1",
        eventSourceARN: "arn:aws:kinesis:us-east-1:111111111111:stream/CSEKinesisBeaconInputStream",
      };
    }),
  };
}

/** Beacons of window k: `impressions` over the window, `clicks` of them followed by a click. */
function windowBeacons(k: number, impressions: number, clicks: number) {
  const records: { data: string; arrivalMs: number }[] = [];
  for (let i = 0; i < impressions; i++) {
    const arrivalMs = T0 + k * 10_000 + Math.floor((i * 10_000) / impressions);
    records.push({ data: beacon("Impression"), arrivalMs });
    if (i < clicks) records.push({ data: beacon("Click"), arrivalMs });
  }
  return records;
}

const scheduledEvent = (timeMs: number) => ({
  version: "0",
  id: "d0c2b8e4-1111-2222-3333-444455556666",
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account: "111111111111",
  time: new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, "Z"),
  region: "us-east-1",
  resources: ["arn:aws:events:us-east-1:111111111111:rule/platform-clickstream-tick"],
  detail: {},
});

let outputIterator: string | undefined;
async function readOutput(): Promise<string[]> {
  const page = await kinesisClient.send(new GetRecordsCommand({ ShardIterator: outputIterator! }));
  outputIterator = page.NextShardIterator;
  return (page.Records ?? []).map((r) => Buffer.from(r.Data!).toString("utf8"));
}

/** A fresh Lambda container: the module is loaded again, with nothing cached. */
async function coldStart(): Promise<Runtime["handler"]> {
  vi.resetModules();
  return (await import("../lambdas/clickstream-sql-runtime/index")).handler;
}

/** The state stored in DynamoDB, restored into a fresh application that records what `stream` emits. */
async function storedApplication(stream: string) {
  const stored = await new StateStore(dynamodbClient, TABLE, "clickstream").load();
  const app = compile(readFileSync(new URL("../sql/clickstream.sql", import.meta.url), "utf8"), { inputs: [application.input] });
  app.restore(stored.snapshot!);
  const rows: OutputRow[] = [];
  app.subscribe(stream, (row) => rows.push(row));
  return { stored, app, rows };
}

beforeAll(async () => {
  dynamo = await startDynalite();
  kinesis = await startKinesalite();
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
    OUTPUT_STREAM_NAME: OUTPUT_STREAM,
    STATE_TABLE_NAME: TABLE,
  });
  dynamodbClient = new DynamoDBClient({ region: "us-east-1", endpoint: dynamo.endpoint, credentials });
  await dynamodbClient.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: "application", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "application", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  kinesisClient = new KinesisClient({ region: "us-east-1", endpoint: kinesis.endpoint, credentials, requestHandler: new NodeHttpHandler() });
  await kinesisClient.send(new CreateStreamCommand({ StreamName: OUTPUT_STREAM, ShardCount: 1 }));
  const iterator = await kinesisClient.send(
    new GetShardIteratorCommand({ StreamName: OUTPUT_STREAM, ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }),
  );
  outputIterator = iterator.ShardIterator;
});

afterAll(async () => {
  await dynamo?.stop();
  await kinesis?.stop();
});

describe("clickstream-sql-runtime", () => {
  beforeEach(async () => {
    await dynamodbClient.send(new DeleteItemCommand({ TableName: TABLE, Key: { application: { S: "clickstream" } } }));
    await readOutput(); // skip what earlier tests wrote
  });

  it("runs the seed SQL across invocations and containers, writing the anomalous window as CSV", async () => {
    let handler = await coldStart();
    const clicks = [4, 5, 4, 3, 4, 5, 4, 4, 3, 5, 4, 4, 5, 4, 3, 4, 4, 5, 4, 4, 20, 4];
    for (let k = 0; k < clicks.length; k++) {
      // A new container half way: the state comes from DynamoDB, not from memory.
      if (k === 11) handler = await coldStart();
      const summary = await handler(kinesisEvent(windowBeacons(k, 40, clicks[k])));
      expect(summary).toMatchObject({ records: 40 + clicks[k], inserted: 40 + clicks[k], duplicates: 0, rejected: 0 });
      // Window k-1 closed when window k's first record arrived; only window 20 (50 %) is an anomaly.
      expect(summary.outputs).toBe(k === 21 ? 1 : 0);
    }
    const [row] = await readOutput();
    expect(row).toMatch(/^50\.0,(\d+\.\d+)\n$/);
    expect(Number(row.split(",")[1])).toBeGreaterThan(2);
  });

  it("closes the last window on a clock tick when traffic stops", async () => {
    const handler = await coldStart();
    for (let k = 0; k < 14; k++) await handler(kinesisEvent(windowBeacons(k, 40, 4)));
    await handler(kinesisEvent(windowBeacons(14, 40, 30)));
    expect(await readOutput()).toEqual([]);

    // The tick's time minus the 5 s grace must pass the window's end (T0 + 150 s).
    const early = await handler(scheduledEvent(T0 + 154_000));
    // The last beacon arrived at T0 + 149.75 s: a tick never moves the clock back.
    expect(early).toMatchObject({ records: 0, outputs: 0, clock: T0 + 149_750 });
    const late = await handler(scheduledEvent(T0 + 156_000));
    expect(late.outputs).toBe(1);
    expect(await readOutput()).toEqual([expect.stringMatching(/^75\.0,\d+\.\d+\n$/)]);
  });

  it("does not count a batch twice when Lambda delivers it again", async () => {
    const handler = await coldStart();
    const batch = kinesisEvent(windowBeacons(0, 20, 5));
    expect(await handler(batch)).toMatchObject({ inserted: 25, duplicates: 0 });
    expect(await handler(batch)).toMatchObject({ inserted: 0, duplicates: 25 });
    const { app, rows } = await storedApplication("IMPRESSIONSTREAM");
    app.advanceTo(T0 + 10_000);
    expect(rows.map((r) => r.values)).toEqual([[20]]);
  });

  it("keeps both invocations' work when a batch and a tick, or two shards, run at once", async () => {
    const first = await coldStart();
    const second = await coldStart(); // another container
    const shardA = windowBeacons(0, 10, 0).map((r) => ({ ...r, shard: "shardId-000000000000" }));
    const shardB = windowBeacons(0, 10, 5).map((r) => ({ ...r, shard: "shardId-000000000001" }));
    const log = captureStdout();
    const results = await Promise.all([first(kinesisEvent(shardA)), second(kinesisEvent(shardB)), first(scheduledEvent(T0 + 5_000))]);
    const conflicts = log.json().filter((line) => line.code === "STATE_CONFLICT");
    log.restore();
    expect(results.map((r) => r.inserted)).toEqual([10, 15, 0]);
    // All three read the same version, so two of them lost the conditional write and redid their work.
    expect(conflicts.length).toBeGreaterThanOrEqual(2);

    const { stored, app, rows } = await storedApplication("CTRSTREAM");
    expect(Object.keys(stored.shards).sort()).toEqual(["shardId-000000000000", "shardId-000000000001"]);
    app.advanceTo(T0 + 10_000);
    // 5 clicks over the 20 impressions of both shards: nothing was lost to a concurrent write.
    expect(rows.map((r) => r.values[0])).toEqual([25]);
  });

  it("rejects records the input schema cannot read, logs why, and keeps the rest", async () => {
    const handler = await coldStart();
    const log = captureStdout();
    const event = kinesisEvent([
      { data: beacon("Impression"), arrivalMs: T0 },
      { data: "not json", arrivalMs: T0 + 1 },
      { data: '{ "browseraction" : 5 }', arrivalMs: T0 + 2 },
      { data: `{ "browseraction" : "${"x".repeat(40)}" }`, arrivalMs: T0 + 3 },
      { data: "[1,2]", arrivalMs: T0 + 4 },
      { data: beacon("Click"), arrivalMs: T0 + 5 },
    ]);
    event.Records.push(kinesisEvent([{ data: "%%%not-base64", arrivalMs: T0 + 6 }], true).Records[0]);
    const summary = await handler(event);
    const lines = log.json();
    log.restore();
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

  it("refuses events it does not know and a missing configuration, by name", async () => {
    const handler = await coldStart();
    await expect(handler({ hello: "world" })).rejects.toMatchObject({ code: "UNKNOWN_EVENT" });
    const saved = process.env.OUTPUT_STREAM_NAME;
    delete process.env.OUTPUT_STREAM_NAME;
    await expect(handler(scheduledEvent(T0))).rejects.toThrow(/OUTPUT_STREAM_NAME is not set/);
    process.env.OUTPUT_STREAM_NAME = saved;
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
    const log = captureStdout();
    await expect(handler(kinesisEvent([{ data: "9.5,0.8\n", arrivalMs: T0 }]))).resolves.toEqual({ published: 0, skipped: 1 });
    log.restore();
    await expect(handler(kinesisEvent([{ data: "50.0,3.1\n", arrivalMs: T0 }]))).rejects.toThrow();
    await expect(handler({ Records: [{ eventSource: "aws:sqs" }] })).rejects.toMatchObject({ code: "UNKNOWN_EVENT" });
  });
});
