// Global tables in the local cloud's DynamoDB: two regions' dynalite backends behind the edge's
// DynamoDB API, replication after the configured lag, last writer wins, and no replication of
// writes that changed nothing.
import { CreateTableCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbApi } from "../local/dynamodb/api";
import { DynamoBackend } from "../local/dynamodb/backend";
import { DynamoCoordinator } from "../local/dynamodb/coordinator";
import { privateSocketDir } from "../local/lib/backend-socket";
import { startTestEdge, type TestEdge } from "./helpers/test-edge";

const TABLE = "Sessions";
const LAG_MS = 150;
const coordinator = new DynamoCoordinator(LAG_MS);
const sockets = privateSocketDir();
const regions: Record<string, DynamoBackend> = {};
let edge: TestEdge;
/** Clients through the edge, as Lambdas and API Gateway integrations reach DynamoDB. */
const clients: Record<string, DynamoDBClient> = {};

beforeAll(async () => {
  edge = await startTestEdge({ accountId: "111111111111", services: () => ({ dynamodb: new DynamoDbApi((region) => regions[region], coordinator) }) });
  for (const region of ["us-east-1", "us-west-2"]) {
    regions[region] = await DynamoBackend.start({ region, socketDir: sockets.dir });
    coordinator.addRegion(regions[region]);
    clients[region] = new DynamoDBClient({ region, endpoint: edge.url, credentials: edge.admin });
    await regions[region].client.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  }
  coordinator.replicate(TABLE, "us-east-1", "us-west-2");
}, 60_000);

afterAll(async () => {
  await coordinator.stop();
  await edge.stop();
  for (const region of Object.values(regions)) await region.stop();
  sockets.remove();
});

const put = (region: string, id: string, value: string) =>
  clients[region].send(new PutItemCommand({ TableName: TABLE, Item: { id: { S: id }, value: { S: value } } }));
const read = async (region: string, id: string) =>
  (await clients[region].send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: id } }, ConsistentRead: true }))).Item?.value?.S;

describe("local DynamoDB global tables", () => {
  it("a write in one region reaches the other after the lag, not before", async () => {
    await put("us-east-1", "a", "one");
    expect(await read("us-west-2", "a")).toBeUndefined();
    await coordinator.drain();
    expect(await read("us-west-2", "a")).toBe("one");
  });

  it("concurrent writes in both regions settle on the last writer's value everywhere", async () => {
    await put("us-east-1", "b", "east");
    await put("us-west-2", "b", "west");
    await coordinator.drain();
    expect(await read("us-east-1", "b")).toBe("west");
    expect(await read("us-west-2", "b")).toBe("west");
  });

  it("a delete replicates; a delete that found nothing does not remove the item replicated later", async () => {
    await put("us-east-1", "c", "kept");
    // Before the replica has the item, a delete in us-west-2 finds nothing: a no-op, not a newer write.
    const noop = await clients["us-west-2"].send(new DeleteItemCommand({ TableName: TABLE, Key: { id: { S: "c" } } }));
    expect(noop.Attributes).toBeUndefined();
    await coordinator.drain();
    expect(await read("us-east-1", "c")).toBe("kept");
    expect(await read("us-west-2", "c")).toBe("kept");

    const deleted = await clients["us-west-2"].send(new DeleteItemCommand({ TableName: TABLE, Key: { id: { S: "c" } }, ReturnValues: "ALL_OLD" }));
    expect(deleted.Attributes?.value?.S).toBe("kept");
    await coordinator.drain();
    expect(await read("us-east-1", "c")).toBeUndefined();
  });

  it("a client that did not ask for the old item does not get it back", async () => {
    await put("us-east-1", "d", "x");
    const answer = await clients["us-east-1"].send(new DeleteItemCommand({ TableName: TABLE, Key: { id: { S: "d" } } }));
    expect(answer.Attributes).toBeUndefined();
    await coordinator.drain();
    expect(await read("us-west-2", "d")).toBeUndefined();
  });
});
