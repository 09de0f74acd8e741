// How the clickstream SQL runtime grows with the input stream's shards, in the local cloud: for
// 1, 2, 4 and 8 shards (kinesalite with that many shards) the same traffic at a fixed total rate
// goes onto the input stream (PutRecords through the edge, random partition keys as the beacon
// route's request ids give), through the event source mapping into the SQL runtime Lambda, and
// out to the output stream. Per shard count it reports records/s through the pipeline, how long
// after its end a window closed, Lambda time, state reads and writes per 1,000 records,
// conflicting writes, records lost, counted twice or counted in another window than the one
// they arrived in (each window's counts against the records the input stream holds for it, by
// their arrival time), whether the anomaly windows and scores are one application's for the same
// records, and whether they equal the single-shard run's.
// Baseline in the same run: today's runtime (one writer, one state item) at the largest shard
// count. Then, on paper, what 50,000 beacons/s would take in AWS.
//
// Records are put window by window on the local clock (each window's records inside its own
// 10 s), so that every run has the same windows; a run says if the machine put a window's
// records late (they then arrive in the next window, and that run's windows differ).
//
//   npm run bench:clickstream-scale [-- --shards 1,2,4,8 --rate 1000 --windows 30 --time-scale 5]
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { LocalCloud } from "../../local/cloud";
import { loadConfig } from "../../stacks/config";
import { RUNTIME_SOURCE_SETTINGS, SQL_PATH, STREAM_NAMES } from "../../modules/clickstream";
import { SeededRandom } from "../../lambdas/lib/seeded-random";
import { setFunctionVariables } from "../drill";
import { SEED_BEHAVIOUR, clickImpressions, type BrowserAction } from "../lib/click-impressions";
import { REPO_ROOT, synth } from "../lib/synth";
import { defineCli, integerOption, numberOption, UsageError } from "../lib/cli";
import { feedRecords, inputDecoder } from "../../lambdas/clickstream-sql-runtime/input-records";
import { compile, toCsvLine } from "../../lambdas/lib/streaming-sql";
import application from "../../sql/clickstream.application.json";

const cli = defineCli({
  command: "npm run bench:clickstream-scale --",
  summary:
    "The clickstream SQL runtime in the local cloud with 1, 2, 4 and 8 input shards at a fixed total rate, and today's one-writer runtime at the most: " +
    "records per second, state writes and conflicting writes per 1,000 records, records lost or counted twice, whether the anomaly rows equal the single-shard run's; " +
    "then the projection for 50,000 beacons/s in AWS. About 9 minutes.",
  options: {
    shards: { type: "string", value: "<n,n,...>", default: "1,2,4,8", description: "input shard counts to run, 1 to 64 each" },
    rate: { type: "string", value: "<records/s>", default: "1000", description: "total rate, records per real second (at least 10)" },
    windows: { type: "string", value: "<n>", default: "30", description: "10-second windows of traffic (at least 16)" },
    "time-scale": { type: "string", value: "<x>", default: "5", description: "the local cloud's time scale (at least 1)" },
  },
});
const REGION = "us-east-1";
const FUNCTION = "platform-clickstream-sql-runtime";
const WINDOW_MS = 10_000;
/** Kinesis's write limit per shard (records/s), and the share of it a plan should use. */
const SHARD_RECORDS_PER_SECOND = 1_000;
const SHARD_BYTES_PER_SECOND = 1024 * 1024;
const PLANNED_SHARD_LOAD = 0.8;
const TARGET_RATE = 50_000;
/**
 * The tick closes windows its time less this grace has passed, moving a lagging shard on. The
 * local clock runs time-scale times faster than the machine, so the deployed 5 s (0.5 s of real
 * time at scale 10) would also fence shards that are only busy; 20 s leaves them the real time
 * they need, as 5 s does in AWS.
 */
const BENCH_GRACE_SECONDS = "20";

interface Options {
  shards: number[];
  rate: number;
  windows: number;
  timeScale: number;
}

function options(values: { shards: string; rate: string; windows: string; "time-scale": string }): Options {
  const shards = values.shards.split(",").map(Number);
  if (!shards.every((n) => Number.isInteger(n) && n >= 1 && n <= 64)) throw new UsageError(`--shards takes shard counts from 1 to 64, comma-separated, got "${values.shards}"`);
  return {
    shards,
    rate: numberOption("rate", values.rate, { min: 10 }),
    windows: integerOption("windows", values.windows, { min: 16 }),
    timeScale: numberOption("time-scale", values["time-scale"], { min: 1 }),
  };
}

