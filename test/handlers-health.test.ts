// The hello and healthcheck handlers, against real DynamoDB and Kinesis emulators on loopback.
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateStreamCommand, KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDynalite, type RunningEmulator } from "../local/dynamodb/dynalite";
import { startKinesalite } from "../local/kinesis/kinesalite";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const context = (region: string) => ({
  awsRequestId: "req-1",
  functionName: "platform-hello",
  invokedFunctionArn: `arn:aws:lambda:${region}:111111111111:function:platform-hello`,
  getRemainingTimeInMillis: () => 3000,
});

describe("hello", () => {
  it.each(["us-east-1", "us-west-2"])("answers Hello from %s, read from the function ARN", async (region) => {
    const { handler } = await import("../lambdas/hello/index");
    const result = await handler({}, context(region));
    expect(result.statusCode).toBe(200);
    expect(result.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(result.body)).toEqual({ message: `Hello from ${region}` });
  });

  it("refuses a context whose ARN has no region", async () => {
    const { handler } = await import("../lambdas/hello/index");
    await expect(handler({}, { ...context("x"), invokedFunctionArn: "not-an-arn" })).rejects.toThrow(/cannot read a region/);
  });
});

describe("healthcheck deep ping", () => {
  let dynamodb: RunningEmulator;
  let kinesis: RunningEmulator;
  let handler: (event?: unknown) => Promise<{ statusCode: number; body: string }>;

  beforeAll(async () => {
    dynamodb = await startDynalite();
    kinesis = await startKinesalite();
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
    });
    const ddb = new DynamoDBClient({ region: "us-east-1", endpoint: dynamodb.endpoint, credentials });
    await ddb.send(
      new CreateTableCommand({
        TableName: "Comments",
        AttributeDefinitions: [{ AttributeName: "commentId", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "commentId", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    const kin = new KinesisClient({ region: "us-east-1", endpoint: kinesis.endpoint, credentials, requestHandler: new NodeHttpHandler() });
    await kin.send(new CreateStreamCommand({ StreamName: "CSEKinesisBeaconInputStream", ShardCount: 1 }));
    ({ handler } = await import("../lambdas/healthcheck/index"));
  });

  afterAll(async () => {
    await dynamodb?.stop();
    await kinesis?.stop();
  });

  const run = async (env: Record<string, string>) => {
    Object.assign(process.env, { STATUS: "ok", CHECK_TABLES: "", CHECK_STREAMS: "", ...env });
    const result = await handler();
    return { status: result.statusCode, body: JSON.parse(result.body) };
  };

  it("is ok when every table and stream is active", async () => {
    expect(await run({ CHECK_TABLES: "Comments", CHECK_STREAMS: "CSEKinesisBeaconInputStream" })).toEqual({
      status: 200,
      body: { status: "ok" },
    });
  });

  it("fails with 503 and names the table when a table is missing", async () => {
    const { status, body } = await run({ CHECK_TABLES: "Comments,SAMLSessions", CHECK_STREAMS: "CSEKinesisBeaconInputStream" });
    expect(status).toBe(503);
    expect(body.status).toBe("fail");
    expect(body.checks["dynamodb:Comments"]).toBe("ACTIVE");
    expect(body.checks["dynamodb:SAMLSessions"]).toMatch(/^ResourceNotFoundException/);
  });

  it("fails when a stream is missing", async () => {
    const { status, body } = await run({ CHECK_STREAMS: "CSEKinesisBeaconOutputStream" });
    expect(status).toBe(503);
    expect(body.checks["kinesis:CSEKinesisBeaconOutputStream"]).toMatch(/^ResourceNotFoundException/);
  });

  it("fails when STATUS=fail, even with every dependency healthy (the failover drill)", async () => {
    const { status, body } = await run({ STATUS: "fail", CHECK_TABLES: "Comments" });
    expect(status).toBe(503);
    expect(body).toEqual({ status: "fail", checks: { "dynamodb:Comments": "ACTIVE", STATUS: 'forced to "fail" by the STATUS environment variable' } });
  });

  it("fails, without hanging, when DynamoDB cannot be reached", async () => {
    // The client was created at cold start with the working endpoint; a stopped emulator is what an outage looks like.
    await dynamodb.stop();
    const { status, body } = await run({ CHECK_TABLES: "Comments" });
    expect(status).toBe(503);
    // A keep-alive socket hangs up, a new one is refused: either way the check names the error.
    expect(body.checks["dynamodb:Comments"]).toMatch(/^\w*(Error|Exception)\b.*: \S/);
  });
});
