// Kinesis Data Streams' API behind the edge (awsJson1.1, `X-Amz-Target: Kinesis_20131202.<Op>`):
// the permissions each operation needs (actions on the stream ARN, as the Kinesis Service
// Authorization Reference lists them), then the request goes to the region's kinesalite. Writes
// and reads publish the stream's metrics ("Kinesis Data Streams dimensions and metrics") in the
// caller's account.
import { createDecipheriv } from "node:crypto";
import { createRequire } from "node:module";
import { AwsServiceError } from "../lib/aws-wire";
import { jsonRequestBody } from "../lib/json-protocol";
import type { HttpResponse } from "../lib/http-serve";
import type { EdgeCall, EdgeService, Requirement } from "../edge/types";
import type { KinesisBackend } from "./kinesalite";
import type { CloudWatch } from "../cloudwatch/state";

const TARGET_PREFIX = "Kinesis_20131202.";
const ACCOUNT_OPERATIONS = new Set(["ListStreams", "DescribeLimits", "EnableEnhancedMonitoring", "DisableEnhancedMonitoring"]);
/** kinesalite's key for its shard iterators, which name the stream they read. */
const iteratorKeys = createRequire(import.meta.url)("kinesalite/db") as { ITERATOR_PWD_KEY: Buffer; ITERATOR_PWD_IV: Buffer };

/** The stream a kinesalite shard iterator reads (GetRecords names no stream otherwise). */
function streamOfIterator(iterator: string): string | undefined {
  try {
    const decipher = createDecipheriv("aes-256-cbc", iteratorKeys.ITERATOR_PWD_KEY, iteratorKeys.ITERATOR_PWD_IV);
    const raw = Buffer.from(iterator, "base64");
    return Buffer.concat([decipher.update(raw.subarray(8)), decipher.final()]).toString("utf8").split("/")[1];
  } catch {
    return undefined;
  }
}

/** The operation and the stream a request names. */
function parse(call: EdgeCall): { operation: string; input: Record<string, unknown>; stream?: string } {
  const target = String(call.request.headers["x-amz-target"] ?? "");
  if (!target.startsWith(TARGET_PREFIX)) throw new AwsServiceError("UnknownOperationException", `X-Amz-Target "${target}" is not a Kinesis operation`);
  const operation = target.slice(TARGET_PREFIX.length);
  const input = jsonRequestBody(call.request.body);
  const stream =
    typeof input.StreamARN === "string"
      ? input.StreamARN.split("/").pop()
      : typeof input.StreamName === "string"
        ? input.StreamName
        : typeof input.ShardIterator === "string"
          ? streamOfIterator(input.ShardIterator)
          : undefined;
  return { operation, input, stream };
}

const THROTTLED = "ProvisionedThroughputExceededException";

export class KinesisApi implements EdgeService {
  readonly protocol = { kind: "json", version: "1.1" } as const;

  constructor(
    private readonly backends: (region: string) => KinesisBackend | undefined,
    private readonly cloudWatchOf?: (region: string, accountId: string) => CloudWatch,
  ) {}

  requirements(call: EdgeCall): Requirement[] {
    const { operation, stream } = parse(call);
    if (ACCOUNT_OPERATIONS.has(operation)) return [{ action: `kinesis:${operation}`, resource: "*" }];
    // A request naming no stream is refused by kinesalite itself, with Kinesis's own validation error.
    const resource = stream ? `arn:aws:kinesis:${call.region}:${call.caller!.accountId}:stream/${stream}` : "*";
    return [{ action: `kinesis:${operation}`, resource }];
  }

  async handle(call: EdgeCall): Promise<HttpResponse> {
    const backend = this.backends(call.region);
    if (!backend) throw new AwsServiceError("UnrecognizedClientException", `No Kinesis in region ${call.region} of the local cloud`);
    const answer = await backend.forward(call.request);
    this.publishMetrics(call, answer);
    const headers = Object.fromEntries(Object.entries(answer.headers).filter(([n]) => !["content-length", "connection", "date"].includes(n)).map(([n, v]) => [n, String(v)]));
    return { status: answer.status, headers, body: answer.body };
  }

  private publishMetrics(call: EdgeCall, answer: { status: number; body: Buffer }) {
    const { operation, input, stream } = parse(call);
    if (!this.cloudWatchOf || !stream) return;
    const cw = this.cloudWatchOf(call.region, call.caller!.accountId);
    const metric = (name: string, value: number, unit = "Count") => cw.record("AWS/Kinesis", name, { StreamName: stream }, value, unit);
    let body: Record<string, any> = {};
    try {
      body = JSON.parse(answer.body.toString("utf8"));
    } catch {
      // an answer without a body
    }
    const throttled = answer.status !== 200 && String(body.__type ?? "").endsWith(THROTTLED);
    if (operation === "PutRecord") {
      metric("PutRecord.Success", answer.status === 200 ? 1 : 0);
      if (answer.status === 200) {
        metric("IncomingRecords", 1);
        metric("IncomingBytes", Buffer.from(String(input.Data ?? ""), "base64").length, "Bytes");
      }
      if (throttled) metric("WriteProvisionedThroughputExceeded", 1);
    } else if (operation === "PutRecords" && answer.status === 200) {
      const records: { ErrorCode?: string }[] = body.Records ?? [];
      const refused = records.filter((r) => r.ErrorCode === THROTTLED).length;
      const succeeded = records.filter((r) => !r.ErrorCode).length;
      metric("PutRecords.TotalRecords", records.length);
      metric("PutRecords.SuccessfulRecords", succeeded);
      metric("PutRecords.ThrottledRecords", refused);
      metric("IncomingRecords", succeeded);
      metric("WriteProvisionedThroughputExceeded", refused);
    } else if (operation === "PutRecords" && throttled) {
      metric("WriteProvisionedThroughputExceeded", ((input.Records as unknown[]) ?? []).length);
    } else if (operation === "GetRecords") {
      metric("GetRecords.Success", answer.status === 200 ? 1 : 0);
      if (answer.status === 200) {
        metric("GetRecords.Records", (body.Records ?? []).length);
        metric("GetRecords.IteratorAgeMilliseconds", Number(body.MillisBehindLatest ?? 0), "Milliseconds");
      }
      if (throttled) metric("ReadProvisionedThroughputExceeded", 1);
    }
  }
}
