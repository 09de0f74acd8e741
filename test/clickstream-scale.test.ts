// The partitioned SQL runtime across many shards, driven as Lambda drives it (batches per shard,
// retried when an invocation fails, ticks from the schedule) against dynalite and kinesalite:
// the clickstream scenario split over 4 shards gives exactly the single-shard run's windows,
// scores and alerts, also when batches are delivered twice and invocations die between their
// writes; a quiet shard holds no window past the tick; a split and a merge lose and repeat
// nothing; a shard item stays small however far another shard falls behind.
import { DescribeStreamSummaryCommand, ListShardsCommand, MergeShardsCommand, PutRecordsCommand, SplitShardCommand } from "@aws-sdk/client-kinesis";
import { GetItemCommand as GetStateItemCommand } from "@aws-sdk/client-dynamodb";
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { anomalyAlert } from "../lambdas/clickstream-anomaly/message";
import { PARTIALS_SOFT_LIMIT } from "../lambdas/clickstream-sql-runtime/partitioned";
import { compile, toCsvLine } from "../lambdas/lib/streaming-sql";
import { SeededRandom } from "../lambdas/lib/seeded-random";
import type { LambdaContext } from "../lambdas/lib/lambda-context";
import application from "../sql/clickstream.application.json";
import { SEED_BEHAVIOUR, pacedBeacons } from "../scripts/lib/click-impressions";
import { TABLE, beacon, captureLogs, kinesisEvent, scheduledEvent, shardId, startRuntimeRig, streamReader, type EventRecord, type Fault, type Handler, type RuntimeRig } from "./helpers/clickstream-runtime";

const OUTPUT_STREAM = "CSEKinesisBeaconOutputStream";
/** A multiple of 10 s: window k is [T0 + 10k s, T0 + 10(k+1) s). */
const T0 = 1_699_999_980_000;
const GRACE_MS = 5_000;

let rig: RuntimeRig;
let readOutput: ReturnType<typeof streamReader>;
let runs = 0;

beforeAll(async () => {
  rig = await startRuntimeRig({ OUTPUT_STREAM_NAME: OUTPUT_STREAM, CLOCK_GRACE_SECONDS: String(GRACE_MS / 1000) });
  await rig.createStream(OUTPUT_STREAM, 1);
  readOutput = streamReader(rig.kinesis, OUTPUT_STREAM);
});

afterAll(async () => {
  await rig?.stop();
});

// A test that fails while collecting log lines leaves none collected for the next.
afterEach(() => {
  vi.restoreAllMocks();
});

/** Each test runs its own application (its own state items) on its own input stream. */
async function newRun(shards: number): Promise<{ stream: string; handler: Handler }> {
  const stream = `Beacons${++runs}`;
  await rig.createStream(stream, shards);
  Object.assign(process.env, { INPUT_STREAM_NAME: stream, APPLICATION_NAME: `clickstream-${runs}` });
  await readOutput(); // what earlier runs wrote
  return { stream, handler: await rig.coldStart() };
}

interface Outcome {
  /** WINDOW_CLOSED lines: each window's end and the counts per stream. */
  windows: { end: number; rows: Record<string, number[][]> }[];
  /** Rows on the output stream, as written. */
  outputs: { partitionKey: string; data: string }[];
  alerts: string[];
}

async function outcomeOf(lines: Record<string, any>[]): Promise<Outcome> {
  const windows = lines.filter((l) => l.code === "WINDOW_CLOSED").map((l) => ({ end: l.end as number, rows: l.rows }));
  const outputs = (await readOutput()).map(({ partitionKey, data }) => ({ partitionKey, data }));
  const alerts = outputs.map((o) => anomalyAlert(o.data)).flatMap((a) => ("alert" in a ? [a.alert.message] : []));
  return { windows: windows.sort((a, b) => a.end - b.end), outputs, alerts };
}

/** What Lambda does with a failed invocation: the same batch again, until it succeeds. */
async function deliver(handler: Handler, event: unknown, lambdaContext?: Parameters<Handler>[1]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await handler(event, lambdaContext);
      return;
    } catch (error) {
      if (attempt >= 3 || !String((error as Error).message).includes("injected fault")) throw error;
    }
  }
}

