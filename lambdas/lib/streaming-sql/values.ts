// Conversions between values: CAST, the implicit cast of INSERT, and text forms. Numbers are
// written as Kinesis Analytics (Java) writes them, so the CSV output reads the same: 50.0, not 50.
import { SqlRuntimeError } from "./errors";
import { integerRange, isExactNumeric, isNumeric, isText, typeText, type SqlType, type Value } from "./types";

/** A DOUBLE as Java's Double.toString writes it: 50.0, 11.111111111111112, 1.0E-4, 1.5E7. */
export function formatDouble(x: number): string {
  const magnitude = Math.abs(x);
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  if (magnitude >= 1e-3 && magnitude < 1e7) return Number.isInteger(x) ? `${x}.0` : String(x);
  const [mantissa, exponent] = x.toExponential().split("e");
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${exponent.replace("+", "")}`;
}

/** `yyyy-mm-dd hh:mm:ss.fff` (UTC), the TIMESTAMP text form. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

/** The text form of a value of type `type`; null stays null. */
export function formatValue(value: Value, type: SqlType): string | null {
  if (value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (type.name === "TIMESTAMP") return formatTimestamp(value);
  if (type.name === "INTERVAL") return `${value / 1000} SECOND`;
  return isExactNumeric(type) ? String(value) : formatDouble(value);
}

const NUMERIC_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?$/;

/** Converts `value` from type `from` to type `to` (the compiler checked the pair is castable). */
export function castValue(value: Value, from: SqlType, to: SqlType): Value {
  if (value === null) return null;
  if (isNumeric(to)) {
    let n: number;
    if (typeof value === "number" && isNumeric(from)) n = value;
    else if (typeof value === "string" && NUMERIC_TEXT.test(value.trim())) n = Number(value.trim());
    else throw new SqlRuntimeError(`cannot cast ${describe(value)} to ${typeText(to)}`);
    return isExactNumeric(to) ? toExact(n, to) : checkedDouble(n);
  }
  if (isText(to)) {
    const text = formatValue(value, from)!;
    if (to.length !== undefined && text.length > to.length) {
      throw new SqlRuntimeError(`${describe(text)} is ${text.length} characters, longer than ${typeText(to)}`);
    }
    return text;
  }
  if (to.name === "BOOLEAN") {
    if (typeof value === "boolean") return value;
    const text = String(value).trim().toUpperCase();
    if (text === "TRUE" || text === "FALSE") return text === "TRUE";
    throw new SqlRuntimeError(`cannot cast ${describe(value)} to BOOLEAN`);
  }
  if (to.name === "TIMESTAMP") {
    if (typeof value === "number") return value;
    const match = TIMESTAMP_TEXT.exec(String(value).trim());
    if (!match) throw new SqlRuntimeError(`cannot cast ${describe(value)} to TIMESTAMP (expected yyyy-mm-dd hh:mm:ss)`);
    return Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6], match[7] ? Math.round(Number(match[7]) * 1000) : 0);
  }
  return value;
}

/** Which casts are allowed, checked at compile time. */
export function castable(from: SqlType, to: SqlType): boolean {
  if (from.name === "NULL" || from.name === to.name) return true;
  if (isText(from) || isText(to)) return to.name !== "INTERVAL" && from.name !== "INTERVAL";
  return isNumeric(from) && isNumeric(to);
}

/** A DOUBLE result: overflow to infinity (or NaN) is an error in SQL, not a value. */
export function checkedDouble(n: number): number {
  if (!Number.isFinite(n)) throw new SqlRuntimeError("numeric overflow: the result is not a finite DOUBLE");
  return n;
}

/** An exact numeric result: truncated toward zero (as Java casts) and within the type's range. */
export function toExact(n: number, type: SqlType): number {
  const [min, max] = integerRange(type)!;
  const truncated = Math.trunc(n);
  if (!(truncated >= min && truncated <= max)) throw new SqlRuntimeError(`${n} is out of range for ${typeText(type)}`);
  return truncated === 0 ? 0 : truncated;
}

function describe(value: Value): string {
  return typeof value === "string" ? `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'` : String(value);
}
