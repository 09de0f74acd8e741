// ProcessSAML and SAMLAuthorizer against the local IdP, dynalite and the local KMS and STS:
// a real login end to end at handler level, the pickup token's checks, and every attack the
// platform must refuse (each: `#error=<reason>`, an audit row, no parked credentials).
import { randomBytes, randomUUID, createHash } from "node:crypto";
import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attackerKey, localIdpKey, LOCAL_IDP_ENTITY_ID } from "../local/standins/idp/metadata";
import { dtdVariants, responseWrappingVariant, signatureWrappingVariants } from "../local/standins/idp/attacks";
import { buildSamlResponse, type SamlResponseParams } from "../local/standins/idp/saml-response";
import { AWS_RELYING_PARTY, startIdp, type RunningIdp } from "../local/standins/idp/server";
import { signInAtIdp } from "./helpers/adfs";
import { ACCOUNT, ACS_URL, AWS_AUDIENCE, LOGIN_PAGE, PROVIDER_ARN, startSamlCloud, type SamlCloud } from "./helpers/saml-cloud";

type ProcessSaml = typeof import("../lambdas/process-saml/index");
type Authorizer = typeof import("../lambdas/saml-authorizer/index");

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
const b64 = (value: string) => Buffer.from(value, "utf8").toString("base64");
const newLogin = () => ({ identityId: randomUUID(), code: randomBytes(16).toString("base64url") });
const ROLE_PAIR = (role: string) => `${PROVIDER_ARN},arn:aws:iam::${ACCOUNT}:role/${role}`;
const BOB: SamlResponseParams = {
  issuer: LOCAL_IDP_ENTITY_ID,
  destination: ACS_URL,
  audience: AWS_AUDIENCE,
  nameId: "EXAMPLE\\bob",
  attributes: {
    "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["bob@example.com"],
    "https://aws.amazon.com/SAML/Attributes/Role": [ROLE_PAIR("ADFS-Production"), ROLE_PAIR("ADFS-Dev")],
  },
};

let cloud: SamlCloud;
let idp: RunningIdp;
let processSaml: ProcessSaml["handler"];
let authorize: Authorizer["handler"];
let signPickupToken: typeof import("../lambdas/lib/saml/jwt").signPickupToken;

beforeAll(async () => {
  cloud = await startSamlCloud();
  Object.assign(process.env, cloud.environment);
  idp = await startIdp({
    relyingParties: [{ identifier: AWS_RELYING_PARTY, acsUrl: ACS_URL }],
    aws: { accountId: ACCOUNT, samlProviderName: "ADFS" },
  });
  ({ handler: processSaml } = await import("../lambdas/process-saml/index"));
  ({ handler: authorize } = await import("../lambdas/saml-authorizer/index"));
  ({ signPickupToken } = await import("../lambdas/lib/saml/jwt"));
});

afterAll(async () => {
  await idp?.stop();
  await cloud?.stop();
});

function post(form: Record<string, string>) {
  return processSaml({ body: b64(new URLSearchParams(form).toString()), sourceIp: "127.0.0.1", userAgent: b64("vitest"), requestId: randomUUID() });
}

function pickupEvent(token: string, identityId: string, code: string) {
  return {
    type: "REQUEST" as const,
    methodArn: `arn:aws:execute-api:us-east-1:${ACCOUNT}:api123/prod/GET/saml`,
    headers: { Authorization: token, "X-Identity-Id": identityId, "X-Relay-Code": code },
  };
}

const tokenOf = (location: string) => /#token=(.+)$/.exec(location)?.[1] ?? "";

