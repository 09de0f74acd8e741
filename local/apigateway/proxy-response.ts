// The answer of a Lambda proxy integration, checked as API Gateway checks it ("Output format of
// a Lambda function for proxy integration"; "If the function output is of a different format,
// API Gateway returns a 502 Bad Gateway error response"). The details were recorded on AWS by
// LocalStack (tests/aws/services/apigateway/test_apigateway_lambda.py,
// test_aws_proxy_response_payload_format_validation and test_lambda_aws_proxy_response_format):
//  - every key is optional: `{}` answers 200 with an empty body; a key of any other name is refused;
//  - statusCode may be a number or a numeric string ("201" answers 201), anything else is refused;
//  - header values may be strings or booleans (true is sent as "true");
//  - a multiValueHeaders value must be a list; a name in both maps keeps the multi-value spelling
//    and sends the multi values first.
// Decided here where the recordings are silent: a status outside 100-599, a body that is not a
// string, a non-boolean isBase64Encoded, a header name that is not an HTTP token and a header
// value holding a control character are refused too (no HTTP response could carry them); a
// number as a header value is sent as its text, as a boolean is.
import type { ApiResponse } from "./pipeline";

export interface ProxyResponse {
  status: number;
  headers: ApiResponse["headers"];
  body: string;
  isBase64Encoded: boolean;
}

export type ProxyParse = { ok: true; response: ProxyResponse } | { ok: false; reason: string };

const KEYS = new Set(["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Headers API Gateway does not pass from the integration to the client: the listed ones come as
 * `x-amzn-Remapped-<name>`, Transfer-Encoding is dropped ("Amazon API Gateway important notes";
 * LocalStack's method_response.py lists them for AWS_PROXY).
 */
const REMAPPED = new Set(["connection", "content-length", "date", "server"]);
const DROPPED = new Set(["transfer-encoding"]);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const describe = (value: unknown) => (value === null ? "null" : Array.isArray(value) ? "a list" : typeof value === "object" ? "an object" : `the ${typeof value} ${JSON.stringify(value)}`);

function headerValue(name: string, value: unknown): string | { reason: string } {
  if (typeof value === "string" || typeof value === "boolean" || typeof value === "number") {
    const text = String(value);
    return CONTROL.test(text) ? { reason: `the value of header ${JSON.stringify(name)} holds a control character` } : text;
  }
  return { reason: `the value of header ${JSON.stringify(name)} is ${describe(value)}, not a string` };
}

function status(value: unknown): number | { reason: string } {
  if (value === undefined) return 200;
  const number = typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number)) return { reason: `statusCode is ${describe(value)}, not an integer` };
  if (number < 100 || number > 599) return { reason: `statusCode ${number} is not an HTTP status (100-599)` };
  return number;
}

export function parseProxyResponse(payload: string): ProxyParse {
  let result: unknown;
  try {
    result = JSON.parse(payload);
  } catch {
    return { ok: false, reason: "the function's answer is not JSON" };
  }
  if (!isObject(result)) return { ok: false, reason: `the function answered ${describe(result)}, not an object` };
  const unknown = Object.keys(result).filter((key) => !KEYS.has(key));
  if (unknown.length > 0) return { ok: false, reason: `unknown key ${unknown.map((k) => JSON.stringify(k)).join(", ")} (allowed: ${[...KEYS].join(", ")})` };

  const code = status(result.statusCode);
  if (typeof code !== "number") return { ok: false, reason: code.reason };
  const { body, isBase64Encoded } = result;
  if (body !== undefined && body !== null && typeof body !== "string") return { ok: false, reason: `body is ${describe(body)}, not a string` };
  if (isBase64Encoded !== undefined && isBase64Encoded !== null && typeof isBase64Encoded !== "boolean") {
    return { ok: false, reason: `isBase64Encoded is ${describe(isBase64Encoded)}, not a boolean` };
  }

  // name (lower case) -> the name as sent and its values
  const merged = new Map<string, { name: string; values: string[] }>();
  const single = result.headers ?? null;
  if (single !== null && !isObject(single)) return { ok: false, reason: `headers is ${describe(single)}, not an object` };
  for (const [name, raw] of Object.entries(single ?? {})) {
    if (!TOKEN.test(name)) return { ok: false, reason: `${JSON.stringify(name)} is not a valid header name` };
    const value = headerValue(name, raw);
    if (typeof value !== "string") return { ok: false, reason: value.reason };
    merged.set(name.toLowerCase(), { name, values: [value] });
  }
  const multi = result.multiValueHeaders ?? null;
  if (multi !== null && !isObject(multi)) return { ok: false, reason: `multiValueHeaders is ${describe(multi)}, not an object` };
  for (const [name, raw] of Object.entries(multi ?? {})) {
    if (!TOKEN.test(name)) return { ok: false, reason: `${JSON.stringify(name)} is not a valid header name` };
    if (!Array.isArray(raw)) return { ok: false, reason: `multiValueHeaders ${JSON.stringify(name)} is ${describe(raw)}, not a list` };
    const values: string[] = [];
    for (const item of raw) {
      const value = headerValue(name, item);
      if (typeof value !== "string") return { ok: false, reason: value.reason };
      values.push(value);
    }
    // The single value follows the multi values, unless it is one of them.
    const other = merged.get(name.toLowerCase())?.values.filter((v) => !values.includes(v)) ?? [];
    merged.set(name.toLowerCase(), { name, values: [...values, ...other] });
  }

  const headers: ApiResponse["headers"] = {};
  for (const [lower, { name, values }] of merged) {
    if (DROPPED.has(lower) || values.length === 0) continue;
    headers[REMAPPED.has(lower) ? `x-amzn-Remapped-${name}` : name] = values.length === 1 ? values[0] : values;
  }
  return { ok: true, response: { status: code, headers, body: typeof body === "string" ? body : "", isBase64Encoded: isBase64Encoded === true } };
}
