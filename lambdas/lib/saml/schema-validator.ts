// Validation of a SAML Response document before anything reads it: the OASIS SAML 2.0 XML
// Schemas with libxml2 (compiled once per container, so one validation costs well under a
// millisecond), then the envelope rules that close signature wrapping: one Response, exactly one
// Assertion in the whole document and directly under the Response, unique IDs, and every
// Signature a child of the Response or the Assertion referencing exactly its parent.
// samlify calls `validate` as its schema validator; the platform relies on these rules because
// samlify alone accepts a response with an extra unsigned assertion beside the signed one.
import {
  ParseOption,
  XmlBufferInputProvider,
  XmlDocument,
  XmlElement,
  XsdValidator,
  xmlRegisterInputProvider,
} from "libxml2-wasm";
import { SamlRefusal } from "./refusal";
import { ROOT_SCHEMA, SAML_SCHEMAS } from "./xsd";

const NS = {
  samlp: "urn:oasis:names:tc:SAML:2.0:protocol",
  saml: "urn:oasis:names:tc:SAML:2.0:assertion",
  ds: "http://www.w3.org/2000/09/xmldsig#",
};

/**
 * Untrusted input: no network, no external entities, no entity substitution, no DTD loading.
 * (Documents carrying a DTD are refused before parsing; this is the second line.)
 */
const UNTRUSTED_PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

let schema: XsdValidator | undefined;

/** Compiles the schemas; the first validation does it if nobody did before. */
export function loadSamlSchemas(): void {
  if (schema) return;
  const encoder = new TextEncoder();
  xmlRegisterInputProvider(
    new XmlBufferInputProvider(Object.fromEntries(Object.entries(SAML_SCHEMAS).map(([name, text]) => [name, encoder.encode(text)]))),
  );
  const root = XmlDocument.fromString(SAML_SCHEMAS[ROOT_SCHEMA], { url: ROOT_SCHEMA, option: ParseOption.XML_PARSE_NONET });
  try {
    schema = XsdValidator.fromDoc(root);
  } finally {
    root.dispose();
  }
}

/** Schema + envelope validation of a decoded SAML Response; throws SamlRefusal. */
export function validateSamlDocument(xml: string): void {
  loadSamlSchemas();
  let doc: XmlDocument;
  try {
    doc = XmlDocument.fromString(xml, { option: UNTRUSTED_PARSE_OPTIONS });
  } catch (error) {
    throw new SamlRefusal("xml_malformed", `The SAMLResponse is not well-formed XML: ${firstLine(error)}`);
  }
  try {
    if (doc.dtd) throw new SamlRefusal("dtd_not_allowed", "The SAMLResponse carries a DTD");
    try {
      schema!.validate(doc);
    } catch (error) {
      throw new SamlRefusal("schema_invalid", `The SAMLResponse does not match the SAML 2.0 schema: ${firstLine(error)}`);
    }
    checkEnvelope(doc);
  } finally {
    doc.dispose();
  }
}

function checkEnvelope(doc: XmlDocument): void {
  const root = doc.root;
  if (root.namespaceUri !== NS.samlp || root.name !== "Response") {
    throw new SamlRefusal("not_a_response", `Expected a samlp:Response, got {${root.namespaceUri}}${root.name}`);
  }
  const count = (xpath: string) => doc.find(xpath, NS).length;
  if (count("//samlp:Response") !== 1) throw new SamlRefusal("signature_wrapping", "The document holds more than one Response");
  if (count("//saml:EncryptedAssertion") > 0) {
    throw new SamlRefusal("encrypted_assertion_unsupported", "Encrypted assertions are not accepted: configure the IdP to sign, not encrypt");
  }
  const assertions = count("//saml:Assertion");
  if (assertions !== 1) {
    throw new SamlRefusal(assertions === 0 ? "schema_invalid" : "multiple_assertions", `The response must hold exactly one Assertion; it holds ${assertions}`);
  }
  if (count("/samlp:Response/saml:Assertion") !== 1) {
    throw new SamlRefusal("signature_wrapping", "The Assertion is not a direct child of the Response");
  }

  // Comments split text nodes in ways canonicalization hides (NameID "bob<!---->.evil"); ADFS sends none.
  if (count("//comment()") + count("//processing-instruction()") > 0) {
    throw new SamlRefusal("schema_invalid", "Comments and processing instructions are not accepted in a SAML response");
  }

  const ids = doc.find("//@ID").map((attribute) => attribute.content);
  if (new Set(ids).size !== ids.length) throw new SamlRefusal("signature_wrapping", "Two elements carry the same ID");

  const signatures = doc.find("//ds:Signature", NS) as XmlElement[];
  if (signatures.length === 0) throw new SamlRefusal("unsigned", "Neither the Response nor the Assertion is signed");
  for (const signature of signatures) {
    const parent = signature.parent;
    const placed = parent && parent.namespaceUri !== NS.ds && (parent.name === "Response" || parent.name === "Assertion") &&
      (parent.parent === null || (parent.parent.name === "Response" && parent.parent.parent === null));
    if (!placed) throw new SamlRefusal("signature_wrapping", "A Signature sits outside the Response and the Assertion");
    const references = signature.find("ds:SignedInfo/ds:Reference", NS) as XmlElement[];
    const uri = references.length === 1 ? references[0].attr("URI")?.value : undefined;
    if (uri !== `#${parent.attr("ID")?.value}`) {
      throw new SamlRefusal("signature_wrapping", "A Signature does not reference exactly the element it sits in");
    }
  }
}

function firstLine(error: unknown): string {
  return String((error as Error).message ?? error).split("\n")[0].slice(0, 200);
}
