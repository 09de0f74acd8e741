// DynamoDB of one region: dynalite behind a thin front that adds what dynalite lacks and the
// platform relies on. TTL: expired items are deleted by a sweeper, as DynamoDB's background
// process does. Global tables: a successful write to a replicated table is applied to the other
// regions' replicas after a lag, last writer wins; a replica in a region that is down gets the
// write when the region is back. A request signed for another region of the local cloud is
// passed to that region's front, so one endpoint serves clients of every region (as
// AWS_ENDPOINT_URL_DYNAMODB does for the SDK); a region that is down answers 503.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { crc32 } from "node:zlib";
import {
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { closeServer, LOOPBACK } from "../lib/listen";
import { REGION_DOWN_MESSAGE, RegionOutages } from "../lib/outages";
import { startDynalite, type RunningEmulator } from "./dynalite";

type Item = Record<string, AttributeValue>;

const WRITE_OPERATIONS = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"]);
const CREDENTIALS = { accessKeyId: "LOCALREPLICATOR", secretAccessKey: "local" };

export interface DynamoRegion {
  region: string;
  /** What clients (SDKs, API Gateway integrations) use. */
  endpoint: string;
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
  private sweeper?: NodeJS.Timeout;

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

  /** Deletes expired items every `intervalMs`; `now` is the local cloud's clock (seconds since epoch). */
  startTtlSweeper(intervalMs: number, now: () => number = () => Date.now() / 1000) {
    this.sweeper = setInterval(() => void this.sweepOnce(now()), intervalMs);
    this.sweeper.unref();
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

  stop() {
    if (this.sweeper) clearInterval(this.sweeper);
  }
}

/** Keys of the items a write request touched, by table. */
function writtenKeys(operation: string, request: any, keyNames: (table: string) => string[] | undefined): [string, Item][] {
  if (operation === "BatchWriteItem") {
    const keys: [string, Item][] = [];
    for (const [table, writes] of Object.entries((request.RequestItems ?? {}) as Record<string, any[]>)) {
      for (const w of writes) {
        if (w.DeleteRequest) keys.push([table, w.DeleteRequest.Key]);
        else if (w.PutRequest) {
          const names = keyNames(table);
          if (names) keys.push([table, Object.fromEntries(names.map((n) => [n, w.PutRequest.Item[n]]))]);
        }
      }
    }
    return keys;
  }
  if (operation === "PutItem") {
    const names = keyNames(request.TableName);
    return names ? [[request.TableName, Object.fromEntries(names.map((n) => [n, request.Item[n]]))]] : [];
  }
  return [[request.TableName, request.Key]];
}

/**
 * DeleteItem is forwarded with `ReturnValues: ALL_OLD`, so that the front learns whether it deleted
 * anything; the old item goes back to the client only if it asked for it.
 */
function deleteReturningOldItem(operation: string, received: Buffer): { body: Buffer; askedForOldItem: boolean } {
  if (operation !== "DeleteItem") return { body: received, askedForOldItem: false };
  let request: any;
  try {
    request = JSON.parse(received.toString("utf8"));
  } catch {
    return { body: received, askedForOldItem: false }; // dynalite answers the malformed request
  }
  if (request.ReturnValues === "ALL_OLD") return { body: received, askedForOldItem: true };
  if (request.ReturnValues !== undefined && request.ReturnValues !== "NONE") return { body: received, askedForOldItem: false };
  return { body: Buffer.from(JSON.stringify({ ...request, ReturnValues: "ALL_OLD" })), askedForOldItem: false };
}

/** DynamoDB's JSON error shape (`__type` names the exception). */
function sendError(res: ServerResponse, status: number, type: string, message: string) {
  const body = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });
  res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "content-length": Buffer.byteLength(body), "x-amzn-errortype": type });
  res.end(body);
}

/** Passes a request signed for another region to that region's front, and its answer back. */
function relay(req: IncomingMessage, body: Buffer, endpoint: string, res: ServerResponse) {
  const url = new URL(endpoint);
  const forward = httpRequest({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers }, (upstream) => {
    res.writeHead(upstream.statusCode ?? 500, upstream.headers);
    upstream.pipe(res);
  });
  forward.on("error", (error) => sendError(res, 500, "InternalServerError", error.message));
  forward.end(body);
}

