// The API-Gateway-native routes end to end in the local cloud, deployed from the synthesized
// Terraform and called over HTTP: orders (request validation, seed bodies verbatim), comments
// (DynamoDB proxy behind a JWT authorizer) and the Lambda error contract, walked from the route
// table in schemas/routes.ts; generated invalid bodies never get past validation.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { JWKS_PATH, LOCAL_OIDC_ISSUER, LOCAL_OIDC_KEYS_ORIGIN } from "../local/standins/idp/oidc";
import { COMMENTS_TABLE, WRITE_SCOPE } from "../modules/comments-api";
import { ORDERS_CREATED, ORDERS_LIST } from "../modules/orders";
import { loadConfig } from "../stacks/config";
import { ROUTES } from "../schemas/routes";
import { invalidBodies, schemaValidator } from "./helpers/invalid-bodies";

let cloud: LocalCloud;
let apiUrl: string;

beforeAll(async () => {
  cloud = await startPlatformCloud("api-contracts");
  apiUrl = cloud.endpoints().regions["us-east-1"].apiUrl;
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

type Request = { path?: string; query?: string; headers?: Record<string, string>; body?: string };
const send = (route: { httpMethod: string; path: string }, init: Request = {}) =>
  fetch(`${apiUrl}${init.path ?? route.path}${init.query ?? ""}`, { method: route.httpMethod, headers: init.headers, body: init.body });
const call = async (route: { httpMethod: string; path: string }, init: Request = {}) => {
  const response = await send(route, init);
  return { status: response.status, body: await response.text() };
};

/** The stage's access log line of a request (us-east-1), once it is written. */
async function accessLogLine(response: Response): Promise<Record<string, string>> {
  const requestId = response.headers.get("x-amzn-requestid");
  await response.text();
  const logs = cloud.endpoints().regions["us-east-1"].logs;
  const find = () => {
    const file = readdirSync(logs).find((f) => f.includes("access"));
    const lines = file ? readFileSync(join(logs, file), "utf8").trim().split("\n") : [];
    return lines.map((l) => JSON.parse(l) as Record<string, string>).find((l) => l.requestId === requestId);
  };
  await expect.poll(find).toBeDefined();
  return find()!;
}

/**
 * Sends requests to `route` no faster than the dev stage's throttle for its method allows (its own
 * limit, else the stage default), so that every one is validated rather than throttled; counts the
 * statuses.
 */
async function paced(route: { httpMethod: string; path: string }, requests: (() => Promise<{ status: number }>)[]): Promise<Map<number, number>> {
  const { api } = loadConfig().environments.dev;
  const rate = api.methodThrottles[`${route.path.slice(1)}/${route.httpMethod}`]?.rateLimit ?? api.throttleRateLimit;
  const intervalMs = 1000 / rate + 2;
  const statuses = new Map<number, number>();
  const started = performance.now();
  for (const [i, request] of requests.entries()) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const { status } = await request();
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  return statuses;
}

const SEED_ORDER = { "account-id": "abcdef123456", type: "STOCK", symbol: "AMZN", shares: 100, details: { limit: 1000 } };
const JSON_TYPE = { "content-type": "application/json" };

describe("orders (request validation, seed responses verbatim)", () => {
  it("POST /orders with the seed's valid orders: 200 and the seed's body", async () => {
    const answer = await call(ROUTES.createOrders, { headers: JSON_TYPE, body: JSON.stringify([SEED_ORDER, { ...SEED_ORDER, "account-id": "zyxwvut987654", symbol: "BA", shares: 250, details: { limit: 200 } }]) });
    expect(answer).toEqual({ status: 200, body: ORDERS_CREATED });
    expect(answer.body).toBe('{"message" : "Orders successfully created"}');
  });

  it("POST /orders with the seed's invalid order: 400 Invalid request body", async () => {
    const invalid = [{ ...SEED_ORDER, type: "foobar", symbol: "thisstringistoolong", shares: 999999 }];
    expect(await call(ROUTES.createOrders, { headers: JSON_TYPE, body: JSON.stringify(invalid) })).toEqual({ status: 400, body: '{"message": "Invalid request body"}' });
  });

  it("the access log says why the validator refused the seed's invalid order, in the words the validation post reads", async () => {
    const invalid = [{ ...SEED_ORDER, type: "foobar", symbol: "thisstringistoolong", shares: 999999 }];
    const line = await accessLogLine(await send(ROUTES.createOrders, { headers: JSON_TYPE, body: JSON.stringify(invalid) }));
    expect(line).toMatchObject({ status: "400", "error-responseType": "BAD_REQUEST_BODY", "error-message": "Invalid request body", "error-messageString": '"Invalid request body"' });
    // The three errors the post's CloudWatch Logs entry lists for this payload, in a bracketed list.
    const reasons = line["error-validationErrorString"];
    expect(reasons).toMatch(/^\[.*\]$/);
    expect(reasons).toContain("numeric instance is greater than the required maximum (maximum: 1000, found: 999999)");
    expect(reasons).toContain('string "thisstringistoolong" is too long (length: 19, maximum allowed: 4)');
    expect(reasons).toContain('instance value ("foobar") not found in enum (possible values: ["STOCK","BOND","CASH"])');
    expect(reasons.split(", ").filter((part) => /^\[?(numeric|string|instance) /.test(part))).toHaveLength(3);
  });

  it("the access log names the missing required properties and the missing parameter", async () => {
    const { "account-id": _id, details: _details, ...partial } = SEED_ORDER;
    const body = await accessLogLine(await send(ROUTES.createOrders, { headers: JSON_TYPE, body: JSON.stringify([partial]) }));
    expect(body["error-validationErrorString"]).toBe('[object has missing required properties (["account-id","details"])]');
    const parameters = await accessLogLine(await send(ROUTES.listOrders, { query: "?type=STOCK" }));
    expect(parameters).toMatchObject({ status: "400", "error-responseType": "BAD_REQUEST_PARAMETERS", "error-validationErrorString": "Missing required request parameters: [Account-Id]" });
  });

  it("POST /orders with an empty array: 400 (minItems 1)", async () => {
    expect(await call(ROUTES.createOrders, { headers: JSON_TYPE, body: "[]" })).toEqual({ status: 400, body: '{"message": "Invalid request body"}' });
  });

  it.each(["text/plain", "application/xml", "application/x-www-form-urlencoded"])("POST /orders as %s: 415", async (contentType) => {
    const answer = await call(ROUTES.createOrders, { headers: { "content-type": contentType }, body: JSON.stringify([SEED_ORDER]) });
    expect(answer.status).toBe(415);
  });

  it("GET /orders with Account-Id, with and without the optional type: 200 and the seed's list", async () => {
    for (const query of ["?type=STOCK", ""]) {
      const answer = await call(ROUTES.listOrders, { query, headers: { "Account-Id": "abcdef123456" } });
      expect(answer).toEqual({ status: 200, body: ORDERS_LIST });
      expect(JSON.parse(answer.body)).toHaveLength(2);
    }
  });

  it("GET /orders without Account-Id (or blank): 400 Missing required request parameters: [Account-Id]", async () => {
    for (const headers of [{}, { "Account-Id": "" }] as Record<string, string>[]) {
      expect(await call(ROUTES.listOrders, { query: "?type=STOCK", headers })).toEqual({ status: 400, body: '{"message": "Missing required request parameters: [Account-Id]"}' });
    }
  });

  it("500 generated invalid bodies and content types for POST /orders: all 400 or 415, never 5xx", async () => {
    const bodies = invalidBodies("CreateOrders", [SEED_ORDER], 500, 6);
    const types = ["application/json", "application/json", "application/json", "text/plain", "application/octet-stream"];
    const statuses = await paced(ROUTES.createOrders, bodies.map((body, i) => () => call(ROUTES.createOrders, { headers: { "content-type": types[i % types.length] }, body })));
    expect([...statuses.keys()].every((s) => s === 400 || s === 415), JSON.stringify([...statuses])).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(250);
  }, 60_000);
});

const devAuth = JSON.parse(readFileSync("config/environments.json", "utf8")).environments.dev.commentsAuth as { issuer: string; jwksUrl: string; audience: string };

async function accessToken(clientId: string, scope: string): Promise<string> {
  const oidc = cloud.endpoints().oidc!;
  const client = oidc.clients.find((c) => c.clientId === clientId)!;
  const response = await fetch(oidc.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}` },
    body: new URLSearchParams({ grant_type: "client_credentials", scope, audience: devAuth.audience }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const commentCount = async () => (await cloud.dynamodbClient("us-east-1").send(new ScanCommand({ TableName: COMMENTS_TABLE, Select: "COUNT" }))).Count ?? 0;

describe("comments (DynamoDB proxy, third-party JWT authorizer)", () => {
  const SEED_COMMENT = { pageId: "breaking-news-story-01-18-2016", userName: "Just Saying Thank You", message: "I really enjoyed this story!!" };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    call(ROUTES.postComment, { headers: { ...JSON_TYPE, ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

  it("the dev issuer is the local OIDC issuer, listed in the endpoints with discovery and JWKS", async () => {
    expect(devAuth.issuer).toBe(LOCAL_OIDC_ISSUER);
    expect(devAuth.jwksUrl).toBe(`${LOCAL_OIDC_KEYS_ORIGIN}${JWKS_PATH}`);
    const oidc = cloud.endpoints().oidc!;
    const discovery = (await (await fetch(oidc.discoveryUrl)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: devAuth.issuer, jwks_uri: devAuth.jwksUrl });
    const jwks = (await (await fetch(oidc.jwksUrl)).json()) as { keys: { alg: string; kid: string }[] };
    expect(jwks.keys).toEqual([expect.objectContaining({ alg: "RS256", kty: "RSA" })]);
  });

  it("the seed's comment, posted with a comments:write token, is read back in the seed's shape", async () => {
    const token = await accessToken("comments-writer", WRITE_SCOPE);
    const posted = await post(SEED_COMMENT, { authorization: `Bearer ${token}` });
    expect(posted.status, posted.body).toBe(200);
    const { commentId } = JSON.parse(posted.body) as { commentId: string };
    expect(commentId).toMatch(/^[0-9a-f-]{36}$/);
    const tricky = { pageId: SEED_COMMENT.pageId, userName: "O'Brien \"quoted\"", message: "it's </b> 漢字 🙂 \\ $context.requestId #set($x = 1)" };
    expect((await post(tricky, { authorization: `Bearer ${token}` })).status).toBe(200);

    const read = await call(ROUTES.getComments, { path: `/comments/${SEED_COMMENT.pageId}` });
    expect(read.status).toBe(200);
    const { comments } = JSON.parse(read.body) as { comments: { commentId: string; userName: string; message: string }[] };
    expect(comments).toHaveLength(2);
    expect(comments).toContainEqual({ commentId, userName: SEED_COMMENT.userName, message: SEED_COMMENT.message });
    expect(comments).toContainEqual({ commentId: expect.any(String), userName: tricky.userName, message: tricky.message });

    const stored = await cloud.dynamodbClient("us-east-1").send(new ScanCommand({ TableName: COMMENTS_TABLE }));
    const item = stored.Items!.find((i) => i.commentId.S === commentId)!;
    expect(Number(item.createdAt.N)).toBeGreaterThan(cloud.now() - 60_000);

    expect(JSON.parse((await call(ROUTES.getComments, { path: "/comments/no-such-page" })).body)).toEqual({ comments: [] });
  });

  it("without a token 401, with a malformed one 401, without the scope 403, expired 401, foreign signature 401", async () => {
    expect((await post(SEED_COMMENT)).status).toBe(401);
    expect((await post(SEED_COMMENT, { authorization: "Basic dXNlcjpwYXNz" })).status).toBe(401);
    const readOnly = await accessToken("comments-reader", "comments:read");
    expect((await post(SEED_COMMENT, { authorization: `Bearer ${readOnly}` })).status).toBe(403);
    const oidc = cloud.oidc!;
    const expired = await oidc.issueToken({ clientId: "comments-writer", scopes: [WRITE_SCOPE], audience: devAuth.audience, lifetimeSeconds: -60 });
    expect((await post(SEED_COMMENT, { authorization: `Bearer ${expired}` })).status).toBe(401);
    // Alive, but it would expire while API Gateway still held the decision.
    const shortLived = await oidc.issueToken({ clientId: "comments-writer", scopes: [WRITE_SCOPE], audience: devAuth.audience, lifetimeSeconds: 60 });
    expect((await post(SEED_COMMENT, { authorization: `Bearer ${shortLived}` })).status).toBe(401);
    const otherAudience = await oidc.issueToken({ clientId: "comments-writer", scopes: [WRITE_SCOPE], audience: "https://elsewhere.example.com" });
    expect((await post(SEED_COMMENT, { authorization: `Bearer ${otherAudience}` })).status).toBe(401);
    const valid = await accessToken("comments-writer", WRITE_SCOPE);
    const [header, payload] = valid.split(".");
    expect((await post(SEED_COMMENT, { authorization: `Bearer ${header}.${payload}.${"A".repeat(342)}` })).status).toBe(401);
  });

  it("GET /comments/{pageId} is public; POST as another content type is 415", async () => {
    const token = await accessToken("comments-writer", WRITE_SCOPE);
    expect((await call(ROUTES.postComment, { headers: { "content-type": "text/plain", authorization: `Bearer ${token}` }, body: "hello" })).status).toBe(415);
  });

  it("500 generated invalid bodies for POST /comments with a valid token: all 400 or 415, never 5xx, the table unchanged", async () => {
    const token = await accessToken("comments-writer", WRITE_SCOPE);
    const before = await commentCount();
    const bodies = invalidBodies("Comment", SEED_COMMENT, 500, 7);
    const types = ["application/json", "application/json", "application/json", "text/plain", "application/x-www-form-urlencoded"];
    const statuses = await paced(ROUTES.postComment, bodies.map((body, i) => () => post(body, { "content-type": types[i % types.length], authorization: `Bearer ${token}` })));
    expect([...statuses.keys()].every((s) => s === 400 || s === 415), JSON.stringify([...statuses])).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(250);
    expect(await commentCount()).toBe(before);
  }, 60_000);
});

describe("Lambda error contract (GET /lambda?status=)", () => {
  it.each([400, 403, 404, 500])("a %i contract error comes back as %i with the seed's body", async (status) => {
    const answer = await call(ROUTES.lambdaError, { query: `?status=${status}` });
    expect(answer.status).toBe(status);
    const body = JSON.parse(answer.body);
    expect(body).toEqual({ type: expect.any(String), message: `The demo failed with status ${status} as asked.`, "request-id": expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(schemaValidator("Error")(body)).toBe(true);
    expect(body.type).toBe({ 400: "BadRequest", 403: "Forbidden", 404: "NotFound", 500: "InternalServerError" }[status]);
  });

  it("success is 200 with the function's answer", async () => {
    expect(await call(ROUTES.lambdaError, { query: "?status=200" })).toEqual({ status: 200, body: '{"status":"ok"}' });
  });

  it.each(["418", "boom", "'; DROP \"x\""])("an error matching no contract (status=%j) is 500, not 200", async (status) => {
    const answer = await call(ROUTES.lambdaError, { query: `?status=${encodeURIComponent(status)}` });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ type: "InternalServerError", message: "An unknown error has occurred. Please try again." });
  });

  it("without status: 400 Missing required request parameters: [status]", async () => {
    expect(await call(ROUTES.lambdaError)).toEqual({ status: 400, body: '{"message": "Missing required request parameters: [status]"}' });
  });
});