/** The default scenario's beacons, paced 50 per window as the generator sends them, starting 0.7 s into a window. */
const scenario = pacedBeacons({ ...SEED_BEHAVIOUR, seed: 18 }, 50, T0 + 700);
const scenarioEnd = scenario.at(-1)!.rowtime;

/** Splits records over shards as Kinesis does with random partition keys, each shard's in arrival order. */
function spread(shards: number, seed: number): EventRecord[][] {
  const random = new SeededRandom(seed);
  const byShard: EventRecord[][] = Array.from({ length: shards }, () => []);
  for (const b of scenario) {
    const shard = Math.floor(random.next() * shards);
    byShard[shard].push({ data: beacon(b.action), arrivalMs: b.rowtime, shard: shardId(shard) });
  }
  return byShard;
}

/**
 * Delivers each shard's records in batches of 1 to 60, the shards' batches interleaved at
 * random and now and then two shards' batches at once, as independent pollers deliver them;
 * `before` may repeat a batch or arm a fault first. Then the tick after the last record closes
 * the rest.
 */
async function feed(stream: string, handler: Handler, byShard: EventRecord[][], seed: number, options: { before?: (batchNo: number, event: unknown) => Promise<void>; lambdaContext?: Parameters<Handler>[1] } = {}) {
  const random = new SeededRandom(seed);
  const queues = byShard.map((records) => {
    const batches: EventRecord[][] = [];
    for (let i = 0; i < records.length; ) {
      const size = 1 + Math.floor(random.next() * 60);
      batches.push(records.slice(i, i + size));
      i += size;
    }
    return batches;
  });
  let batchNo = 0;
  const next = async (shard: number) => {
    const event = kinesisEvent(stream, queues[shard].shift()!);
    await options.before?.(batchNo++, event);
    await deliver(handler, event, options.lambdaContext);
  };
  while (queues.some((q) => q.length > 0)) {
    const ready = queues.map((q, i) => (q.length > 0 ? i : -1)).filter((i) => i >= 0);
    const a = ready[Math.floor(random.next() * ready.length)];
    const b = ready[Math.floor(random.next() * ready.length)];
    if (a !== b && random.next() < 0.3) await Promise.all([next(a), next(b)]);
    else await next(a);
  }
  await deliver(handler, scheduledEvent(scenarioEnd + 20_000 + GRACE_MS), options.lambdaContext);
}

/** The windows and rows one application gives for the scenario, every row inserted in arrival order. */
function engineOutcome() {
  const app = compile(readFileSync(new URL("../sql/clickstream.sql", import.meta.url), "utf8"), { inputs: [application.input] });
  const windows = new Map<number, Record<string, number[][]>>();
  for (const stream of ["CLICKSTREAM", "IMPRESSIONSTREAM"]) {
    app.subscribe(stream, (row) => {
      const window = windows.get(row.rowtime) ?? {};
      window[stream] = [row.values as number[]];
      windows.set(row.rowtime, window);
    });
  }
  const outputs: { partitionKey: string; data: string }[] = [];
  const columns = app.columns("DESTINATION_SQL_STREAM");
  app.subscribe("DESTINATION_SQL_STREAM", (row) => outputs.push({ partitionKey: String(row.rowtime), data: toCsvLine(columns, row.values) }));
  for (const b of scenario) app.insert(application.input.name, { browseraction: b.action, site: "x" }, b.rowtime);
  app.advanceTo(scenarioEnd + 20_000);
  return { windows: [...windows.entries()].sort(([a], [b]) => a - b).map(([end, rows]) => ({ end, rows })), outputs };
}

let singleShard: Outcome;