export interface RunningDynamoRegion extends DynamoRegion {
  stop(): Promise<void>;
}

export async function startDynamoRegion(options: {
  region: string;
  dataDir?: string;
  port?: number;
  coordinator: DynamoCoordinator;
}): Promise<RunningDynamoRegion> {
  const backend: RunningEmulator = await startDynalite({ dataDir: options.dataDir });
  const backendUrl = new URL(backend.endpoint);
  const keyNames = new Map<string, string[]>();
  const client = new DynamoDBClient({ region: options.region, endpoint: backend.endpoint, credentials: CREDENTIALS });

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received = Buffer.concat(chunks);
      const signedFor = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(String(req.headers.authorization ?? ""))?.[1] ?? options.region;
      if (options.coordinator.outages.isDown(signedFor)) return sendError(res, 503, "ServiceUnavailable", REGION_DOWN_MESSAGE);
      if (signedFor !== options.region) {
        const other = options.coordinator.region(signedFor);
        if (!other) return sendError(res, 400, "InvalidSignatureException", `Credential should be scoped to a valid region, not '${signedFor}'.`);
        return relay(req, received, other.endpoint, res);
      }
      const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      const { body, askedForOldItem } = deleteReturningOldItem(operation, received);
      const headers = { ...req.headers, "content-length": String(body.length) };
      const forward = httpRequest({ host: backendUrl.hostname, port: backendUrl.port, method: req.method, path: req.url, headers }, (upstream) => {
        const responseChunks: Buffer[] = [];
        upstream.on("data", (c: Buffer) => responseChunks.push(c));
        upstream.on("end", () => {
          const upstreamBody = Buffer.concat(responseChunks);
          let answer = upstreamBody;
          let changed = upstream.statusCode === 200 && WRITE_OPERATIONS.has(operation);
          if (changed && operation === "DeleteItem") {
            // A delete that found nothing changes nothing: DynamoDB writes no stream record for it,
            // so global tables replicate nothing (a replicated no-op would delete a newer item).
            const result = JSON.parse(upstreamBody.toString("utf8"));
            changed = result.Attributes !== undefined;
            if (changed && !askedForOldItem) {
              delete result.Attributes;
              answer = Buffer.from(JSON.stringify(result));
            }
          }
          res.writeHead(
            upstream.statusCode ?? 500,
            answer === upstreamBody ? upstream.headers : { ...upstream.headers, "content-length": String(answer.length), "x-amz-crc32": String(crc32(answer)) },
          );
          res.end(answer);
          if (changed) {
            replicateWrite(operation, received).catch((error) =>
              options.coordinator.log(`dynamodb ${options.region}: replication of ${operation} not scheduled: ${(error as Error).message}`),
            );
          }
        });
      });
      forward.on("error", (error) => sendError(res, 500, "InternalServerError", error.message));
      forward.end(body);
    });
  });

  async function replicateWrite(operation: string, body: Buffer) {
    const request = JSON.parse(body.toString("utf8"));
    const tables = operation === "BatchWriteItem" ? Object.keys(request.RequestItems ?? {}) : [request.TableName];
    if (!tables.some((t) => options.coordinator.replicaRegions(t).length > 1)) return;
    for (const table of tables) {
      if (!keyNames.has(table)) {
        const described = await client.send(new DescribeTableCommand({ TableName: table }));
        keyNames.set(table, (described.Table?.KeySchema ?? []).map((k) => k.AttributeName!));
      }
    }
    for (const [table, key] of writtenKeys(operation, request, (t) => keyNames.get(t))) {
      options.coordinator.afterWrite(options.region, table, key);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  const endpoint = `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
  const region: RunningDynamoRegion = {
    region: options.region,
    endpoint,
    client,
    stop: async () => {
      await closeServer(server);
      await backend.stop();
    },
  };
  options.coordinator.addRegion(region);
  return region;
}
