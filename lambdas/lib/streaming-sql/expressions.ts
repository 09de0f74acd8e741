// Turns expressions into typed closures over a tuple (the row's values, its ROWTIME last).
// Types are checked here, once, so that evaluation needs no checks beyond NULLs and the errors
// SQL defines at run time (division by zero, overflow, failed casts).
import type { BinaryOperator, Expr } from "./ast";
import { SqlError, SqlRuntimeError } from "./errors";
import { castable, castValue, checkedDouble, toExact } from "./values";
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  INTEGER,
  INTERVAL,
  NULL_TYPE,
  TIMESTAMP,
  UNIT_MS,
  comparable,
  isExactNumeric,
  isNumeric,
  isText,
  typeText,
  type SqlType,
  type Value,
} from "./types";

export type Tuple = Value[];

export interface Compiled {
  type: SqlType;
  evaluate: (tuple: Tuple) => Value;
}

export interface ScopeColumn {
  name: string;
  /** Names that may qualify it: the stream's name and its alias. */
  qualifiers: string[];
  type: SqlType;
  /** Position in the tuple. */
  index: number;
  /** ROWTIME: selectable by name, not part of `*`. */
  hidden: boolean;
}

export interface Scope {
  columns: ScopeColumn[];
}

/** Lets a caller compile some sub-expressions itself (aggregates, GROUP BY keys). */
export type CompileHook = (expr: Expr) => Compiled | undefined;

export const AGGREGATES = new Set(["COUNT", "SUM", "AVG", "MIN", "MAX"]);

export function resolveColumn(expr: Extract<Expr, { kind: "column" }>, scope: Scope): ScopeColumn {
  const matches = scope.columns.filter((c) => c.name === expr.name && (expr.qualifier === undefined || c.qualifiers.includes(expr.qualifier)));
  const shown = expr.qualifier ? `${expr.qualifier}.${expr.name}` : expr.name;
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) {
    const known = scope.columns.map((c) => (c.hidden ? undefined : `"${c.name}"`)).filter(Boolean);
    const hint = /[a-z]/.test(expr.name) || expr.qualifier ? "" : " (unquoted names are upper-cased: quote a lower-case name)";
    throw new SqlError("SQL_INVALID", `column ${shown}`, `no such column here; columns: ${known.join(", ") || "none"}${hint}`, expr.position);
  }
  const choices = matches.map((c) => `${c.qualifiers[0]}.${c.name}`).join(", ");
  throw new SqlError("SQL_INVALID", `column ${shown}`, `ambiguous: qualify it as one of ${choices}`, expr.position);
}

/**
 * A text that is equal for expressions that compute the same thing in this scope (columns by
 * what they resolve to), so that a SELECT item can be matched with a GROUP BY expression.
 */
export function signature(expr: Expr, scope: Scope): string {
  switch (expr.kind) {
    case "column":
      return `#${resolveColumn(expr, scope).index}`;
    case "number":
    case "string":
    case "boolean":
    case "timestamp":
    case "interval":
      return `${expr.kind}:${JSON.stringify(expr.value)}`;
    case "null":
      return "null";
    case "unary":
      return `(${expr.operator} ${signature(expr.operand, scope)})`;
    case "binary":
      return `(${signature(expr.left, scope)} ${expr.operator} ${signature(expr.right, scope)})`;
    case "isNull":
      return `(${signature(expr.operand, scope)} IS ${expr.negated ? "NOT " : ""}NULL)`;
    case "call":
      return `${expr.name}(${expr.star ? "*" : expr.args.map((a) => signature(a, scope)).join(",")})`;
    case "cast":
      return `CAST(${signature(expr.operand, scope)} AS ${typeText(expr.type)})`;
    case "floor":
    case "ceil":
      return `${expr.kind}(${signature(expr.operand, scope)} TO ${expr.unit ?? ""})`;
    case "step":
      return `STEP(${signature(expr.operand, scope)} BY ${signature(expr.by, scope)})`;
    case "intervalOf":
      return `(${signature(expr.operand, scope)}) ${expr.unit}`;
  }
}

/** Whether the expression reads a ROWTIME column of the scope. */
export function readsRowtime(expr: Expr, scope: Scope): boolean {
  return columnsOf(expr).some((c) => resolveColumn(c, scope).hidden);
}

export function columnsOf(expr: Expr): Extract<Expr, { kind: "column" }>[] {
  switch (expr.kind) {
    case "column":
      return [expr];
    case "unary":
    case "isNull":
    case "cast":
    case "floor":
    case "ceil":
    case "intervalOf":
      return columnsOf(expr.operand);
    case "binary":
      return [...columnsOf(expr.left), ...columnsOf(expr.right)];
    case "step":
      return [...columnsOf(expr.operand), ...columnsOf(expr.by)];
    case "call":
      return expr.args.flatMap(columnsOf);
    default:
      return [];
  }
}

