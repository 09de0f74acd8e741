// The login page (web/) in real Chromium against the local cloud: served by the login site's S3
// website bucket, it sends bob to the local IdP (AD FS's IdP-initiated sign-on with the RelayState
// pair, as a real AD FS takes it), receives the token in the fragment, picks up the
// credentials and presses Ping, which signs GET /users with SigV4. The page, the IdP and the API
// keep their public names (http://<bucket>.s3-website-..., https://idp.platform.invalid,
// https://api.dev.example.com): the browser's requests to them are routed to the local servers,
// what DNS and TLS do in AWS. A screenshot is kept in .local/artifacts/login-page.png.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { REPO_ROOT } from "../scripts/lib/synth";
import { CHROMIUM_ARGS, chromiumPath } from "./helpers/chromium";

const LOGIN_ORIGIN = "http://platform-login-dev-111111111111.s3-website-us-east-1.amazonaws.com";
const IDP_ORIGIN = "https://idp.platform.invalid";
const API_ORIGIN = "https://api.dev.example.com";
let cloud: LocalCloud;
let browser: Browser;

beforeAll(async () => {
  if (!chromiumPath) return;
  cloud = await startPlatformCloud("login-page");
  browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cloud?.stop();
});

/** Sends a request for a public name to the local server standing in for it; redirects go back to the page. */
function routeTo(localOrigin: (path: string) => string) {
  return async (route: Route) => {
    const url = new URL(route.request().url());
    const response = await route.fetch({ url: localOrigin(url.pathname + url.search), maxRedirects: 0 });
    const location = response.headers()["location"];
    // A redirect is handed over as status and Location only: Chromium aborts a navigation fulfilled with the full 3xx response.
    if (response.status() >= 300 && response.status() < 400 && location) await route.fulfill({ status: response.status(), headers: { location } });
    else await route.fulfill({ response });
  };
}

describe.skipIf(!chromiumPath)("login page in Chromium", () => {
  it("bob signs in at the IdP, the page picks up his credentials, and Ping answers Success", async () => {
    const endpoints = cloud.endpoints();
    const context = await browser.newContext();
    await context.route(`${LOGIN_ORIGIN}/**`, routeTo((path) => `${endpoints.websites["platform-login-dev-111111111111"]}${path.slice(1)}`));
    await context.route(`${IDP_ORIGIN}/**`, routeTo((path) => `${endpoints.idp!.url}${path}`));
    await context.route(`${API_ORIGIN}/**`, routeTo((path) => `${endpoints.platformDomain!.httpUrl}${path}`));
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));

    // The button works once app.js has read config.json.
    await page.goto(`${LOGIN_ORIGIN}/`, { waitUntil: "networkidle" });
    await page.click("#sign-in");
    await page.waitForURL(`${IDP_ORIGIN}/**`);
    // AD FS's IdP-initiated sign-on, with Microsoft's RelayState pair and nothing else in the query.
    const idpUrl = new URL(page.url());
    expect(idpUrl.pathname).toBe("/adfs/ls/IdpInitiatedSignOn.aspx");
    expect([...idpUrl.searchParams.keys()]).toEqual(["RelayState"]);
    const pair = new URLSearchParams(idpUrl.searchParams.get("RelayState")!);
    expect([...pair.keys()]).toEqual(["RPID", "RelayState"]);
    expect(pair.get("RPID")).toBe("urn:amazon:webservices");
    expect(pair.get("RelayState")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}:[\w-]{22}$/);
    await page.fill("input[name=username]", "bob");
    await page.fill("input[name=password]", "bob-local-password");
    // The IdP's answer posts itself to https://api.dev.example.com/v1/saml, which redirects back.
    await page.click("button[type=submit]");

    await expect.poll(() => page.textContent("#credentials"), { timeout: 15_000 }).toMatch(/^Access key ASIA/);
    // The token left the address bar as soon as the page read it.
    expect(page.url()).not.toContain("#token=");
    await page.click("#ping");
    await expect.poll(() => page.textContent("#answer"), { timeout: 15_000 }).toContain('"status":"Success"');
    const artifacts = join(REPO_ROOT, ".local", "artifacts");
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "login-page.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 90_000);
});
