// Kinesis -> Lambda event source mappings, as Lambda runs them ("Using Lambda to process records
// from Amazon Kinesis Data Streams", Lambda developer guide): one poller per shard, the shard's
// records in order, one batch at a time (the next only after the function succeeded with this
// one; a failing batch is retried, in order). A batch is sent when it is full (BatchSize), when
// the batching window (MaximumBatchingWindowInSeconds, timed from its first record) is over, or
// when one more record would take it past the 6 MB invocation payload; with no window, as soon
// as records are read. Idle shards are polled about once a second. After a split or a merge, a
// child shard is read from its start once its parents are read to their end, as the Kinesis
// Client Library does ("Complete the resharding action", Kinesis developer guide: a reshard leaves earlier records in the parents):
// the guide's promise of in-order processing per partition key then holds across the reshard.
// Time: arrival times and batching windows are on the local cloud's clock; `caughtUp` (what the
// manual clock waits for before it moves) sends what is gathered at once, as the window would
// be over once time has moved.
import { randomUUID } from "node:crypto";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, type GetRecordsCommandOutput, type Shard, type _Record } from "@aws-sdk/client-kinesis";
import type { Clock } from "../lib/clock";
import type { InvokeResult } from "./service";

/** Lambda's synchronous invocation payload limit. */
export const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

export interface KinesisMappingConfig {
  uuid: string;
  functionArn: string;
  streamArn: string;
  batchSize: number;
  /** MaximumBatchingWindowInSeconds (0: invoke as soon as records are read). */
  batchingWindowSeconds: number;
  startingPosition: "LATEST" | "TRIM_HORIZON";
  /** -1: retry until the record expires, as Lambda's default. */
  maximumRetryAttempts: number;
  region: string;
  roleArn: string;
}

export interface MappingRuntime {
  kinesis: KinesisClient;
  invoke(functionArn: string, event: unknown): Promise<InvokeResult>;
  /** The local cloud's clock: batching windows are timed on it, and a record's arrival time (kinesalite's, on real time) is read on it. */
  clock: Clock;
  log(message: string): void;
  /** Idle wait between polls of an empty shard (real time; `caughtUp` cuts it short). */
  idlePollMs: number;
  /** Lambda's IteratorAge metric: how old the batch's newest record was when it was handed over (ms of local time). */
  recordIteratorAge?(ms: number): void;
}

/** One shard's poller, as `caughtUp` sees it. */
interface ShardPoller {
  /** Polls started so far. */
  polls: number;
  /** Who waits for an empty poll started after poll number `after` (with nothing gathered). */
  waiters: { after: number; resolve: () => void }[];
  /** Ends the idle wait early. */
  wake?: () => void;
}

interface EventRecord {
  kinesis: { sequenceNumber: string; approximateArrivalTimestamp: number };
}

export class KinesisEventSourceMapping {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly pollers = new Set<ShardPoller>();
  /** Shards being read, and those read to their end. */
  private readonly started = new Set<string>();
  private readonly finished = new Set<string>();
  /** Batches delivered, for tests and the operator. */
  delivered = 0;
  failures = 0;

  constructor(
    readonly config: KinesisMappingConfig,
    private readonly runtime: MappingRuntime,
  ) {}

  private get streamName(): string {
    return this.config.streamArn.split("/").pop()!;
  }

  /**
   * Starts reading every shard that can still take records at the starting position (LATEST: the
   * open shards; TRIM_HORIZON: every shard, parents before children).
   */
  async start(): Promise<void> {
    const shards = await this.listShards();
    if (this.config.startingPosition === "LATEST") {
      // A closed shard takes no new record: for a LATEST mapping it is read to its end already.
      for (const shard of shards) if (!isOpen(shard)) this.finished.add(shard.ShardId!);
    }
    await this.startReadyShards(shards, this.config.startingPosition);
  }

