// The partitioned runtime's state in DynamoDB, in small items that each have one writer most of
// the time:
//
//   <app>/shard/<shard id>  one per input shard, written by that shard's invocations: the last
//                           sequence number counted, the shard's ROWTIME clock and its partial
//                           windows (counts per window and GROUP BY key) not yet merged.
//   <app>/windows           written once per window close: which windows are closed, the
//                           registered shards, the snapshot of the operators after the merge
//                           (join, RANDOM_CUT_FOREST) and the outbox of rows for the output stream.
//   <app>/frontier          a copy of how far windows are closed, read by shards to drop partial
//                           windows that were merged (it may lag, never lead).
//
// Every item is changed only by a write conditional on the version read, so a write that lost a
// race is known (a conflict) and redone from a fresh read. A shard item is a few hundred bytes;
// the windows item holds the operators' snapshot (about 32 KB gzip'd for the clickstream SQL),
// the same whatever the number of shards or open windows.
import { gunzipSync, gzipSync } from "node:zlib";
import {
  BatchGetItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import type { ApplicationSnapshot, Partials } from "../lib/streaming-sql";
import { RuntimeError } from "./errors";
import type { StateTable } from "./context";
import { conditionalWrite } from "./meter";
import type { OutputRecord } from "./output";
import { MAX_STATE_BYTES } from "./state-store";

/** BatchGetItem reads at most 100 items a call. */
const BATCH_GET_LIMIT = 100;

export interface ShardState {
  shardId: string;
  /** 0 while the shard has no item. */
  version: number;
  /** Sequence number of the last record counted: a redelivered batch is cut here. */
  lastSequence?: string;
  /** The shard's ROWTIME: its last record's, or where a tick moved it. Never goes back. */
  clock?: number;
  partials: Partials;
  /** Which SQL the partials belong to. */
  fingerprint?: string;
  /** Finished (resharded away) and merged: kept only so that a late redelivery is still cut. */
  retired: boolean;
}

export interface OutboxRow extends OutputRecord {
  ordinal: number;
}

export interface WindowsState {
  /** 0 while there is no item. */
  version: number;
  /** Every window ending at or before this time is closed (merged and fed on). */
  closedThrough?: number;
  /** Shards that have written partial windows. */
  shards: string[];
  /** Registered shards that are finished: no longer waited for, merged until their windows close. */
  retired: string[];
  snapshot?: ApplicationSnapshot;
  /** Rows committed for the output stream; those up to `deliveredThrough` are delivered. */
  outbox: OutboxRow[];
  deliveredThrough: number;
  nextOrdinal: number;
  /** Who is writing the outbox to the output stream, until when (epoch ms). */
  lease?: { owner: string; until: number };
}

export type WindowsChange = Omit<WindowsState, "version">;

export class PartitionStore {
  /** Size of the windows item as last read or written, for metering updates of it. */
  private windowsBytes = 0;

  constructor(private readonly state: StateTable) {}

  /** A shard's item and the frontier copy, in one consistent read. */
  async readShard(shardId: string): Promise<{ shard: ShardState; frontier?: number }> {
    const items = await this.batchGet([this.shardKey(shardId), this.key("frontier")]);
    const frontier = items.get(this.key("frontier"))?.closedThrough?.N;
    return { shard: decodeShard(shardId, items.get(this.shardKey(shardId))), frontier: frontier === undefined ? undefined : Number(frontier) };
  }

  async readShards(shardIds: readonly string[]): Promise<Map<string, ShardState>> {
    const items = await this.batchGet(shardIds.map((id) => this.shardKey(id)));
    return new Map(shardIds.map((id) => [id, decodeShard(id, items.get(this.shardKey(id)))]));
  }

  /**
   * Writes the shard's next state if its item is still at `expected.version` (absent for 0);
   * false when another writer (a tick moving the shard's clock) got there first.
   */
  async writeShard(expected: ShardState, next: Omit<ShardState, "version" | "shardId" | "retired">): Promise<boolean> {
    const item: Record<string, AttributeValue> = {
      application: { S: this.shardKey(expected.shardId) },
      version: { N: String(expected.version + 1) },
      partials: { S: JSON.stringify(next.partials) },
      updatedAt: { S: this.state.updatedAt },
    };
    if (next.lastSequence !== undefined) item.lastSequence = { S: next.lastSequence };
    if (next.clock !== undefined) item.clock = { N: String(next.clock) };
    if (next.fingerprint !== undefined) item.fingerprint = { S: next.fingerprint };
    const bytes = itemBytes(item);
    if (bytes > MAX_STATE_BYTES) {
      throw new RuntimeError(
        "STATE_TOO_LARGE",
        `shard ${expected.shardId}'s partial windows take ${bytes} bytes, more than a DynamoDB item holds (${MAX_STATE_BYTES}): a window has too many GROUP BY keys for one shard item`,
      );
    }
    return this.conditionalPut(item, expected.version, bytes);
  }

  /**
   * Moves a shard's clock to `clock` (a tick closing windows the shard has not reached): its
   * later records count from there. False when the shard wrote since `seen` was read.
   */
  async fence(seen: ShardState, clock: number): Promise<boolean> {
    if (seen.version === 0) {
      const item = { application: { S: this.shardKey(seen.shardId) }, version: { N: "1" }, clock: { N: String(clock) }, partials: { S: "{}" }, updatedAt: { S: this.state.updatedAt } };
      return this.conditionalPut(item, 0, itemBytes(item));
    }
    return this.conditionalUpdate(this.shardKey(seen.shardId), seen.version, "SET clock = :clock, version = :next, updatedAt = :at", { ":clock": { N: String(clock) }, ":at": { S: this.state.updatedAt } }, 200);
  }

  /** Leaves a finished, merged shard as a small tombstone that expires after the stream's retention. */
  async retire(shardId: string, expiresAtSeconds: number): Promise<void> {
    this.state.meter.wrote(200);
    await this.state.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.state.table,
        Key: { application: { S: this.shardKey(shardId) } },
        UpdateExpression: "SET retired = :true, expiresAt = :expires, updatedAt = :at REMOVE partials",
        ExpressionAttributeValues: { ":true": { BOOL: true }, ":expires": { N: String(expiresAtSeconds) }, ":at": { S: this.state.updatedAt } },
      }),
    );
  }

  async readWindows(): Promise<WindowsState> {
    this.state.meter.reads++;
    const { Item } = await this.state.dynamodb.send(new GetItemCommand({ TableName: this.state.table, Key: { application: { S: this.key("windows") } }, ConsistentRead: true }));
    this.windowsBytes = Item ? itemBytes(Item) : 0;
    return decodeWindows(Item, this.state.table, this.key("windows"));
  }

  /**
   * Adds shards to the registered shards (and creates the windows item if there is none). It
   * changes the version, so a window close that read the shards before fails and reads again:
   * no window closes without a registered shard having passed it.
   */
  async register(shardIds: string[]): Promise<WindowsState> {
    this.state.meter.wrote(1);
    const { Attributes } = await this.state.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.state.table,
        Key: { application: { S: this.key("windows") } },
        UpdateExpression: "ADD shards :shards, version :one",
        ExpressionAttributeValues: { ":shards": { SS: shardIds }, ":one": { N: "1" } },
        ReturnValues: "ALL_NEW",
      }),
    );
    return decodeWindows(Attributes, this.state.table, this.key("windows"));
  }

  /** Writes the windows item's next state if it is still at `version`; false when another writer was first. */
  async commitWindows(version: number, next: WindowsChange): Promise<boolean> {
    const item: Record<string, AttributeValue> = {
      application: { S: this.key("windows") },
      version: { N: String(version + 1) },
      outbox: { L: next.outbox.map((r) => ({ M: { ordinal: { N: String(r.ordinal) }, data: { S: r.data }, partitionKey: { S: r.partitionKey } } })) },
      deliveredThrough: { N: String(next.deliveredThrough) },
      nextOrdinal: { N: String(next.nextOrdinal) },
      updatedAt: { S: this.state.updatedAt },
    };
    if (next.closedThrough !== undefined) item.closedThrough = { N: String(next.closedThrough) };
    if (next.shards.length > 0) item.shards = { SS: next.shards };
    if (next.retired.length > 0) item.retired = { SS: next.retired };
    if (next.snapshot) item.state = { B: gzipSync(JSON.stringify(next.snapshot)) };
    if (next.lease) Object.assign(item, { leaseOwner: { S: next.lease.owner }, leaseUntil: { N: String(next.lease.until) } });
    const bytes = itemBytes(item);
    this.windowsBytes = bytes;
    if (bytes > MAX_STATE_BYTES) {
      throw new RuntimeError("STATE_TOO_LARGE", `the merged windows' state is ${bytes} bytes, more than a DynamoDB item holds (${MAX_STATE_BYTES}); use a smaller subSampleSize or numberOfTrees, or deliver the outbox`);
    }
    return this.conditionalPut(item, version, bytes);
  }

  /** Records that the outbox is delivered through `ordinal` and gives up the lease; false when the item moved on. */
  async markDelivered(version: number, ordinal: number): Promise<boolean> {
    return this.conditionalUpdate(
      this.key("windows"),
      version,
      "SET deliveredThrough = :ordinal, version = :next, updatedAt = :at REMOVE leaseOwner, leaseUntil",
      { ":ordinal": { N: String(ordinal) }, ":at": { S: this.state.updatedAt } },
      // An update is charged by the size of the whole item.
      this.windowsBytes,
    );
  }

  /** Publishes how far windows are closed, for shards dropping merged partial windows (last writer wins: it may only lag). */
  async publishFrontier(closedThrough: number): Promise<void> {
    const item = { application: { S: this.key("frontier") }, closedThrough: { N: String(closedThrough) } };
    this.state.meter.wrote(itemBytes(item));
    await this.state.dynamodb.send(new PutItemCommand({ TableName: this.state.table, Item: item }));
  }

  private key(part: "windows" | "frontier"): string {
    return `${this.state.application}/${part}`;
  }

  private shardKey(shardId: string): string {
    return `${this.state.application}/shard/${shardId}`;
  }

  private async batchGet(keys: string[]): Promise<Map<string, Record<string, AttributeValue>>> {
    const found = new Map<string, Record<string, AttributeValue>>();
    for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
      let pending: Record<string, AttributeValue>[] = keys.slice(start, start + BATCH_GET_LIMIT).map((k) => ({ application: { S: k } }));
      // DynamoDB may leave keys unprocessed (throttling): ask again for those.
      for (let attempt = 1; pending.length > 0; attempt++) {
        this.state.meter.reads++;
        const answer = await this.state.dynamodb.send(new BatchGetItemCommand({ RequestItems: { [this.state.table]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of answer.Responses?.[this.state.table] ?? []) found.set(item.application.S!, item);
        pending = answer.UnprocessedKeys?.[this.state.table]?.Keys ?? [];
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)));
      }
    }
    return found;
  }

  private async conditionalPut(item: Record<string, AttributeValue>, version: number, bytes: number): Promise<boolean> {
    return conditionalWrite(
      this.state.dynamodb,
      this.state.meter,
      bytes,
      new PutItemCommand({
        TableName: this.state.table,
        Item: item,
        ...(version === 0
          ? { ConditionExpression: "attribute_not_exists(application)" }
          : { ConditionExpression: "version = :version", ExpressionAttributeValues: { ":version": { N: String(version) } } }),
      }),
    );
  }

  private async conditionalUpdate(key: string, version: number, update: string, values: Record<string, AttributeValue>, bytes: number): Promise<boolean> {
    return conditionalWrite(
      this.state.dynamodb,
      this.state.meter,
      bytes,
      new UpdateItemCommand({
        TableName: this.state.table,
        Key: { application: { S: key } },
        UpdateExpression: update,
        ConditionExpression: "version = :version",
        ExpressionAttributeValues: { ...values, ":version": { N: String(version) }, ":next": { N: String(version + 1) } },
      }),
    );
  }
}

