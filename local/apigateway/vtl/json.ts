// JSON text to template values (./values): objects as JavaMaps, arrays as JsonArrays, whole
// numbers as bigints (no digit of a long id is lost, as JSON.parse would lose it), other numbers
// as doubles. Strict JSON (RFC 8259), or relaxed as API Gateway reads a MOCK integration's
// request (unquoted names, single-quoted strings); what is not read is reported with its position.
import { JavaMap, JsonArray } from "./values";

export class JsonSyntaxError extends Error {}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const STRING_END = { '"': /["\\\u0000-\u001f]/g, "'": /['\\\u0000-\u001f]/g };
const NAME = /[A-Za-z_$][\w$]*/y;
const ESCAPES: Record<string, string> = { '"': '"', "'": "'", "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export function parseJson(text: string, options: { relaxed?: boolean } = {}): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${i}`);
  };
  const skip = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const expect = (word: string, value: unknown) => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail(`unexpected ${JSON.stringify(text[i])}`);
  };
  const isQuote = (c: string) => c === '"' || (options.relaxed === true && c === "'");
  const string = (): string => {
    const quote = text[i] as '"' | "'";
    const stringEnd = STRING_END[quote];
    let out = "";
    i++; // the opening quote
    for (;;) {
      stringEnd.lastIndex = i;
      const end = stringEnd.exec(text);
      if (!end) return fail("unterminated string");
      out += text.slice(i, end.index);
      i = end.index;
      if (text[i] === quote) {
        i++;
        return out;
      }
      if (text[i] !== "\\") return fail("control character in string");
      const escape = text[i + 1];
      if (Object.hasOwn(ESCAPES, escape) && (escape !== "'" || options.relaxed)) {
        out += ESCAPES[escape];
        i += 2;
      } else if (escape === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        return fail("invalid escape in string");
      }
    }
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const found = options.relaxed ? NAME.exec(text) : null;
    if (!found) return fail("expected a property name");
    i += found[0].length;
    return found[0];
  };
  /** The members of an object or array up to `close`, comma-separated, each read by `member`. */
  const members = (close: "}" | "]", member: () => void) => {
    i++; // the opening bracket
    skip();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      skip();
      if (text[i] === ",") i++;
      else if (text[i] === close) {
        i++;
        return;
      } else fail(`expected ',' or '${close}'`);
    }
  };
  const value = (): unknown => {
    skip();
    const c = text[i];
    if (c === "{") {
      const map = new JavaMap();
      members("}", () => {
        skip();
        const key = isQuote(text[i]) ? string() : name();
        skip();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        map.set(key, value());
      });
      return map;
    }
    if (c === "[") {
      const array = new JsonArray();
      members("]", () => array.push(value()));
      return array;
    }
    if (isQuote(c)) return string();
    if (c === "t") return expect("true", true);
    if (c === "f") return expect("false", false);
    if (c === "n") return expect("null", null);
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(text);
    if (!number) return fail(i >= text.length ? "unexpected end of the text" : `unexpected ${JSON.stringify(c)}`);
    i += number[0].length;
    return number[1] === undefined && number[2] === undefined ? BigInt(number[0]) : Number(number[0]);
  };
  const result = value();
  skip();
  if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])} after the JSON value`);
  return result;
}