  /** The shards whose parents are read to their end (or were never this mapping's to read). */
  private async startReadyShards(shards: Shard[], position: "LATEST" | "TRIM_HORIZON"): Promise<void> {
    const known = new Set(shards.map((s) => s.ShardId!));
    for (const shard of shards) {
      const id = shard.ShardId!;
      if (this.started.has(id) || this.finished.has(id)) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => p !== undefined && known.has(p));
      if (!parents.every((p) => this.finished.has(p))) continue;
      this.started.add(id);
      const iterator = await this.runtime.kinesis.send(new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: id, ShardIteratorType: position }));
      const poller: ShardPoller = { polls: 0, waiters: [] };
      this.pollers.add(poller);
      // A shard read to its end (or a stopped mapping) has nothing left to catch up.
      this.loops.push(
        this.poll(id, iterator.ShardIterator!, poller).finally(() => {
          this.pollers.delete(poller);
          this.release(poller);
        }),
      );
    }
  }

  /**
   * Resolves once every shard's poller has found its shard empty, with nothing gathered, in a
   * poll started after this call: every record put before the call has reached the function. A
   * poller retrying a failed batch answers at once (it waits for real time, not for records).
   */
  caughtUp(): Promise<void> {
    return Promise.all(
      [...this.pollers].map((poller) => {
        if (this.stopped) return;
        return new Promise<void>((resolve) => {
          poller.waiters.push({ after: poller.polls, resolve });
          poller.wake?.();
        });
      }),
    ).then(() => undefined);
  }

  /** Releases the waiters a poll answers: `poll` is the number of an empty poll, or all (a failed batch, an ended shard). */
  private release(poller: ShardPoller, poll = Infinity) {
    const done = poller.waiters.filter((w) => w.after < poll);
    poller.waiters = poller.waiters.filter((w) => w.after >= poll);
    for (const waiter of done) waiter.resolve();
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const page = await this.runtime.kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.streamName }));
      shards.push(...(page.Shards ?? []));
      token = page.NextToken;
    } while (token);
    return shards;
  }

  private eventRecord(shardId: string, r: _Record) {
    return {
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: r.PartitionKey,
        sequenceNumber: r.SequenceNumber!,
        data: Buffer.from(r.Data ?? new Uint8Array()).toString("base64"),
        approximateArrivalTimestamp: this.runtime.clock.at((r.ApproximateArrivalTimestamp ?? new Date()).getTime()) / 1000,
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: `${shardId}:${r.SequenceNumber}`,
      eventName: "aws:kinesis:record",
      invokeIdentityArn: this.config.roleArn,
      awsRegion: this.config.region,
      eventSourceARN: this.config.streamArn,
    };
  }

  private async poll(shardId: string, firstIterator: string, poller: ShardPoller) {
    let iterator: string | undefined = firstIterator;
    /** Records read and not yet delivered, with their size in the event. */
    const pending: { record: EventRecord; bytes: number }[] = [];
    let gatheringSince: number | undefined;
    const windowMs = this.config.batchingWindowSeconds * 1000;
    const clock = this.runtime.clock;
    while (!this.stopped) {
      let read = 0;
      const poll = ++poller.polls;
      if (iterator && pending.length < this.config.batchSize) {
        let page: GetRecordsCommandOutput;
        try {
          page = await this.runtime.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.config.batchSize - pending.length }));
        } catch (error) {
          if (this.stopped) return;
          this.runtime.log(`event source mapping ${this.config.uuid}: GetRecords on ${shardId} failed: ${(error as Error).message}`);
          this.release(poller);
          await this.sleep(this.runtime.idlePollMs, poller);
          continue;
        }
        for (const r of page.Records ?? []) {
          const record = this.eventRecord(shardId, r);
          pending.push({ record, bytes: Buffer.byteLength(JSON.stringify(record)) + 1 });
        }
        read = page.Records?.length ?? 0;
        iterator = page.NextShardIterator;
        if (read > 0) gatheringSince ??= clock.now();
      }
      const full = pending.length >= this.config.batchSize || sizeOf(pending) > PAYLOAD_LIMIT_BYTES;
      const windowOver = gatheringSince !== undefined && clock.now() - gatheringSince >= windowMs;
      // Someone waits for the shard to be caught up (the manual clock, before it moves): send now.
      const awaited = poller.waiters.length > 0;
      if (pending.length > 0 && (full || windowOver || !iterator || awaited)) {
        const batch = takeBatch(pending, this.config.batchSize);
        gatheringSince = pending.length > 0 ? clock.now() : undefined;
        const newest = batch.at(-1)!.kinesis.approximateArrivalTimestamp * 1000;
        this.runtime.recordIteratorAge?.(Math.max(0, clock.now() - newest));
        if (!(await this.deliver(shardId, batch, poller))) return;
        continue;
      }
      if (read === 0 && pending.length === 0) this.release(poller, poll);
      if (!iterator) {
        // Read to its end (a split or merge closed it): its children may start now.
        this.finished.add(shardId);
        await this.startChildren(shardId);
        return;
      }
      if (read === 0 || pending.length > 0) await this.sleep(this.runtime.idlePollMs, poller);
    }
  }

  /** Invokes the function with the batch until it succeeds (or the retries run out); false when stopped. */
  private async deliver(shardId: string, records: EventRecord[], poller: ShardPoller): Promise<boolean> {
    for (let attempts = 0; ; ) {
      // A throttle or an unavailable service is a failed attempt, retried like a function error.
      const result = await this.runtime.invoke(this.config.functionArn, { Records: records }).catch(
        (error: Error & { code?: string }): InvokeResult => ({ ok: false, requestId: "", durationMs: 0, error: { errorType: error.code ?? error.name, errorMessage: error.message } }),
      );
      if (result.ok) {
        this.delivered++;
        return true;
      }
      this.failures++;
      attempts++;
      this.runtime.log(`event source mapping ${this.config.uuid}: ${this.config.functionArn} failed on ${records.length} records of ${shardId} (${result.error.errorType}: ${result.error.errorMessage}); retrying`);
      this.release(poller);
      if (this.stopped) return false;
      if (this.config.maximumRetryAttempts >= 0 && attempts > this.config.maximumRetryAttempts) return true;
      await this.sleep(Math.min(1000 * 2 ** attempts, 30000) / 10);
    }
  }

  private async startChildren(shardId: string): Promise<void> {
    while (!this.stopped) {
      try {
        await this.startReadyShards(await this.listShards(), "TRIM_HORIZON");
        return;
      } catch (error) {
        this.runtime.log(`event source mapping ${this.config.uuid}: listing the shards after ${shardId} ended failed: ${(error as Error).message}`);
        await this.sleep(this.runtime.idlePollMs);
      }
    }
  }

  private sleep(ms: number, poller?: ShardPoller) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms).unref();
      if (poller)
        poller.wake = () => {
          clearTimeout(timer);
          resolve();
        };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const poller of this.pollers) {
      poller.wake?.();
      this.release(poller);
    }
    // Children started while stopping join the list: wait until it stops growing.
    for (let settled = 0; settled < this.loops.length; ) {
      const count = this.loops.length;
      await Promise.allSettled(this.loops);
      settled = count;
    }
  }
}

function isOpen(shard: Shard): boolean {
  return !shard.SequenceNumberRange?.EndingSequenceNumber;
}

/** The event's bytes for these records ({"Records":[...]}). */
function sizeOf(records: readonly { bytes: number }[]): number {
  return records.reduce((n, r) => n + r.bytes, 14);
}

/** Takes the first records that fit one batch: at most `batchSize`, and the event within the payload limit. */
function takeBatch(pending: { record: EventRecord; bytes: number }[], batchSize: number): EventRecord[] {
  let count = 0;
  let bytes = 14;
  while (count < pending.length && count < batchSize && (count === 0 || bytes + pending[count].bytes <= PAYLOAD_LIMIT_BYTES)) {
    bytes += pending[count].bytes;
    count++;
  }
  return pending.splice(0, count).map((p) => p.record);
}

export function newMappingUuid(): string {
  return randomUUID();
}
