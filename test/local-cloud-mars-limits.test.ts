// The Mars display's limits on the local cloud, on manual time: the API key's usage-plan quota
// answers 429 "Limit Exceeded" once used up and counts again from the next UTC day (API Gateway
// Developer Guide, "Usage plans": a DAY quota period; QuotaSettings), and the presigned image URL
// (15 minutes, the contract) downloads until it expires, then S3 refuses it with "Request has
// expired" (Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters",
// X-Amz-Expires). A small quota (3 a day) is synthesized for the test; the clock starts two
// minutes before midnight UTC of a day months before the machine's, and moves only when the test
// moves it: a client signing on the machine's clock is months off, and is told so (Signature
// Version 4, "Elements of an AWS API request signature": 15 minutes at most between the signing
// time and AWS's), as the AWS SDKs expect, which take the server's time from the Date header.
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { IMAGE_URL_TTL_SECONDS } from "../modules/mars-display";
import { loadConfig } from "../stacks/config";

const QUOTA = 3;
/** Months before any day these tests run on. */
const MIDNIGHT = Date.parse("2026-03-02T00:00:00Z");
let cloud: LocalCloud;

beforeAll(async () => {
  const config = loadConfig();
  config.environments.dev.mars.usagePlan = { ...config.environments.dev.mars.usagePlan, quotaLimit: QUOTA, rateLimit: 100, burstLimit: 100 };
  cloud = await startPlatformCloud("local-cloud-mars-limits", { config, clock: "manual", clockStart: new Date(MIDNIGHT - 120_000) });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const getMars = async () => {
  const mars = cloud.endpoints().mars!;
  const response = await fetch(mars.url, { headers: { "x-api-key": mars.apiKey } });
  return { status: response.status, body: (await response.json()) as { image_url?: string; message?: string; type?: string } };
};

describe("Mars display limits on the local cloud (manual time)", () => {
  it(`the key's quota of ${QUOTA} a day: the requests over it get 429 Limit Exceeded until the UTC day ends, then the count starts again`, async () => {
    for (let i = 0; i < QUOTA; i++) expect((await getMars()).status).toBe(200);
    expect(await getMars()).toMatchObject({ status: 429, body: { message: "Limit Exceeded", type: "QUOTA_EXCEEDED" } });
    await cloud.advanceTo(MIDNIGHT - 1);
    expect((await getMars()).status).toBe(429);
    await cloud.advanceTo(MIDNIGHT);
    expect((await getMars()).status).toBe(200);
  }, 60_000);

  it("the presigned image URL downloads the BMP until it expires, then S3 refuses it", async () => {
    const { status, body } = await getMars();
    expect(status).toBe(200);
    expect(body.image_url).toContain(`X-Amz-Expires=${IMAGE_URL_TTL_SECONDS}&`);
    const download = () => fetch(body.image_url!).then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }));
    const fresh = await download();
    expect(fresh.status).toBe(200);
    expect(fresh.body.subarray(0, 2).toString("latin1")).toBe("BM");

    // Signed at this instant (the function's clock is the cloud's): valid through its last second.
    await cloud.advance(IMAGE_URL_TTL_SECONDS * 1000);
    expect((await download()).status).toBe(200);
    await cloud.advance(1000);
    const expired = await download();
    expect(expired.status).toBe(403);
    expect(expired.body.toString("utf8")).toContain("Request has expired");
  }, 60_000);

  it("a client signing on a clock months off is refused as skewed; the AWS SDK takes the edge's Date and signs on the cloud's clock from then on", async () => {
    const endpoints = cloud.endpoints();
    const admin = Object.values(endpoints.credentials)[0];
    const client = new DynamoDBClient({ region: "us-east-1", endpoint: endpoints.services.edge, credentials: admin, maxAttempts: 1 });
    try {
      await expect(client.send(new ListTablesCommand({}))).rejects.toMatchObject({ name: "InvalidSignatureException", message: expect.stringMatching(/^Signature expired: /) });
      const offset = await client.config.systemClockOffset;
      expect(Math.abs(Date.now() + Number(offset) - cloud.now())).toBeLessThan(60_000);
      expect((await client.send(new ListTablesCommand({}))).TableNames).toContain("SAMLSessions");
    } finally {
      client.destroy();
    }
  });
});
