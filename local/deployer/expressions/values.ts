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
