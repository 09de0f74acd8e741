// The multi-region post's browser client (web/multi-region-client/) in real Chromium against the
// local cloud: it calls the platform domain every interval and prints the answers; the failover
// drill on us-east-1 shows up as the messages switching to us-west-2 and back. The screenshot of
// the switch is kept as an artifact (.local/artifacts/multi-region-client.png). The local cloud
// runs on manual time: Route 53's health checks probe when the test moves the clock, twice (the
// failure threshold) by their 30 s interval, while the page keeps calling on real time.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { setHealthStatus } from "../scripts/drill";
import { REPO_ROOT } from "../scripts/lib/synth";
import { CHROMIUM_ARGS, chromiumPath } from "./helpers/chromium";

const ARTIFACTS = join(REPO_ROOT, ".local", "artifacts");
let cloud: LocalCloud;
let browser: Browser;

beforeAll(async () => {
  if (!chromiumPath) return;
  cloud = await startPlatformCloud("multi-region-page", { clock: "manual" });
  browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cloud?.stop();
});

describe.skipIf(!chromiumPath)("multi-region test page", () => {
  it("shows the answers switch regions during the failover drill, and back", async () => {
    const page = await browser.newPage();
    const endpoint = cloud.endpoints().platformDomain!.httpUrl;
    const url = new URL(pathToFileURL(join(REPO_ROOT, "web", "multi-region-client", "index.html")).href);
    url.searchParams.set("endpoint", endpoint);
    url.searchParams.set("interval", "0.5");
    await page.goto(url.href);
    const messages = page.locator("#client_result p.message");
    await expect.poll(() => messages.allTextContents(), { timeout: 10_000 }).toContainEqual(expect.stringContaining("Hello from us-east-1"));

    await setHealthStatus(cloud.endpoints(), "us-east-1", "fail");
    await cloud.advance(2 * 30_000);
    await expect.poll(() => messages.allTextContents(), { timeout: 20_000 }).toContainEqual(expect.stringContaining("Hello from us-west-2"));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "multi-region-client.png"), fullPage: true });

    await setHealthStatus(cloud.endpoints(), "us-east-1", "ok");
    await cloud.advance(2 * 30_000);
    await expect
      .poll(async () => (await messages.allTextContents()).at(-1), { timeout: 20_000 })
      .toContain("Hello from us-east-1");
    // The client re-resolved on every call: no call failed during the switch.
    expect(await page.locator("#client_result p.error").count()).toBe(0);
    await page.close();
  }, 60_000);
});