function decodeShard(shardId: string, item: Record<string, AttributeValue> | undefined): ShardState {
  if (!item) return { shardId, version: 0, partials: {}, retired: false };
  return {
    shardId,
    version: Number(item.version.N),
    lastSequence: item.lastSequence?.S,
    clock: item.clock?.N === undefined ? undefined : Number(item.clock.N),
    partials: item.partials?.S ? (JSON.parse(item.partials.S) as Partials) : {},
    fingerprint: item.fingerprint?.S,
    retired: item.retired?.BOOL === true,
  };
}

function decodeWindows(item: Record<string, AttributeValue> | undefined, table: string, key: string): WindowsState {
  if (!item) return { version: 0, shards: [], retired: [], outbox: [], deliveredThrough: 0, nextOrdinal: 1 };
  let snapshot: ApplicationSnapshot | undefined;
  if (item.state?.B) {
    try {
      snapshot = JSON.parse(gunzipSync(item.state.B).toString("utf8")) as ApplicationSnapshot;
    } catch (error) {
      throw new RuntimeError("STATE_CORRUPT", `state item "${key}" in table ${table} cannot be read (${(error as Error).message}); delete the item to start the windows afresh`);
    }
  }
  return {
    version: Number(item.version?.N ?? 0),
    closedThrough: item.closedThrough?.N === undefined ? undefined : Number(item.closedThrough.N),
    shards: [...(item.shards?.SS ?? [])].sort(),
    retired: [...(item.retired?.SS ?? [])].sort(),
    snapshot,
    outbox: (item.outbox?.L ?? []).map((entry) => ({ ordinal: Number(entry.M!.ordinal.N), data: entry.M!.data.S!, partitionKey: entry.M!.partitionKey.S! })),
    deliveredThrough: Number(item.deliveredThrough?.N ?? 0),
    nextOrdinal: Number(item.nextOrdinal?.N ?? 1),
    lease: item.leaseOwner?.S ? { owner: item.leaseOwner.S, until: Number(item.leaseUntil?.N ?? 0) } : undefined,
  };
}

/** An item's size as DynamoDB counts it, near enough for metering: names and values in bytes. */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += name.length + (value.B ? value.B.length : JSON.stringify(value).length);
  return bytes;
}
