// The local cloud's Kinesis event source mapping against kinesalite, as the Lambda developer
// guide describes it ("Using Lambda to process records from Amazon Kinesis Data Streams":
// polling and batching, batching window, 6 MB payload, error handling, in-order processing per
// partition key; after a reshard, a child shard's records after its parents', as the Kinesis
// developer guide's "Complete the resharding action" describes for ordered consumers). The
// invoked function is a recorder of the batches it gets; the clock of the batching window is
// moved by the test.
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, MergeShardsCommand, PutRecordsCommand, SplitShardCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startKinesalite } from "../local/kinesis/kinesalite";
import type { RunningEmulator } from "../local/dynamodb/dynalite";
import { ManualClock } from "../local/lib/clock";
import { KinesisEventSourceMapping, PAYLOAD_LIMIT_BYTES, type KinesisMappingConfig } from "../local/lambda/event-source-mapping";
import { lambdaResources } from "../local/lambda/resources";
import type { InvokeResult } from "../local/lambda/service";

interface Delivered {
  shard: string;
  keys: string[];
  bytes: number;
}

let kinesalite: RunningEmulator;
let kinesis: KinesisClient;
let streams = 0;
const mappings: KinesisEventSourceMapping[] = [];

beforeAll(async () => {
  kinesalite = await startKinesalite();
  kinesis = new KinesisClient({ region: "us-east-1", endpoint: kinesalite.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" }, requestHandler: new NodeHttpHandler() });
});

afterEach(async () => {
  await Promise.all(mappings.splice(0).map((m) => m.stop()));
});

afterAll(async () => {
  await kinesalite?.stop();
});

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

async function newStream(shards: number): Promise<string> {
  const name = `esm-${++streams}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  // As in AWS, a stream takes records once it is ACTIVE (under load kinesalite takes a while).
  await untilActive(name);
  return name;
}

async function untilActive(stream: string) {
  for (;;) {
    const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (StreamDescriptionSummary?.StreamStatus === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Puts records `key-<n>|...` (n from `from`) with 20 partition keys in turn (`pk-<n % 20>`). */
async function put(stream: string, from: number, count: number, dataBytes = 10) {
  const records = Array.from({ length: count }, (_, i) => ({ Data: Buffer.alloc(dataBytes, 97), PartitionKey: `pk-${(from + i) % 20}` }));
  // PutRecords takes at most 500 records and 5 MB a call.
  const perCall = Math.min(500, Math.floor((4 * 1024 * 1024) / (dataBytes + 100)));
  for (let i = 0; i < records.length; i += perCall) {
    await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: records.slice(i, i + perCall).map((r, j) => ({ ...r, Data: Buffer.concat([Buffer.from(`key-${from + i + j}|`), r.Data]) })) }));
  }
}

/** A mapping whose function records each batch (and fails the batches `fail` says to). */
async function startMapping(stream: string, settings: Partial<KinesisMappingConfig>, options: { fail?: (batch: Delivered, attempt: number) => boolean } = {}) {
  const batches: Delivered[] = [];
  const attempts = new Map<string, number>();
  // The window's clock stands still until the test moves it.
  const clock = new ManualClock(0);
  const mapping = new KinesisEventSourceMapping(
    {
      uuid: `mapping-${stream}`,
      functionArn: "arn:aws:lambda:us-east-1:111111111111:function:recorder",
      streamArn: `arn:aws:kinesis:us-east-1:111111111111:stream/${stream}`,
      batchSize: 100,
      batchingWindowSeconds: 0,
      startingPosition: "TRIM_HORIZON",
      maximumRetryAttempts: -1,
      region: "us-east-1",
      roleArn: "arn:aws:iam::111111111111:role/recorder",
      ...settings,
    },
    {
      kinesis,
      invoke: async (_arn, event): Promise<InvokeResult> => {
        const records = (event as { Records: { eventID: string; kinesis: { data: string } }[] }).Records;
        const batch: Delivered = {
          shard: records[0].eventID.split(":")[0],
          keys: records.map((r) => Buffer.from(r.kinesis.data, "base64").toString("utf8").split("|")[0]),
          bytes: Buffer.byteLength(JSON.stringify(event)),
        };
        const attempt = (attempts.get(batch.keys[0]) ?? 0) + 1;
        attempts.set(batch.keys[0], attempt);
        if (options.fail?.(batch, attempt)) return { ok: false, requestId: "r", durationMs: 1, error: { errorType: "Error", errorMessage: "recorder failed" } };
        batches.push(batch);
        return { ok: true, requestId: "r", durationMs: 1, payload: "null" };
      },
      clock,
      log: () => {},
      idlePollMs: 5,
    },
  );
  mappings.push(mapping);
  await mapping.start();
  return { batches, mapping, advance: (ms: number) => clock.advance(ms) };
}

const keysOf = (batches: Delivered[]) => batches.flatMap((b) => b.keys);
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => `key-${from + i}`);

describe("Kinesis event source mapping", () => {
  it("with a batching window, gathers records until the window is over or the batch is full", async () => {
    const stream = await newStream(1);
    const { batches, advance } = await startMapping(stream, { batchSize: 10, batchingWindowSeconds: 5 });
    await put(stream, 0, 4);
    await new Promise((resolve) => setTimeout(resolve, 100)); // many polls, the window's clock standing still
    expect(batches).toEqual([]);
    await advance(5_000);
    await until(() => batches.length === 1, "the window's batch");
    expect(keysOf(batches)).toEqual(range(0, 4));

    // A full batch goes at once, without waiting for the window.
    await put(stream, 4, 10);
    await until(() => batches.length === 2, "the full batch");
    expect(batches[1].keys).toEqual(range(4, 10));
  });

  it("keeps each invocation's event within the 6 MB payload limit, in order", async () => {
    const stream = await newStream(1);
    const { batches } = await startMapping(stream, { batchSize: 100 });
    await put(stream, 0, 12, 700_000); // 700 KB records: about 930 KB each in the event (base64)
    await until(() => keysOf(batches).length === 12, "every record");
    expect(keysOf(batches)).toEqual(range(0, 12));
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(batch.bytes).toBeLessThanOrEqual(PAYLOAD_LIMIT_BYTES);
  });

  it("retries a failing batch, in order, before the shard's next records", async () => {
    const stream = await newStream(1);
    const { batches } = await startMapping(stream, { batchSize: 5 }, { fail: (batch, attempt) => batch.keys[0] === "key-0" && attempt < 3 });
    await put(stream, 0, 10);
    await until(() => keysOf(batches).length === 10, "every record");
    expect(keysOf(batches)).toEqual(range(0, 10));
  });

  it("after a split and a merge, reads each child from its start once its parents are read to their end: every record once, each key in order", async () => {
    const stream = await newStream(1);
    await put(stream, 0, 60);
    await kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: "shardId-000000000000", NewStartingHashKey: (2n ** 127n).toString() }));
    await untilActive(stream);
    await put(stream, 60, 60);
    // Started after the split: the children have records waiting while the parent is read.
    const { batches } = await startMapping(stream, { batchSize: 7 });
    await until(() => keysOf(batches).length === 120, "the split's records");
    await kinesis.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: "shardId-000000000001", AdjacentShardToMerge: "shardId-000000000002" }));
    await untilActive(stream);
    await put(stream, 120, 60);
    await until(() => keysOf(batches).length === 180, "the merge's records");

    const all = keysOf(batches);
    expect([...all].sort()).toEqual(range(0, 180).sort());
    const order = (shard: string) => batches.findIndex((b) => b.shard === shard);
    const last = (shard: string) => batches.findLastIndex((b) => b.shard === shard);
    expect(last("shardId-000000000000")).toBeLessThan(Math.min(order("shardId-000000000001"), order("shardId-000000000002")));
    expect(Math.max(last("shardId-000000000001"), last("shardId-000000000002"))).toBeLessThan(order("shardId-000000000003"));
    // Per partition key, the order they were put in.
    for (let key = 0; key < 20; key++) {
      const ofKey = all.filter((k) => Number(k.slice(4)) % 20 === key).map((k) => Number(k.slice(4)));
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }
  });

  it("a LATEST mapping follows a split that happens while it runs", async () => {
    const stream = await newStream(1);
    await put(stream, 0, 5); // before the mapping: not read
    const { batches } = await startMapping(stream, { startingPosition: "LATEST" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await put(stream, 5, 10);
    await until(() => keysOf(batches).length === 10, "the parent's new records");
    await kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: "shardId-000000000000", NewStartingHashKey: (2n ** 127n).toString() }));
    await untilActive(stream);
    await put(stream, 15, 20);
    await until(() => keysOf(batches).length === 30, "the children's records");
    expect([...keysOf(batches)].sort()).toEqual(range(5, 30).sort());
  });

  it("is refused at deploy with a parallelization factor it does not emulate", async () => {
    const mapping = lambdaResources.aws_lambda_event_source_mapping;
    const services = { lambda: { getFunction: () => ({ arn: "arn:aws:lambda:us-east-1:111111111111:function:f", roleArn: "arn:aws:iam::111111111111:role/r" }) } };
    const config = { event_source_arn: "arn:aws:kinesis:us-east-1:111111111111:stream/s", function_name: "f", parallelization_factor: 2 };
    await expect(Promise.resolve().then(() => mapping({ config, services } as never))).rejects.toThrow(/parallelization_factor 2 is not emulated/);
  });
});
