// Everything between a POSTed SAMLResponse and facts the platform may act on. Order matters:
// cheap refusals first (size, base64, DTD), then schema + envelope (schema-validator.ts), then
// samlify verifies the signature with the IdP certificate pinned in configuration (a KeyInfo
// certificate is only accepted when it is that same certificate), the status, the issuer and
// the validity window; then the checks samlify leaves to the service provider: audience,
// destination, recipient, the bearer confirmation's expiry.
import * as samlify from "samlify";
import { ParseOption, XmlDocument, XmlElement } from "libxml2-wasm";
import { SamlRefusal } from "./refusal";
import { validateSamlDocument } from "./schema-validator";

export const MAX_CLOCK_SKEW_MS = 60_000;
/** Decoded XML larger than this is refused before parsing: ADFS responses are a few KB. */
export const MAX_SAML_RESPONSE_BYTES = 64 * 1024;

const NS = {
  samlp: "urn:oasis:names:tc:SAML:2.0:protocol",
  saml: "urn:oasis:names:tc:SAML:2.0:assertion",
};
const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success";

samlify.setSchemaValidator({
  validate: async (xml: string) => {
    validateSamlDocument(xml);
    return "valid";
  },
});

export interface SamlTrust {
  /** The IdP's entity ID: Issuer of the Response and the Assertion. */
  idpEntityId: string;
  /** The IdP's signing certificates (base64 DER or PEM), pinned from its metadata. */
  idpSigningCertificates: string[];
  /** The assertion must name one of these audiences (AWS federation: urn:amazon:webservices, https://signin.aws.amazon.com/saml). */
  audiences: string[];
  /** Where responses may be addressed: Response Destination and bearer Recipient. */
  acsUrls: string[];
}

export interface VerifiedAssertion {
  assertionId: string;
  issuer: string;
  nameId: string;
  attributes: Record<string, string[]>;
  /** The bearer confirmation's Recipient: what STS reports as SAML:aud. */
  recipient: string;
  /** The last moment (ms) at which this assertion could still be accepted, skew included. */
  acceptableUntil: number;
}

export class SamlResponseValidator {
  private readonly idp: ReturnType<typeof samlify.IdentityProvider>;
  private readonly sp: ReturnType<typeof samlify.ServiceProvider>;

  constructor(private readonly trust: SamlTrust) {
    this.idp = samlify.IdentityProvider({
      entityID: trust.idpEntityId,
      signingCert: trust.idpSigningCertificates,
      isAssertionEncrypted: false,
      singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.post, Location: trust.idpEntityId }],
    });
    this.sp = samlify.ServiceProvider({
      entityID: trust.audiences[0],
      assertionConsumerService: trust.acsUrls.map((Location) => ({ Binding: samlify.Constants.namespace.binding.post, Location })),
      clockDrifts: [-MAX_CLOCK_SKEW_MS, MAX_CLOCK_SKEW_MS],
    });
  }

  /** `samlResponse` is the form field as posted (base64). Throws SamlRefusal. */
  async validate(samlResponse: string, now = Date.now()): Promise<VerifiedAssertion> {
    const xml = decodeSamlResponse(samlResponse);
    try {
      await this.sp.parseLoginResponse(this.idp, "post", { body: { SAMLResponse: samlResponse } });
    } catch (error) {
      throw this.refusalFrom(error, xml, now);
    }
    return this.check(readFacts(xml), now);
  }

  private check(facts: Facts, now: number): VerifiedAssertion {
    if (facts.status !== SUCCESS) throw new SamlRefusal("status_not_success", `The IdP answered ${facts.status}`);
    if (facts.responseIssuer !== undefined && facts.responseIssuer !== this.trust.idpEntityId) {
      throw new SamlRefusal("issuer_mismatch", `Response issued by ${facts.responseIssuer}, not ${this.trust.idpEntityId}`);
    }
    if (facts.assertionIssuer !== this.trust.idpEntityId) {
      throw new SamlRefusal("issuer_mismatch", `Assertion issued by ${facts.assertionIssuer}, not ${this.trust.idpEntityId}`);
    }
    checkWindow(facts, now);
    if (!facts.audiences.some((audience) => this.trust.audiences.includes(audience))) {
      throw new SamlRefusal("audience_mismatch", `The assertion is for ${JSON.stringify(facts.audiences)}, not for any of ${JSON.stringify(this.trust.audiences)}`);
    }
    if (!facts.destination || !this.trust.acsUrls.includes(facts.destination)) {
      throw new SamlRefusal("destination_mismatch", `The response is addressed to ${facts.destination ?? "nobody"}, not to this service`);
    }
    const bearer = facts.confirmations.find((c) => c.method === BEARER && c.recipient && this.trust.acsUrls.includes(c.recipient));
    if (!bearer) throw new SamlRefusal("recipient_mismatch", "No bearer confirmation names this service as Recipient");
    if (bearer.notOnOrAfter === undefined) {
      throw new SamlRefusal("schema_invalid", "The bearer confirmation has no NotOnOrAfter (required by the Web Browser SSO profile)");
    }
    if (now >= bearer.notOnOrAfter + MAX_CLOCK_SKEW_MS) throw new SamlRefusal("assertion_expired", "The bearer confirmation has expired");
    const until = Math.min(bearer.notOnOrAfter, facts.notOnOrAfter ?? Infinity) + MAX_CLOCK_SKEW_MS;
    return {
      assertionId: facts.assertionId,
      issuer: facts.assertionIssuer,
      nameId: facts.nameId,
      attributes: facts.attributes,
      recipient: bearer.recipient!,
      acceptableUntil: until,
    };
  }

  /** samlify speaks in error strings; the platform names the reason. */
  private refusalFrom(error: unknown, xml: string, now: number): SamlRefusal {
    if (error instanceof SamlRefusal) return error;
    const message = String((error as Error)?.message ?? error);
    if (/ERR_SUBJECT_UNCONFIRMED|ERR_EXPIRED_SESSION/.test(message)) {
      // samlify verified the signature before it looked at the times: read which bound failed.
      try {
        checkWindow(readFacts(xml), now);
      } catch (refusal) {
        return refusal as SamlRefusal;
      }
      return new SamlRefusal("assertion_expired", "The assertion is outside its validity window");
    }
    if (/FAILED_TO_VERIFY_SIGNATURE|UNMATCH_CERTIFICATE|NO_SELECTED_CERTIFICATE|invalid signature/i.test(message)) {
      return new SamlRefusal("signature_invalid", "The signature does not verify with the IdP's pinned certificate");
    }
    if (/WRAPPING/.test(message)) return new SamlRefusal("signature_wrapping", "samlify found a wrapped signature");
    if (/ERR_UNMATCH_ISSUER/.test(message)) return new SamlRefusal("issuer_mismatch", "The response is not from the trusted IdP");
    if (/ERR_FAILED_STATUS|status/i.test(message)) return new SamlRefusal("status_not_success", "The IdP did not answer Success");
    return new SamlRefusal("signature_invalid", `samlify refused the response: ${message.slice(0, 200)}`);
  }
}