interface Beacon {
  action: BrowserAction;
}

/**
 * The generator's traffic cut into windows of `perWindow` beacons, the anomaly (click rate 0.5)
 * filling window `anomalous`, as the default scenario's anomaly fills about one window.
 */
function traffic(windows: number, perWindow: number, anomalous: number): Beacon[][] {
  const iterationsPerWindow = perWindow / (1 + SEED_BEHAVIOUR.clickRate);
  const beacons: Beacon[] = [];
  const steps = clickImpressions({
    ...SEED_BEHAVIOUR,
    iterations: Math.ceil(windows * iterationsPerWindow * 1.2),
    anomalyStart: Math.round(anomalous * iterationsPerWindow),
    anomalyEnd: Math.round((anomalous + 1) * iterationsPerWindow),
    seed: 18,
  });
  for (const step of steps) if (step.kind === "beacon") beacons.push({ action: step.action });
  return Array.from({ length: windows }, (_, k) => beacons.slice(k * perWindow, (k + 1) * perWindow));
}

interface RunResult {
  label: string;
  shards: number;
  records: number;
  recordsPerSecond: number;
  closeLagMs: { p50: number; max: number };
  invocations: number;
  lambdaMsPer1k: number;
  /** Mean Lambda time of an invocation. */
  invocationMs: number;
  readsPer1k: number;
  writesPer1k: number;
  writeUnitsPer1k: number;
  conflicts: number;
  failedInvocations: number;
  lost: number;
  twice: number;
  /** Records counted in another window than the one they arrived in. */
  moved: number;
  /** Anomaly rows by window index: "k ctr score". */
  anomalies: string[];
  /** Whether they are one application's rows for the same records (each at its arrival time). */
  oneWriter: boolean;
  /** Data windows whose records did not all arrive in them (the machine put some late). */
  latePacedWindows: number;
}

