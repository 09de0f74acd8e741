// The local KMS, STS and IdP on their own, through the AWS SDK and plain HTTP: what the SAML
// login relies on them for, and the errors AWS would give.
import { createPublicKey, verify } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand, VerifyCommand } from "@aws-sdk/client-kms";
import { AssumeRoleWithSAMLCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureWrappingVariants } from "../local/standins/idp/attacks";
import { attackerKey, localIdpKey, localIdpMetadataXml, LOCAL_IDP_ENTITY_ID } from "../local/standins/idp/metadata";
import { buildSamlResponse, type SamlResponseParams } from "../local/standins/idp/saml-response";
import { AWS_RELYING_PARTY, startIdp } from "../local/standins/idp/server";
import { kmsApi } from "../local/kms/api";
import { KmsState } from "../local/kms/state";
import { stsApi } from "../local/sts/api";
import { ACCOUNT, ACS_URL, AWS_AUDIENCE, PROVIDER_ARN, samlTrustPolicy } from "./helpers/saml-cloud";
import { startTestEdge, type TestEdge } from "./helpers/test-edge";

describe("local KMS", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kms-"));
  let edge: TestEdge;
  const client = (region: string) => new KMSClient({ region, endpoint: edge.url, credentials: edge.admin, maxAttempts: 1 });
  beforeAll(async () => {
    const state = new KmsState({ accountId: ACCOUNT, dataDir });
    edge = await startTestEdge({ accountId: ACCOUNT, services: () => ({ kms: kmsApi(() => state) }) });
  });
  afterAll(() => edge?.stop());

  it("creates an ECC_NIST_P256 signing key whose ES256 signatures verify with its public key", async () => {
    const kms = client("us-east-1");
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }));
    expect(KeyMetadata).toMatchObject({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", Arn: expect.stringMatching(/^arn:aws:kms:us-east-1:111111111111:key\//) });
    await kms.send(new CreateAliasCommand({ AliasName: "alias/jwt", TargetKeyId: KeyMetadata!.KeyId }));
    const message = Buffer.from("header.payload");
    const { Signature, KeyId } = await kms.send(new SignCommand({ KeyId: "alias/jwt", Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" }));
    expect(KeyId).toBe(KeyMetadata!.Arn);
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: "alias/jwt" }));
    const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: "der", type: "spki" });
    expect(verify("sha256", message, { key: publicKey, dsaEncoding: "der" }, Buffer.from(Signature!))).toBe(true);
    await expect(
      kms.send(new VerifyCommand({ KeyId: "alias/jwt", Message: Buffer.from("other"), Signature, SigningAlgorithm: "ECDSA_SHA_256" })),
    ).rejects.toMatchObject({ name: "KMSInvalidSignatureException" });
  });

  it("keeps keys apart per region (the region of the credential scope)", async () => {
    await expect(client("us-west-2").send(new DescribeKeyCommand({ KeyId: "alias/jwt" }))).rejects.toMatchObject({ name: "NotFoundException" });
  });

  it("names what it does not support", async () => {
    await expect(client("us-east-1").send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }))).rejects.toMatchObject({
      name: "UnsupportedOperationException",
      message: expect.stringContaining("ECC_NIST_P256"),
    });
    await expect(
      client("us-east-1").send(new SignCommand({ KeyId: "alias/jwt", Message: Buffer.alloc(32), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" })),
    ).rejects.toMatchObject({ name: "ValidationException", message: expect.stringContaining("RAW") });
  });

  it("keeps key material across a restart, and creates a key once per deployer token", async () => {
    const before = new KmsState({ accountId: ACCOUNT, dataDir });
    const signed = before.sign("us-east-1", { keyId: "alias/jwt", message: Buffer.from("x"), signingAlgorithm: "ECDSA_SHA_256" });
    const after = new KmsState({ accountId: ACCOUNT, dataDir });
    expect(after.verify("us-east-1", { keyId: "alias/jwt", message: Buffer.from("x"), signature: signed.Signature, signingAlgorithm: "ECDSA_SHA_256" }).SignatureValid).toBe(true);
    const first = after.createKey("us-east-1", { idempotencyToken: "aws_kms_key.jwt" });
    expect(new KmsState({ accountId: ACCOUNT, dataDir }).createKey("us-east-1", { idempotencyToken: "aws_kms_key.jwt" }).Arn).toBe(first.Arn);
  });
});

