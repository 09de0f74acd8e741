// The local cloud end to end: a real synth deployed into the emulated services, called over HTTP.
// On manual time: the clock moves only where a test moves it (the usage plan's token bucket refilling).
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { publiclyReadable } from "../local/s3/website";
import { loadConfig } from "../stacks/config";
import { REPO_ROOT, synth } from "../scripts/lib/synth";

const REGIONS = ["us-east-1", "us-west-2"];

let cloud: LocalCloud;
let outdir: string;
let dataDir: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "local-cloud-synth-"));
  synth({ target: "aws", outdir });
  dataDir = mkdtempSync(join(tmpdir(), "local-cloud-data-"));
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir, port: 0, clock: "manual" });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const api = (region: string) => cloud.endpoints().regions[region].apiUrl;

async function getJson(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe("local cloud: the platform deployed from its synthesized Terraform", () => {
  it("deploys both regions and global-dns in workspace dev, and says why org-guardrails is not deployed", () => {
    const { stacks } = cloud.endpoints();
    expect(stacks.deployed).toEqual(expect.arrayContaining(["platform-us-east-1", "platform-us-west-2", "global-dns"]));
    expect(stacks.skipped).toEqual([
      { stack: "org-guardrails", reason: expect.stringContaining('Terraform workspace "dev" is not an environment of stack org-guardrails') },
    ]);
  });

  it.each(REGIONS)("%s: GET /helloworld says Hello from the region", async (region) => {
    const { status, body, headers } = await getJson(`${api(region)}/helloworld`);
    expect(status).toBe(200);
    expect(body).toEqual({ message: `Hello from ${region}` });
    expect(headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each(REGIONS)("%s: GET /healthcheck is ok", async (region) => {
    expect(await getJson(cloud.endpoints().regions[region].healthUrl)).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("a trailing slash reaches the same method, as the multi-region post's client calls it", async () => {
    expect((await getJson(`${api("us-east-1")}/helloworld/`)).body).toEqual({ message: "Hello from us-east-1" });
  });

  it("STATUS=fail on one region's health Lambda fails that region's health check only, and back", async () => {
    const lambda = cloud.lambda("us-east-1");
    const fn = lambda.getFunction("platform-healthcheck")!;
    await lambda.updateEnvironment(fn.name, { ...fn.environment, STATUS: "fail" });
    try {
      const failed = await getJson(cloud.endpoints().regions["us-east-1"].healthUrl);
      expect(failed.status).toBe(503);
      expect(failed.body.status).toBe("fail");
      expect(JSON.stringify(failed.body)).not.toContain('"status":"ok"');
      expect((await getJson(cloud.endpoints().regions["us-west-2"].healthUrl)).body).toEqual({ status: "ok" });
    } finally {
      await lambda.updateEnvironment(fn.name, { ...fn.environment, STATUS: "ok" });
    }
    expect((await getJson(cloud.endpoints().regions["us-east-1"].healthUrl)).body).toEqual({ status: "ok" });
  });

  it("an unknown route answers 403 Missing Authentication Token, as API Gateway does", async () => {
    const { status, body, headers } = await getJson(`${api("us-east-1")}/no/such/route`);
    expect(status).toBe(403);
    expect(body.message).toBe("Missing Authentication Token");
    expect(headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
  });

  it("a method the resource does not have answers 403 Missing Authentication Token too", async () => {
    const { status, body } = await getJson(`${api("us-east-1")}/helloworld`, { method: "DELETE" });
    expect(status).toBe(403);
    expect(body.message).toBe("Missing Authentication Token");
  });

  it("a body over 10 MB answers 413 Request Too Long", async () => {
    const { status, body } = await getJson(`${api("us-east-1")}/helloworld`, { method: "POST", body: Buffer.alloc(10 * 1024 * 1024 + 1, 97) });
    expect(status).toBe(413);
    expect(body).toEqual({ message: "Request Too Long" });
  });

  it("the custom domain with base path v1 reaches the stage", async () => {
    // fetch() may not set Host (a forbidden header); node:http may.
    const { request } = await import("node:http");
    const gateway = new URL(cloud.endpoints().regions["us-west-2"].gatewayUrl);
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: gateway.hostname, port: gateway.port, path: "/v1/helloworld", headers: { host: "api.dev.example.com" } }, (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve(text));
      })
        .on("error", reject)
        .end();
    });
    expect(JSON.parse(body)).toEqual({ message: "Hello from us-west-2" });
  });

  it("writes an access log line per request in the stage's JSON format, with the enhanced fields", async () => {
    await getJson(`${api("us-west-2")}/helloworld?x=1`);
    await cloud.flushLogs();
    const { readFileSync, readdirSync } = await import("node:fs");
    const logs = cloud.endpoints().regions["us-west-2"].logs;
    const file = readdirSync(logs).find((f) => f.includes("access"))!;
    const lines = readFileSync(join(logs, file), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const hello = lines.reverse().find((l) => l.resourcePath === "/helloworld")!;
    expect(hello).toMatchObject({ httpMethod: "GET", status: "200", stage: "prod", "integration-status": "200" });
    expect(hello.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(hello["authorizer-error"]).toBe("-");
  });

  it("GET /mars needs the API key, and answers with a presigned S3 URL of a BMP made from the NASA fixture's photo", async () => {
    const mars = cloud.endpoints().mars!;
    expect(mars.url).toBe(`${api("us-east-1")}/mars`);
    const denied = await getJson(mars.url);
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe("Forbidden");

    const { status, body } = await getJson(mars.url, { headers: { "x-api-key": mars.apiKey } });
    expect(status).toBe(200);
    expect(body.stale).toBe(false);
    // The Lambda reached S3 with its role's session: the URL is presigned by it.
    expect(body.image_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/platform-mars-111111111111-us-east-1\/images\/.+\.bmp\?X-Amz-Algorithm=AWS4-HMAC-SHA256/);
    const image = Buffer.from(await (await fetch(body.image_url)).arrayBuffer());
    expect(image.subarray(0, 2).toString("latin1")).toBe("BM");
    expect(image.readInt32LE(18)).toBe(320);
    expect(Math.abs(image.readInt32LE(22))).toBe(240);
  }, 60_000);

  it("GET /mars refuses a wrong key (403) and a burst over the usage plan's limits (429), never a 5xx", async () => {
    const mars = cloud.endpoints().mars!;
    const wrong = await getJson(mars.url, { headers: { "x-api-key": "not-the-key-0123456789" } });
    expect(wrong.status).toBe(403);
    // The plan allows 2 requests/s with a burst of 5 (config mars.usagePlan): 12 at once exceed it.
    // What the plan admits, the function serves: its reserved concurrency covers the burst, so no
    // request is throttled by Lambda (which API Gateway would answer with 500).
    const statuses = await Promise.all(Array.from({ length: 12 }, () => fetch(mars.url, { headers: { "x-api-key": mars.apiKey } }).then(async (r) => (await r.arrayBuffer(), r.status))));
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(5);
    // Leave the key's token bucket full again for the display test that follows.
    const { rateLimit, burstLimit } = loadConfig().environments.dev.mars.usagePlan;
    await cloud.advance((burstLimit / rateLimit) * 1000);
  }, 60_000);

  it("the unchanged firmware on the simulated PyPortal shows the deployed endpoint's answer (screen kept in .local/artifacts/mars-display.png)", async () => {
    const { runDisplayTest } = await import("../scripts/display-test");
    const mars = cloud.endpoints().mars!;
    // The screen is kept as an artifact, as the browser tests' screenshots are.
    const artifacts = join(REPO_ROOT, ".local", "artifacts");
    mkdirSync(artifacts, { recursive: true });
    const report = await runDisplayTest({ endpoint: { ...mars, source: "the local cloud" }, png: join(artifacts, "mars-display.png") });
    expect(report.problems).toEqual([]);
    expect(report.crash).toBeNull();
    expect(report.answer?.image_url).toContain("/images/");
  }, 120_000);

  it("serves the login page from its S3 website bucket to anonymous browsers, and keeps the Mars bucket private", async () => {
    const websites = cloud.endpoints().websites;
    const [bucket, url] = Object.entries(websites)[0];
    expect(bucket).toBe("platform-login-dev-111111111111");
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("<html");
    const config = await (await fetch(`${url}config.json`)).json();
    expect(config.region).toBe("us-east-1");
    expect((await fetch(`${url}nothing-here.js`)).status).toBe(404);

    // Public, as S3 decides it: a bucket policy lets everyone s3:GetObject and the public access
    // block does not restrict public buckets. The login bucket is public by design, which shows
    // the judgement can say "public"; the Mars bucket must not be, and blocks all four ways.
    expect(publiclyReadable(cloud.s3Bucket(bucket), "index.html")).toBe(true);
    const mars = cloud.s3Bucket("platform-mars-111111111111-us-east-1");
    expect(publiclyReadable(mars, "images/x.bmp")).toBe(false);
    expect(mars.publicAccessBlock).toEqual({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });
  });
});
