// Time-dependent behaviour of the deployed platform on the local cloud's manual clock: each test
// moves time to just before a limit (nothing changes) and then to it (the behaviour changes), so
// what is checked is the limit itself, on one clock shared by the functions, the gateway, STS and
// DynamoDB, whatever the machine's speed. (The usage plan's DAY quota and the presigned URL's
// expiry are in local-cloud-mars-limits.test.ts.)
//
// Sources: DynamoDB Developer Guide, "Working with Time to Live (TTL)" (an item expires when its
// TTL attribute, in epoch seconds, is less than the current time); API Gateway Developer Guide,
// "Configure a Lambda authorizer" (authorizerResultTtlInSeconds: the policy is cached for that
// many seconds per identity source); IAM User Guide, "Temporary security credentials" and API
// Gateway's answer to an expired session ("The security token included in the request is
// expired"); RFC 7519 section 4.1.4 (exp).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { AUTHORIZER_RESULT_TTL_SECONDS, WRITE_SCOPE } from "../modules/comments-api";
import { TABLE_NAMES } from "../modules/saml-federation";
import { samlBrowser } from "./helpers/saml-browser";

const AUTHORITY = "us-east-1";
let cloud: LocalCloud;
let browser: ReturnType<typeof samlBrowser>;

beforeAll(async () => {
  cloud = await startPlatformCloud("manual-time", { clock: "manual" });
  browser = samlBrowser(cloud);
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const login = () => browser.login("bob", "bob-local-password");

/** The parked credentials of a login, as the authority region's SAMLSessions table holds them. */
async function parked(identityId: string) {
  const key = { identityhash: { S: createHash("sha256").update(identityId).digest("hex") } };
  const { Item } = await cloud.dynamodbClient(AUTHORITY).send(new GetItemCommand({ TableName: TABLE_NAMES.sessions, Key: key, ConsistentRead: true }));
  return Item;
}

describe("on manual time", () => {
  it("TTL: parked credentials are deleted once their expiresAt has passed, not before", async () => {
    const { identityId, token } = await login();
    expect(token).toBeDefined();
    const item = await parked(identityId);
    const expiresAt = Number(item?.expiresAt?.N);
    // Parked for 5 minutes from the login, on the cloud's clock (the function's Date is the cloud's).
    expect(expiresAt).toBe(Math.floor(cloud.now() / 1000) + 300);

    await cloud.advanceTo(expiresAt * 1000);
    expect(await parked(identityId)).toBeDefined();
    await cloud.advance(1000);
    expect(await parked(identityId)).toBeUndefined();
  }, 60_000);

  it("the pickup token (a 30 s JWT) is refused once it has expired, and the credentials stay parked", async () => {
    // Logins at a whole second, so that the token's iat (whole seconds) is the login's instant.
    await cloud.advanceTo(Math.ceil(cloud.now() / 1000) * 1000);
    const first = await login();
    await cloud.advance(29_999);
    expect((await browser.pickup(first)).status).toBe(200);

    const second = await login();
    // RFC 7519: the token is valid only before its exp (iat + 30 s).
    await cloud.advance(30_000);
    const late = await browser.pickup(second);
    expect(late.status).toBe(401);
    expect(await parked(second.identityId)).toBeDefined();
  }, 60_000);

  it("STS: the federated session's credentials sign requests until their Expiration, then API Gateway refuses them", async () => {
    const { token, identityId, code } = await login();
    const pickup = await browser.pickup({ token, identityId, code });
    expect(pickup.status).toBe(200);
    const credentials = (await pickup.json()) as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
    const expiration = Date.parse(credentials.Expiration);
    // One hour, ProcessSAML's default when the IdP sends no SessionDuration.
    expect(expiration).toBe(Math.floor(cloud.now() / 1000) * 1000 + 3600_000);

    const users = cloud.localUrl("https://api.dev.example.com/v1/users")!;
    expect((await signedGet(users, credentials)).status).toBe(200);
    await cloud.advanceTo(expiration - 1000);
    expect((await signedGet(users, credentials)).status).toBe(200);
    await cloud.advanceTo(expiration);
    const expired = await signedGet(users, credentials);
    expect(expired.status).toBe(403);
    // The platform's gateway responses add the type and request id to API Gateway's message.
    expect(await expired.json()).toMatchObject({ message: "The security token included in the request is expired", type: "EXPIRED_TOKEN" });
  }, 120_000);

  it(`the Comments API's authorizer decision is cached for ${AUTHORIZER_RESULT_TTL_SECONDS} s per token, then asked again`, async () => {
    const token = await accessToken("comments-writer", WRITE_SCOPE);
    const post = () =>
      fetch(`${cloud.endpoints().regions[AUTHORITY].apiUrl}/comments`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ pageId: "manual-time", userName: "clock", message: "tick" }),
      }).then((r) => r.status);
    const before = await authorizerInvocations();
    expect(await post()).toBe(200);
    expect(await authorizerInvocations()).toBe(before + 1);
    await cloud.advance(AUTHORIZER_RESULT_TTL_SECONDS * 1000 - 1000);
    expect(await post()).toBe(200);
    expect(await authorizerInvocations()).toBe(before + 1);
    await cloud.advance(1000);
    expect(await post()).toBe(200);
    expect(await authorizerInvocations()).toBe(before + 2);
  }, 60_000);
});

async function signedGet(url: string, credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string }) {
  const target = new URL(url);
  // Signed on the cloud's clock, as a client whose clock agrees with AWS's.
  const signer = new SignatureV4({
    service: "execute-api",
    region: AUTHORITY,
    sha256: Sha256,
    credentials: { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken },
  });
  const signed = await signer.sign(
    { method: "GET", protocol: target.protocol, hostname: target.hostname, port: Number(target.port), path: target.pathname, headers: { host: target.host } },
    { signingDate: new Date(cloud.now()) },
  );
  return fetch(url, { headers: signed.headers as Record<string, string> });
}

async function accessToken(clientId: string, scope: string): Promise<string> {
  const oidc = cloud.endpoints().oidc!;
  const client = oidc.clients.find((c) => c.clientId === clientId)!;
  const audience = JSON.parse(readFileSync("config/environments.json", "utf8")).environments.dev.commentsAuth.audience as string;
  const response = await fetch(oidc.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}` },
    body: new URLSearchParams({ grant_type: "client_credentials", scope, audience }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Invocations of the Comments API's authorizer so far, from its log group (one START line each). */
async function authorizerInvocations(): Promise<number> {
  await cloud.flushLogs();
  const log = join(cloud.endpoints().regions[AUTHORITY].logs, "aws_lambda_platform-comments-authorizer.log");
  try {
    // Lambda's platform.start record of each invocation (the JSON log format's START line).
    return (readFileSync(log, "utf8").match(/^\{"time":"[^"]+","type":"platform\.start"/gm) ?? []).length;
  } catch {
    return 0;
  }
}
