// `$util` of API Gateway mapping templates.
import { MappingTemplateError } from "./errors";

/**
 * Java's StringEscapeUtils.escapeJavaScript (commons-lang 2), which API Gateway uses: quotes,
 * backslash and slash escaped, control characters as \b \t \n \f \r or \u00XX, and every
 * character above 0x7f as \uXXXX.
 */
export function escapeJavaScript(value: unknown): string {
  if (value === null || value === undefined) return "";
  const named: Record<string, string> = { "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", "'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/" };
  let out = "";
  for (const ch of String(value)) {
    for (let i = 0; i < ch.length; i++) {
      const c = ch[i];
      const code = c.charCodeAt(0);
      if (named[c]) out += named[c];
      else if (code < 0x20 || code > 0x7f) out += `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
      else out += c;
    }
  }
  return out;
}

/** Java's URLEncoder (application/x-www-form-urlencoded, UTF-8): space as '+', `*` `-` `.` `_` kept. */
export function urlEncode(value: unknown): string {
  return encodeURIComponent(String(value ?? ""))
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

export function urlDecode(value: unknown): string {
  try {
    return decodeURIComponent(String(value ?? "").replace(/\+/g, " "));
  } catch {
    throw new MappingTemplateError(`$util.urlDecode: ${JSON.stringify(value)} is not URL-encoded text`);
  }
}

export function createUtil() {
  return {
    escapeJavaScript,
    parseJson: (text: unknown) => {
      try {
        return JSON.parse(String(text));
      } catch (error) {
        throw new MappingTemplateError(`$util.parseJson: not JSON (${(error as Error).message}): ${String(text).slice(0, 100)}`);
      }
    },
    base64Encode: (value: unknown) => Buffer.from(String(value ?? ""), "utf8").toString("base64"),
    base64Decode: (value: unknown) => Buffer.from(String(value ?? ""), "base64").toString("utf8"),
    urlEncode,
    urlDecode,
  };
}