describe("the default scenario over many shards", () => {
  beforeAll(async () => {
    const { stream, handler } = await newRun(1);
    const logs = captureLogs();
    await feed(stream, handler, spread(1, 1), 1);
    singleShard = await outcomeOf(logs.take());
    logs.restore();
  });

  it("on one shard gives the windows and rows of one application seeing every record", () => {
    const engine = engineOutcome();
    expect(singleShard.windows).toEqual(engine.windows);
    expect(singleShard.outputs).toEqual(engine.outputs);
    expect(singleShard.windows.length).toBeGreaterThan(50);
    expect(singleShard.alerts.length).toBeGreaterThan(0);
    expect(singleShard.alerts[0]).toMatch(/^Anomaly detected with a click through rate of [\d.]+% and an anomaly score of [\d.]+$/);
  });

  it("split over 4 shards with interleaved arrival gives exactly the single-shard run's windows, scores and alerts", async () => {
    const { stream, handler } = await newRun(4);
    const logs = captureLogs();
    await feed(stream, handler, spread(4, 2), 3);
    const lines = logs.take();
    logs.restore();
    const outcome = await outcomeOf(lines);
    expect(outcome).toEqual(singleShard);
    // Shards wrote their own items: a conflict only when two shards closed the same window at once.
    const invocations = lines.filter((l) => l.code === "INVOCATION");
    const records = invocations.reduce((n, l) => n + l.records, 0);
    const conflicts = invocations.reduce((n, l) => n + l.conflicts, 0);
    expect(records).toBe(scenario.length);
    expect(conflicts).toBeLessThan(singleShard.windows.length / 2);
  });

  it("a batch delivered again and invocations that die between their writes change nothing", async () => {
    const { stream, handler } = await newRun(4);
    const logs = captureLogs();
    const windowsItem = new RegExp(`"clickstream-${runs}/windows"`);
    const frontierItem = new RegExp(`"clickstream-${runs}/frontier"`);
    const shardItem = new RegExp(`"clickstream-${runs}/shard/`);
    // Each fault fails the next request it matches, in whichever invocation makes it: that
    // invocation dies there and Lambda delivers its batch again.
    const faults = new Map<number, Fault>([
      [7, { operation: "PutItem", key: shardItem }], // before writing its partial windows
      [20, { operation: "GetItem", key: windowsItem }], // after writing its partial windows, before closing windows
      [33, { operation: "PutItem", key: windowsItem }], // while closing windows: the close is not written
      [46, { operation: "PutItem", key: frontierItem }], // after closing windows, before writing the rows out
    ]);
    await feed(stream, handler, spread(4, 4), 5, {
      before: async (batchNo, event) => {
        const fault = faults.get(batchNo);
        if (fault) rig.failNext(fault);
        // Delivered, and delivered again below (Lambda retries a batch whose answer it did not get).
        if (batchNo % 9 === 4) await deliver(handler, event);
      },
      // Short leases: rows held by an invocation that died are written out by a later one soon.
      lambdaContext: { awsRequestId: "", getRemainingTimeInMillis: () => 300 } as LambdaContext,
    });
    const lines = logs.take();
    logs.restore();
    expect(rig.pendingFaults()).toBe(0);
    expect(lines.filter((l) => l.code === "INVOCATION" && l.failed).length).toBe(faults.size);
    expect(lines.filter((l) => l.code === "INVOCATION").reduce((n, l) => n + (l.duplicates ?? 0), 0)).toBeGreaterThan(100);
    expect(await outcomeOf(lines)).toEqual(singleShard);
  });
});

