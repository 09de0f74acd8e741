// The single writer's state between invocations (SQL that cannot be split by shard): one DynamoDB
// item per application holding the engine snapshot (gzip'd JSON), the last sequence number
// processed per shard (so a batch that Lambda delivers again is not counted twice), and an outbox
// of output rows not yet confirmed delivered. Every write is conditional on the version read, so
// two concurrent invocations (two shards, a batch and a clock tick) cannot overwrite each other's
// work: the loser reads again and redoes. With many shards they contend for this one item.
import { gunzipSync, gzipSync } from "node:zlib";
import {
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import type { ApplicationSnapshot } from "../lib/streaming-sql";
import { RuntimeError } from "./errors";
import type { StateTable } from "./context";
import { conditionalWrite } from "./meter";
import type { OutputRecord } from "./output";

/** A DynamoDB item is at most 400 KB; leave room for the key, outbox and attribute names. */
export const MAX_STATE_BYTES = 380_000;

export interface StoredState {
  /** 0 when there is no item yet. */
  version: number;
  snapshot?: ApplicationSnapshot;
  /** Shard id -> last sequence number processed. */
  shards: Record<string, string>;
  outbox: OutputRecord[];
}

export class StateStore {
  /** Size of the item as last written, for metering updates of it. */
  private itemBytes = 0;

  constructor(private readonly state: StateTable) {}

  async load(): Promise<StoredState> {
    this.state.meter.reads++;
    const { Item } = await this.state.dynamodb.send(
      new GetItemCommand({ TableName: this.state.table, Key: this.key(), ConsistentRead: true }),
    );
    if (!Item) return { version: 0, shards: {}, outbox: [] };
    let body: { snapshot?: ApplicationSnapshot; shards?: Record<string, string> };
    try {
      body = JSON.parse(gunzipSync(Item.state.B!).toString("utf8"));
    } catch (error) {
      throw new RuntimeError(
        "STATE_CORRUPT",
        `state item "${this.state.application}" in table ${this.state.table} cannot be read (${(error as Error).message}); delete the item to start the application afresh`,
      );
    }
    return {
      version: Number(Item.version.N),
      snapshot: body.snapshot,
      shards: body.shards ?? {},
      outbox: (Item.outbox?.L ?? []).map((entry) => ({ data: entry.M!.data.S!, partitionKey: entry.M!.partitionKey.S! })),
    };
  }

  /**
   * Writes the next version if the item is still at `version`; returns the new version, or
   * undefined when another invocation wrote first.
   */
  async commit(version: number, snapshot: ApplicationSnapshot, shards: Record<string, string>, outbox: OutputRecord[]): Promise<number | undefined> {
    const state = gzipSync(JSON.stringify({ snapshot, shards }));
    if (state.length > MAX_STATE_BYTES) {
      throw new RuntimeError("STATE_TOO_LARGE", `the application state is ${state.length} bytes gzip'd, more than a DynamoDB item holds (${MAX_STATE_BYTES}); use a smaller subSampleSize or numberOfTrees`);
    }
    const next = version + 1;
    this.itemBytes = state.length + JSON.stringify(outbox).length;
    const written = await conditionalWrite(
      this.state.dynamodb,
      this.state.meter,
      this.itemBytes,
      new PutItemCommand({
        TableName: this.state.table,
        Item: {
          ...this.key(),
          version: { N: String(next) },
          state: { B: state },
          outbox: { L: outbox.map(outboxEntry) },
          updatedAt: { S: this.state.updatedAt },
        },
        ...this.expectVersion(version),
      }),
    );
    return written ? next : undefined;
  }

  /** Empties the outbox once its rows are delivered; returns the new version, or undefined if the item moved on. */
  async clearOutbox(version: number): Promise<number | undefined> {
    const written = await conditionalWrite(
      this.state.dynamodb,
      this.state.meter,
      // An update is charged by the size of the whole item.
      this.itemBytes,
      new UpdateItemCommand({
        TableName: this.state.table,
        Key: this.key(),
        UpdateExpression: "SET outbox = :empty, version = :next",
        ConditionExpression: "version = :version",
        ExpressionAttributeValues: { ":empty": { L: [] }, ":next": { N: String(version + 1) }, ":version": { N: String(version) } },
      }),
    );
    return written ? version + 1 : undefined;
  }

  private key(): Record<string, AttributeValue> {
    return { application: { S: this.state.application } };
  }

  private expectVersion(version: number) {
    return version === 0
      ? { ConditionExpression: "attribute_not_exists(application)" }
      : { ConditionExpression: "version = :version", ExpressionAttributeValues: { ":version": { N: String(version) } } };
  }
}

function outboxEntry(record: OutputRecord): AttributeValue {
  return { M: { data: { S: record.data }, partitionKey: { S: record.partitionKey } } };
}
