// The JSONPath of `$input.json(...)` / `$input.path(...)`: `$`, `.name`, `['name']`, `[index]`
// and `[*]`, which is what mapping templates use.
import { MappingTemplateError } from "./errors";

type Step = { kind: "key"; key: string } | { kind: "index"; index: number } | { kind: "all" };

const parsedPaths = new Map<string, Step[]>();

function parsePath(path: string): Step[] {
  const cached = parsedPaths.get(path);
  if (cached) return cached;
  const fail = (at: number, what: string): never => {
    throw new MappingTemplateError(`invalid JSONPath ${JSON.stringify(path)} at ${at}: ${what}`);
  };
  if (!path.startsWith("$")) fail(0, "a path starts with $");
  const steps: Step[] = [];
  let i = 1;
  while (i < path.length) {
    if (path[i] === ".") {
      const name = /^[^.[\]]+/.exec(path.slice(i + 1))?.[0];
      if (!name) fail(i + 1, "a name after '.'");
      steps.push(name === "*" ? { kind: "all" } : { kind: "key", key: name! });
      i += 1 + name!.length;
    } else if (path[i] === "[") {
      const bracket = /^\[\s*(?:(\d+)|\*|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\]/.exec(path.slice(i));
      if (!bracket) fail(i, "[index], [*] or ['name']");
      if (bracket![1] !== undefined) steps.push({ kind: "index", index: Number(bracket![1]) });
      else if (bracket![2] !== undefined || bracket![3] !== undefined) steps.push({ kind: "key", key: (bracket![2] ?? bracket![3]).replace(/\\(.)/g, "$1") });
      else steps.push({ kind: "all" });
      i += bracket![0].length;
    } else {
      fail(i, `unexpected ${JSON.stringify(path[i])}`);
    }
  }
  parsedPaths.set(path, steps);
  return steps;
}

/** The value at `path`, or undefined when the document has nothing there. */
export function evaluatePath(root: unknown, path: unknown): unknown {
  if (typeof path !== "string") throw new MappingTemplateError(`a JSONPath must be a string, got ${JSON.stringify(path)}`);
  let current: unknown[] = [root];
  let many = false;
  for (const step of parsePath(path.trim())) {
    const next: unknown[] = [];
    for (const value of current) {
      if (step.kind === "all") {
        if (Array.isArray(value)) next.push(...value);
        else if (value && typeof value === "object") next.push(...Object.values(value));
      } else if (step.kind === "index") {
        if (Array.isArray(value) && step.index < value.length) next.push(value[step.index]);
      } else if (value && typeof value === "object" && !Array.isArray(value) && Object.hasOwn(value, step.key)) {
        next.push((value as Record<string, unknown>)[step.key]);
      }
    }
    if (step.kind === "all") many = true;
    current = next;
  }
  return many ? current : current[0];
}