describe("quiet shards and ticks", () => {
  it("a quiet shard, or one that never sent anything, holds no window past the tick; one with records waiting does, and they count where they arrived", async () => {
    const { stream, handler } = await newRun(3);
    const logs = captureLogs();
    const closed = () => logs.take().filter((l) => l.code === "WINDOW_CLOSED").map((l) => [(l.end - T0) / 10_000 - 1, l.rows.IMPRESSIONSTREAM[0][0], l.rows.CLICKSTREAM[0][0]]);
    const { Shards } = await rig.kinesis.send(new ListShardsCommand({ StreamName: stream }));
    /** Puts `n` records on a shard (every fifth a click), arriving at T0 + 10k s + 100i ms as their events say. */
    const put = async (k: number, shard: number, n: number, arrivalMs = (i: number) => T0 + k * 10_000 + i * 100): Promise<EventRecord[]> => {
      const actions = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? "Click" : "Impression"));
      const answer = await rig.kinesis.send(
        new PutRecordsCommand({ StreamName: stream, Records: actions.map((a) => ({ Data: Buffer.from(beacon(a)), PartitionKey: "p", ExplicitHashKey: Shards![shard].HashKeyRange!.StartingHashKey })) }),
      );
      return answer.Records!.map((r, i) => ({ data: beacon(actions[i]), arrivalMs: arrivalMs(i), shard: r.ShardId!, sequenceNumber: r.SequenceNumber! }));
    };
    for (let k = 0; k < 10; k++) {
      await handler(kinesisEvent(stream, await put(k, 0, 20)));
      if (k < 3) await handler(kinesisEvent(stream, await put(k, 1, 10)));
    }
    // Shard 2 has sent nothing, so nothing closed; shard 1 stopped after window 2.
    expect(closed()).toEqual([]);
    // Both are at their tips: the tick moves them to its time (less the grace) and closes windows 0-8.
    expect(await handler(scheduledEvent(T0 + 95_000 + GRACE_MS))).toMatchObject({ windowsClosed: 9, clock: T0 + 95_000 });
    expect(closed()).toEqual([0, 1, 2].map((k) => [k, 24, 6]).concat([3, 4, 5, 6, 7, 8].map((k) => [k, 16, 4])));

    // A record shard 1 delivers only now, stamped T0 + 25 s, counts in the first open window (9).
    await handler(kinesisEvent(stream, await put(0, 1, 1, () => T0 + 25_000).then((r) => r.map((x) => ({ ...x, data: beacon("Impression") })))));
    // Shard 2 has records waiting that it has not delivered: the next tick waits for it.
    const waiting = await put(10, 2, 10);
    await handler(kinesisEvent(stream, await put(10, 0, 20)));
    await handler(kinesisEvent(stream, await put(11, 0, 20)));
    expect(await handler(scheduledEvent(T0 + 120_000 + GRACE_MS))).toMatchObject({ windowsClosed: 0 });
    await handler(kinesisEvent(stream, waiting));
    await handler(scheduledEvent(T0 + 125_000 + GRACE_MS));
    const lines = logs.take();
    logs.restore();
    expect(lines.filter((l) => l.code === "SHARDS_UNREADABLE")).toEqual([]);
    const last = lines.filter((l) => l.code === "WINDOW_CLOSED").map((l) => [(l.end - T0) / 10_000 - 1, l.rows.IMPRESSIONSTREAM[0][0], l.rows.CLICKSTREAM[0][0]]);
    expect(last).toEqual([
      [9, 16 + 1, 4],
      [10, 16 + 8, 4 + 2],
      [11, 16, 4],
    ]);
  });

  it("a shard far ahead of a stalled one, with no tick coming, closes windows itself before its item grows past 64 KB", async () => {
    const { stream, handler } = await newRun(2);
    const logs = captureLogs();
    await handler(kinesisEvent(stream, [{ data: beacon("Impression"), arrivalMs: T0, shard: shardId(1) }]));
    let largest = 0;
    const windows = 500;
    for (let k = 0; k < windows; k += 25) {
      const records = Array.from({ length: 25 }, (_, i) => [
        { data: beacon("Impression"), arrivalMs: T0 + (k + i) * 10_000 + 1, shard: shardId(0) },
        { data: beacon("Click"), arrivalMs: T0 + (k + i) * 10_000 + 2, shard: shardId(0) },
      ]).flat();
      await handler(kinesisEvent(stream, records));
      const { Item } = await rig.dynamodb.send(new GetStateItemCommand({ TableName: TABLE, Key: { application: { S: `clickstream-${runs}/shard/${shardId(0)}` } }, ConsistentRead: true }));
      largest = Math.max(largest, Item!.partials.S!.length);
    }
    const closed = logs.take().filter((l) => l.code === "WINDOW_CLOSED");
    logs.restore();
    expect(largest).toBeGreaterThan(PARTIALS_SOFT_LIMIT / 2);
    expect(largest).toBeLessThan(PARTIALS_SOFT_LIMIT + 10 * 1024);
    expect(closed.length).toBeGreaterThan(windows / 2);
    // Every closed window has its one click and impression (the stalled shard's impression in the first).
    expect(closed.map((l) => l.rows.IMPRESSIONSTREAM[0][0])).toEqual([2, ...Array(closed.length - 1).fill(1)]);
    expect(closed.every((l) => l.rows.CLICKSTREAM[0][0] === 1)).toBe(true);
  });
});

