// Tampered SAML responses for the attack tests: each function takes a genuine signed response
// (or the parameters of one) and returns what an attacker could post instead.
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import { SAML_ASSERTION_NS, SAML_PROTOCOL_NS, newSamlId, samlResponseXml, type SamlResponseParams } from "./saml-response";

const parse = (xml: string): Document => new DOMParser().parseFromString(xml, "text/xml");
const serialize = (doc: Document): string => new XMLSerializer().serializeToString(doc);

function child(parent: Element, ns: string, localName: string): Element {
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1 && (node as Element).namespaceURI === ns && (node as Element).localName === localName) return node as Element;
  }
  throw new Error(`no ${localName} under ${parent.localName}`);
}

const assertionOf = (doc: Document) => child(doc.documentElement!, SAML_ASSERTION_NS, "Assertion");

/** An unsigned assertion with the attacker's choice of subject and roles. */
function evilAssertion(doc: Document, params: SamlResponseParams, id = newSamlId()): Element {
  const evil = parse(samlResponseXml({ ...params, assertionId: id }));
  return doc.importNode(assertionOf(evil), true) as Element;
}

export interface XswVariant {
  name: string;
  xml: string;
}

/**
 * Signature wrapping (XSW) variants of a response whose assertion is signed: each keeps the
 * genuine signed assertion somewhere (so its signature still verifies) and adds an unsigned
 * assertion that a careless service provider would read instead. `evil` describes that one.
 */
export function signatureWrappingVariants(signedResponse: string, evil: SamlResponseParams): XswVariant[] {
  const variants: XswVariant[] = [];
  const make = (name: string, tamper: (doc: Document, signed: Element) => void) => {
    const doc = parse(signedResponse);
    tamper(doc, assertionOf(doc));
    variants.push({ name, xml: serialize(doc) });
  };

  make("unsigned assertion before the signed one", (doc, signed) => {
    doc.documentElement!.insertBefore(evilAssertion(doc, evil), signed);
  });
  make("unsigned assertion after the signed one", (doc) => {
    doc.documentElement!.appendChild(evilAssertion(doc, evil));
  });
  make("unsigned assertion with the signed one's ID, placed first", (doc, signed) => {
    doc.documentElement!.insertBefore(evilAssertion(doc, evil, signed.getAttribute("ID")!), signed);
  });
  make("signed assertion wrapped inside the unsigned one (Advice)", (doc, signed) => {
    const outer = evilAssertion(doc, evil);
    const advice = doc.createElementNS(SAML_ASSERTION_NS, "Advice");
    const conditions = child(outer, SAML_ASSERTION_NS, "Conditions");
    outer.insertBefore(advice, conditions.nextSibling);
    doc.documentElement!.replaceChild(outer, signed);
    advice.appendChild(signed);
  });
  make("signed assertion wrapped inside the unsigned one (SubjectConfirmationData)", (doc, signed) => {
    const outer = evilAssertion(doc, evil);
    const data = child(child(child(outer, SAML_ASSERTION_NS, "Subject"), SAML_ASSERTION_NS, "SubjectConfirmation"), SAML_ASSERTION_NS, "SubjectConfirmationData");
    doc.documentElement!.replaceChild(outer, signed);
    data.appendChild(signed);
  });
  make("signed assertion moved into samlp:Extensions, unsigned one in its place", (doc, signed) => {
    const extensions = doc.createElementNS(SAML_PROTOCOL_NS, "samlp:Extensions");
    const status = child(doc.documentElement!, SAML_PROTOCOL_NS, "Status");
    doc.documentElement!.insertBefore(extensions, status);
    doc.documentElement!.replaceChild(evilAssertion(doc, evil), signed);
    extensions.appendChild(signed);
  });
  return variants;
}

/**
 * XSW against a response-level signature: the genuine signed Response is tucked into the
 * Extensions of a new, unsigned Response that carries the attacker's assertion.
 */
export function responseWrappingVariant(signedResponse: string, evil: SamlResponseParams): XswVariant {
  const outer = parse(samlResponseXml(evil));
  const original = parse(signedResponse);
  const extensions = outer.createElementNS(SAML_PROTOCOL_NS, "samlp:Extensions");
  outer.documentElement!.insertBefore(extensions, child(outer.documentElement!, SAML_PROTOCOL_NS, "Status"));
  extensions.appendChild(outer.importNode(original.documentElement!, true));
  return { name: "signed Response wrapped in the Extensions of an unsigned Response", xml: serialize(outer) };
}

/** XML with a DTD: the three classic shapes. Each keeps the genuine signed document after it. */
export function dtdVariants(signedResponse: string): XswVariant[] {
  const body = signedResponse.replace(/^<\?xml[^>]*\?>\s*/, "");
  const root = /^<([A-Za-z_][\w.-]*:)?Response/.exec(body)?.[0].slice(1) ?? "samlp:Response";
  return [
    { name: "a DOCTYPE with an internal subset", xml: `<!DOCTYPE ${root} [<!ELEMENT x ANY>]>${body}` },
    {
      name: "an external entity (XXE)",
      xml: `<!DOCTYPE ${root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${body.replace(/<NameID([^>]*)>[^<]*</, "<NameID$1>&xxe;<")}`,
    },
    {
      name: "entity expansion (billion laughs)",
      xml:
        `<!DOCTYPE ${root} [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">` +
        `<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>` +
        body.replace(/<NameID([^>]*)>[^<]*</, "<NameID$1>&d;<"),
    },
  ];
}