describe("a login", () => {
  it("signs bob in at the IdP, parks ADFS-Production credentials once, and lets only this login pick them up", async () => {
    const { identityId, code } = newLogin();
    const idpForm = await signInAtIdp(idp.url, "bob", "bob-local-password", `${identityId}:${code}`);
    expect(idpForm.action).toBe(ACS_URL);

    const { location } = await post({ SAMLResponse: idpForm.SAMLResponse, RelayState: idpForm.RelayState });
    expect(location).toMatch(new RegExp(`^${LOGIN_PAGE}#token=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));

    const identityHash = sha256(identityId);
    const parked = await cloud.item("sessions", { identityhash: identityHash });
    expect(parked).toMatchObject({ identityhash: identityHash, AccessKeyId: expect.stringMatching(/^ASIA/) });
    const issued = cloud.credentials.session(parked!.AccessKeyId)!;
    expect(issued.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/ADFS-Production`);
    expect(issued.secretAccessKey).toBe(parked!.SecretAccessKey);
    expect(issued.expiresAt.getTime() - Date.now()).toBeGreaterThan(3500_000);

    const audit = (await cloud.scan("users")).find((row) => row.identityhash === identityHash);
    expect(audit).toMatchObject({ outcome: "success", user: "EXAMPLE\\bob", role: issued.roleArn, region: "us-east-1", userAgent: "vitest" });
    expect(JSON.stringify(audit)).not.toContain(parked!.SecretAccessKey);

    const token = tokenOf(location);
    const allowed = await authorize(pickupEvent(token, identityId, code));
    expect(allowed.principalId).toBe(identityHash);
    expect(allowed.policyDocument.Statement).toEqual([
      { Action: "execute-api:Invoke", Effect: "Allow", Resource: `arn:aws:execute-api:us-east-1:${ACCOUNT}:api123/prod/GET/saml` },
    ]);
  });

  it("refuses a wrong password at the IdP", async () => {
    const { identityId, code } = newLogin();
    const answer = await signInAtIdp(idp.url, "bob", "wrong", `${identityId}:${code}`);
    expect(answer.status).toBe(401);
    expect(answer.SAMLResponse).toBe("");
  });
});

describe("the pickup token", () => {
  let login: { identityId: string; code: string; token: string };
  beforeAll(async () => {
    const { identityId, code } = newLogin();
    const { location } = await post({ SAMLResponse: b64(buildSamlResponse(BOB, localIdpKey())), RelayState: `${identityId}:${code}` });
    login = { identityId, code, token: tokenOf(location) };
    expect(login.token).not.toBe("");
  });

  const refused = (token: string, identityId = login.identityId, code = login.code) =>
    expect(authorize(pickupEvent(token, identityId, code))).rejects.toThrow(/^Unauthorized$/);
  const segments = () => login.token.split(".");
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const payload = () => JSON.parse(Buffer.from(segments()[1], "base64url").toString("utf8"));
  const sign = (claims: { sub: string; code_hash: string; iss?: string; aud?: string }, now?: number, region = "us-east-1") =>
    signPickupToken(new KMSClient({ region }), "alias/platform-saml-jwt", {
      iss: process.env.JWT_ISSUER!,
      aud: process.env.JWT_AUDIENCE!,
      ...claims,
    }, now);

  it("is refused with another code", () => refused(login.token, login.identityId, randomBytes(16).toString("base64url")));
  it("is refused for another identity", () => refused(login.token, randomUUID()));
  it("is refused without the headers", () => refused(""));
  it("is refused with alg none", () => refused(`${encode({ alg: "none", typ: "JWT" })}.${segments()[1]}.`));
  it("is refused when its claims were changed", () =>
    refused(`${segments()[0]}.${encode({ ...payload(), exp: payload().exp + 3600 })}.${segments()[2]}`));
  it("is refused when its signature was changed", () => {
    const signature = Buffer.from(segments()[2], "base64url");
    signature[10] ^= 1;
    return refused(`${segments()[0]}.${segments()[1]}.${signature.toString("base64url")}`);
  });
  it("is refused when older than 30 s", async () => {
    const old = await sign({ sub: sha256(login.identityId), code_hash: sha256(login.code) }, Date.now() - 31_000);
    await refused(old);
  });
  it("is refused for another audience", async () => {
    const other = await sign({ sub: sha256(login.identityId), code_hash: sha256(login.code), aud: "urn:someone-else" });
    await refused(other);
  });
  it("is refused when signed by a key outside the platform's alias", async () => {
    const stranger = cloud.kms.createKey("us-east-1", { description: "not the JWT key" });
    const { signPickupToken: signWith } = await import("../lambdas/lib/saml/jwt");
    const token = await signWith(new KMSClient({ region: "us-east-1" }), stranger.KeyId, {
      sub: sha256(login.identityId),
      code_hash: sha256(login.code),
      iss: process.env.JWT_ISSUER!,
      aud: process.env.JWT_AUDIENCE!,
    });
    await refused(token);
  });
  it("issued in the other region is accepted (a login may be picked up anywhere)", async () => {
    const west = await sign({ sub: sha256(login.identityId), code_hash: sha256(login.code) }, undefined, "us-west-2");
    expect(JSON.parse(Buffer.from(west.split(".")[0], "base64url").toString()).kid).toContain(":us-west-2:");
    await expect(authorize(pickupEvent(west, login.identityId, login.code))).resolves.toMatchObject({ principalId: sha256(login.identityId) });
  });
});

describe("attacks on POST /saml", () => {
  /** Posts, and checks the whole refusal: error redirect, audit row with the reason, nothing parked. */
  async function expectRefused(form: Record<string, string>, reason: string, identityId?: string) {
    const before = (await cloud.scan("sessions")).length;
    const requestId = randomUUID();
    const { location } = await processSaml({ body: b64(new URLSearchParams(form).toString()), sourceIp: "203.0.113.9", userAgent: b64("attacker"), requestId });
    expect(location).toBe(`${LOGIN_PAGE}#error=${reason}`);
    const audit = (await cloud.scan("users")).find((row) => row.requestId === requestId);
    expect(audit).toMatchObject({ outcome: "refused", reason, sourceIp: "203.0.113.9" });
    expect((await cloud.scan("sessions")).length).toBe(before);
    if (identityId) expect(await cloud.item("sessions", { identityhash: sha256(identityId) })).toBeUndefined();
  }
  const attempt = async (xml: string, reason: string) => {
    const { identityId, code } = newLogin();
    await expectRefused({ SAMLResponse: b64(xml), RelayState: `${identityId}:${code}` }, reason, identityId);
  };
  const signed = (params: Partial<SamlResponseParams> = {}) => buildSamlResponse({ ...BOB, ...params }, localIdpKey());
  const MALLORY: SamlResponseParams = { ...BOB, nameId: "EXAMPLE\\mallory" };

  it("refuses an unsigned response", () => attempt(buildSamlResponse(BOB, localIdpKey(), "none"), "unsigned"));
  it("refuses an assertion signed by another key", () => attempt(buildSamlResponse(BOB, attackerKey()), "signature_invalid"));
  it("refuses a response signed by another key", () => attempt(buildSamlResponse(BOB, attackerKey(), "response"), "signature_invalid"));
  it("refuses a signed assertion whose content was changed", () =>
    attempt(signed().replace("ADFS-Dev", "ADFS-Admin"), "signature_invalid"));

  for (const variant of signatureWrappingVariants(buildSamlResponse(BOB, localIdpKey()), MALLORY)) {
    it(`refuses signature wrapping: ${variant.name}`, async () => {
      const { identityId, code } = newLogin();
      const { location } = await post({ SAMLResponse: b64(variant.xml), RelayState: `${identityId}:${code}` });
      expect(location).toMatch(/#error=(multiple_assertions|signature_wrapping|schema_invalid)$/);
      expect(await cloud.item("sessions", { identityhash: sha256(identityId) })).toBeUndefined();
    });
  }
  it("refuses signature wrapping around a response-level signature", async () => {
    const variant = responseWrappingVariant(buildSamlResponse(BOB, localIdpKey(), "response"), MALLORY);
    const { identityId, code } = newLogin();
    const { location } = await post({ SAMLResponse: b64(variant.xml), RelayState: `${identityId}:${code}` });
    expect(location).toMatch(/#error=(multiple_assertions|signature_wrapping|schema_invalid)$/);
  });

  it("refuses an expired assertion", () => attempt(signed({ issueInstant: new Date(Date.now() - 2 * 3600_000) }), "assertion_expired"));
  it("refuses an expired bearer confirmation", () =>
    attempt(signed({ issueInstant: new Date(Date.now() - 10 * 60_000) }), "assertion_expired"));
  it("refuses an assertion that is not valid yet", () =>
    attempt(signed({ issueInstant: new Date(Date.now() + 5 * 60_000) }), "assertion_not_yet_valid"));
  it("accepts a clock 50 s ahead (skew up to 60 s)", async () => {
    const { identityId, code } = newLogin();
    const { location } = await post({ SAMLResponse: b64(signed({ issueInstant: new Date(Date.now() + 50_000) })), RelayState: `${identityId}:${code}` });
    expect(location).toContain("#token=");
  });
  it.each(["urn:amazon:webservices", AWS_AUDIENCE])("accepts the audience %s, as STS does (AD FS writes the relying party's identifier)", async (audience) => {
    const { identityId, code } = newLogin();
    const { location } = await post({ SAMLResponse: b64(signed({ audience })), RelayState: `${identityId}:${code}` });
    expect(location).toContain("#token=");
  });
  it("refuses another audience", () => attempt(signed({ audience: "urn:another:service" }), "audience_mismatch"));
  it("refuses another destination", () => attempt(signed({ destination: "https://evil.example.com/saml" }), "destination_mismatch"));
  it("refuses another recipient", () => attempt(signed({ recipient: "https://evil.example.com/saml" }), "recipient_mismatch"));
  it("refuses another issuer", () => attempt(signed({ issuer: "http://evil.example.com/adfs/services/trust" }), "issuer_mismatch"));

  it("refuses a replayed assertion, in another login too", async () => {
    const xml = signed();
    const first = newLogin();
    const { location } = await post({ SAMLResponse: b64(xml), RelayState: `${first.identityId}:${first.code}` });
    expect(location).toContain("#token=");
    await attempt(xml, "assertion_replayed");
    const row = (await cloud.scan("assertions")).find((r) => xml.includes(r.assertionId));
    expect(Number(row!.expiresAt)).toBeGreaterThan(Date.now() / 1000);
  });

  for (const variant of dtdVariants(buildSamlResponse(BOB, localIdpKey()))) {
    it(`refuses ${variant.name}`, () => attempt(variant.xml, "dtd_not_allowed"));
  }

  it("refuses invalid base64", async () => {
    const { identityId, code } = newLogin();
    await expectRefused({ SAMLResponse: "PHNhbWxwOlJlc3BvbnNl***", RelayState: `${identityId}:${code}` }, "invalid_base64", identityId);
  });
  it("refuses a body over the size limit", async () => {
    const { identityId, code } = newLogin();
    await expectRefused({ SAMLResponse: "A".repeat(200 * 1024), RelayState: `${identityId}:${code}` }, "request_too_large", identityId);
  });
  it("refuses a form without SAMLResponse", () => expectRefused({ RelayState: "x" }, "request_malformed"));
  it("refuses a RelayState the login page did not make", () => expectRefused({ SAMLResponse: b64(signed()), RelayState: "../../etc" }, "relay_state_invalid"));
  it("refuses XML that is not well-formed", () => attempt("<samlp:Response", "xml_malformed"));
  it("refuses a user in no mapped group", async () => {
    const { identityId, code } = newLogin();
    const idpForm = await signInAtIdp(idp.url, "dana", "dana-local-password", `${identityId}:${code}`);
    await expectRefused({ SAMLResponse: idpForm.SAMLResponse, RelayState: idpForm.RelayState }, "no_mapped_role", identityId);
  });
  it("refuses a role pair of another account's provider", () =>
    attempt(signed({ attributes: { ...BOB.attributes, "https://aws.amazon.com/SAML/Attributes/Role": ["arn:aws:iam::999999999999:saml-provider/ADFS,arn:aws:iam::999999999999:role/ADFS-Production"] } }), "no_mapped_role"));

  it("answers every refusal as a redirect, never by throwing", async () => {
    await expect(processSaml({} as never)).resolves.toEqual({ location: `${LOGIN_PAGE}#error=request_malformed` });
    await expect(processSaml({ body: 42 } as never)).resolves.toEqual({ location: `${LOGIN_PAGE}#error=request_malformed` });
  });
});

describe("parked credentials", () => {
  it("are refused to a second login with the same identity id (conditional write)", async () => {
    const { identityId, code } = newLogin();
    const first = await post({ SAMLResponse: b64(buildSamlResponse(BOB, localIdpKey())), RelayState: `${identityId}:${code}` });
    expect(first.location).toContain("#token=");
    const second = await post({ SAMLResponse: b64(buildSamlResponse(BOB, localIdpKey())), RelayState: `${identityId}:${code}` });
    expect(second.location).toBe(`${LOGIN_PAGE}#error=session_conflict`);
    await cloud.dynamodb.send(new DeleteItemCommand({ TableName: "SAMLSessions", Key: { identityhash: { S: sha256(identityId) } } }));
  });
});