describe("resharding", () => {
  /** Puts `count` records per window on the stream (their shard by partition key), read back with their real sequence numbers. */
  async function putWindows(stream: string, from: number, to: number, count: number, random: SeededRandom) {
    const put: EventRecord[] = [];
    for (let k = from; k < to; k++) {
      const actions = Array.from({ length: count }, (_, i) => (i % 4 === 0 ? "Click" : "Impression"));
      const answer = await rig.kinesis.send(
        new PutRecordsCommand({ StreamName: stream, Records: actions.map((a) => ({ Data: Buffer.from(beacon(a)), PartitionKey: `key-${Math.floor(random.next() * 1e9)}` })) }),
      );
      answer.Records!.forEach((r, i) => put.push({ data: beacon(actions[i]), arrivalMs: T0 + k * 10_000 + i * 10, shard: r.ShardId!, sequenceNumber: r.SequenceNumber! }));
    }
    return put;
  }

  /** Resharding is asynchronous: records go to the children once the stream is ACTIVE again. */
  async function untilActive(stream: string) {
    for (;;) {
      const { StreamDescriptionSummary } = await rig.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      if (StreamDescriptionSummary?.StreamStatus === "ACTIVE") return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Delivers each shard's records in batches of 7 (shards in turn), as pollers would. */
  async function deliverShards(stream: string, handler: Handler, records: EventRecord[], shards: string[]) {
    const queues = shards.map((s) => records.filter((r) => r.shard === s));
    while (queues.some((q) => q.length > 0)) {
      for (const q of queues) if (q.length > 0) await handler(kinesisEvent(stream, q.splice(0, 7)));
    }
  }

  const counted = (lines: Record<string, any>[]) =>
    lines.filter((l) => l.code === "WINDOW_CLOSED").map((l) => [(l.end - T0) / 10_000 - 1, l.rows.IMPRESSIONSTREAM?.[0][0] ?? 0, l.rows.CLICKSTREAM?.[0][0] ?? 0]);

  it("a split and a merge: the finished parents are retired at the next tick, every record counted once", async () => {
    const { stream, handler } = await newRun(1);
    const random = new SeededRandom(9);
    const logs = captureLogs();
    const parent = await putWindows(stream, 0, 3, 8, random);
    await rig.kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shardId(0), NewStartingHashKey: (2n ** 127n).toString() }));
    await untilActive(stream);
    const children = await putWindows(stream, 3, 7, 8, random);
    expect(new Set(children.map((r) => r.shard))).toEqual(new Set([shardId(1), shardId(2)]));
    await deliverShards(stream, handler, parent, [shardId(0)]);
    await deliverShards(stream, handler, children, [shardId(1), shardId(2)]);
    // The parent will send nothing more, but until a tick finds it finished it holds window 2 open.
    expect(counted(logs.take()).map(([k]) => k)).toEqual([0, 1]);

    await handler(scheduledEvent(T0 + 45_000 + GRACE_MS));
    const retired = logs.take();
    expect(retired.find((l) => l.code === "SHARDS_RETIRED")).toMatchObject({ finished: [shardId(0)], merged: [shardId(0)] });
    expect(counted(retired)).toEqual([2, 3, 4, 5].map((k) => [k, 6, 2]));
    const { Item } = await rig.dynamodb.send(new GetStateItemCommand({ TableName: TABLE, Key: { application: { S: `clickstream-${runs}/shard/${shardId(0)}` } }, ConsistentRead: true }));
    expect(Item).toMatchObject({ retired: { BOOL: true }, expiresAt: { N: expect.stringMatching(/^\d+$/) } });
    expect(Item!.partials).toBeUndefined();

    await rig.kinesis.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: shardId(1), AdjacentShardToMerge: shardId(2) }));
    await untilActive(stream);
    const merged = await putWindows(stream, 7, 10, 8, random);
    expect(new Set(merged.map((r) => r.shard))).toEqual(new Set([shardId(3)]));
    await deliverShards(stream, handler, merged, [shardId(3)]);
    await handler(scheduledEvent(T0 + 100_000 + GRACE_MS));
    const afterMerge = logs.take();
    logs.restore();
    expect(afterMerge.find((l) => l.code === "SHARDS_RETIRED")).toMatchObject({ finished: [shardId(1), shardId(2)] });
    expect(counted(afterMerge)).toEqual([6, 7, 8, 9].map((k) => [k, 6, 2]));
  });
});
