// Terraform's built-in functions, as far as synthesized CDKTF configurations use them. Each
// behaves as Terraform documents it; anything else is an error that names the function.
import { createHash } from "node:crypto";
import { ExpressionError, isObject, terraformJson, toTerraformString } from "./values";

type Fn = (...args: any[]) => unknown;

function hash(algorithm: string, encoding: "hex" | "base64") {
  return (value: unknown) => createHash(algorithm).update(toTerraformString(value, "argument"), "utf8").digest(encoding);
}

function list(value: unknown, what = "argument"): unknown[] {
  if (Array.isArray(value)) return value;
  throw new ExpressionError(`${what} must be a list, got ${value === null ? "null" : typeof value}`);
}

function object(value: unknown, what = "argument"): Record<string, unknown> {
  if (isObject(value)) return value;
  throw new ExpressionError(`${what} must be a map or object, got ${value === null ? "null" : Array.isArray(value) ? "list" : typeof value}`);
}

/** What Terraform's regex returns: the match, its groups as a list, or its named groups as a map. */
function regexResult(match: RegExpMatchArray): unknown {
  if (match.groups) return { ...match.groups };
  return match.length > 1 ? match.slice(1) : match[0];
}

/**
 * The order Terraform lists a set in: numbers by value, strings by their bytes (code units, not a
 * locale's collation: "B" < "_" < "a"), anything else by its JSON.
 */
