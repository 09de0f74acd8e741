// SAML 2.0 Responses as ADFS sends them to AWS: an unencrypted assertion signed with RSA-SHA256
// (exclusive c14n, enveloped signature right after the Issuer), a bearer subject confirmation
// for the relying party's endpoint, the AWS audience, and the Role / RoleSessionName /
// SessionDuration attributes. The local IdP uses it for every login; attack tests use it to make
// responses that are then tampered with (see attacks.ts).
import { randomUUID } from "node:crypto";
import { SignedXml } from "xml-crypto";

export const SAML_PROTOCOL_NS = "urn:oasis:names:tc:SAML:2.0:protocol";
export const SAML_ASSERTION_NS = "urn:oasis:names:tc:SAML:2.0:assertion";
export const AWS_ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role";
export const AWS_ROLE_SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
export const AWS_SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration";

const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";
const EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

export interface SamlResponseParams {
  /** The IdP's entity ID (both Issuers). */
  issuer: string;
  /** Response/@Destination: where the browser posts the response. */
  destination: string;
  /** SubjectConfirmationData/@Recipient; default: `destination`. */
  recipient?: string;
  /** AudienceRestriction/Audience. */
  audience: string;
  nameId: string;
  nameIdFormat?: string;
  attributes: Record<string, string[]>;
  /** Issue time; default now. */
  issueInstant?: Date;
  /** Conditions/@NotBefore; default issueInstant. */
  notBefore?: Date;
  /** Conditions/@NotOnOrAfter; default issueInstant + 1 h (ADFS's default token lifetime). */
  notOnOrAfter?: Date;
  /** SubjectConfirmationData/@NotOnOrAfter; default issueInstant + 5 min. */
  subjectNotOnOrAfter?: Date;
  responseId?: string;
  assertionId?: string;
  statusCode?: string;
}

export interface SigningKey {
  /** PEM private key. */
  privateKey: string;
  /** PEM certificate, put into KeyInfo as ADFS does. */
  certificate: string;
}

export type SignWhat = "assertion" | "response" | "both" | "none";

export function newSamlId(): string {
  return `_${randomUUID()}`;
}

export function escapeXml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

/** The unsigned response document. */
export function samlResponseXml(params: SamlResponseParams): string {
  const issued = params.issueInstant ?? new Date();
  const notBefore = params.notBefore ?? issued;
  const notOnOrAfter = params.notOnOrAfter ?? new Date(issued.getTime() + 3600_000);
  const subjectNotOnOrAfter = params.subjectNotOnOrAfter ?? new Date(issued.getTime() + 300_000);
  const responseId = params.responseId ?? newSamlId();
  const assertionId = params.assertionId ?? newSamlId();
  const attributes = Object.entries(params.attributes)
    .map(
      ([name, values]) =>
        `<Attribute Name="${escapeXml(name)}">${values.map((v) => `<AttributeValue>${escapeXml(v)}</AttributeValue>`).join("")}</Attribute>`,
    )
    .join("");
  return (
    `<samlp:Response ID="${responseId}" Version="2.0" IssueInstant="${iso(issued)}" Destination="${escapeXml(params.destination)}" ` +
    `Consent="urn:oasis:names:tc:SAML:2.0:consent:unspecified" xmlns:samlp="${SAML_PROTOCOL_NS}">` +
    `<Issuer xmlns="${SAML_ASSERTION_NS}">${escapeXml(params.issuer)}</Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${params.statusCode ?? "urn:oasis:names:tc:SAML:2.0:status:Success"}"/></samlp:Status>` +
    `<Assertion ID="${assertionId}" IssueInstant="${iso(issued)}" Version="2.0" xmlns="${SAML_ASSERTION_NS}">` +
    `<Issuer>${escapeXml(params.issuer)}</Issuer>` +
    `<Subject><NameID Format="${params.nameIdFormat ?? "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"}">${escapeXml(params.nameId)}</NameID>` +
    `<SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` +
    `<SubjectConfirmationData NotOnOrAfter="${iso(subjectNotOnOrAfter)}" Recipient="${escapeXml(params.recipient ?? params.destination)}"/>` +
    `</SubjectConfirmation></Subject>` +
    `<Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(notOnOrAfter)}">` +
    `<AudienceRestriction><Audience>${escapeXml(params.audience)}</Audience></AudienceRestriction></Conditions>` +
    (attributes ? `<AttributeStatement>${attributes}</AttributeStatement>` : "") +
    `<AuthnStatement AuthnInstant="${iso(issued)}" SessionIndex="${assertionId}"><AuthnContext>` +
    `<AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</AuthnContextClassRef>` +
    `</AuthnContext></AuthnStatement>` +
    `</Assertion></samlp:Response>`
  );
}

/**
 * Signs the (first) element with that local name: an enveloped RSA-SHA256 signature placed right
 * after its Issuer, where the SAML schema wants it, with the certificate in KeyInfo.
 */
export function signElement(xml: string, localName: "Assertion" | "Response", key: SigningKey): string {
  const element = `//*[local-name(.)='${localName}']`;
  const signer = new SignedXml({
    privateKey: key.privateKey,
    publicCert: key.certificate,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  signer.addReference({ xpath: element, digestAlgorithm: SHA256, transforms: [ENVELOPED, EXC_C14N] });
  signer.computeSignature(xml, {
    prefix: "ds",
    location: { reference: `${element}/*[local-name(.)='Issuer']`, action: "after" },
  });
  return signer.getSignedXml();
}

/** Builds a response and signs what `sign` says (ADFS's default: the assertion). */
export function buildSamlResponse(params: SamlResponseParams, key: SigningKey, sign: SignWhat = "assertion"): string {
  let xml = samlResponseXml(params);
  if (sign === "assertion" || sign === "both") xml = signElement(xml, "Assertion", key);
  if (sign === "response" || sign === "both") xml = signElement(xml, "Response", key);
  return xml;
}