/** Follows the function's log file: every line so far, and when each window's WINDOW_CLOSED first appeared. */
function watchLog(file: () => string | undefined) {
  const closedAt = new Map<number, number>();
  const lines: string[] = [];
  let offset = 0;
  let partial = "";
  // Only what was appended since the last look: the file grows to megabytes in a run.
  const read = () => {
    const path = file();
    if (!path) return;
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      if (size <= offset) return;
      const chunk = Buffer.alloc(size - offset);
      readSync(fd, chunk, 0, chunk.length, offset);
      offset = size;
      const fresh = (partial + chunk.toString("utf8")).split("\n");
      partial = fresh.pop() ?? "";
      for (const line of fresh) {
        lines.push(line);
        if (!line.includes('"WINDOW_CLOSED"')) continue;
        const { end } = JSON.parse(line) as { end: number };
        if (!closedAt.has(end)) closedAt.set(end, Date.now());
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(read, 25);
  return {
    closedAt,
    lines: () => (read(), lines),
    stop: () => clearInterval(timer),
  };
}

async function run(label: string, shards: number, mode: "partitioned" | "single-writer", opts: Options, windows: Beacon[][]): Promise<RunResult> {
  const outdir = mkdtempSync(join(tmpdir(), "bench-clickstream-synth-"));
  const dataDir = mkdtempSync(join(tmpdir(), "bench-clickstream-"));
  const config = loadConfig();
  config.environments.dev.clickstream = { inputStream: { mode: "PROVISIONED", shards } };
  synth({ target: "aws", outdir, config });
  const cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir, port: 0, timeScale: opts.timeScale });
  const endpoints = cloud.endpoints();
  const admin = endpoints.credentials[endpoints.regions[REGION].accountId];
  const kinesis = new KinesisClient({ region: REGION, endpoint: endpoints.services.edge, credentials: admin, requestHandler: new NodeHttpHandler() });
  const logDir = endpoints.regions[REGION].logs;
  const logFile = () => {
    const name = readdirSync(logDir).find((f) => f.includes("clickstream-sql-runtime"));
    return name && join(logDir, name);
  };
  const log = watchLog(logFile);
  try {
    await setFunctionVariables(endpoints, REGION, FUNCTION, { SQL_RUNTIME_MODE: mode, CLOCK_GRACE_SECONDS: BENCH_GRACE_SECONDS });
    const openShards = (await kinesis.send(new ListShardsCommand({ StreamName: STREAM_NAMES.input }))).Shards ?? [];

    // The local clock is linear in real time: local = c0 + scale * real.
    const c0 = cloud.clock.at(0);
    const realAt = (local: number) => (local - c0) / opts.timeScale;
    const until = async (local: number) => {
      const at = realAt(local);
      if (at > Date.now()) await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
    };
    const first = Math.ceil((cloud.now() + 3_000) / WINDOW_MS) * WINDOW_MS;
    const random = new SeededRandom(shards);
    const partitionKey = () => `req-${Math.floor(random.next() * 2 ** 52).toString(36)}`;
    const data = (action: BrowserAction) => Buffer.from(`{ "browseraction" : "${action}", "site" : "bench.example.com" }`);
    // Each window's records in 8 puts over its first 40 %: the rest is margin for a busy machine.
    const chunks = 8;
    const startedAt = realAt(first);
    for (let k = 0; k < windows.length; k++) {
      const start = first + k * WINDOW_MS;
      for (let c = 0; c < chunks; c++) {
        await until(start + 300 + (c * 3_700) / chunks);
        const part = windows[k].slice(Math.floor((c * windows[k].length) / chunks), Math.floor(((c + 1) * windows[k].length) / chunks));
        for (let i = 0; i < part.length; i += 500) {
          const answer = await kinesis.send(new PutRecordsCommand({ StreamName: STREAM_NAMES.input, Records: part.slice(i, i + 500).map((b) => ({ Data: data(b.action), PartitionKey: partitionKey() })) }));
          if (answer.FailedRecordCount) throw new Error(`${answer.FailedRecordCount} records refused: ${answer.Records?.find((r) => r.ErrorCode)?.ErrorMessage}`);
        }
      }
    }
    // A record on every shard in each of the next three windows: every shard passes the end of
    // the last data window and of the two after it, which are counted too (today's runtime may
    // count records of a lagging shard there).
    const end = first + windows.length * WINDOW_MS;
    for (const window of [end, end + WINDOW_MS, end + 2 * WINDOW_MS]) {
      await until(window + 500);
      await kinesis.send(
        new PutRecordsCommand({ StreamName: STREAM_NAMES.input, Records: openShards.map((s) => ({ Data: data("Impression"), PartitionKey: "flush", ExplicitHashKey: s.HashKeyRange!.StartingHashKey })) }),
      );
    }
    const counted = windows.length + 2;
    const lastEnd = first + counted * WINDOW_MS;
    const deadline = Date.now() + 10 * 60_000;
    while (!log.closedAt.has(lastEnd) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (!log.closedAt.has(lastEnd)) throw new Error(`${label}: the last window did not close within 10 minutes`);
    const records = await arrivals(kinesis, (realMs) => cloud.clock.at(realMs));
    const dataEnd = first + windows.length * WINDOW_MS;
    const late = windows.filter((planned, k) => records.filter((r) => Math.floor((r.rowtime - first) / WINDOW_MS) === k).length !== planned.length).length;
    return summarize(label, shards, log.lines(), records, { first, windows: counted, dataEnd, startedAt, closedAt: log.closedAt, realAt }, await anomalies(kinesis, first, windows.length), late);
  } finally {
    log.stop();
    kinesis.destroy();
    await cloud.stop();
    rmSync(outdir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Arrival {
  /** The local clock at the record's arrival: its ROWTIME, as the event source mapping passes it on. */
  rowtime: number;
  action: BrowserAction;
}

/** Every record the input stream holds, with the arrival time Kinesis gave it, in ROWTIME order. */
async function arrivals(kinesis: KinesisClient, clockAt: (realMs: number) => number): Promise<Arrival[]> {
  const records: Arrival[] = [];
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: STREAM_NAMES.input }))).Shards ?? [];
  for (const shard of shards) {
    let { ShardIterator: iterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: STREAM_NAMES.input, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
      for (const r of page.Records ?? []) {
        records.push({ rowtime: clockAt(r.ApproximateArrivalTimestamp!.getTime()), action: Buffer.from(r.Data!).toString("utf8").includes('"Click"') ? "Click" : "Impression" });
      }
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return records.sort((a, b) => a.rowtime - b.rowtime);
}

/** The anomaly rows one application seeing every record, in arrival order, gives for the data windows. */
function oneWriter(records: Arrival[], first: number, dataEnd: number): string[] {
  const app = compile(readFileSync(join(REPO_ROOT, SQL_PATH), "utf8"), { inputs: [application.input] });
  const rows: string[] = [];
  const columns = app.columns("DESTINATION_SQL_STREAM");
  app.subscribe("DESTINATION_SQL_STREAM", (row) => {
    if (row.rowtime <= dataEnd) rows.push(`${(row.rowtime - first) / WINDOW_MS - 1} ${toCsvLine(columns, row.values).trim().replace(",", " ")}`);
  });
  for (const r of records) app.insert(application.input.name, { browseraction: r.action, site: "bench.example.com" }, r.rowtime);
  app.advanceTo(dataEnd);
  return rows;
}

async function anomalies(kinesis: KinesisClient, first: number, windows: number): Promise<string[]> {
  const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: STREAM_NAMES.output, ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }));
  const rows: string[] = [];
  for (let iterator = ShardIterator; iterator; ) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
    for (const r of page.Records ?? []) {
      const window = (Number(r.PartitionKey) - first) / WINDOW_MS - 1;
      if (window < windows) rows.push(`${window} ${Buffer.from(r.Data!).toString("utf8").trim().replace(",", " ")}`);
    }
    if ((page.Records ?? []).length === 0) break;
    iterator = page.NextShardIterator;
  }
  return rows;
}

