// The local IdP's identity: its entity ID and signing certificate, and the ADFS-style
// federation metadata built from them. config/saml/local-idp-metadata.xml is this document
// (a test keeps them equal): it is what the dev environment's aws_iam_saml_provider trusts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { escapeXml, type SigningKey } from "./saml-response";

/** `.invalid` is reserved (RFC 2606): this IdP can never be a real host. */
export const LOCAL_IDP_ENTITY_ID = "http://idp.platform.invalid/adfs/services/trust";
export const LOCAL_IDP_SSO_URL = "https://idp.platform.invalid/adfs/ls/";

const read = (name: string) => readFileSync(fileURLToPath(new URL(name, import.meta.url)), "utf8");

/** The local IdP's signing key. It is published in this repository: for the local cloud only. */
export function localIdpKey(): SigningKey {
  return { privateKey: read("./signing-key.pem"), certificate: read("./signing-cert.pem") };
}

/** A second key that no metadata trusts: what an attacker signs with. */
export function attackerKey(): SigningKey {
  return { privateKey: read("./attacker-key.pem"), certificate: read("./attacker-cert.pem") };
}

/** Base64 DER body of a PEM certificate, as metadata and KeyInfo carry it. */
export function certificateBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

export function idpMetadataXml(idp: { entityId: string; ssoUrl: string; certificatePem: string }): string {
  const keyInfo =
    `<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data>` +
    `<X509Certificate>${certificateBody(idp.certificatePem)}</X509Certificate></X509Data></KeyInfo>`;
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n` +
    `<EntityDescriptor entityID="${escapeXml(idp.entityId)}" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` +
    `<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
    `<KeyDescriptor use="signing">${keyInfo}</KeyDescriptor>` +
    `<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat>` +
    `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(idp.ssoUrl)}"/>` +
    `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(idp.ssoUrl)}"/>` +
    `</IDPSSODescriptor></EntityDescriptor>\n`
  );
}

export function localIdpMetadataXml(): string {
  return idpMetadataXml({ entityId: LOCAL_IDP_ENTITY_ID, ssoUrl: LOCAL_IDP_SSO_URL, certificatePem: localIdpKey().certificate });
}
