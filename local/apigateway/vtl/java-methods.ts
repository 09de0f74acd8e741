// The Java methods templates call on values, with Java's behaviour: java.lang.String,
// java.util.Map (LinkedHashMap), java.util.List, Map.Entry, Number and Boolean. A method the
// value's Java class does not have gives null (Velocity finds no method), as does a property;
// a Java exception (an index out of range, a bad regex) fails the template, as in Velocity 1.7.
import { MappingTemplateError } from "./errors";
import { HostObject, JavaMap, MapEntry, NO_SUCH_METHOD, isNumber, javaEquals, javaString } from "./values";

type Method<T> = (self: T, ...args: any[]) => unknown;

/** Java's int argument: a whole number, or the method does not apply. */
function int(value: unknown, method: string): number {
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" && Number.isInteger(value)) return value;
  throw new MappingTemplateError(`${method}: ${javaString(value)} is not a whole number`);
}

const str = (value: unknown) => (value === null || value === undefined ? "null" : javaString(value));
const size = (n: number) => BigInt(n);

function regex(pattern: unknown, flags = ""): RegExp {
  try {
    return new RegExp(str(pattern), flags);
  } catch (error) {
    throw new MappingTemplateError(`invalid regular expression ${JSON.stringify(str(pattern))}: ${(error as Error).message}`);
  }
}

/** A Java replacement string (`$1`, `\$`) as JavaScript's replace() reads one. */
function replacement(value: unknown): string {
  return str(value).replace(/\\(.)|\$\{(\w+)\}|\$(\d)|\$/g, (_match, escaped: string, name: string, group: string) =>
    escaped !== undefined ? (escaped === "$" ? "$$" : escaped) : name !== undefined ? `$<${name}>` : group !== undefined ? `$${group}` : "$$",
  );
}

function checkRange(index: number, length: number, what: string): number {
  if (index < 0 || index >= length) throw new MappingTemplateError(`${what}: index ${index} is out of range for length ${length}`);
  return index;
}

const STRING: Record<string, Method<string>> = {
  length: (s) => size(s.length),
  isEmpty: (s) => s.length === 0,
  charAt: (s, i) => s[checkRange(int(i, "charAt"), s.length, "String.charAt")],
  contains: (s, part) => s.includes(str(part)),
  startsWith: (s, prefix, offset) => s.startsWith(str(prefix), offset === undefined ? 0 : int(offset, "startsWith")),
  endsWith: (s, suffix) => s.endsWith(str(suffix)),
  indexOf: (s, part, from) => size(s.indexOf(str(part), from === undefined ? 0 : int(from, "indexOf"))),
  lastIndexOf: (s, part, from) => size(from === undefined ? s.lastIndexOf(str(part)) : s.lastIndexOf(str(part), int(from, "lastIndexOf"))),
  substring: (s, begin, end) => {
    const b = int(begin, "substring");
    const e = end === undefined ? s.length : int(end, "substring");
    if (b < 0 || e > s.length || b > e) throw new MappingTemplateError(`String.substring: begin ${b}, end ${e}, length ${s.length}`);
    return s.slice(b, e);
  },
  toLowerCase: (s) => s.toLowerCase(),
  toUpperCase: (s) => s.toUpperCase(),
  // Java's trim removes every character up to U+0020.
  trim: (s) => s.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, ""),
  concat: (s, other) => s + str(other),
  equals: (s, other) => s === other,
  equalsIgnoreCase: (s, other) => typeof other === "string" && s.toLowerCase() === other.toLowerCase(),
  compareTo: (s, other) => size(s < str(other) ? -1 : s > str(other) ? 1 : 0),
  matches: (s, pattern) => regex(`^(?:${str(pattern)})$`).test(s),
  // replace is literal and replaces every occurrence; replaceAll/replaceFirst take a regex.
  replace: (s, target, by) => s.split(str(target)).join(str(by)),
  replaceAll: (s, pattern, by) => s.replace(regex(pattern, "g"), replacement(by)),
  replaceFirst: (s, pattern, by) => s.replace(regex(pattern), replacement(by)),
  // Java's split: the pattern is a regex, separators are not returned, a zero-width match at the
  // start gives no leading empty part, and (limit 0) trailing empty parts are dropped.
  split: (s, pattern, limit) => {
    const max = limit === undefined ? 0 : int(limit, "split");
    const separator = regex(pattern, "g");
    const parts: string[] = [];
    let start = 0;
    for (let match = separator.exec(s); match && (max <= 0 || parts.length < max - 1); match = separator.exec(s)) {
      if (match[0].length === 0) {
        separator.lastIndex++;
        if (match.index === 0 || match.index >= s.length) continue;
      }
      parts.push(s.slice(start, match.index));
      start = match.index + match[0].length;
    }
    parts.push(s.slice(start));
    if (max === 0) while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    return parts;
  },
  toString: (s: string) => s,
};