function summarize(
  label: string,
  shards: number,
  lines: string[],
  records: Arrival[],
  timing: { first: number; windows: number; dataEnd: number; startedAt: number; closedAt: Map<number, number>; realAt: (local: number) => number },
  anomalyRows: string[],
  latePacedWindows: number,
): RunResult {
  const { first, startedAt, closedAt, realAt } = timing;
  const expected = Array.from({ length: timing.windows }, () => ({ clicks: 0, impressions: 0 }));
  for (const r of records) {
    const k = Math.floor((r.rowtime - first) / WINDOW_MS);
    if (k >= 0 && k < timing.windows) expected[k][r.action === "Click" ? "clicks" : "impressions"]++;
  }
  const counted = new Map<number, { clicks: number; impressions: number }>();
  const durations = new Map<string, number>();
  const invocations: { requestId: string; records: number }[] = [];
  let reads = 0;
  let writes = 0;
  let writeUnits = 0;
  let conflicts = 0;
  let failedInvocations = 0;
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line);
    // Lambda's JSON log format (modules/nodejs-function) reports each invocation as a platform event.
    if (entry.type === "platform.report") durations.set(entry.record.requestId, entry.record.metrics.durationMs);
    if (entry.code === "INVOCATION") {
      reads += entry.stateReads;
      writes += entry.stateWrites;
      writeUnits += entry.writeUnits;
      conflicts += entry.conflicts;
      if (entry.failed) failedInvocations++;
      invocations.push({ requestId: entry.requestId, records: entry.records ?? 0 });
    }
    if (entry.code === "WINDOW_CLOSED") {
      counted.set((entry.end - first) / WINDOW_MS - 1, { clicks: entry.rows.CLICKSTREAM?.[0]?.[0] ?? 0, impressions: entry.rows.IMPRESSIONSTREAM?.[0]?.[0] ?? 0 });
    }
  }
  let total = { expected: 0, counted: 0 };
  let differences = 0;
  expected.forEach((want, k) => {
    const got = counted.get(k) ?? { clicks: 0, impressions: 0 };
    for (const action of ["clicks", "impressions"] as const) {
      total = { expected: total.expected + want[action], counted: total.counted + got[action] };
      differences += Math.abs(want[action] - got[action]);
    }
  });
  const lost = Math.max(0, total.expected - total.counted);
  const twice = Math.max(0, total.counted - total.expected);
  // From the first record put to the close of the last window records were put in.
  const lastClosed = closedAt.get(timing.dataEnd)!;
  // How long after its end (real time) each window closed.
  const lags = [...closedAt].filter(([end]) => end > first && end <= first + expected.length * WINDOW_MS).map(([end, at]) => at - realAt(end)).sort((a, b) => a - b);
  if (durations.size === 0) throw new Error(`${label}: no platform.report record in the runtime's log group: Lambda durations cannot be measured`);
  const lambdaMs = [...durations.values()].reduce((a, b) => a + b, 0);
  const per1k = (n: number) => (n * 1000) / total.counted;
  return {
    label,
    shards,
    records: total.counted,
    recordsPerSecond: records.filter((r) => r.rowtime >= first && r.rowtime < timing.dataEnd).length / ((lastClosed - startedAt) / 1000),
    closeLagMs: { p50: lags[Math.floor(lags.length / 2)], max: lags.at(-1)! },
    invocations: invocations.length,
    lambdaMsPer1k: per1k(lambdaMs),
    invocationMs: lambdaMs / durations.size,
    readsPer1k: per1k(reads),
    writesPer1k: per1k(writes),
    writeUnitsPer1k: per1k(writeUnits),
    conflicts,
    failedInvocations,
    lost,
    twice,
    moved: (differences - lost - twice) / 2,
    anomalies: anomalyRows,
    oneWriter: JSON.stringify(anomalyRows) === JSON.stringify(oneWriter(records, first, timing.dataEnd)),
    latePacedWindows,
  };
}

