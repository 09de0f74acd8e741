// Once means once in both regions. Global tables replicate late and the last writer wins, so a
// conditional write in one region proves nothing about the other: the assertion claims and the
// parked credentials are written and taken in the authority region (us-east-1 in dev) by both
// regions. Tried here as an attacker would: the same SAMLResponse posted to both regions one
// after the other and at the same moment, the same pickup token used in both regions at once,
// and logins while the authority region is down.
import { createHash } from "node:crypto";
import { GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { loadConfig } from "../stacks/config";
import { setRegionOutage } from "../scripts/drill";
import { samlBrowser } from "./helpers/saml-browser";

const dev = loadConfig().environments.dev;
const AUTHORITY = dev.saml.authorityRegion;
const OTHER = AUTHORITY === "us-east-1" ? "us-west-2" : "us-east-1";
let cloud: LocalCloud;
let browser: ReturnType<typeof samlBrowser>;

beforeAll(async () => {
  cloud = await startPlatformCloud("saml-once");
  browser = samlBrowser(cloud);
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

/** AssumeRoleWithSAML sessions of ADFS-Production so far (function sessions are other roles). */
const federatedSessions = () => cloud.issuedCredentials(dev.accountId).filter((c) => c.roleArn.endsWith(":role/ADFS-Production")).length;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("a SAML response is accepted once in the whole deployment", () => {
  it("posted to one region and then the other: one token, one STS session", async () => {
    const sessionsBefore = federatedSessions();
    const { form } = await browser.login("bob", "bob-local-password", AUTHORITY);
    // login() posted it to the authority region; the same genuine response now goes to the other.
    const replayed = await browser.post(form, OTHER);
    expect(replayed).toMatchObject({ status: 302, error: "assertion_replayed", token: undefined });
    expect(federatedSessions() - sessionsBefore).toBe(1);

    // And the other way round: first the other region, then the authority.
    const second = await browser.login("bob", "bob-local-password", OTHER);
    expect(second.token).toBeDefined();
    expect((await browser.post(second.form, AUTHORITY)).error).toBe("assertion_replayed");
    expect(federatedSessions() - sessionsBefore).toBe(2);
  }, 60_000);

  it("posted to both regions at the same moment: exactly one token, exactly one STS session", async () => {
    for (let round = 0; round < 3; round++) {
      const sessionsBefore = federatedSessions();
      const { form } = await browser.prepare("bob", "bob-local-password");
      const answers = await Promise.all([browser.post(form, AUTHORITY), browser.post(form, OTHER)]);
      expect(answers.filter((a) => a.token).length).toBe(1);
      expect(answers.map((a) => a.error ?? "token").sort()).toEqual(["assertion_replayed", "token"]);
      expect(federatedSessions() - sessionsBefore).toBe(1);
    }
  }, 60_000);
});

describe("parked credentials are handed out once, whichever region the pickup reaches", () => {
  it("the same token picked up in both regions at once: one 200, one 404, the keys never twice", async () => {
    for (let round = 0; round < 3; round++) {
      const login = await browser.login("bob", "bob-local-password", AUTHORITY);
      // Whatever global tables would replicate has arrived: the other region has had every chance.
      await cloud.dynamo.drain();
      const answers = await Promise.all([browser.pickup(login, AUTHORITY), browser.pickup(login, OTHER)]);
      const bodies = await Promise.all(answers.map((a) => a.text()));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 404]);
      expect(bodies.filter((b) => b.includes("AccessKeyId")).length).toBe(1);
    }
  }, 60_000);

  it("a login in one region is picked up in the other right after it", async () => {
    const inOther = await browser.login("bob", "bob-local-password", OTHER);
    const answer = await browser.pickup(inOther, AUTHORITY);
    expect(answer.status).toBe(200);
    expect((await answer.json()).AccessKeyId).toMatch(/^ASIA/);
    const back = await browser.login("bob", "bob-local-password", AUTHORITY);
    expect((await browser.pickup(back, OTHER)).status).toBe(200);
  }, 60_000);
});

describe("while the authority region is down", () => {
  it("logins fail closed with a clear reason, no credential is issued or parked anywhere, and pickups say so", async () => {
    const parkedBefore = await browser.login("bob", "bob-local-password", OTHER);
    expect(parkedBefore.token).toBeDefined();
    const endpoints = cloud.endpoints();
    let refusedIdentity = "";
    await setRegionOutage(endpoints, AUTHORITY, "start");
    try {
      const sessionsBefore = federatedSessions();
      const refused = await browser.login("bob", "bob-local-password", OTHER);
      expect(refused).toMatchObject({ status: 302, error: "authority_unavailable", token: undefined });
      expect(federatedSessions()).toBe(sessionsBefore);
      refusedIdentity = refused.identityId;
      // The refusal is audited where the login landed.
      const audit = await cloud.dynamodbClient(OTHER).send(new ScanCommand({ TableName: "SAMLUsers" }));
      expect(audit.Items?.some((row) => row.identityhash?.S === sha256(refused.identityId) && row.reason?.S === "authority_unavailable")).toBe(true);

      // A login parked before the outage cannot be picked up in the region that is still up...
      const pickup = await browser.pickup(parkedBefore, OTHER);
      expect(pickup.status).toBe(503);
      expect((await pickup.json()).message).toMatch(/^Sign-in is unavailable: the credential store did not answer\. No credentials were handed out/);
      // ...and the authority region itself answers nothing but 503.
      expect((await browser.pickup(parkedBefore, AUTHORITY)).status).toBe(503);
    } finally {
      await setRegionOutage(endpoints, AUTHORITY, "end");
    }
    // Back up: nothing was parked for the refused login, in either region...
    for (const region of [AUTHORITY, OTHER]) {
      const item = await cloud
        .dynamodbClient(region)
        .send(new GetItemCommand({ TableName: "SAMLSessions", Key: { identityhash: { S: sha256(refusedIdentity) } }, ConsistentRead: true }));
      expect(item.Item, `SAMLSessions in ${region}`).toBeUndefined();
    }
    // ...and the credentials parked before the outage are still there, once.
    expect((await browser.pickup(parkedBefore, OTHER)).status).toBe(200);
    expect((await browser.pickup(parkedBefore, AUTHORITY)).status).toBe(404);
  }, 60_000);
});