const MAP: Record<string, Method<JavaMap>> = {
  get: (m, key) => (typeof key === "string" ? (m.get(key) ?? null) : null),
  getOrDefault: (m, key, fallback) => (typeof key === "string" && m.has(key) ? m.get(key) : fallback),
  put: (m, key, value) => {
    const previous = m.get(str(key)) ?? null;
    m.set(str(key), value);
    return previous;
  },
  putAll: (m, other) => {
    if (other instanceof JavaMap) for (const [k, v] of other) m.set(k, v);
    return undefined;
  },
  remove: (m, key) => {
    const previous = typeof key === "string" ? (m.get(key) ?? null) : null;
    if (typeof key === "string") m.delete(key);
    return previous;
  },
  containsKey: (m, key) => typeof key === "string" && m.has(key),
  containsValue: (m, value) => [...m.values()].some((v) => javaEquals(v, value)),
  isEmpty: (m) => m.size === 0,
  size: (m) => size(m.size),
  keySet: (m) => [...m.keys()],
  values: (m) => [...m.values()],
  entrySet: (m) => [...m].map(([k, v]) => new MapEntry(k, v)),
  clear: (m) => {
    m.clear();
    return undefined;
  },
  toString: (m: JavaMap) => javaString(m),
};

const LIST: Record<string, Method<unknown[]>> = {
  get: (l, i) => l[checkRange(int(i, "get"), l.length, "List.get")],
  set: (l, i, value) => {
    const index = checkRange(int(i, "set"), l.length, "List.set");
    const previous = l[index];
    l[index] = value;
    return previous;
  },
  add: (l, a, b) => {
    if (b === undefined) {
      l.push(a);
      return true;
    }
    const index = int(a, "add");
    if (index < 0 || index > l.length) throw new MappingTemplateError(`List.add: index ${index} is out of range for length ${l.length}`);
    l.splice(index, 0, b);
    return undefined;
  },
  addAll: (l, other) => {
    if (!Array.isArray(other)) return false;
    l.push(...other);
    return other.length > 0;
  },
  remove: (l, item) => {
    if (isNumber(item)) return l.splice(checkRange(int(item, "remove"), l.length, "List.remove"), 1)[0];
    const index = l.findIndex((v) => javaEquals(v, item));
    if (index >= 0) l.splice(index, 1);
    return index >= 0;
  },
  contains: (l, item) => l.some((v) => javaEquals(v, item)),
  indexOf: (l, item) => size(l.findIndex((v) => javaEquals(v, item))),
  isEmpty: (l) => l.length === 0,
  size: (l) => size(l.length),
  subList: (l, from, to) => {
    const a = int(from, "subList");
    const b = int(to, "subList");
    if (a < 0 || b > l.length || a > b) throw new MappingTemplateError(`List.subList: from ${a}, to ${b}, size ${l.length}`);
    return l.slice(a, b);
  },
  clear: (l) => {
    l.length = 0;
    return undefined;
  },
  toString: (l: unknown[]) => javaString(l),
};

const ENTRY: Record<string, Method<MapEntry>> = {
  getKey: (e) => e.key,
  getValue: (e) => e.value,
  setValue: (e, value) => {
    const previous = e.value;
    e.value = value;
    return previous;
  },
  toString: (e: MapEntry) => javaString(e),
};

const NUMBER: Record<string, Method<bigint | number>> = {
  intValue: (n) => (typeof n === "bigint" ? BigInt.asIntN(32, n) : BigInt(Math.trunc(n))),
  longValue: (n) => (typeof n === "bigint" ? BigInt.asIntN(64, n) : BigInt(Math.trunc(n))),
  doubleValue: (n) => Number(n),
  toString: (n: bigint | number) => javaString(n),
  equals: (n, other) => typeof other === typeof n && other === n,
  compareTo: (n, other) => size(Number(n) < Number(other) ? -1 : Number(n) > Number(other) ? 1 : 0),
};

const BOOLEAN: Record<string, Method<boolean>> = {
  booleanValue: (b) => b,
  toString: (b: boolean) => String(b),
  equals: (b, other) => b === other,
};

function tableOf(value: unknown): Record<string, Method<any>> | undefined {
  if (typeof value === "string") return STRING;
  if (value instanceof JavaMap) return MAP;
  if (Array.isArray(value)) return LIST;
  if (value instanceof MapEntry) return ENTRY;
  if (isNumber(value)) return NUMBER;
  if (typeof value === "boolean") return BOOLEAN;
  return undefined;
}

/** `$value.name(args)`: undefined (a void method) renders as nothing, as Velocity renders it. */
export function callMethod(value: unknown, name: string, args: unknown[]): unknown {
  if (value instanceof HostObject) {
    const result = value.call(name, args);
    return result === NO_SUCH_METHOD ? null : result;
  }
  const method = tableOf(value)?.[name];
  if (!method || !Object.hasOwn(tableOf(value)!, name)) return null;
  const result = method(value, ...args);
  return result === undefined ? "" : result;
}

/**
 * `$value.name`: a map's entry; otherwise Velocity's getter lookup (`getName()`, `isName()`),
 * so `$string.empty` is isEmpty() and `$entry.key` is getKey().
 */
export function getProperty(value: unknown, name: string): unknown {
  if (value instanceof JavaMap) return value.get(name) ?? null;
  if (value instanceof HostObject) return value.property(name) ?? null;
  const table = tableOf(value);
  if (!table) return null;
  const capitalized = name[0].toUpperCase() + name.slice(1);
  for (const getter of [`get${capitalized}`, `is${capitalized}`]) {
    if (Object.hasOwn(table, getter)) return table[getter](value);
  }
  return null;
}

/** `$value[index]`: a list's element (negative from the end) or a map's entry. */
export function getIndex(value: unknown, index: unknown): unknown {
  if (value instanceof JavaMap) return typeof index === "string" ? (value.get(index) ?? null) : null;
  if (Array.isArray(value)) {
    const i = int(index, "[]");
    return value[checkRange(i < 0 ? value.length + i : i, value.length, "index")];
  }
  return null;
}
