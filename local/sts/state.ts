// STS for the local cloud, AssumeRoleWithSAML as AWS checks it: the SAML response must be signed
// by a certificate in the metadata of the IAM SAML provider named by PrincipalArn, come from that
// provider's entity, be within its validity window and for the AWS audience, carry the
// (role, provider) pair in its Role attribute and a RoleSessionName; then the role's trust
// policy is evaluated with the SAML condition keys (SAML:aud is the bearer Recipient). This is
// an implementation of its own (xml-crypto, not the platform's validator), as AWS's STS is.
import { createHash, randomBytes } from "node:crypto";
import { DOMParser } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import * as xpath from "xpath";
import { AwsServiceError } from "../lib/aws-wire";
import type { CredentialRegistry, IssuedCredentials } from "./credentials";

export const AWS_SAML_AUDIENCES = ["https://signin.aws.amazon.com/saml", "urn:amazon:webservices"];
const ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const CLOCK_SKEW_MS = 5 * 60_000;
const NS = {
  samlp: "urn:oasis:names:tc:SAML:2.0:protocol",
  saml: "urn:oasis:names:tc:SAML:2.0:assertion",
  ds: "http://www.w3.org/2000/09/xmldsig#",
  md: "urn:oasis:names:tc:SAML:2.0:metadata",
};
const select = xpath.useNamespaces(NS);

/** The IAM policy evaluator's interface (local/iam/evaluator.ts). */
export type TrustEvaluator = (
  request: { action: string; resource: string; principal?: { type: "Federated"; id: string }; context: Record<string, string> },
  policies: { resourcePolicies: unknown[] },
) => { decision: "Allow" | "ExplicitDeny" | "ImplicitDeny"; reason: string };

/** What STS needs to know of an IAM role (local/iam/identities.ts's Role has it). */
export interface RoleLookup {
  role(nameOrArn: string): { name: string; arn: string; trustPolicy: unknown; maxSessionDurationSeconds: number };
}

export interface SamlProvider {
  arn: string;
  name: string;
  metadataXml: string;
  entityId: string;
  signingCertificates: string[];
}

export interface StsStateOptions {
  accountId: string;
  roles: RoleLookup;
  evaluate: TrustEvaluator;
  credentials: CredentialRegistry;
  now?: () => Date;
}

export interface AssumeRoleWithSamlInput {
  RoleArn: string;
  PrincipalArn: string;
  SAMLAssertion: string;
  DurationSeconds?: number;
}

export interface AssumeRoleWithSamlResult {
  credentials: IssuedCredentials;
  assumedRoleId: string;
  audience: string;
  issuer: string;
  subject: string;
  subjectType: string;
  nameQualifier: string;
}

const invalid = (message: string) => new AwsServiceError("InvalidIdentityToken", message);

export class StsState {
  private readonly providers = new Map<string, SamlProvider>();
  private readonly now: () => Date;

