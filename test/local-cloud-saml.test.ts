// SAML federation end to end in the local cloud, deployed from the synthesized Terraform: the
// local IdP (ADFS stand-in) signs bob in and posts to POST /saml of the custom domain, ProcessSAML
// federates through STS and parks the credentials, GET /saml hands them over once (REQUEST
// authorizer + DeleteItem service proxy), and they sign GET /users (AWS_IAM) as the login page's
// Ping button does.
import { randomBytes } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { samlBrowser } from "./helpers/saml-browser";

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startPlatformCloud("local-cloud-saml");
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

let browser: ReturnType<typeof samlBrowser>;
beforeAll(() => {
  browser = samlBrowser(cloud);
});

const login = (username: string, password: string) => browser.login(username, password);
const pickup = (token: string, identityId: string, code: string) => browser.pickup({ token, identityId, code });

async function signedGet(url: string, credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string }) {
  const target = new URL(url);
  const signer = new SignatureV4({
    service: "execute-api",
    region: "us-east-1",
    sha256: Sha256,
    credentials: { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken },
  });
  const signed = await signer.sign({
    method: "GET",
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    headers: { host: target.host, "user-agent": "ping-button/1.0" },
  });
  return fetch(url, { headers: signed.headers as Record<string, string> });
}

describe("SAML federation through the local cloud", () => {
  it("starts the local IdP for the deployed SAML provider, posting to the custom domain's POST /saml", () => {
    const { idp } = cloud.endpoints();
    expect(idp?.users.map((u) => u.username)).toContain("bob");
    expect(cloud.localUrl("https://api.dev.example.com/v1/saml")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/restapis\/\w+\/prod\/_user_request_\/saml$/);
  });

  it("bob signs in, picks up ADFS-Production credentials once, and may call GET /users with them", async () => {
    const { identityId, code, form, status, location } = await login("bob", "bob-local-password");
    expect(form.action).toBe("https://api.dev.example.com/v1/saml");
    expect(status).toBe(302);
    const token = /#token=([\w-]+\.[\w-]+\.[\w-]+)$/.exec(location)?.[1];
    expect(location.startsWith("http://platform-login-dev-111111111111.s3-website-us-east-1.amazonaws.com")).toBe(true);
    expect(token).toBeDefined();

    const first = await pickup(token!, identityId, code);
    expect(first.status).toBe(200);
    expect(first.headers.get("access-control-allow-origin")).toBe("http://platform-login-dev-111111111111.s3-website-us-east-1.amazonaws.com");
    const credentials = await first.json();
    expect(credentials.AccessKeyId).toMatch(/^ASIA/);

    // Once: the item is gone, and the token is spent.
    const second = await pickup(token!, identityId, code);
    expect([403, 404]).toContain(second.status);

    const users = await signedGet(cloud.localUrl("https://api.dev.example.com/v1/users")!, credentials);
    expect(users.status).toBe(200);
    expect(await users.json()).toEqual({ status: "Success", agent: "ping-button/1.0" });

    // Unsigned, or signed for a method the role may not invoke: refused as API Gateway does.
    expect((await fetch(cloud.localUrl("https://api.dev.example.com/v1/users")!)).status).toBe(403);
    const helloSigned = await signedGet(cloud.localUrl("https://api.dev.example.com/v1/saml")!, credentials);
    expect(helloSigned.status).toBe(401);
  }, 60_000);

  it("a pickup with another login's code is refused and leaves the credentials parked", async () => {
    const { identityId, code, location } = await login("bob", "bob-local-password");
    const token = /#token=(.+)$/.exec(location)![1];
    const wrong = await pickup(token, identityId, randomBytes(16).toString("base64url"));
    // The authorizer answers "Unauthorized": API Gateway's 401.
    expect(wrong.status).toBe(401);
    expect((await pickup(token, identityId, code)).status).toBe(200);
  }, 60_000);

  it("a login posted to us-east-1 is picked up in us-west-2 at once: both take it from the authority region", async () => {
    const { identityId, code, token } = await login("bob", "bob-local-password");
    const answer = await browser.pickup({ token, identityId, code }, "us-west-2");
    expect(answer.status).toBe(200);
    expect((await answer.json()).AccessKeyId).toMatch(/^ASIA/);
  }, 60_000);

  it("a user in no mapped group gets no credentials", async () => {
    const { status, location } = await login("dana", "dana-local-password");
    expect([302, 303]).toContain(status);
    expect(location).not.toContain("#token=");
  }, 60_000);
});
