// What DynamoDB does in the background, across the regions of the local cloud, and dynalite
// lacks. TTL: expired items are deleted by a sweeper, as DynamoDB's background process does.
// Global tables: a successful write to a replicated table is applied to the other regions'
// replicas after a lag, last writer wins; a replica in a region that is down gets the write when
// the region is back. These are AWS's own processes: they act on the backends directly, not
// through the edge and IAM.
import {
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import type { Clock, Scheduled } from "../lib/clock";
import { RegionOutages } from "../lib/outages";

export type Item = Record<string, AttributeValue>;

/** A region's DynamoDB as AWS's background processes reach it: a client on its backend. */
export interface DynamoRegion {
  region: string;
  client: DynamoDBClient;
}

/** Replication and TTL across the regions of the local cloud. */
export class DynamoCoordinator {
  private readonly regions = new Map<string, DynamoRegion>();
  /** table -> regions holding a replica */
  private readonly replicas = new Map<string, Set<string>>();
  /** region/table -> TTL attribute */
  private readonly ttl = new Map<string, string>();
  /** region/table/key -> time of the last write applied there (for last-writer-wins) */
  private readonly lastWrite = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private sweeper?: Scheduled;
  private sweeping?: Promise<number>;

  constructor(
    /** Replication lag in ms (real time). */
    readonly replicationLagMs: number,
    readonly log: (message: string) => void = () => {},
    readonly outages = new RegionOutages(),
  ) {}

  addRegion(region: DynamoRegion) {
    this.regions.set(region.region, region);
  }

  region(name: string): DynamoRegion | undefined {
    return this.regions.get(name);
  }

  /** `replicate("SAMLSessions", "us-east-1", "us-west-2")`: the two hold replicas of one global table. */
  replicate(table: string, ...regions: string[]) {
    const set = this.replicas.get(table) ?? new Set<string>();
    for (const r of regions) set.add(r);
    this.replicas.set(table, set);
  }

  replicaRegions(table: string): string[] {
    return [...(this.replicas.get(table) ?? [])];
  }

  enableTtl(region: string, table: string, attribute: string) {
    this.ttl.set(`${region}/${table}`, attribute);
  }

  /** Deletes expired items every second of the local clock (expiry in seconds since the epoch, as TTL attributes hold it). */
  startTtlSweeper(clock: Clock) {
    this.sweeper = clock.every(
      1000,
      () => {
        // One sweep at a time; stop() waits for the one under way before the stores close.
        this.sweeping ??= this.sweepOnce(clock.now() / 1000).finally(() => (this.sweeping = undefined));
        return this.sweeping;
      },
      { catchUp: "once" },
    );
  }

  async sweepOnce(nowSeconds: number): Promise<number> {
    let deleted = 0;
    for (const [key, attribute] of this.ttl) {
      const [region, table] = key.split("/");
      const target = this.regions.get(region);
      if (!target) continue;
      try {
        const keyNames = await this.keyNames(target, table);
        let startKey: Item | undefined;
        do {
          const page = await target.client.send(
            new ScanCommand({
              TableName: table,
              ExclusiveStartKey: startKey,
              FilterExpression: "#ttl < :now",
              ExpressionAttributeNames: { "#ttl": attribute },
              ExpressionAttributeValues: { ":now": { N: String(Math.floor(nowSeconds)) } },
            }),
          );
          for (const item of page.Items ?? []) {
            const itemKey = Object.fromEntries(keyNames.map((k) => [k, item[k]]));
            await target.client.send(new DeleteItemCommand({ TableName: table, Key: itemKey }));
            deleted++;
            // TTL deletions replicate like any other delete.
            this.afterWrite(region, table, itemKey);
          }
          startKey = page.LastEvaluatedKey;
        } while (startKey);
      } catch (error) {
        this.log(`dynamodb ttl: ${region}/${table}: ${(error as Error).message}`);
      }
    }
    return deleted;
  }

  private readonly keyNameCache = new Map<string, string[]>();
  private async keyNames(region: DynamoRegion, table: string): Promise<string[]> {
    const cacheKey = `${region.region}/${table}`;
    let names = this.keyNameCache.get(cacheKey);
    if (!names) {
      const described = await region.client.send(new DescribeTableCommand({ TableName: table }));
      names = (described.Table?.KeySchema ?? []).map((k) => k.AttributeName!);
      this.keyNameCache.set(cacheKey, names);
    }
    return names;
  }

  /** Called after a write succeeded in `region`: schedules the replicas' copies. */
  afterWrite(region: string, table: string, key: Item) {
    const others = this.replicaRegions(table).filter((r) => r !== region);
    if (others.length === 0) return;
    const writtenAt = Date.now() + Math.random() / 1000; // ties broken as DynamoDB does: arbitrarily but consistently
    this.lastWrite.set(this.itemId(region, table, key), writtenAt);
    const task = new Promise<void>((resolve) => setTimeout(resolve, this.replicationLagMs))
      .then(() => this.copy(region, table, key, others, writtenAt))
      .catch((error) => this.log(`dynamodb replication ${table} ${region} -> ${others.join(",")}: ${(error as Error).message}`));
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  private itemId(region: string, table: string, key: Item) {
    return `${region}/${table}/${JSON.stringify(Object.keys(key).sort().map((k) => [k, key[k]]))}`;
  }

  private async copy(from: string, table: string, key: Item, to: string[], writtenAt: number) {
    const down = to.filter((region) => this.outages.isDown(region));
    if (down.length > 0) this.replicateWhenBack(from, table, key, down, writtenAt);
    const source = this.regions.get(from)!;
    const current = await source.client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    for (const region of to.filter((r) => !down.includes(r))) {
      const target = this.regions.get(region);
      if (!target) continue;
      const id = this.itemId(region, table, key);
      // Last writer wins: a newer write made in the target region is not overwritten.
      if ((this.lastWrite.get(id) ?? 0) > writtenAt) continue;
      this.lastWrite.set(id, writtenAt);
      if (current.Item) await target.client.send(new PutItemCommand({ TableName: table, Item: current.Item }));
      else await target.client.send(new DeleteItemCommand({ TableName: table, Key: key }));
    }
  }

  /** A replica region that is down gets the write once it is back (the item as it is then). */
  private replicateWhenBack(from: string, table: string, key: Item, to: string[], writtenAt: number) {
    const task = new Promise<void>((resolve) => {
      const waitFor = (region: string, isDown: boolean) => {
        if (isDown || !to.includes(region)) return;
        this.outages.offChange(waitFor);
        resolve();
      };
      this.outages.onChange(waitFor);
    })
      .then(() => this.copy(from, table, key, to, writtenAt))
      .catch((error) => this.log(`dynamodb replication ${table} ${from} -> ${to.join(",")}: ${(error as Error).message}`));
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Waits until every scheduled replication has been applied. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async stop(): Promise<void> {
    this.sweeper?.cancel();
    await this.sweeping;
  }
}