export function compileExpr(expr: Expr, scope: Scope, hook?: CompileHook): Compiled {
  const hooked = hook?.(expr);
  if (hooked) return hooked;
  const sub = (e: Expr) => compileExpr(e, scope, hook);
  const invalid = (construct: string, detail: string) => new SqlError("SQL_INVALID", construct, detail, expr.position);

  switch (expr.kind) {
    case "number": {
      const value = expr.value;
      const type = !expr.exact ? DOUBLE : Math.abs(value) <= 2147483647 ? INTEGER : BIGINT;
      if (expr.exact && !Number.isSafeInteger(value)) throw invalid("number literal", `${value} is beyond the exact range of BIGINT here (2^53)`);
      return { type, evaluate: () => value };
    }
    case "string": {
      const value = expr.value;
      return { type: { name: "VARCHAR", length: value.length }, evaluate: () => value };
    }
    case "boolean": {
      const value = expr.value;
      return { type: BOOLEAN, evaluate: () => value };
    }
    case "null":
      return { type: NULL_TYPE, evaluate: () => null };
    case "timestamp": {
      const value = expr.value;
      return { type: TIMESTAMP, evaluate: () => value };
    }
    case "interval": {
      const value = expr.value;
      return { type: INTERVAL, evaluate: () => value };
    }
    case "column": {
      const column = resolveColumn(expr, scope);
      const index = column.index;
      return { type: column.type, evaluate: (t) => t[index] };
    }
    case "unary": {
      const operand = sub(expr.operand);
      const f = operand.evaluate;
      if (expr.operator === "NOT") {
        expectType(operand.type, (t) => t.name === "BOOLEAN", "NOT", expr, "BOOLEAN");
        return { type: BOOLEAN, evaluate: (t) => { const v = f(t); return v === null ? null : !v; } };
      }
      expectType(operand.type, (t) => isNumeric(t) || t.name === "INTERVAL", "unary -", expr, "a number or an interval");
      return { type: operand.type, evaluate: (t) => { const v = f(t) as number | null; return v === null ? null : v === 0 ? 0 : -v; } };
    }
    case "binary":
      return compileBinary(expr.operator, sub(expr.left), sub(expr.right), expr);
    case "isNull": {
      const f = sub(expr.operand).evaluate;
      const negated = expr.negated;
      return { type: BOOLEAN, evaluate: (t) => (f(t) === null) !== negated };
    }
    case "call":
      if (AGGREGATES.has(expr.name)) {
        throw invalid(`aggregate ${expr.name}`, "aggregates belong in the SELECT list of a query with GROUP BY on a ROWTIME window");
      }
      throw new SqlError("SQL_UNSUPPORTED", `function ${expr.name}`, "not supported by this runtime", expr.position);
    case "cast": {
      const operand = sub(expr.operand);
      const to = expr.type;
      if (!castable(operand.type, to)) throw invalid("CAST", `cannot cast ${typeText(operand.type)} to ${typeText(to)}`);
      const f = operand.evaluate;
      const from = operand.type;
      return { type: to, evaluate: (t) => castValue(f(t), from, to) };
    }
    case "floor":
    case "ceil": {
      const operand = sub(expr.operand);
      const f = operand.evaluate;
      const round = expr.kind === "floor" ? Math.floor : Math.ceil;
      const name = expr.kind.toUpperCase();
      if (expr.unit === undefined) {
        expectType(operand.type, isNumeric, name, expr, "a number (or a datetime with TO unit)");
        return { type: operand.type, evaluate: (t) => { const v = f(t) as number | null; return v === null ? null : round(v) + 0; } };
      }
      expectType(operand.type, (t) => t.name === "TIMESTAMP" || t.name === "INTERVAL", `${name}(... TO ${expr.unit})`, expr, "a TIMESTAMP or an interval");
      const unitMs = UNIT_MS[expr.unit];
      return { type: operand.type, evaluate: (t) => { const v = f(t) as number | null; return v === null ? null : round(v / unitMs) * unitMs + 0; } };
    }
    case "step": {
      const operand = sub(expr.operand);
      const by = sub(expr.by);
      const timed = operand.type.name === "TIMESTAMP" && by.type.name === "INTERVAL";
      if (!timed && !(isNumeric(operand.type) && isNumeric(by.type))) {
        throw invalid("STEP", `STEP(TIMESTAMP BY INTERVAL) or STEP(number BY number), not STEP(${typeText(operand.type)} BY ${typeText(by.type)})`);
      }
      const [f, g] = [operand.evaluate, by.evaluate];
      return {
        type: operand.type,
        evaluate: (t) => {
          const v = f(t) as number | null;
          const step = g(t) as number | null;
          if (v === null || step === null) return null;
          if (!(step > 0)) throw new SqlRuntimeError(`STEP needs a positive step, got ${step}`);
          return Math.floor(v / step) * step + 0;
        },
      };
    }
    case "intervalOf": {
      const operand = sub(expr.operand);
      expectType(operand.type, (t) => t.name === "INTERVAL", `(...) ${expr.unit}`, expr, "a datetime difference such as (ROWTIME - TIMESTAMP '1970-01-01 00:00:00')");
      const f = operand.evaluate;
      // SECOND keeps fractions of a second (the default precision); coarser units truncate.
      const unitMs = expr.unit === "SECOND" ? 1 : UNIT_MS[expr.unit];
      return { type: INTERVAL, evaluate: (t) => { const v = f(t) as number | null; return v === null ? null : Math.trunc(v / unitMs) * unitMs + 0; } };
    }
  }
}