function setOrder(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = typeof a === "string" ? a : JSON.stringify(a);
  const y = typeof b === "string" ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function unique(values: unknown[]): unknown[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Terraform's format(): verbs with flags, width and precision, as in Go's fmt. */
function format(spec: unknown, ...args: unknown[]): string {
  let next = 0;
  return toTerraformString(spec, "format").replace(/%(%|([-+ 0#]*)(\d*)(?:\.(\d+))?([sdfqvt]))/g, (_match, all: string, flags = "", width = "", precision: string | undefined, verb: string) => {
    if (all === "%") return "%";
    const value = args[next++];
    let text: string;
    switch (verb) {
      case "d":
        text = String(Math.trunc(Number(value)));
        break;
      case "f":
        text = Number(value).toFixed(precision ? Number(precision) : 6);
        break;
      case "q":
        text = JSON.stringify(toTerraformString(value));
        break;
      case "v":
        text = typeof value === "object" ? JSON.stringify(value) : toTerraformString(value);
        break;
      case "t":
        text = String(Boolean(value));
        break;
      default:
        text = toTerraformString(value);
    }
    const pad = Number(width || 0) - text.length;
    if (pad <= 0) return text;
    if (flags.includes("-")) return text + " ".repeat(pad);
    if (flags.includes("0") && verb !== "s" && verb !== "q") return text.startsWith("-") ? `-${"0".repeat(pad)}${text.slice(1)}` : "0".repeat(pad) + text;
    return " ".repeat(pad) + text;
  });
}

export const FUNCTIONS: Record<string, Fn> = {
  jsonencode: terraformJson,
  jsondecode: (text) => {
    try {
      return JSON.parse(toTerraformString(text));
    } catch (error) {
      throw new ExpressionError(`invalid JSON: ${(error as Error).message}`);
    }
  },
  tostring: (value) => (value === null ? null : toTerraformString(value)),
  tonumber: (value) => {
    if (value === null) return null;
    const n = Number(value);
    if (Number.isNaN(n)) throw new ExpressionError(`cannot convert ${JSON.stringify(value)} to a number`);
    return n;
  },
  tobool: (value) => {
    if (value === null || typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    throw new ExpressionError(`cannot convert ${JSON.stringify(value)} to a bool`);
  },
  tolist: (value) => (value === null ? null : [...list(value)]),
  toset: (value) => (value === null ? null : unique(list(value)).sort(setOrder)),
  tomap: (value) => (value === null ? null : { ...object(value) }),
  keys: (value) => Object.keys(object(value)).sort(),
  values: (value) => {
    const o = object(value);
    return Object.keys(o)
      .sort()
      .map((k) => o[k]);
  },
  lookup: (map, key, ...fallback) => {
    const o = object(map);
    const k = toTerraformString(key, "key");
    if (k in o) return o[k];
    if (fallback.length > 0) return fallback[0];
    throw new ExpressionError(`lookup failed to find key "${k}"`);
  },
  contains: (collection, value) => list(collection).some((v) => JSON.stringify(v) === JSON.stringify(value)),
  length: (value) => {
    if (typeof value === "string") return [...value].length;
    if (Array.isArray(value)) return value.length;
    return Object.keys(object(value)).length;
  },
  join: (separator, ...lists) => lists.flatMap((l) => list(l)).map((v) => toTerraformString(v, "list element")).join(toTerraformString(separator)),
  split: (separator, text) => toTerraformString(text).split(toTerraformString(separator)),
  element: (values, index) => {
    const l = list(values);
    if (l.length === 0) throw new ExpressionError("cannot use element function with an empty list");
    return l[Math.trunc(Number(index)) % l.length];
  },
  concat: (...lists) => lists.flatMap((l) => list(l)),
  flatten: (value) => {
    const flat = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);
    return flat(list(value));
  },
  distinct: (value) => unique(list(value)),
  sort: (value) => list(value).map((v) => toTerraformString(v, "list element")).sort(),
  merge: (...maps) => Object.assign({}, ...maps.filter((m) => m !== null).map((m) => object(m))),
  coalesce: (...values) => {
    const found = values.find((v) => v !== null && v !== undefined && v !== "");
    if (found === undefined) throw new ExpressionError("no non-null, non-empty argument");
    return found;
  },
  try: (...attempts: (() => unknown)[]) => {
    const failures: string[] = [];
    for (const attempt of attempts) {
      try {
        return attempt();
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        failures.push(error.message);
      }
    }
    throw new ExpressionError(`no expression succeeded: ${failures.join("; ")}`);
  },
  can: (attempt: () => unknown) => {
    try {
      attempt();
      return true;
    } catch (error) {
      if (error instanceof ExpressionError) return false;
      throw error;
    }
  },
  replace: (text, search, replacement) => {
    const s = toTerraformString(search);
    const t = toTerraformString(text);
    const r = toTerraformString(replacement);
    if (s.length > 2 && s.startsWith("/") && s.endsWith("/")) return t.replace(new RegExp(s.slice(1, -1), "g"), r.replace(/\$\{(\w+)\}/g, "$<$1>"));
    return t.split(s).join(r);
  },
  // Terraform's RE2 syntax and JavaScript's agree on what validation rules use.
  regex: (pattern, text) => {
    const match = new RegExp(toTerraformString(pattern)).exec(toTerraformString(text));
    if (!match) throw new ExpressionError(`pattern ${JSON.stringify(pattern)} did not match any part of the given string`);
    return regexResult(match);
  },
  regexall: (pattern, text) => [...toTerraformString(text).matchAll(new RegExp(toTerraformString(pattern), "g"))].map(regexResult),
  lower: (text) => toTerraformString(text).toLowerCase(),
  upper: (text) => toTerraformString(text).toUpperCase(),
  trimspace: (text) => toTerraformString(text).trim(),
  startswith: (text, prefix) => toTerraformString(text).startsWith(toTerraformString(prefix)),
  endswith: (text, suffix) => toTerraformString(text).endsWith(toTerraformString(suffix)),
  substr: (text, offset, length) => {
    const chars = [...toTerraformString(text)];
    const start = Number(offset) < 0 ? chars.length + Number(offset) : Number(offset);
    return chars.slice(start, Number(length) < 0 ? undefined : start + Number(length)).join("");
  },
  format,
  sha1: hash("sha1", "hex"),
  sha256: hash("sha256", "hex"),
  sha512: hash("sha512", "hex"),
  md5: hash("md5", "hex"),
  base64sha256: hash("sha256", "base64"),
  base64encode: (text) => Buffer.from(toTerraformString(text), "utf8").toString("base64"),
  base64decode: (text) => Buffer.from(toTerraformString(text), "base64").toString("utf8"),
  abs: (n) => Math.abs(Number(n)),
  ceil: (n) => Math.ceil(Number(n)),
  floor: (n) => Math.floor(Number(n)),
  max: (...n) => Math.max(...n.map(Number)),
  min: (...n) => Math.min(...n.map(Number)),
};
