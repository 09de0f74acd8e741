// The edge endpoint checks every call as AWS does: a signature made with the wrong secret or an
// unknown key gets the service's own authentication error, and a caller's call is allowed only
// when its policies allow it, else the service's own access-denied error with AWS's message.
// Per service, with the AWS SDK for JavaScript v3 against the deployed platform:
// - codes: DynamoDB, Kinesis, KMS and SSM answer UnrecognizedClientException /
//   InvalidSignatureException / AccessDeniedException (400); Lambda the same codes with 403; SNS
//   InvalidClientTokenId / SignatureDoesNotMatch / AuthorizationError (403); STS
//   InvalidClientTokenId / SignatureDoesNotMatch / AccessDenied (403); S3 InvalidAccessKeyId /
//   SignatureDoesNotMatch / AccessDenied (403) ("Common Errors" of each service's API reference).
// - message: "User: <session ARN> is not authorized to perform: <action> on resource: <ARN>
//   because no identity-based policy allows the <action> action" (IAM User Guide,
//   "Troubleshoot access denied error messages").
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DescribeStreamSummaryCommand, KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { ListTopicsCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";

const ACCOUNT = "111111111111";
const REGION = "us-east-1";
const ROLE = "edge-iam-test";
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/Comments`;
const STREAM = `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/CSEKinesisBeaconInputStream`;
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:ClickStreamEvent`;
const PARAMETER = "/platform/mars-display/nasa-api-key";
const BUCKET = `platform-mars-${ACCOUNT}-${REGION}`;

let cloud: LocalCloud;
type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
let session: Credentials;
let admin: Credentials;
let sessionArn: string;

beforeAll(async () => {
  cloud = await startPlatformCloud("edge-iam");
  admin = cloud.endpoints().credentials[ACCOUNT];
  // A role the account's administrator may assume (its trust policy names the account), allowed
  // one harmless call per service and nothing else.
  const iam = cloud.iamRoles(ACCOUNT);
  iam.createRole({ name: ROLE, assumeRolePolicy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" }] }) });
  iam.putRolePolicy(
    ROLE,
    "one-call-each",
    JSON.stringify({
      Statement: [
        { Effect: "Allow", Action: "dynamodb:GetItem", Resource: TABLE },
        { Effect: "Allow", Action: "kinesis:DescribeStreamSummary", Resource: STREAM },
        { Effect: "Allow", Action: "sns:ListTopics", Resource: "*" },
        { Effect: "Allow", Action: "kms:GetPublicKey", Resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/*` },
        { Effect: "Allow", Action: "ssm:GetParameter", Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PARAMETER}` },
        { Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${BUCKET}` },
        { Effect: "Allow", Action: "lambda:InvokeFunction", Resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:platform-hello` },
      ],
    }),
  );
  const assumed = await sts(admin).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/${ROLE}`, RoleSessionName: "tester" }));
  session = { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! };
  sessionArn = assumed.AssumedRoleUser!.Arn!;
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const edge = () => cloud.endpoints().services.edge;
const client = { region: REGION, maxAttempts: 1 };
const dynamodb = (credentials: Credentials) => new DynamoDBClient({ ...client, endpoint: edge(), credentials });
const kinesis = (credentials: Credentials) => new KinesisClient({ ...client, endpoint: edge(), credentials, requestHandler: new NodeHttpHandler() });
const sns = (credentials: Credentials) => new SNSClient({ ...client, endpoint: edge(), credentials });
const kms = (credentials: Credentials) => new KMSClient({ ...client, endpoint: edge(), credentials });
const ssm = (credentials: Credentials) => new SSMClient({ ...client, endpoint: edge(), credentials });
const s3 = (credentials: Credentials) => new S3Client({ ...client, endpoint: edge(), credentials, forcePathStyle: true });
const lambda = (credentials: Credentials) => new LambdaClient({ ...client, endpoint: edge(), credentials });
const sts = (credentials: Credentials) => new STSClient({ ...client, endpoint: edge(), credentials });

async function failure(call: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await call;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("the call succeeded; it should have been refused");
}

const denied = (action: string, resource: string) =>
  `User: ${sessionArn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

interface ServiceCase {
  service: string;
  allowed(credentials: Credentials): Promise<unknown>;
  refused(credentials: Credentials): Promise<unknown>;
  accessDenied: { name: string; status: number; message?: string };
  badSecret: { name: string; status: number };
  unknownKey: { name: string; status: number };
}

const CASES: ServiceCase[] = [
  {
    service: "DynamoDB",
    allowed: (c) => dynamodb(c).send(new GetItemCommand({ TableName: "Comments", Key: { commentId: { S: "none" } } })),
    refused: (c) => dynamodb(c).send(new PutItemCommand({ TableName: "Comments", Item: { commentId: { S: "x" } } })),
    accessDenied: { name: "AccessDeniedException", status: 400, message: "dynamodb:PutItem" },
    badSecret: { name: "InvalidSignatureException", status: 400 },
    unknownKey: { name: "UnrecognizedClientException", status: 400 },
  },
  {
    service: "Kinesis",
    allowed: (c) => kinesis(c).send(new DescribeStreamSummaryCommand({ StreamName: "CSEKinesisBeaconInputStream" })),
    refused: (c) => kinesis(c).send(new PutRecordCommand({ StreamName: "CSEKinesisBeaconInputStream", PartitionKey: "k", Data: Buffer.from("x") })),
    accessDenied: { name: "AccessDeniedException", status: 400, message: "kinesis:PutRecord" },
    badSecret: { name: "InvalidSignatureException", status: 400 },
    unknownKey: { name: "UnrecognizedClientException", status: 400 },
  },
  {
    service: "SNS",
    allowed: (c) => sns(c).send(new ListTopicsCommand({})),
    refused: (c) => sns(c).send(new PublishCommand({ TopicArn: TOPIC, Message: "hi" })),
    // The SDK names SNS's AuthorizationError code AuthorizationErrorException.
    accessDenied: { name: "AuthorizationErrorException", status: 403, message: "sns:Publish" },
    badSecret: { name: "SignatureDoesNotMatch", status: 403 },
    unknownKey: { name: "InvalidClientTokenId", status: 403 },
  },
  {
    service: "KMS",
    allowed: (c) => kms(c).send(new GetPublicKeyCommand({ KeyId: "alias/platform-saml-jwt" })),
    refused: (c) => kms(c).send(new SignCommand({ KeyId: "alias/platform-saml-jwt", Message: Buffer.from("x"), MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" })),
    accessDenied: { name: "AccessDeniedException", status: 400, message: "kms:Sign" },
    badSecret: { name: "InvalidSignatureException", status: 400 },
    unknownKey: { name: "UnrecognizedClientException", status: 400 },
  },
  {
    service: "SSM",
    allowed: (c) => ssm(c).send(new GetParameterCommand({ Name: PARAMETER })),
    refused: (c) => ssm(c).send(new PutParameterCommand({ Name: PARAMETER, Value: "stolen", Type: "SecureString", Overwrite: true })),
    accessDenied: { name: "AccessDeniedException", status: 400, message: "ssm:PutParameter" },
    badSecret: { name: "InvalidSignatureException", status: 400 },
    unknownKey: { name: "UnrecognizedClientException", status: 400 },
  },
  {
    service: "S3",
    allowed: (c) => s3(c).send(new ListObjectsV2Command({ Bucket: BUCKET })),
    refused: (c) => s3(c).send(new GetObjectCommand({ Bucket: BUCKET, Key: "state/last-good.json" })),
    accessDenied: { name: "AccessDenied", status: 403, message: "Access Denied" },
    badSecret: { name: "SignatureDoesNotMatch", status: 403 },
    unknownKey: { name: "InvalidAccessKeyId", status: 403 },
  },
  {
    service: "Lambda Invoke",
    allowed: (c) => lambda(c).send(new InvokeCommand({ FunctionName: "platform-hello", Payload: Buffer.from("{}") })),
    refused: (c) => lambda(c).send(new InvokeCommand({ FunctionName: "platform-healthcheck", Payload: Buffer.from("{}") })),
    accessDenied: { name: "AccessDeniedException", status: 403, message: "lambda:InvokeFunction" },
    badSecret: { name: "InvalidSignatureException", status: 403 },
    unknownKey: { name: "UnrecognizedClientException", status: 403 },
  },
  {
    service: "STS",
    allowed: (c) => sts(c).send(new GetCallerIdentityCommand({})),
    refused: (c) => sts(c).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/ADFS-Production`, RoleSessionName: "escalate" })),
    accessDenied: { name: "AccessDenied", status: 403, message: "sts:AssumeRole" },
    badSecret: { name: "SignatureDoesNotMatch", status: 403 },
    unknownKey: { name: "InvalidClientTokenId", status: 403 },
  },
];

describe.each(CASES)("$service through the edge", (c) => {
  it("allows what the caller's policy allows", async () => {
    await expect(c.allowed(session)).resolves.toBeDefined();
  });

  it("refuses what it does not allow, with the service's own error", async () => {
    const refused = await failure(c.refused(session));
    expect(refused).toMatchObject({ name: c.accessDenied.name, status: c.accessDenied.status });
    expect(refused.message).toContain(c.accessDenied.message!);
  });

  it("refuses a wrong secret and an unknown key", async () => {
    expect(await failure(c.allowed({ ...session, secretAccessKey: "not-the-secret" }))).toMatchObject(c.badSecret);
    expect(await failure(c.allowed({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "x" }))).toMatchObject(c.unknownKey);
  });
});

describe("access-denied messages", () => {
  it("name the session, the action, the resource and the policy type, as AWS does", async () => {
    expect((await failure(CASES[0].refused(session))).message).toBe(denied("dynamodb:PutItem", TABLE));
    expect((await failure(CASES[1].refused(session))).message).toBe(denied("kinesis:PutRecord", STREAM));
  });

  it("GetCallerIdentity tells the session, as STS does", async () => {
    const identity = await sts(session).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ Account: ACCOUNT, Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLE}/tester` });
    expect((await sts(admin).send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/local-admin`);
  });

  it("answers a service the local cloud does not emulate after authorizing it, naming the service", async () => {
    const call = async (credentials: Credentials) => {
      const url = new URL(edge());
      const signer = new SignatureV4({ service: "workspaces", region: REGION, credentials, sha256: Sha256 });
      const signed = await signer.sign({
        method: "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        headers: { host: url.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": "WorkspacesService.DescribeWorkspaces" },
        body: "{}",
      });
      const response = await fetch(edge(), { method: "POST", headers: signed.headers as Record<string, string>, body: "{}" });
      return { status: response.status, body: (await response.json()) as { __type: string; message: string } };
    };
    const notEmulated = await call(admin);
    expect(notEmulated.status).toBe(501);
    expect(notEmulated.body.message).toContain("does not emulate the workspaces service (DescribeWorkspaces)");
    // The test role may not call it: refused first, as AWS would.
    const refused = await call(session);
    expect(refused).toMatchObject({ status: 400, body: { __type: "AccessDeniedException" } });
    expect(refused.body.message).toContain("workspaces:DescribeWorkspaces");
  });
});