function compileBinary(operator: BinaryOperator, left: Compiled, right: Compiled, expr: Expr): Compiled {
  const [f, g] = [left.evaluate, right.evaluate];
  const [a, b] = [left.type, right.type];
  const mismatch = () =>
    new SqlError("SQL_INVALID", `operator ${operator}`, `cannot apply ${operator} to ${typeText(a)} and ${typeText(b)}`, expr.position);

  if (operator === "AND" || operator === "OR") {
    if (![a, b].every((t) => t.name === "BOOLEAN" || t.name === "NULL")) throw mismatch();
    // Three-valued logic: FALSE AND NULL is FALSE, TRUE OR NULL is TRUE.
    return operator === "AND"
      ? { type: BOOLEAN, evaluate: (t) => { const x = f(t); if (x === false) return false; const y = g(t); return y === false ? false : x === null || y === null ? null : true; } }
      : { type: BOOLEAN, evaluate: (t) => { const x = f(t); if (x === true) return true; const y = g(t); return y === true ? true : x === null || y === null ? null : false; } };
  }

  if (["=", "<>", "<", "<=", ">", ">="].includes(operator)) {
    if (!comparable(a, b)) throw mismatch();
    const test = COMPARISONS[operator as keyof typeof COMPARISONS];
    return { type: BOOLEAN, evaluate: (t) => { const x = f(t); const y = g(t); return x === null || y === null ? null : test(x, y); } };
  }

  if (operator === "||") {
    if (!([a, b].every((t) => isText(t) || t.name === "NULL"))) throw mismatch();
    return { type: { name: "VARCHAR" }, evaluate: (t) => { const x = f(t); const y = g(t); return x === null || y === null ? null : `${x}${y}`; } };
  }

  const numeric = (x: SqlType) => isNumeric(x) || x.name === "NULL";
  let type: SqlType;
  if (numeric(a) && numeric(b)) type = isExactNumeric(a) && isExactNumeric(b) ? (a.name === "BIGINT" || b.name === "BIGINT" ? BIGINT : INTEGER) : DOUBLE;
  else if (a.name === "TIMESTAMP" && b.name === "TIMESTAMP" && operator === "-") type = INTERVAL;
  else if (a.name === "TIMESTAMP" && b.name === "INTERVAL" && (operator === "+" || operator === "-")) type = TIMESTAMP;
  else if (a.name === "INTERVAL" && b.name === "TIMESTAMP" && operator === "+") type = TIMESTAMP;
  else if (a.name === "INTERVAL" && b.name === "INTERVAL" && (operator === "+" || operator === "-")) type = INTERVAL;
  else if (a.name === "INTERVAL" && numeric(b) && (operator === "*" || operator === "/")) type = INTERVAL;
  else if (numeric(a) && b.name === "INTERVAL" && operator === "*") type = INTERVAL;
  else throw mismatch();

  const exact = isExactNumeric(type);
  const finish = exact ? (n: number) => toExact(n, type) : type.name === "DOUBLE" ? checkedDouble : (n: number) => n;
  const apply = ARITHMETIC[operator as keyof typeof ARITHMETIC];
  const divide = operator === "/";
  return {
    type,
    evaluate: (t) => {
      const x = f(t) as number | null;
      const y = g(t) as number | null;
      if (x === null || y === null) return null;
      if (divide && y === 0) throw new SqlRuntimeError("division by zero");
      // Integer division truncates: the seed SQL keeps its counts in DOUBLE columns for that reason.
      return finish(exact && divide ? Math.trunc(x / y) : apply(x, y)) + 0;
    },
  };
}

const COMPARISONS = {
  "=": (x: Value, y: Value) => x === y,
  "<>": (x: Value, y: Value) => x !== y,
  "<": (x: Value, y: Value) => x! < y!,
  "<=": (x: Value, y: Value) => x! <= y!,
  ">": (x: Value, y: Value) => x! > y!,
  ">=": (x: Value, y: Value) => x! >= y!,
};

const ARITHMETIC = {
  "+": (x: number, y: number) => x + y,
  "-": (x: number, y: number) => x - y,
  "*": (x: number, y: number) => x * y,
  "/": (x: number, y: number) => x / y,
};

function expectType(type: SqlType, test: (t: SqlType) => boolean, construct: string, expr: Expr, expected: string): void {
  if (type.name !== "NULL" && !test(type)) {
    throw new SqlError("SQL_INVALID", construct, `expects ${expected}, got ${typeText(type)}`, expr.position);
  }
}
