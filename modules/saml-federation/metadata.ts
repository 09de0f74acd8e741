// What the platform pins from an IdP's SAML metadata: its entity ID and signing certificates.
// Read at synth time, so that a metadata file that names no signing key stops synth.
import { DOMParser } from "@xmldom/xmldom";
import * as xpath from "xpath";

export interface IdpTrust {
  entityId: string;
  /** Base64 DER certificates of the IDPSSODescriptor's signing keys. */
  signingCertificates: string[];
  /** The SingleSignOnService location (ADFS: https://<host>/adfs/ls/). */
  ssoUrl: string;
}

const select = xpath.useNamespaces({ md: "urn:oasis:names:tc:SAML:2.0:metadata", ds: "http://www.w3.org/2000/09/xmldsig#" });

/** Throws an Error naming `source` and what is missing. */
export function readIdpMetadata(xml: string, source: string): IdpTrust {
  const problems: string[] = [];
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: (m) => problems.push(m), fatalError: (m) => problems.push(m) } })
    .parseFromString(xml, "text/xml");
  if (problems.length > 0 || !doc.documentElement) throw new Error(`${source}: not well-formed XML (${problems[0] ?? "empty"})`);
  const entityId = (select("/md:EntityDescriptor/@entityID", doc) as Attr[])[0]?.value;
  const signingCertificates = (
    select("/md:EntityDescriptor/md:IDPSSODescriptor/md:KeyDescriptor[not(@use) or @use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate", doc) as Node[]
  ).map((node) => (node.textContent ?? "").replace(/\s+/g, ""));
  const ssoUrl = (select("/md:EntityDescriptor/md:IDPSSODescriptor/md:SingleSignOnService/@Location", doc) as Attr[])[0]?.value;
  if (!ssoUrl) throw new Error(`${source}: the IDPSSODescriptor has no SingleSignOnService`);
  if (!entityId) throw new Error(`${source}: no EntityDescriptor with an entityID`);
  if (signingCertificates.length === 0) throw new Error(`${source}: the IDPSSODescriptor has no signing certificate`);
  return { entityId, signingCertificates, ssoUrl };
}
