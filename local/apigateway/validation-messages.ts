// The words API Gateway uses for a request body that its model refuses: API Gateway validates
// with a draft-04 validator whose messages it passes on, in `$context.error.validationErrorString`
// and the execution log, as one bracketed list. The validation post ("How to remove boilerplate
// validation logic in your REST APIs with Amazon API Gateway request validation") records them:
//
//   [numeric instance is greater than the required maximum (maximum: 1000, found: 999999),
//    string "thisstringistoolong" is too long (length: 19, maximum allowed: 4),
//    instance value ("foobar") not found in enum (possible values: ["STOCK","BOND","CASH"])]
//
// The other keywords follow the same validator's message catalogue. ajv finds the errors; this
// file says them as API Gateway does. Needs ajv's `verbose` errors (the instance and the keyword's
// schema value).
import type { ErrorObject } from "ajv-draft-04";

const json = (value: unknown) => JSON.stringify(value);
const text = (value: unknown) => String(value);
const codePoints = (value: string) => [...value].length;

/** The validator's name for a JSON value's type. */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function message(error: ErrorObject): string {
  const value = error.data;
  const schema = error.schema as unknown;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "type":
      return `instance type (${typeName(value)}) does not match any allowed primitive type (allowed: ${json([schema].flat())})`;
    case "enum":
      return `instance value (${json(value)}) not found in enum (possible values: ${json(schema)})`;
    case "maximum":
      return params.comparison === "<"
        ? `numeric instance is not strictly lower than the required maximum ${text(params.limit)}`
        : `numeric instance is greater than the required maximum (maximum: ${text(params.limit)}, found: ${text(value)})`;
    case "minimum":
      return params.comparison === ">"
        ? `numeric instance is not strictly greater than the required minimum ${text(params.limit)}`
        : `numeric instance is lower than the required minimum (minimum: ${text(params.limit)}, found: ${text(value)})`;
    case "maxLength":
      return `string "${text(value)}" is too long (length: ${codePoints(String(value))}, maximum allowed: ${text(params.limit)})`;
    case "minLength":
      return `string "${text(value)}" is too short (length: ${codePoints(String(value))}, required minimum: ${text(params.limit)})`;
    case "pattern":
      return `ECMA 262 regex "${text(params.pattern)}" does not match input string "${text(value)}"`;
    case "maxItems":
      return `array is too long: must have at most ${text(params.limit)} elements but instance has ${(value as unknown[]).length} elements`;
    case "minItems":
      return `array is too short: must have at least ${text(params.limit)} elements but instance has ${(value as unknown[]).length} elements`;
    case "additionalItems":
      return `schema only allows ${text(params.limit)} elements in array but instance has ${(value as unknown[]).length} elements`;
    case "uniqueItems":
      return "array must not contain duplicate elements";
    case "multipleOf":
      return `remainder of division is not zero (${text(value)} / ${text(params.multipleOf)})`;
    case "maxProperties":
      return `object has too many properties (found ${Object.keys(value as object).length} but schema requires at most ${text(params.limit)})`;
    case "minProperties":
      return `object has too few properties (found ${Object.keys(value as object).length} but schema requires at least ${text(params.limit)})`;
    case "anyOf":
      return `instance failed to match at least one required schema among ${(schema as unknown[]).length}`;
    case "oneOf": {
      const passing = params.passingSchemas;
      const matched = Array.isArray(passing) ? passing.length : passing === null || passing === undefined ? 0 : 1;
      return `instance failed to match exactly one schema (matched ${matched} out of ${(schema as unknown[]).length})`;
    }
    case "not":
      return "instance matched a schema which it should not have";
    default:
      return error.message ?? error.keyword;
  }
}

/**
 * The validation error string of a refused body: one message per failed keyword, except that the
 * validator names all missing required properties of an object in one message, and all the
 * properties it does not allow in another, as lists.
 */
export function validationErrorString(errors: ErrorObject[]): string {
  const messages: string[] = [];
  const grouped = new Map<string, { at: number; names: string[]; say: (names: string[]) => string }>();
  const group = (key: string, name: string, say: (names: string[]) => string) => {
    let entry = grouped.get(key);
    if (!entry) {
      entry = { at: messages.push("") - 1, names: [], say };
      grouped.set(key, entry);
    }
    entry.names.push(name);
  };
  for (const error of errors) {
    const params = error.params as Record<string, unknown>;
    if (error.keyword === "required") {
      group(`required ${error.instancePath}`, String(params.missingProperty), (names) => `object has missing required properties (${json(names)})`);
    } else if (error.keyword === "additionalProperties") {
      group(`additional ${error.instancePath}`, String(params.additionalProperty), (names) => `object instance has properties which are not allowed by the schema: ${json(names)}`);
    } else {
      messages.push(message(error));
    }
  }
  for (const entry of grouped.values()) messages[entry.at] = entry.say(entry.names);
  return `[${messages.join(", ")}]`;
}
