// The Mars display's limits on the local cloud: the presigned image URL stops working when it
// expires, and the API key's usage-plan quota answers 429 "Limit Exceeded" once used up. A small
// quota (3 a day) is synthesized for the test; the URL lifetime is shortened in the running
// cloud as an operator would in the console (UpdateFunctionConfiguration).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { setFunctionVariables } from "../scripts/drill";
import { loadConfig } from "../stacks/config";
import { synth } from "../scripts/lib/synth";

const QUOTA = 3;
let cloud: LocalCloud;
/** Requests with the good key so far: every one counts against the quota. */
let used = 0;

beforeAll(async () => {
  const config = loadConfig();
  config.environments.dev.mars.usagePlan = { ...config.environments.dev.mars.usagePlan, quotaLimit: QUOTA, rateLimit: 100, burstLimit: 100 };
  const outdir = mkdtempSync(join(tmpdir(), "local-cloud-mars-limits-synth-"));
  synth({ target: "aws", outdir, config });
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir: mkdtempSync(join(tmpdir(), "local-cloud-mars-limits-")), port: 0 });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const getMars = async () => {
  const mars = cloud.endpoints().mars!;
  used++;
  const response = await fetch(mars.url, { headers: { "x-api-key": mars.apiKey } });
  return { status: response.status, body: (await response.json()) as { image_url?: string; message?: string } };
};

describe("Mars display limits on the local cloud", () => {
  it("the presigned image URL downloads the BMP until it expires, then S3 refuses it", async () => {
    await setFunctionVariables(cloud.endpoints(), "us-east-1", "platform-fetch-mars-data", { MARS_IMAGE_URL_TTL_SECONDS: "1" });
    const { status, body } = await getMars();
    expect(status).toBe(200);
    expect(body.image_url).toContain("X-Amz-Expires=1&");
    const fresh = await fetch(body.image_url!);
    expect(fresh.status).toBe(200);
    expect(Buffer.from(await fresh.arrayBuffer()).subarray(0, 2).toString("latin1")).toBe("BM");

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const expired = await fetch(body.image_url!);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain("Request has expired");
  }, 60_000);

  it(`the key's quota of ${QUOTA} a day: the requests over it get 429 Limit Exceeded`, async () => {
    while (used < QUOTA) expect((await getMars()).status).toBe(200);
    const over = await getMars();
    expect(over).toMatchObject({ status: 429, body: { message: "Limit Exceeded", type: "QUOTA_EXCEEDED" } });
  }, 60_000);
});