  constructor(private readonly options: StsStateOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** `aws_iam_saml_provider`: name + saml_metadata_document -> arn. */
  createSamlProvider(name: string, metadataXml: string): SamlProvider {
    if (!/^[\w.-]{1,128}$/.test(name)) throw new AwsServiceError("ValidationError", `SAML provider name "${name}" must be 1-128 of [\\w.-]`);
    const doc = parseXml(metadataXml, "SAMLMetadataDocument");
    const entityId = (select("/md:EntityDescriptor/@entityID", doc) as Attr[])[0]?.value;
    const certificates = (select("//md:IDPSSODescriptor/md:KeyDescriptor[not(@use) or @use='signing']//ds:X509Certificate", doc) as Node[])
      .map((node) => (node.textContent ?? "").replace(/\s+/g, ""))
      .filter(Boolean);
    if (!entityId || certificates.length === 0) {
      throw new AwsServiceError("InvalidInput", "SAMLMetadataDocument needs an EntityDescriptor entityID and an IDPSSODescriptor signing certificate");
    }
    const provider = {
      arn: `arn:aws:iam::${this.options.accountId}:saml-provider/${name}`,
      name,
      metadataXml,
      entityId,
      signingCertificates: certificates,
    };
    this.providers.set(provider.arn, provider);
    return provider;
  }

  samlProviders(): SamlProvider[] {
    return [...this.providers.values()];
  }

  samlProvider(arn: string): SamlProvider | undefined {
    return this.providers.get(arn);
  }

  assumeRoleWithSaml(input: AssumeRoleWithSamlInput): AssumeRoleWithSamlResult {
    const provider = this.providers.get(input.PrincipalArn);
    if (!provider) throw invalid(`SAML provider ${input.PrincipalArn} does not exist`);
    let role;
    try {
      role = this.options.roles.role(input.RoleArn);
    } catch {
      throw new AwsServiceError("AccessDenied", `Not authorized to perform sts:AssumeRoleWithSAML: role ${input.RoleArn} does not exist`, 403);
    }
    const duration = input.DurationSeconds ?? 3600;
    if (!Number.isInteger(duration) || duration < 900 || duration > role.maxSessionDurationSeconds) {
      throw new AwsServiceError(
        "ValidationError",
        `The requested DurationSeconds ${duration} must be between 900 and the role's MaxSessionDuration ${role.maxSessionDurationSeconds}`,
      );
    }

    const assertion = this.verifiedAssertion(input.SAMLAssertion, provider);
    const text = (path: string) => ((select(path, assertion) as Node[])[0]?.textContent ?? "").trim();
    const attribute = (name: string) =>
      (select(`saml:AttributeStatement/saml:Attribute[@Name='${name}']/saml:AttributeValue`, assertion) as Node[]).map((n) =>
        (n.textContent ?? "").trim(),
      );

    const now = this.now().getTime();
    const notBefore = text("saml:Conditions/@NotBefore");
    const notOnOrAfter = text("saml:Conditions/@NotOnOrAfter");
    if (notBefore && now + CLOCK_SKEW_MS < Date.parse(notBefore)) throw invalid("Assertion is not yet valid");
    if (notOnOrAfter && now - CLOCK_SKEW_MS >= Date.parse(notOnOrAfter)) {
      throw new AwsServiceError("ExpiredTokenException", "Token is expired: the assertion's NotOnOrAfter has passed");
    }
    const audiences = (select("saml:Conditions/saml:AudienceRestriction/saml:Audience", assertion) as Node[]).map((n) => (n.textContent ?? "").trim());
    if (!audiences.some((a) => AWS_SAML_AUDIENCES.includes(a))) {
      throw invalid(`Audience ${JSON.stringify(audiences)} is not ${AWS_SAML_AUDIENCES[0]}`);
    }
    const recipient = text("saml:Subject/saml:SubjectConfirmation[@Method='urn:oasis:names:tc:SAML:2.0:cm:bearer']/saml:SubjectConfirmationData/@Recipient");

    const pairs = attribute(ROLE_ATTRIBUTE).map((value) => value.split(",").map((p) => p.trim()));
    if (!pairs.some((pair) => pair.length === 2 && pair.includes(input.RoleArn) && pair.includes(input.PrincipalArn))) {
      throw new AwsServiceError("AccessDenied", `Not authorized to perform sts:AssumeRoleWithSAML: the assertion's Role attribute does not grant ${input.RoleArn} through ${input.PrincipalArn}`, 403);
    }
    const sessionName = attribute(SESSION_NAME_ATTRIBUTE)[0] ?? "";
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw invalid("The assertion needs a RoleSessionName attribute of 2-64 characters [\\w+=,.@-]");

    const issuer = text("saml:Issuer");
    const subject = text("saml:Subject/saml:NameID");
    const nameQualifier = createHash("sha1").update(`${issuer}${this.options.accountId}/${provider.name}`).digest("base64");
    const decision = this.options.evaluate(
      {
        action: "sts:AssumeRoleWithSAML",
        resource: role.arn,
        principal: { type: "Federated", id: provider.arn },
        context: { "SAML:aud": recipient, "SAML:iss": issuer, "SAML:sub": subject, "SAML:namequalifier": nameQualifier },
      },
      { resourcePolicies: [role.trustPolicy] },
    );
    if (decision.decision !== "Allow") {
      throw new AwsServiceError("AccessDenied", `Not authorized to perform sts:AssumeRoleWithSAML on ${role.arn}: ${decision.reason}`, 403);
    }

    const roleId = roleIdOf(role.arn);
    const credentials = this.options.credentials.issue({
      roleArn: role.arn,
      assumedRoleArn: `arn:aws:sts::${this.options.accountId}:assumed-role/${role.name}/${sessionName}`,
      durationSeconds: duration,
    });
    const format = ((select("saml:Subject/saml:NameID/@Format", assertion) as Attr[])[0]?.value ?? "").replace(
      /^urn:oasis:names:tc:SAML:2\.0:nameid-format:/,
      "",
    );
    return { credentials, assumedRoleId: `${roleId}:${sessionName}`, audience: recipient, issuer, subject, subjectType: format, nameQualifier };
  }

  /**
   * AssumeRole: a new session of the role. Whether the caller may assume it (the role's trust
   * policy and the caller's own policies) is decided before, on the edge's one authorization path.
   */
  assumeRole(input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number }): { credentials: IssuedCredentials; assumedRoleId: string } {
    const role = this.options.roles.role(input.RoleArn);
    if (!/^[\w+=,.@-]{2,64}$/.test(input.RoleSessionName)) {
      throw new AwsServiceError("ValidationError", `1 validation error detected: Value '${input.RoleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length 2-64`);
    }
    const duration = input.DurationSeconds ?? 3600;
    if (!Number.isInteger(duration) || duration < 900 || duration > role.maxSessionDurationSeconds) {
      throw new AwsServiceError("ValidationError", `The requested DurationSeconds ${duration} must be between 900 and the role's MaxSessionDuration ${role.maxSessionDurationSeconds}`);
    }
    const credentials = this.options.credentials.issue({
      roleArn: role.arn,
      assumedRoleArn: `arn:aws:sts::${this.options.accountId}:assumed-role/${role.name}/${input.RoleSessionName}`,
      durationSeconds: duration,
    });
    return { credentials, assumedRoleId: `${roleIdOf(role.arn)}:${input.RoleSessionName}` };
  }