/** Strict base64 -> UTF-8 XML, refusing DTDs before any parser sees them. */
export function decodeSamlResponse(samlResponse: string): string {
  const compact = samlResponse.replace(/[\r\n]/g, "");
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new SamlRefusal("invalid_base64", "SAMLResponse is not valid base64");
  }
  if ((compact.length / 4) * 3 > MAX_SAML_RESPONSE_BYTES + 3) {
    throw new SamlRefusal("request_too_large", `SAMLResponse is larger than ${MAX_SAML_RESPONSE_BYTES} bytes`);
  }
  let xml: string;
  try {
    xml = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(compact, "base64"));
  } catch {
    throw new SamlRefusal("xml_malformed", "SAMLResponse does not decode to UTF-8 text");
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new SamlRefusal("dtd_not_allowed", "The SAMLResponse carries a DTD or entity declarations");
  return xml;
}

interface Facts {
  status?: string;
  responseIssuer?: string;
  destination?: string;
  assertionId: string;
  assertionIssuer: string;
  issueInstant: number;
  nameId: string;
  notBefore?: number;
  notOnOrAfter?: number;
  audiences: string[];
  confirmations: { method?: string; recipient?: string; notOnOrAfter?: number }[];
  attributes: Record<string, string[]>;
}

function checkWindow(facts: Facts, now: number): void {
  if (facts.notBefore !== undefined && now < facts.notBefore - MAX_CLOCK_SKEW_MS) {
    throw new SamlRefusal("assertion_not_yet_valid", "The assertion is not valid yet (NotBefore)");
  }
  if (now < facts.issueInstant - MAX_CLOCK_SKEW_MS) throw new SamlRefusal("assertion_not_yet_valid", "The assertion was issued in the future");
  if (facts.notOnOrAfter !== undefined && now >= facts.notOnOrAfter + MAX_CLOCK_SKEW_MS) {
    throw new SamlRefusal("assertion_expired", "The assertion has expired (NotOnOrAfter)");
  }
}

/**
 * Reads the facts of a document that passed validateSamlDocument: one Response, one Assertion
 * directly under it, so every path below is unambiguous.
 */
function readFacts(xml: string): Facts {
  const doc = XmlDocument.fromString(xml, { option: ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE });
  try {
    const text = (xpath: string, from: XmlDocument | XmlElement = doc) => {
      const node = from.get(xpath, NS);
      return node ? node.content.trim() : undefined;
    };
    const time = (value: string | undefined) => (value === undefined ? undefined : Date.parse(value));
    const a = "/samlp:Response/saml:Assertion";
    const confirmations = (doc.find(`${a}/saml:Subject/saml:SubjectConfirmation`, NS) as XmlElement[]).map((c) => ({
      method: c.attr("Method")?.value,
      recipient: text("saml:SubjectConfirmationData/@Recipient", c),
      notOnOrAfter: time(text("saml:SubjectConfirmationData/@NotOnOrAfter", c)),
    }));
    const attributes: Record<string, string[]> = {};
    for (const attribute of doc.find(`${a}/saml:AttributeStatement/saml:Attribute`, NS) as XmlElement[]) {
      const name = attribute.attr("Name")!.value;
      attributes[name] = [...(attributes[name] ?? []), ...attribute.find("saml:AttributeValue", NS).map((v) => v.content.trim())];
    }
    return {
      status: text("/samlp:Response/samlp:Status/samlp:StatusCode/@Value"),
      responseIssuer: text("/samlp:Response/saml:Issuer"),
      destination: text("/samlp:Response/@Destination"),
      assertionId: text(`${a}/@ID`)!,
      assertionIssuer: text(`${a}/saml:Issuer`)!,
      issueInstant: time(text(`${a}/@IssueInstant`))!,
      nameId: text(`${a}/saml:Subject/saml:NameID`) ?? "",
      notBefore: time(text(`${a}/saml:Conditions/@NotBefore`)),
      notOnOrAfter: time(text(`${a}/saml:Conditions/@NotOnOrAfter`)),
      audiences: doc.find(`${a}/saml:Conditions/saml:AudienceRestriction/saml:Audience`, NS).map((n) => n.content.trim()),
      confirmations,
      attributes,
    };
  } finally {
    doc.dispose();
  }
}
