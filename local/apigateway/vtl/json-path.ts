// The JSONPath of `$input.json(...)` / `$input.path(...)`. API Gateway's mapping template
// reference points at Jayway JsonPath for its syntax, and this follows Jayway where it matters:
// a path that does not start with `$` is read as `$.` + path; a definite path that finds nothing
// gives null; a path with `..`, `*`, a slice or a list of indexes gives the list of what it found.
// Supported: `$`, `.name`, `['name']`, `..name`, `.*`, `[*]`, `[n]` (negative from the end),
// `[n,m]`, `[a:b]`. Filters (`[?(...)]`) and functions (`.length()`) are not, and a template that
// uses them is refused when it is deployed.
import { MappingTemplateError } from "./errors";
import { JavaMap, jsonArray } from "./values";

type Step =
  | { kind: "key"; key: string; deep: boolean }
  | { kind: "all"; deep: boolean }
  | { kind: "indexes"; indexes: number[] }
  | { kind: "slice"; start?: number; end?: number };

interface CompiledPath {
  steps: Step[];
  definite: boolean;
}

const compiled = new Map<string, CompiledPath>();

/** The path's problem in words, or undefined when it can be evaluated here. */
export function jsonPathProblem(path: string): string | undefined {
  try {
    compileJsonPath(path);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function compileJsonPath(source: string): CompiledPath {
  const cached = compiled.get(source);
  if (cached) return cached;
  const trimmed = source.trim();
  const path = trimmed.startsWith("$") ? trimmed : `$.${trimmed}`;
  const fail = (at: number, what: string): never => {
    throw new MappingTemplateError(`JSONPath ${JSON.stringify(source)} at ${at}: ${what}`);
  };
  if (path.endsWith(".")) fail(path.length, "a path must not end with '.'");
  const steps: Step[] = [];
  let i = 1;
  while (i < path.length) {
    const deep = path.startsWith("..", i);
    if (path[i] === ".") {
      i += deep ? 2 : 1;
      if (path[i] === "*") {
        steps.push({ kind: "all", deep });
        i++;
        continue;
      }
      if (path[i] === "[") {
        if (deep) fail(i, "'..' before '[' is not emulated by the local cloud");
        continue;
      }
      const name = /^[^.[\]()\s]+/.exec(path.slice(i))?.[0];
      if (!name) fail(i, "a name after '.'");
      if (path[i + name!.length] === "(") fail(i, `the JSONPath function ${name}() is not emulated by the local cloud`);
      steps.push({ kind: "key", key: name!, deep });
      i += name!.length;
    } else if (path[i] === "[") {
      const close = bracketEnd(path, i);
      if (close < 0) fail(i, "'[' is never closed");
      const inside = path.slice(i + 1, close).trim();
      steps.push(
        bracketStep(inside, () =>
          fail(i, /^\?|^\(|^(['"]).*\1\s*,/.test(inside) ? `[${inside}] is not emulated by the local cloud (names, indexes, * and slices are)` : `[${inside}]: expected a quoted name, indexes, * or a slice`),
        ),
      );
      i = close + 1;
    } else {
      fail(i, `unexpected ${JSON.stringify(path[i])}`);
    }
  }
  const definite = steps.every((s) => (s.kind === "key" && !s.deep) || (s.kind === "indexes" && s.indexes.length === 1));
  const result = { steps, definite };
  compiled.set(source, result);
  return result;
}

function bracketEnd(path: string, open: number): number {
  let quote: string | undefined;
  for (let j = open + 1; j < path.length; j++) {
    const c = path[j];
    if (quote) {
      if (c === "\\") j++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "]") return j;
  }
  return -1;
}

function bracketStep(inside: string, unsupported: () => never): Step {
  if (inside === "*") return { kind: "all", deep: false };
  const quoted = /^(['"])((?:[^\\]|\\.)*)\1$/.exec(inside);
  if (quoted) return { kind: "key", key: quoted[2].replace(/\\(.)/g, "$1"), deep: false };
  if (/^-?\d+(\s*,\s*-?\d+)*$/.test(inside)) return { kind: "indexes", indexes: inside.split(",").map((n) => Number(n.trim())) };
  const slice = /^(-?\d+)?\s*:\s*(-?\d+)?$/.exec(inside);
  if (slice) return { kind: "slice", start: slice[1] === undefined ? undefined : Number(slice[1]), end: slice[2] === undefined ? undefined : Number(slice[2]) };
  return unsupported();
}

const children = (value: unknown): unknown[] => (Array.isArray(value) ? value : value instanceof JavaMap ? [...value.values()] : []);

function descendants(value: unknown): unknown[] {
  const all = [value];
  for (const child of children(value)) all.push(...descendants(child));
  return all;
}

function apply(step: Step, value: unknown): unknown[] {
  switch (step.kind) {
    case "key": {
      const holders = step.deep ? descendants(value) : [value];
      return holders.filter((h): h is JavaMap => h instanceof JavaMap && h.has(step.key)).map((h) => h.get(step.key));
    }
    case "all":
      return step.deep ? descendants(value).slice(1) : children(value);
    case "indexes":
      if (!Array.isArray(value)) return [];
      return step.indexes.map((n) => (n < 0 ? value.length + n : n)).filter((n) => n >= 0 && n < value.length).map((n) => value[n]);
    case "slice": {
      if (!Array.isArray(value)) return [];
      const from = step.start === undefined ? 0 : step.start < 0 ? Math.max(0, value.length + step.start) : step.start;
      const to = step.end === undefined ? value.length : step.end < 0 ? value.length + step.end : step.end;
      return value.slice(from, to);
    }
  }
}

/** The value at `path`: undefined when a definite path finds nothing, a JsonArray for other paths. */
export function evaluatePath(root: unknown, path: unknown): unknown {
  if (typeof path !== "string") throw new MappingTemplateError(`a JSONPath must be a string, got ${String(path)}`);
  const { steps, definite } = compileJsonPath(path);
  let current: unknown[] = [root];
  for (const step of steps) current = current.flatMap((value) => apply(step, value));
  return definite ? current[0] : jsonArray(current);
}