  /** The one assertion, after its signature (or the response's) verified with the provider's certificates. */
  private verifiedAssertion(samlAssertion: string, provider: SamlProvider): Element {
    const compact = samlAssertion.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) throw invalid("SAMLAssertion is not base64");
    const xml = Buffer.from(compact, "base64").toString("utf8");
    if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw invalid("SAMLAssertion carries a DTD");
    const doc = parseXml(xml, "SAMLAssertion");
    const assertions = select("//saml:Assertion", doc) as Element[];
    const response = doc.documentElement;
    if (assertions.length !== 1 || assertions[0].parentNode !== response || response?.localName !== "Response") {
      throw invalid("The SAML response must hold exactly one Assertion, directly under the Response");
    }
    const assertion = assertions[0];
    if ((select("saml:Issuer", assertion) as Node[])[0]?.textContent?.trim() !== provider.entityId) {
      throw invalid(`Issuer of the assertion is not ${provider.entityId}, the entity of ${provider.arn}`);
    }
    const signatures = [
      ...(select("ds:Signature", response) as Element[]).map((signature) => ({ signature, covers: response })),
      ...(select("ds:Signature", assertion) as Element[]).map((signature) => ({ signature, covers: assertion })),
    ];
    const verified = signatures.some(({ signature, covers }) =>
      provider.signingCertificates.some((certificate) => {
        const verifier = new SignedXml({ publicCert: toPem(certificate), getCertFromKeyInfo: () => null });
        verifier.loadSignature(signature);
        try {
          if (!verifier.checkSignature(xml)) return false;
        } catch {
          return false;
        }
        const references = (select("ds:SignedInfo/ds:Reference/@URI", signature) as Attr[]).map((a) => a.value);
        return references.length === 1 && references[0] === `#${covers.getAttribute("ID")}`;
      }),
    );
    if (!verified) throw invalid(`The SAML response is not signed by a certificate of ${provider.arn}`);
    return assertion;
  }
}

/** A role's unique id (AROA...), stable for its ARN. */
export function roleIdOf(roleArn: string): string {
  return `AROA${createHash("sha256").update(roleArn).digest("hex").slice(0, 17).toUpperCase()}`;
}

function parseXml(xml: string, what: string): Document {
  const problems: string[] = [];
  const doc = new DOMParser({
    errorHandler: { warning: () => undefined, error: (m) => problems.push(m), fatalError: (m) => problems.push(m) },
  }).parseFromString(xml, "text/xml");
  if (problems.length > 0 || !doc.documentElement) throw invalid(`${what} is not well-formed XML: ${problems[0] ?? "empty"}`);
  return doc;
}

function toPem(base64Der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${base64Der.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;
}

export const newRequestId = () => {
  const hex = randomBytes(16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
