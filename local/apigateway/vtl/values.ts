// The values a mapping template works with, as API Gateway's Velocity (Java) has them:
//  - Java integers (Integer, Long, BigInteger) are bigints, so that no JSON integer loses digits
//    and `/` divides as Java does; Java doubles are numbers, printed as Double.toString prints.
//  - JSON objects (and Velocity map literals) are JavaMaps: printed `{key=value, ...}` like a
//    java.util.LinkedHashMap.
//  - JSON arrays are JsonArrays: printed as JSON text, elements included, like the json-smart
//    JSONArray that API Gateway's JSONPath returns. Other lists (literals, keySet(), split())
//    are plain arrays, printed `[a, b]` like a java.util.ArrayList.
// Recorded on AWS (LocalStack tests/aws/services/apigateway/test_apigateway_common.py,
// test_input_path_template_formatting): a map from $input.path prints `{foo=bar}`, a list
// `[{"foo":"bar"}]`, a map holding a list `{foo=[{"nested":"bar"}]}`.

export class JavaMap extends Map<string, unknown> {
  toString(): string {
    return javaString(this);
  }
}

export class JsonArray extends Array<unknown> {
  // Array methods that build a new array (map, filter, slice) build plain arrays.
  static get [Symbol.species]() {
    return Array;
  }

}

export function jsonArray(items: Iterable<unknown>): JsonArray {
  const array = new JsonArray();
  for (const item of items) array.push(item);
  return array;
}

/** A java.util.Map.Entry, as entrySet() yields them. */
export class MapEntry {
  constructor(
    readonly key: string,
    public value: unknown,
  ) {}
}

/**
 * An object of the template's environment ($input, $util, $foreach): the methods and properties
 * it offers, and nothing else.
 */
export abstract class HostObject {
  /** `$x.name`; undefined when the object has no such property. */
  abstract property(name: string): unknown;
  /** `$x.name(args)`; NO_SUCH_METHOD when the object has no such method. */
  abstract call(name: string, args: unknown[]): unknown;
}

export const NO_SUCH_METHOD = Symbol("no such method");

export const isNumber = (value: unknown): value is bigint | number => typeof value === "bigint" || typeof value === "number";

/** Java's Double.toString: `2.0`, `249.99`, `1.0E7`, `1.0E-4`. */
export function javaDouble(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = String(value);
    return text.includes(".") ? text : `${text}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split("e");
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${exponent.replace("+", "")}`;
}

/** What Java's String.valueOf gives for the value (`null` for null). */
export function javaString(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return value;
  if (typeof value === "number") return javaDouble(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof JsonArray) return jsonText(value);
  if (Array.isArray(value)) return `[${value.map(javaString).join(", ")}]`;
  if (value instanceof JavaMap) return `{${[...value].map(([k, v]) => `${k}=${javaString(v)}`).join(", ")}}`;
  if (value instanceof MapEntry) return `${value.key}=${javaString(value.value)}`;
  return String(value);
}

/** JSON text as json-smart writes it: compact, doubles as Double.toString. */
export function jsonText(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return Number.isFinite(value) ? javaDouble(value) : "null";
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (value instanceof JavaMap) return `{${[...value].map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")}}`;
  if (value instanceof MapEntry) return `{${JSON.stringify(value.key)}:${jsonText(value.value)}}`;
  return JSON.stringify(String(value));
}

/**
 * A value of the request's environment ($context, stage variables) as the template sees it:
 * objects become JavaMaps, whole numbers Java integers. JavaMaps and lists are kept as they are,
 * so that the override maps a template writes are the request's own.
 */
export function fromHost(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value;
  if (typeof value !== "object" || value instanceof JavaMap || value instanceof HostObject || Array.isArray(value)) return value;
  const map = new JavaMap();
  for (const [key, item] of Object.entries(value)) map.set(key, fromHost(item));
  return map;
}

/** Velocity 1.7's `#if`: only null and false are false (the empty string and 0 are true). */
export function isTruthy(value: unknown): boolean {
  return value !== null && value !== undefined && value !== false;
}

function compareNumbers(a: bigint | number, b: bigint | number): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Java's equals between two values (Integer 1 is not Double 1.0, as in Java). */
export function javaEquals(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a !== typeof b) return false;
  if (typeof a !== "object") return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => javaEquals(item, b[i]));
  if (a instanceof JavaMap) return b instanceof JavaMap && a.size === b.size && [...a].every(([k, v]) => b.has(k) && javaEquals(v, b.get(k)));
  if (a instanceof MapEntry) return b instanceof MapEntry && a.key === b.key && javaEquals(a.value, b.value);
  return a === b;
}

const kindOf = (value: unknown) => (Array.isArray(value) ? "list" : value instanceof JavaMap ? "map" : typeof value);

/**
 * Velocity 1.7's `==`: numbers by value whatever their type, values of one kind by equals(),
 * others by their text. API Gateway differs in one point, recorded on AWS (LocalStack
 * test_input_path_template_formatting and test_apigateway_to_kinesis): a null compares equal to
 * the empty string, as it renders as one (`$missing == ""` and `$missing == $null` are true, an
 * empty list equals neither).
 */
export function velocityEquals(left: unknown, right: unknown): boolean {
  const a = left ?? "";
  const b = right ?? "";
  if (isNumber(a) && isNumber(b)) return compareNumbers(a, b) === 0;
  if (kindOf(a) === kindOf(b)) return javaEquals(a, b);
  return javaString(a) === javaString(b);
}

/** Velocity 1.7's `<`, `>`, `<=`, `>=`: numbers only; anything else compares false. */
export function velocityCompare(operator: "<" | ">" | "<=" | ">=", left: unknown, right: unknown): boolean {
  if (!isNumber(left) || !isNumber(right)) return false;
  const c = compareNumbers(left, right);
  return operator === "<" ? c < 0 : operator === ">" ? c > 0 : operator === "<=" ? c <= 0 : c >= 0;
}

type MathOperator = "+" | "-" | "*" | "/" | "%";

// JavaScript's operators on two bigints are Java's on two integers (`/` truncates, `%` keeps the
// dividend's sign), and on two numbers Java's on two doubles.
const ARITHMETIC: Record<MathOperator, (a: any, b: any) => bigint | number> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
  "%": (a, b) => a % b,
};

/**
 * Velocity 1.7's arithmetic (MathUtils): whole numbers stay whole (`7 / 2` is 3), a double makes
 * the result a double, division by zero and non-numbers give null. `+` with a string joins text.
 */
export function velocityMath(operator: MathOperator, left: unknown, right: unknown): unknown {
  if (operator === "+" && (typeof left === "string" || typeof right === "string")) {
    // A null side joins as the empty text it renders as.
    return (left === null || left === undefined ? "" : javaString(left)) + (right === null || right === undefined ? "" : javaString(right));
  }
  if (!isNumber(left) || !isNumber(right)) return null;
  if ((operator === "/" || operator === "%") && Number(right) === 0) return null;
  const whole = typeof left === "bigint" && typeof right === "bigint";
  return ARITHMETIC[operator](whole ? left : Number(left), whole ? right : Number(right));
}
