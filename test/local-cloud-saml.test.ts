// SAML federation end to end in the local cloud, deployed from the synthesized Terraform: the
// local IdP (ADFS stand-in) signs bob in and posts to POST /saml of the custom domain, ProcessSAML
// federates through STS and parks the credentials, GET /saml hands them over once (REQUEST
// authorizer + DeleteItem service proxy), and they sign GET /users (AWS_IAM) as the login page's
// Ping button does.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { synth } from "../scripts/lib/synth";
import { signInAtIdp } from "./helpers/adfs";

let cloud: LocalCloud;

beforeAll(async () => {
  const outdir = mkdtempSync(join(tmpdir(), "local-cloud-saml-synth-"));
  synth({ target: "aws", outdir });
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir: mkdtempSync(join(tmpdir(), "local-cloud-saml-")), port: 0 });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

async function login(username: string, password: string) {
  const identityId = randomUUID();
  const code = randomBytes(16).toString("base64url");
  const form = await signInAtIdp(cloud.endpoints().idp!.url, username, password, `${identityId}:${code}`);
  const posted = await fetch(cloud.localUrl(form.action ?? "")!, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ SAMLResponse: form.SAMLResponse, RelayState: form.RelayState }),
  });
  return { identityId, code, form, status: posted.status, location: posted.headers.get("location") ?? "" };
}

const pickup = (token: string, identityId: string, code: string) =>
  fetch(cloud.localUrl("https://api.dev.example.com/v1/saml")!, { headers: { Authorization: token, "X-Identity-Id": identityId, "X-Relay-Code": code } });

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

  it("a login posted to us-east-1 is picked up in us-west-2: the session table is a global table", async () => {
    const { identityId, code, location } = await login("bob", "bob-local-password");
    const token = /#token=(.+)$/.exec(location)![1];
    const west = `${cloud.endpoints().regions["us-west-2"].apiUrl}/saml`;
    const headers = { Authorization: token, "X-Identity-Id": identityId, "X-Relay-Code": code };
    // Replication takes the configured lag (200 ms by default, longer on a loaded machine); a client
    // retries a 404 for a while, and its pickups that find nothing must not delete the session.
    let answer = await fetch(west, { headers });
    for (const deadline = Date.now() + 10_000; answer.status === 404 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await fetch(west, { headers });
    }
    expect(answer.status).toBe(200);
    expect((await answer.json()).AccessKeyId).toMatch(/^ASIA/);
  }, 60_000);

  it("a user in no mapped group gets no credentials", async () => {
    const { status, location } = await login("dana", "dana-local-password");
    expect([302, 303]).toContain(status);
    expect(location).not.toContain("#token=");
  }, 60_000);
});
