// Values and errors shared by the evaluator and the built-in functions.

export class ExpressionError extends Error {
  readonly code = "EXPRESSION_EVAL";
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Terraform's string conversion of a primitive (templates, string arguments). */
export function toTerraformString(value: unknown, what = "value"): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null || value === undefined) throw new ExpressionError(`${what} is null and cannot be used in a string`);
  throw new ExpressionError(`${what} is a ${Array.isArray(value) ? "list" : "object"} and cannot be used in a string`);
}

/**
 * A JSON string as Terraform's jsonencode writes it (Go's encoding/json): object keys sorted, no
 * spaces, and <, >, &, U+2028 and U+2029 escaped as \u003c, \u003e, \u0026, \u2028, \u2029, as
 * https://developer.hashicorp.com/terraform/language/functions/jsonencode documents.
 */
export function terraformJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return quoteJson(value);
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(terraformJson).join(",")}]`;
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object)
    .sort()
    .map((k) => `${quoteJson(k)}:${terraformJson(object[k])}`)
    .join(",")}}`;
}

const GO_ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function quoteJson(text: string): string {
  return `"${text.replace(/["\\\u0000-\u001f<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}
