// `$util` of API Gateway mapping templates: the six functions the mapping template reference
// lists. A null argument gives null (rendered as nothing), as recorded on AWS for
// `$util.urlEncode($input.body.missing)` (LocalStack test_input_body_formatting).
import { MappingTemplateError } from "./errors";
import { JsonSyntaxError, parseJson } from "./json";
import { HostObject, NO_SUCH_METHOD, javaString } from "./values";

/**
 * Java's StringEscapeUtils.escapeJavaScript (commons-lang 2), which API Gateway uses: quotes,
 * backslash and slash escaped, control characters as \b \t \n \f \r or \u00XX, and every
 * character above 0x7f as \uXXXX.
 */
export function escapeJavaScript(text: string): string {
  const named: Record<string, string> = { "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", "'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/" };
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const code = text.charCodeAt(i);
    if (named[c]) out += named[c];
    else if (code < 0x20 || code > 0x7f) out += `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += c;
  }
  return out;
}

/** Java's URLEncoder (application/x-www-form-urlencoded, UTF-8): space as '+', `*` `-` `.` `_` kept. */
export function urlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

function urlDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    throw new MappingTemplateError(`$util.urlDecode: ${JSON.stringify(text)} is not URL-encoded text`);
  }
}

function parse(text: string): unknown {
  try {
    return parseJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw new MappingTemplateError(`$util.parseJson: not JSON (${error.message}): ${text.slice(0, 100)}`);
  }
}

const FUNCTIONS: Record<string, (text: string) => unknown> = {
  escapeJavaScript,
  parseJson: parse,
  urlEncode,
  urlDecode,
  base64Encode: (text) => Buffer.from(text, "utf8").toString("base64"),
  base64Decode: (text) => Buffer.from(text, "base64").toString("utf8"),
};

export class UtilVariable extends HostObject {
  property(): unknown {
    return undefined;
  }

  call(name: string, args: unknown[]): unknown {
    if (!Object.hasOwn(FUNCTIONS, name) || args.length !== 1) return NO_SUCH_METHOD;
    const [arg] = args;
    return arg === null || arg === undefined ? null : FUNCTIONS[name](javaString(arg));
  }
}