/**
 * The runtime's own work per record, without I/O: decoding a beacon and counting it into the
 * shard's partial windows (best of 5 warm runs over 5,000 records). In the local cloud an
 * invocation's time is mostly its AWS calls, which share this process with every emulator.
 */
function countingUsPerRecord(): number {
  const app = compile(readFileSync(join(REPO_ROOT, SQL_PATH), "utf8"), { inputs: [application.input] });
  const decode = inputDecoder(application.input);
  const count = 5_000;
  const records = Array.from({ length: count }, (_, i) => ({
    kinesis: {
      data: Buffer.from(`{ "browseraction" : "${i % 10 === 0 ? "Click" : "Impression"}", "site" : "bench.example.com" }`).toString("base64"),
      partitionKey: `req-${i}`,
      sequenceNumber: String(49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(i)),
      approximateArrivalTimestamp: 1_767_225_600 + i / 1000,
    },
    eventSource: "aws:kinesis" as const,
    eventID: `shardId-000000000000:${i}`,
    eventSourceARN: "arn:aws:kinesis:us-east-1:111111111111:stream/bench",
  }));
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    feedRecords("shardId-000000000000", records, undefined, decode, (values, arrivalMs) => app.accumulate(application.input.name, values, arrivalMs));
    JSON.stringify(app.takePartials());
    best = Math.min(best, ((performance.now() - started) * 1000) / count);
  }
  return best;
}