describe("local STS AssumeRoleWithSAML", () => {
  let edge: TestEdge;
  // AssumeRoleWithSAML is unsigned: the SDK sends no credentials at all.
  const sts = () => new STSClient({ region: "us-east-1", endpoint: edge.url, maxAttempts: 1, credentials: { accessKeyId: "", secretAccessKey: "" } });
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/ADFS-Production`;
  const BOB: SamlResponseParams = {
    issuer: LOCAL_IDP_ENTITY_ID,
    destination: ACS_URL,
    audience: AWS_AUDIENCE,
    nameId: "EXAMPLE\\bob",
    attributes: {
      "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["bob@example.com"],
      "https://aws.amazon.com/SAML/Attributes/Role": [`${PROVIDER_ARN},${ROLE}`],
    },
  };
  const assume = (xml: string, input: Partial<{ RoleArn: string; PrincipalArn: string; DurationSeconds: number }> = {}) =>
    sts().send(new AssumeRoleWithSAMLCommand({ RoleArn: ROLE, PrincipalArn: PROVIDER_ARN, SAMLAssertion: Buffer.from(xml).toString("base64"), ...input }));
  const signed = (params: Partial<SamlResponseParams> = {}) => buildSamlResponse({ ...BOB, ...params }, localIdpKey());

  beforeAll(async () => {
    edge = await startTestEdge({
      accountId: ACCOUNT,
      services: (accounts) => ({ sts: stsApi((id) => accounts.find(id) && { sts: accounts.get(id).sts, roles: accounts.get(id).iam }) }),
    });
    for (const name of ["ADFS-Production", "ADFS-Dev"]) edge.account.iam.createRole({ name, assumeRolePolicy: samlTrustPolicy(), maxSessionDuration: 3600 });
    edge.account.sts.createSamlProvider("ADFS", localIdpMetadataXml());
  });
  afterAll(() => edge?.stop());

  it("issues credentials that the registry knows, for the role and session the assertion names", async () => {
    const result = await assume(signed(), { DurationSeconds: 1800 });
    expect(result.Credentials!.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(result.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ADFS-Production/bob@example.com`);
    expect(result.Audience).toBe(ACS_URL);
    expect(result.Subject).toBe("EXAMPLE\\bob");
    expect(result.SubjectType).toBe("persistent");
    const issued = edge.account.credentials.session(result.Credentials!.AccessKeyId!)!;
    expect(issued).toMatchObject({ roleArn: ROLE, secretAccessKey: result.Credentials!.SecretAccessKey, sessionToken: result.Credentials!.SessionToken });
    expect(Math.round((issued.expiresAt.getTime() - Date.now()) / 1000)).toBeGreaterThan(1790);
  });

  it.each<[string, () => Promise<unknown>, string]>([
    ["a response signed by another key", () => assume(buildSamlResponse(BOB, attackerKey())), "InvalidIdentityTokenException"],
    ["an unsigned response", () => assume(buildSamlResponse(BOB, localIdpKey(), "none")), "InvalidIdentityTokenException"],
    ["an assertion addressed elsewhere (the trust policy's SAML:aud)", () => assume(signed({ recipient: "https://evil.example.com/saml" })), "AccessDenied"],
    ["a role the assertion does not grant", () => assume(signed(), { RoleArn: `arn:aws:iam::${ACCOUNT}:role/ADFS-Dev` }), "AccessDenied"],
    ["a provider that does not exist", () => assume(signed(), { PrincipalArn: `arn:aws:iam::${ACCOUNT}:saml-provider/Other` }), "InvalidIdentityTokenException"],
    ["an expired assertion", () => assume(signed({ issueInstant: new Date(Date.now() - 3 * 3600_000) })), "ExpiredTokenException"],
    ["another audience", () => assume(signed({ audience: "urn:someone-else" })), "InvalidIdentityTokenException"],
    ["a session longer than the role allows", () => assume(signed(), { DurationSeconds: 7200 }), "ValidationError"],
    ["no RoleSessionName", () => assume(signed({ attributes: { "https://aws.amazon.com/SAML/Attributes/Role": [`${PROVIDER_ARN},${ROLE}`] } })), "InvalidIdentityTokenException"],
    ["an extra unsigned assertion", () => assume(signatureWrappingVariants(signed(), { ...BOB, nameId: "EXAMPLE\\mallory" })[0].xml), "InvalidIdentityTokenException"],
  ])("refuses %s", async (_name, call, code) => {
    await expect(call()).rejects.toMatchObject({ name: code });
  });
});

describe("local IdP", () => {
  it("serves the metadata that the dev environment's SAML provider trusts", async () => {
    const idp = await startIdp({ relyingParties: [{ identifier: AWS_RELYING_PARTY, acsUrl: ACS_URL }], aws: { accountId: ACCOUNT, samlProviderName: "ADFS" } });
    try {
      const served = await (await fetch(idp.metadataUrl)).text();
      expect(served).toBe(readFileSync(new URL("../config/saml/local-idp-metadata.xml", import.meta.url), "utf8"));
      expect(idp.users.map((u) => [u.username, u.groups.filter((g) => g.startsWith("ADFS-"))])).toEqual([
        ["bob", ["ADFS-Production", "ADFS-Dev"]],
        ["dana", []],
      ]);
    } finally {
      await idp.stop();
    }
  });
});
