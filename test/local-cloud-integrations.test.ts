// API Gateway integrations of the local cloud on a fixture app: MOCK, a DynamoDB service
// integration checked against its role's IAM policy, and DynamoDB data kept across restarts.
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { FIXTURE_ROLE, FIXTURE_TABLE, synthFixtureApp } from "./helpers/fixture-app";

let cloud: LocalCloud;
let outdir: string;
const dataDir = mkdtempSync(join(tmpdir(), "local-cloud-fixture-"));

beforeAll(async () => {
  outdir = synthFixtureApp({ allowPutItem: false });
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir, port: 0 });
}, 60_000);

afterAll(async () => {
  await cloud?.stop();
});

const base = () => cloud.endpoints().regions["us-east-1"].apiUrl;

describe("local cloud integrations", () => {
  it("MOCK: the request template selects the status, the response template renders $context", async () => {
    const response = await fetch(`${base()}/mock`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.mock).toBe(true);
    expect(body.requestId).toBe(response.headers.get("x-amzn-requestid"));
  });

  // As in AWS: API Gateway calls DynamoDB with a session of the integration's role; DynamoDB
  // refuses it (400 AccessDeniedException) and that answer goes through the integration responses,
  // whose selection patterns match the service's status code ("Set up an integration response in
  // API Gateway", API Gateway Developer Guide). Here `4\d{2}` maps it to the method's 400.
  it("a DynamoDB integration whose role lacks dynamodb:PutItem gets DynamoDB's AccessDenied, mapped by its integration responses", async () => {
    const response = await fetch(`${base()}/items`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"denied"}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: "rejected" });
    const items = await cloud.dynamodbClient("us-east-1").send(new ScanCommand({ TableName: FIXTURE_TABLE }));
    expect(items.Items).toEqual([]);
    await cloud.flushLogs();
    const logs = cloud.endpoints().regions["us-east-1"].logs;
    const file = readdirSync(logs).find((f) => f.includes("access"))!;
    const line = readFileSync(join(logs, file), "utf8").trim().split("\n").map((l) => JSON.parse(l)).find((l) => l.resourcePath === "/items")!;
    expect(line.status).toBe("400");
    expect(line["integration-status"]).toBe("400");
  });

  it("succeeds once the role's policy allows it, without redeploying the API", async () => {
    const iam = cloud.iamRoles("000000000000");
    const tableArn = `arn:aws:dynamodb:us-east-1:000000000000:table/${FIXTURE_TABLE}`;
    iam.putRolePolicy(FIXTURE_ROLE, "items", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "dynamodb:PutItem", Resource: tableArn }] }));
    const response = await fetch(`${base()}/items`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"text":"a \\"quoted\\" word"}' });
    expect(response.status).toBe(200);
    const { id } = await response.json();
    const item = await cloud.dynamodbClient("us-east-1").send(new GetItemCommand({ TableName: FIXTURE_TABLE, Key: { id: { S: id } } }));
    expect(item.Item?.text).toEqual({ S: 'a "quoted" word' });
  });

  it("keeps DynamoDB data across a restart of the local cloud", async () => {
    const before = await cloud.dynamodbClient("us-east-1").send(new ScanCommand({ TableName: FIXTURE_TABLE }));
    expect(before.Count).toBe(1);
    await cloud.stop();
    cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir, port: 0 });
    const after = await cloud.dynamodbClient("us-east-1").send(new ScanCommand({ TableName: FIXTURE_TABLE }));
    expect(after.Items).toEqual(before.Items);
  }, 60_000);
});
