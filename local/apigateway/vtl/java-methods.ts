// Java methods that templates call on values (`$s.length()`, `$map.containsKey("k")`, ...):
// velocityjs resolves methods JavaScript has, these fill in the java.lang.String / java.util.Map
// behaviour API Gateway's Velocity (Java) gives.
type Payload = { property: string; context: unknown; params: unknown[] };
type Handler = { uid: string; match: (payload: Payload) => boolean; resolve: (payload: Payload) => unknown };

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const str = (value: unknown) => String(value);

const ON_STRINGS: Record<string, (s: string, ...params: unknown[]) => unknown> = {
  length: (s) => s.length,
  contains: (s, part) => s.includes(str(part)),
  isEmpty: (s) => s.length === 0,
  equals: (s, other) => s === other,
  equalsIgnoreCase: (s, other) => typeof other === "string" && s.toLowerCase() === other.toLowerCase(),
  matches: (s, pattern) => new RegExp(`^(?:${str(pattern)})$`).test(s),
  // Java: replace is literal and replaces every occurrence; replaceAll/replaceFirst take a regex.
  replace: (s, target, replacement) => s.split(str(target)).join(str(replacement)),
  replaceAll: (s, pattern, replacement) => s.replace(new RegExp(str(pattern), "g"), str(replacement)),
  replaceFirst: (s, pattern, replacement) => s.replace(new RegExp(str(pattern)), str(replacement)),
  // Java: the pattern is a regex and trailing empty strings are dropped.
  split: (s, pattern) => {
    const parts = s.split(new RegExp(str(pattern)));
    while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    return parts;
  },
  toString: (s: string) => s,
};

const ON_MAPS: Record<string, (m: Record<string, unknown>, ...params: unknown[]) => unknown> = {
  containsKey: (m, key) => Object.hasOwn(m, str(key)),
  containsValue: (m, value) => Object.values(m).includes(value),
  isEmpty: (m) => Object.keys(m).length === 0,
  values: (m) => Object.values(m),
};

const ON_LISTS: Record<string, (l: unknown[], ...params: unknown[]) => unknown> = {
  contains: (l, value) => l.includes(value),
  isEmpty: (l) => l.length === 0,
};

function table<T>(name: string, methods: Record<string, (value: T, ...params: unknown[]) => unknown>, accepts: (value: unknown) => value is T): Handler {
  return {
    uid: `java ${name}`,
    match: ({ property, context }) => accepts(context) && Object.hasOwn(methods, property),
    resolve: ({ property, context, params }) => methods[property](context as T, ...params),
  };
}

export const JAVA_METHODS: Handler[] = [
  table("String", ON_STRINGS, (v): v is string => typeof v === "string"),
  table("Map", ON_MAPS, isMap),
  table("List", ON_LISTS, Array.isArray),
];
