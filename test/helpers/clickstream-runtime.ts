// The SQL runtime Lambda driven directly, as an event source mapping and the tick schedule would
// drive it, against dynalite and kinesalite on loopback: Kinesis events with per-shard sequence
// numbers, scheduled events, the output stream read back, the runtime's log lines collected, and
// DynamoDB reached through a proxy that can fail one chosen request (an invocation dying there).
import { captureStdout } from "./stdout-lines";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { vi } from "vitest";
import { startDynalite, type RunningEmulator } from "../../local/dynamodb/dynalite";
import { startKinesalite } from "../../local/kinesis/kinesalite";
import { closeServer, listenOnLoopback, LOOPBACK } from "../../local/lib/listen";

export const TABLE = "ClickstreamSqlState";
export const SITE = "abc123.execute-api.us-east-1.amazonaws.com";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;

export type Handler = typeof import("../../lambdas/clickstream-sql-runtime/index").handler;

/** The record API Gateway's beacon template writes (spaces and all). */
export const beacon = (action: string) => `{ "browseraction" : "${action}", "site" : "${SITE}" }`;

export interface EventRecord {
  data: string;
  arrivalMs: number;
  shard: string;
  /** A real sequence number (from kinesalite); else one is made up, growing per shard. */
  sequenceNumber?: string;
}

const madeUp = new Map<string, bigint>();

/** A Kinesis event as Lambda builds it, for `stream`. */
export function kinesisEvent(stream: string, records: EventRecord[], raw = false) {
  return {
    Records: records.map(({ data, arrivalMs, shard, sequenceNumber }) => {
      let sequence = sequenceNumber;
      if (sequence === undefined) {
        const next = madeUp.get(shard) ?? SEQUENCE_BASE;
        madeUp.set(shard, next + 1n);
        sequence = String(next);
      }
      return {
        kinesis: {
          kinesisSchemaVersion: "1.0",
          partitionKey: "pk",
          sequenceNumber: sequence,
          data: raw ? data : Buffer.from(data, "utf8").toString("base64"),
          approximateArrivalTimestamp: arrivalMs / 1000,
        },
        eventSource: "aws:kinesis",
        eventVersion: "1.0",
        eventID: `${shard}:${sequence}`,
        eventName: "aws:kinesis:record",
        awsRegion: "us-east-1",
        eventSourceARN: `arn:aws:kinesis:us-east-1:111111111111:stream/${stream}`,
      };
    }),
  };
}

export const scheduledEvent = (timeMs: number) => ({
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

export const shardId = (n: number) => `shardId-${String(n).padStart(12, "0")}`;

/** A request the DynamoDB proxy fails: operation and the state item's key. */
export interface Fault {
  operation: string;
  key: RegExp;
}

export interface RuntimeRig {
  dynamodb: DynamoDBClient;
  kinesis: KinesisClient;
  /** Fails the next request matching the fault, as if the invocation died there. */
  failNext(fault: Fault): void;
  /** Faults that have not fired yet. */
  pendingFaults(): number;
  createStream(name: string, shards: number): Promise<void>;
  /** A fresh Lambda container: the module loaded again, nothing cached. */
  coldStart(): Promise<Handler>;
  stop(): Promise<void>;
}

export async function startRuntimeRig(env: Record<string, string>): Promise<RuntimeRig> {
  const dynalite = await startDynalite();
  const kinesalite = await startKinesalite();
  const faults: Fault[] = [];
  const proxy = createServer((incoming, outgoing) => void forward(incoming, outgoing));
  const forward = async (incoming: IncomingMessage, outgoing: import("node:http").ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const operation = String(incoming.headers["x-amz-target"] ?? "").split(".")[1];
    const fault = faults.findIndex((f) => f.operation === operation && f.key.test(body.toString("utf8")));
    if (fault >= 0) {
      faults.splice(fault, 1);
      outgoing.writeHead(400, { "content-type": "application/x-amz-json-1.0" });
      outgoing.end(JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#AccessDeniedException", message: `injected fault: the invocation dies at ${operation}` }));
      return;
    }
    const target = new URL(dynalite.endpoint);
    const forwarded = httpRequest({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(outgoing);
    });
    forwarded.end(body);
  };
  const port = await listenOnLoopback(proxy as Server);
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: `http://${LOOPBACK}:${port}`,
    AWS_ENDPOINT_URL_KINESIS: kinesalite.endpoint,
    STATE_TABLE_NAME: TABLE,
    ...env,
  });
  const dynamodb = new DynamoDBClient({ region: "us-east-1", endpoint: dynalite.endpoint, credentials });
  await dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: "application", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "application", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  const kinesis = new KinesisClient({ region: "us-east-1", endpoint: kinesalite.endpoint, credentials, requestHandler: new NodeHttpHandler() });
  return {
    dynamodb,
    kinesis,
    failNext: (fault) => faults.push(fault),
    pendingFaults: () => faults.length,
    createStream: async (name, shards) => {
      await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    },
    coldStart: async () => {
      vi.resetModules();
      return (await import("../../lambdas/clickstream-sql-runtime/index")).handler;
    },
    stop: async () => {
      await closeServer(proxy as Server);
      await dynalite.stop();
      await (kinesalite as RunningEmulator).stop();
    },
  };
}

/** Reads a stream from where the last call left off (all shards). */
export function streamReader(kinesis: KinesisClient, stream: string) {
  const iterators = new Map<string, string | undefined>();
  return async (): Promise<{ data: string; partitionKey: string; shard: string; sequenceNumber: string; arrivalMs: number }[]> => {
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    const out: { data: string; partitionKey: string; shard: string; sequenceNumber: string; arrivalMs: number }[] = [];
    for (const { ShardId } of Shards ?? []) {
      if (!iterators.has(ShardId!)) {
        const start = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId, ShardIteratorType: "TRIM_HORIZON" }));
        iterators.set(ShardId!, start.ShardIterator);
      }
      for (let iterator = iterators.get(ShardId!); iterator; ) {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
        for (const r of page.Records ?? []) {
          out.push({ data: Buffer.from(r.Data!).toString("utf8"), partitionKey: r.PartitionKey!, shard: ShardId!, sequenceNumber: r.SequenceNumber!, arrivalMs: r.ApproximateArrivalTimestamp!.getTime() });
        }
        iterators.set(ShardId!, page.NextShardIterator);
        if ((page.Records ?? []).length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return out;
  };
}

/** The runtime's log lines (Powertools' Logger writes JSON lines to stdout and stderr, not through console.log). */
export function captureLogs() {
  const output = captureStdout();
  let seen = 0;
  return {
    /** Lines logged since the last call. */
    take(): Record<string, any>[] {
      const lines = output.json().slice(seen);
      seen += lines.length;
      return lines;
    },
    restore: () => output.restore(),
  };
}
