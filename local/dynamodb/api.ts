// DynamoDB's API behind the edge (awsJson1.0, `X-Amz-Target: DynamoDB_20120810.<Operation>`): the
// permissions each operation needs (the actions and table/index ARNs of the DynamoDB Service
// Authorization Reference), then the request goes to the region's dynalite with what dynalite
// lacks added on the way: a write to a global table is handed to the coordinator for replication,
// and a DeleteItem is forwarded with ReturnValues ALL_OLD so that a delete that found nothing is
// known (DynamoDB writes no stream record for it, so global tables replicate nothing). Every
// answer publishes DynamoDB's metrics ("DynamoDB metrics and dimensions") in the caller's account.
import { crc32 } from "node:zlib";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { AwsServiceError } from "../lib/aws-wire";
import { jsonRequestBody } from "../lib/json-protocol";
import type { HttpResponse } from "../lib/http-serve";
import type { EdgeCall, EdgeService, Requirement } from "../edge/types";
import type { DynamoBackend } from "./backend";
import type { DynamoCoordinator, Item } from "./coordinator";
import type { CloudWatch } from "../cloudwatch/state";

const TARGET_PREFIX = "DynamoDB_20120810.";
const WRITE_OPERATIONS = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"]);
/** Operations on no table (their resource is `*`). */
const ACCOUNT_OPERATIONS = new Set(["ListTables", "DescribeLimits", "DescribeEndpoints", "ListGlobalTables", "ListBackups", "ListExports", "ListImports"]);
/** TransactWriteItems needs the action of each item it holds. */
const TRANSACT_ACTIONS: Record<string, string> = { Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", ConditionCheck: "ConditionCheckItem" };
const READ_OPERATIONS = new Set(["GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"]);
/** The errors DynamoDB answers a throttled request with. */
const THROTTLE_ERRORS = new Set(["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]);

type Request = Record<string, any>;

function parse(call: EdgeCall): { operation: string; input: Request } {
  const target = String(call.request.headers["x-amz-target"] ?? "");
  if (!target.startsWith(TARGET_PREFIX)) throw new AwsServiceError("UnknownOperationException", `Unknown operation: X-Amz-Target "${target}" is not a DynamoDB operation`);
  const input = jsonRequestBody(call.request.body, "Start of structure or map found where not expected: the request body is not JSON");
  return { operation: target.slice(TARGET_PREFIX.length), input: input as Request };
}

export class DynamoDbApi implements EdgeService {
  readonly protocol = { kind: "json", version: "1.0" } as const;
  private readonly keyNames = new Map<string, string[]>();

  constructor(
    private readonly backends: (region: string) => DynamoBackend | undefined,
    private readonly coordinator: DynamoCoordinator,
    private readonly cloudWatchOf?: (region: string, accountId: string) => CloudWatch,
  ) {}

  requirements(call: EdgeCall): Requirement[] {
    const { operation, input } = parse(call);
    const table = (name: unknown, index?: unknown) => {
      if (typeof name !== "string" || name === "") throw new AwsServiceError("ValidationException", `${operation}: TableName is required`);
      return `arn:aws:dynamodb:${call.region}:${call.caller!.accountId}:table/${name}${typeof index === "string" ? `/index/${index}` : ""}`;
    };
    const needs = (action: string, resource: string): Requirement => ({ action: `dynamodb:${action}`, resource });
    if (ACCOUNT_OPERATIONS.has(operation)) return [needs(operation, "*")];
    if (operation === "BatchGetItem" || operation === "BatchWriteItem") {
      return Object.keys(input.RequestItems ?? {}).map((name) => needs(operation, table(name)));
    }
    if (operation === "TransactWriteItems") {
      return (input.TransactItems ?? []).flatMap((item: Request) =>
        Object.entries(TRANSACT_ACTIONS).filter(([kind]) => item?.[kind]).map(([kind, action]) => needs(action, table(item[kind].TableName))),
      );
    }
    if (operation === "TransactGetItems") return (input.TransactItems ?? []).map((item: Request) => needs("GetItem", table(item?.Get?.TableName)));
    if (["TagResource", "UntagResource", "ListTagsOfResource"].includes(operation)) return [needs(operation, String(input.ResourceArn ?? "*"))];
    return [needs(operation, table(input.TableName, operation === "Query" || operation === "Scan" ? input.IndexName : undefined))];
  }

  async handle(call: EdgeCall): Promise<HttpResponse> {
    const backend = this.backends(call.region);
    if (!backend) throw new AwsServiceError("UnrecognizedClientException", `No DynamoDB in region ${call.region} of the local cloud`);
    const { operation, input } = parse(call);
    const learnOldItem = operation === "DeleteItem" && (input.ReturnValues === undefined || input.ReturnValues === "NONE");
    const body = learnOldItem ? Buffer.from(JSON.stringify({ ...input, ReturnValues: "ALL_OLD" })) : call.request.body;
    const started = performance.now();
    const answer = await backend.forward(call.request, body);
    this.publishMetrics(call, operation, input, answer, performance.now() - started);
    let answerBody = answer.body;
    let changed = answer.status === 200 && WRITE_OPERATIONS.has(operation);
    let rewritten = false;
    if (changed && operation === "DeleteItem") {
      // A delete that found nothing changed nothing, and a replicated no-op would delete a newer item.
      const result = JSON.parse(answer.body.toString("utf8"));
      changed = result.Attributes !== undefined;
      if (changed && learnOldItem) {
        delete result.Attributes;
        answerBody = Buffer.from(JSON.stringify(result));
        rewritten = true;
      }
    }
    if (changed) {
      this.replicate(call.region, operation, input).catch((error) =>
        this.coordinator.log(`dynamodb ${call.region}: replication of ${operation} not scheduled: ${(error as Error).message}`),
      );
    }
    const headers = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => name !== "content-length" && name !== "connection" && name !== "date").map(([n, v]) => [n, String(v)]));
    // The SDK checks x-amz-crc32 against the body it receives.
    if (rewritten) headers["x-amz-crc32"] = String(crc32(answerBody));
    return { status: answer.status, headers, body: answerBody };
  }

  private publishMetrics(call: EdgeCall, operation: string, input: Request, answer: { status: number; body: Buffer }, latencyMs: number) {
    if (!this.cloudWatchOf || ACCOUNT_OPERATIONS.has(operation)) return;
    const cw = this.cloudWatchOf(call.region, call.caller!.accountId);
    const tables = operation.startsWith("Batch") ? Object.keys(input.RequestItems ?? {}) : typeof input.TableName === "string" ? [input.TableName] : [];
    const error = answer.status === 200 ? undefined : String(safeJson(answer.body)?.__type ?? "").split("#").pop()!;
    if (error && answer.status < 500 && !THROTTLE_ERRORS.has(error) && error !== "ConditionalCheckFailedException") cw.record("AWS/DynamoDB", "UserErrors", {}, 1, "Count");
    for (const table of tables) {
      const perOperation = { TableName: table, Operation: operation };
      if (!error) cw.record("AWS/DynamoDB", "SuccessfulRequestLatency", perOperation, latencyMs, "Milliseconds");
      else if (answer.status >= 500) cw.record("AWS/DynamoDB", "SystemErrors", perOperation, 1, "Count");
      else if (error === "ConditionalCheckFailedException") cw.record("AWS/DynamoDB", "ConditionalCheckFailedRequests", { TableName: table }, 1, "Count");
      else if (THROTTLE_ERRORS.has(error)) {
        cw.record("AWS/DynamoDB", "ThrottledRequests", perOperation, 1, "Count");
        cw.record("AWS/DynamoDB", READ_OPERATIONS.has(operation) ? "ReadThrottleEvents" : "WriteThrottleEvents", { TableName: table }, 1, "Count");
      }
    }
  }

  private async replicate(region: string, operation: string, input: Request) {
    const tables = operation === "BatchWriteItem" ? Object.keys(input.RequestItems ?? {}) : [input.TableName as string];
    if (!tables.some((t) => this.coordinator.replicaRegions(t).length > 1)) return;
    const backend = this.backends(region)!;
    for (const table of tables) {
      if (!this.keyNames.has(`${region}/${table}`)) {
        const described = await backend.client.send(new DescribeTableCommand({ TableName: table }));
        this.keyNames.set(`${region}/${table}`, (described.Table?.KeySchema ?? []).map((k) => k.AttributeName!));
      }
    }
    for (const [table, key] of writtenKeys(operation, input, (t) => this.keyNames.get(`${region}/${t}`))) {
      this.coordinator.afterWrite(region, table, key);
    }
  }
}

/** Keys of the items a write request touched, by table. */
function writtenKeys(operation: string, request: Request, keyNames: (table: string) => string[] | undefined): [string, Item][] {
  const keyOf = (table: string, item: Item) => {
    const names = keyNames(table);
    return names ? Object.fromEntries(names.map((n) => [n, item[n]])) : undefined;
  };
  if (operation === "BatchWriteItem") {
    return Object.entries((request.RequestItems ?? {}) as Record<string, Request[]>).flatMap(([table, writes]) =>
      writes.flatMap((w): [string, Item][] => {
        const key = w.DeleteRequest ? w.DeleteRequest.Key : w.PutRequest ? keyOf(table, w.PutRequest.Item) : undefined;
        return key ? [[table, key]] : [];
      }),
    );
  }
  if (operation === "PutItem") {
    const key = keyOf(request.TableName, request.Item);
    return key ? [[request.TableName, key]] : [];
  }
  return [[request.TableName, request.Key]];
}

function safeJson(body: Buffer): Record<string, unknown> | undefined {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}
