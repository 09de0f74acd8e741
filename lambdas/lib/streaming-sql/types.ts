// SQL types and values of the engine. Values are plain JavaScript: numbers (every numeric type,
// TIMESTAMP as epoch milliseconds, INTERVAL as milliseconds), strings, booleans and null; types
// are known at compile time, so values carry no tags.

export type TypeName =
  | "DOUBLE"
  | "REAL"
  | "BIGINT"
  | "INTEGER"
  | "SMALLINT"
  | "TINYINT"
  | "VARCHAR"
  | "CHAR"
  | "BOOLEAN"
  | "TIMESTAMP"
  | "INTERVAL"
  /** The type of a bare NULL: it fits anywhere. */
  | "NULL";

export interface SqlType {
  name: TypeName;
  /** Maximum length of VARCHAR / CHAR. */
  length?: number;
}

export type Value = number | string | boolean | null;

export type TimeUnit = "SECOND" | "MINUTE" | "HOUR" | "DAY";
export const TIME_UNITS: readonly TimeUnit[] = ["SECOND", "MINUTE", "HOUR", "DAY"];
export const UNIT_MS: Record<TimeUnit, number> = { SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

export const DOUBLE: SqlType = { name: "DOUBLE" };
export const BIGINT: SqlType = { name: "BIGINT" };
export const INTEGER: SqlType = { name: "INTEGER" };
export const BOOLEAN: SqlType = { name: "BOOLEAN" };
export const TIMESTAMP: SqlType = { name: "TIMESTAMP" };
export const INTERVAL: SqlType = { name: "INTERVAL" };
export const VARCHAR: SqlType = { name: "VARCHAR" };
export const NULL_TYPE: SqlType = { name: "NULL" };

const EXACT = new Set<TypeName>(["BIGINT", "INTEGER", "SMALLINT", "TINYINT"]);
const APPROXIMATE = new Set<TypeName>(["DOUBLE", "REAL"]);
const INTEGER_RANGE: Partial<Record<TypeName, [number, number]>> = {
  TINYINT: [-128, 127],
  SMALLINT: [-32768, 32767],
  INTEGER: [-2147483648, 2147483647],
  BIGINT: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

export const isExactNumeric = (t: SqlType) => EXACT.has(t.name);
export const isNumeric = (t: SqlType) => EXACT.has(t.name) || APPROXIMATE.has(t.name);
export const isText = (t: SqlType) => t.name === "VARCHAR" || t.name === "CHAR";

/** Range of an exact numeric type (BIGINT is limited to what a double holds exactly). */
export function integerRange(t: SqlType): [number, number] | undefined {
  return INTEGER_RANGE[t.name];
}

/** `VARCHAR(32)`, `DOUBLE`, ... */
export function typeText(t: SqlType): string {
  return t.length !== undefined && isText(t) ? `${t.name}(${t.length})` : t.name;
}

/** Whether values of `from` can be stored in a column of type `to` (with an implicit cast). */
export function assignable(from: SqlType, to: SqlType): boolean {
  if (from.name === "NULL" || to.name === "NULL") return true;
  if (isNumeric(from) && isNumeric(to)) return true;
  if (isText(from) && isText(to)) return true;
  return from.name === to.name;
}

/** Whether two types can be compared with = < > and friends. */
export function comparable(a: SqlType, b: SqlType): boolean {
  return assignable(a, b);
}