cli.main(async ({ values }) => {
  // The SDK's notice that its 2027 releases need Node 22 (the Lambdas run nodejs22.x in AWS).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const opts = options(values);
  const perWindow = Math.round((opts.rate * WINDOW_MS) / 1000 / opts.timeScale);
  const windows = traffic(opts.windows, perWindow, opts.windows - 6);
  console.log(
    `clickstream SQL runtime at scale: ${opts.rate} records/s in total (${perWindow} per 10 s window of the local clock at time scale ${opts.timeScale}), ` +
      `${opts.windows} windows, the anomaly in window ${opts.windows - 6}; event source mapping: batch size ${RUNTIME_SOURCE_SETTINGS.batchSize}, ` +
      `batching window ${RUNTIME_SOURCE_SETTINGS.maximumBatchingWindowInSeconds} s, parallelization factor ${RUNTIME_SOURCE_SETTINGS.parallelizationFactor}`,
  );
  const results: RunResult[] = [];
  for (const shards of opts.shards) results.push(await run(`partitioned, ${shards} shard${shards > 1 ? "s" : ""}`, shards, "partitioned", opts, windows));
  const most = Math.max(...opts.shards);
  results.push(await run(`today's runtime (one writer), ${most} shards`, most, "single-writer", opts, windows));

  const reference = results.find((r) => r.shards === 1 && r.label.startsWith("partitioned")) ?? results[0];
  const header = ["run", "records/s", "window closed after (p50/max ms)", "invocations (records each)", "Lambda ms/1k rec", "state reads/1k", "state writes/1k", "write units/1k", "conflicting writes (/1k)", "failed inv.", "lost", "twice", "other window", "anomalies = one writer", "anomalies = 1 shard", "late windows"];
  const rows = results.map((r) => [
    r.label,
    r.recordsPerSecond.toFixed(0),
    `${r.closeLagMs.p50.toFixed(0)} / ${r.closeLagMs.max.toFixed(0)}`,
    `${r.invocations} (${(r.records / r.invocations).toFixed(0)})`,
    r.lambdaMsPer1k.toFixed(0),
    r.readsPer1k.toFixed(1),
    r.writesPer1k.toFixed(1),
    r.writeUnitsPer1k.toFixed(0),
    `${r.conflicts} (${((r.conflicts * 1000) / r.records).toFixed(2)})`,
    String(r.failedInvocations),
    String(r.lost),
    String(r.twice),
    String(r.moved),
    r.oneWriter ? "yes" : "NO",
    JSON.stringify(r.anomalies) === JSON.stringify(reference.anomalies) ? `yes (${r.anomalies.length})` : `NO (${r.anomalies.length})`,
    String(r.latePacedWindows),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
  console.log(`anomaly rows of the single-shard run (window, CTR %, score): ${reference.anomalies.join("; ") || "none"}`);
  for (const r of results.filter((r) => JSON.stringify(r.anomalies) !== JSON.stringify(reference.anomalies))) {
    console.log(`anomaly rows of ${r.label}: ${r.anomalies.join("; ") || "none"}`);
  }

  const partitioned = results.filter((r) => r.label.startsWith("partitioned"));
  const largest = partitioned.find((r) => r.shards === most)!;
  const today = results.at(-1)!;
  console.log(
    `conflicting writes per 1,000 records at ${most} shards: ${((largest.conflicts * 1000) / largest.records).toFixed(2)} partitioned, ${((today.conflicts * 1000) / today.records).toFixed(2)} today's runtime`,
  );
  const perRecordUs = countingUsPerRecord();
  console.log(
    `Lambda time per invocation at ${most} shards: ${largest.invocationMs.toFixed(1)} ms on average (${(largest.records / largest.invocations).toFixed(0)} records; ` +
      `every AWS call through the local edge, in the same process as the emulators; the batching window is ${RUNTIME_SOURCE_SETTINGS.maximumBatchingWindowInSeconds} s of the local clock, ` +
      `${(1000 / opts.timeScale).toFixed(0)} ms real, hence the small batches); counting a record, without I/O: ${perRecordUs.toFixed(1)} us`,
  );

  // On paper: 50,000 beacons/s in AWS, from Kinesis's per-shard write limits and the figures above.
  const recordBytes = `{ "browseraction" : "Impression", "site" : "${"x".repeat(42)}" }`.length + 36; // a 42-character execute-api host, a request id as the key
  const byRecords = TARGET_RATE / (SHARD_RECORDS_PER_SECOND * PLANNED_SHARD_LOAD);
  const byBytes = (TARGET_RATE * recordBytes) / (SHARD_BYTES_PER_SECOND * PLANNED_SHARD_LOAD);
  const shardsNeeded = Math.ceil(Math.max(byRecords, byBytes));
  const perShard = TARGET_RATE / shardsNeeded;
  // A busy shard gives one batch per batching window: one invocation a second per shard.
  const batchMs = largest.invocationMs + (perRecordUs * perShard) / 1000;
  const windowsPerSecond = 1 / (WINDOW_MS / 1000);
  console.log(
    `projection for ${TARGET_RATE.toLocaleString("en-US")} beacons/s in AWS: ${shardsNeeded} shards (${byRecords.toFixed(1)} by 1,000 records/s per shard, ` +
      `${byBytes.toFixed(1)} by 1 MB/s at ${recordBytes} bytes a record, each shard at ${PLANNED_SHARD_LOAD * 100} % of the limit), ${perShard.toFixed(0)} records/s each; ` +
      `Lambda concurrency ${shardsNeeded * RUNTIME_SOURCE_SETTINGS.parallelizationFactor} at most (one batch per shard at a time), each batch of ${perShard.toFixed(0)} records about ${batchMs.toFixed(0)} ms at this machine's cost (an invocation's mean time here plus the counting) ` +
      `(${((shardsNeeded * batchMs) / 1000).toFixed(1)} busy on average); state: ${shardsNeeded} shard-item writes/s (~1 KB each) plus ${(windowsPerSecond * (1 + 1)).toFixed(1)} windows-item and frontier writes/s, ` +
      `against today's runtime: ${shardsNeeded} conditional writes/s of one item of ${(today.writeUnitsPer1k / today.writesPer1k).toFixed(0)} KB (${((shardsNeeded * today.writeUnitsPer1k) / today.writesPer1k).toFixed(0)} write units/s; one DynamoDB partition takes 1,000)`,
  );
  return 0;
});
