// Kinesis -> Lambda event source mappings, as Lambda runs them: one poller per shard, batches
// of at most `batchSize` records, the next batch only after the function succeeded with this
// one (a failing batch is retried, in order), polling again at once while records keep coming.
import { randomUUID } from "node:crypto";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, type GetRecordsCommandOutput, type _Record } from "@aws-sdk/client-kinesis";
import type { Clock } from "../lib/clock";
import type { InvokeResult } from "./service";

export interface KinesisMappingConfig {
  uuid: string;
  functionArn: string;
  streamArn: string;
  batchSize: number;
  startingPosition: "LATEST" | "TRIM_HORIZON";
  /** -1: retry until the record expires, as Lambda's default. */
  maximumRetryAttempts: number;
  region: string;
  roleArn: string;
}

export interface MappingRuntime {
  kinesis: KinesisClient;
  invoke(functionArn: string, event: unknown): Promise<InvokeResult>;
  /** The local cloud's clock: a record's arrival time (kinesalite's, on real time) is read on it. */
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
  /** Who waits for an empty poll started after poll number `after`. */
  waiters: { after: number; resolve: () => void }[];
  /** Ends the idle wait early. */
  wake?: () => void;
}

export class KinesisEventSourceMapping {
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly pollers: ShardPoller[] = [];
  /** Batches delivered, for tests and the operator. */
  delivered = 0;
  failures = 0;

  constructor(
    readonly config: KinesisMappingConfig,
    private readonly runtime: MappingRuntime,
  ) {}

  async start(): Promise<void> {
    const streamName = this.config.streamArn.split("/").pop()!;
    const shards = await this.runtime.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    for (const shard of shards.Shards ?? []) {
      const iterator = await this.runtime.kinesis.send(
        new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: this.config.startingPosition }),
      );
      const poller: ShardPoller = { polls: 0, waiters: [] };
      this.pollers.push(poller);
      this.loops.push(this.poll(shard.ShardId!, iterator.ShardIterator!, poller));
    }
  }

  /**
   * Resolves once every shard's poller has found its shard empty in a poll started after this
   * call, i.e. every record put before the call has reached the function, or once a poller is
   * retrying a failed batch (it waits for real time, not for more records).
   */
  caughtUp(): Promise<void> {
    return Promise.all(
      this.pollers.map((poller) => {
        if (this.stopped) return;
        return new Promise<void>((resolve) => {
          poller.waiters.push({ after: poller.polls, resolve });
          poller.wake?.();
        });
      }),
    ).then(() => undefined);
  }

  /** Releases the waiters a poll answers: `poll` is the number of an empty poll, or all (a failed batch). */
  private release(poller: ShardPoller, poll = Infinity) {
    const done = poller.waiters.filter((w) => w.after < poll);
    poller.waiters = poller.waiters.filter((w) => w.after >= poll);
    for (const waiter of done) waiter.resolve();
  }

  private event(shardId: string, records: _Record[]) {
    return {
      Records: records.map((r) => ({
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: r.PartitionKey,
          sequenceNumber: r.SequenceNumber,
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
      })),
    };
  }

  private async poll(shardId: string, firstIterator: string, poller: ShardPoller) {
    let iterator: string | undefined = firstIterator;
    while (!this.stopped && iterator) {
      let records: _Record[] = [];
      let next: string | undefined;
      const poll = ++poller.polls;
      try {
        const page: GetRecordsCommandOutput = await this.runtime.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.config.batchSize }));
        records = page.Records ?? [];
        next = page.NextShardIterator;
      } catch (error) {
        if (this.stopped) return;
        this.runtime.log(`event source mapping ${this.config.uuid}: GetRecords failed: ${(error as Error).message}`);
        this.release(poller);
        await this.sleep(this.runtime.idlePollMs, poller);
        continue;
      }
      if (records.length === 0) {
        iterator = next;
        this.release(poller, poll);
        await this.sleep(this.runtime.idlePollMs, poller);
        continue;
      }
      const newest = records.at(-1)!.ApproximateArrivalTimestamp ?? new Date();
      this.runtime.recordIteratorAge?.(Math.max(0, this.runtime.clock.now() - this.runtime.clock.at(newest.getTime())));
      let attempts = 0;
      for (;;) {
        // A throttle or an unavailable service is a failed attempt, retried like a function error.
        const result = await this.runtime.invoke(this.config.functionArn, this.event(shardId, records)).catch(
          (error: Error & { code?: string }): InvokeResult => ({ ok: false, requestId: "", durationMs: 0, error: { errorType: error.code ?? error.name, errorMessage: error.message } }),
        );
        if (result.ok) {
          this.delivered++;
          break;
        }
        this.failures++;
        attempts++;
        this.runtime.log(`event source mapping ${this.config.uuid}: ${this.config.functionArn} failed on ${records.length} records (${result.error.errorType}: ${result.error.errorMessage}); retrying`);
        this.release(poller);
        if (this.stopped || (this.config.maximumRetryAttempts >= 0 && attempts > this.config.maximumRetryAttempts)) break;
        await this.sleep(Math.min(1000 * 2 ** attempts, 30000) / 10);
      }
      iterator = next;
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
    await Promise.allSettled(this.loops);
  }
}

export function newMappingUuid(): string {
  return randomUUID();
}
