// Evaluates parsed Terraform expressions against the values the deployer has computed so far,
// with Terraform's semantics where they differ from JavaScript's (string conversion of numbers
// and booleans in templates, a template of one interpolation keeping its type, sorted keys).
import { FUNCTIONS } from "./functions";
import { parseTemplate, type Expr } from "./parser";
import { ExpressionError, isObject, toTerraformString } from "./values";

export { ExpressionError, isObject, toTerraformString };

/** Where references resolve: the deployer's view of one module's values. */
export interface Scope {
  /** Value of a root name: `local`, `var`, `data`, `terraform`, `each`, `count`, or a resource type. */
  root(name: string): unknown;
}

function truthy(value: unknown, what: string): boolean {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ExpressionError(`${what} must be a bool, got ${JSON.stringify(value)}`);
}

function toNumber(value: unknown, what: string): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || Number.isNaN(n)) throw new ExpressionError(`${what} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

function describePath(expr: Expr): string {
  switch (expr.kind) {
    case "ref":
      return expr.root;
    case "attr":
      return `${describePath(expr.target)}.${expr.name}`;
    case "index":
      return `${describePath(expr.target)}[${expr.key.kind === "literal" ? JSON.stringify(expr.key.value) : "..."}]`;
    default:
      return expr.kind;
  }
}

function getAttribute(target: unknown, name: string, expr: Expr): unknown {
  if (isObject(target)) {
    if (!(name in target)) throw new ExpressionError(`${describePath(expr)}: this object does not have an attribute named "${name}"`);
    return target[name];
  }
  if (target === null || target === undefined) throw new ExpressionError(`${describePath(expr)}: attempt to get attribute "${name}" from a null value`);
  throw new ExpressionError(`${describePath(expr)}: cannot get attribute "${name}" of a ${Array.isArray(target) ? "list" : typeof target}`);
}

function getIndex(target: unknown, key: unknown, expr: Expr): unknown {
  if (Array.isArray(target)) {
    const index = toNumber(key, "index");
    if (!Number.isInteger(index) || index < 0 || index >= target.length) {
      throw new ExpressionError(`${describePath(expr)}: index ${index} is out of range for a list of ${target.length}`);
    }
    return target[index];
  }
  if (isObject(target)) {
    const name = toTerraformString(key, "key");
    if (!(name in target)) {
      throw new ExpressionError(`${describePath(expr)}: the given key "${name}" does not identify an element (keys: ${Object.keys(target).join(", ")})`);
    }
    return target[name];
  }
  throw new ExpressionError(`${describePath(expr)}: cannot index a ${target === null ? "null value" : typeof target}`);
}

class Evaluator {
  constructor(
    readonly scope: Scope,
    readonly locals: Map<string, unknown> = new Map(),
    readonly splatItem: unknown = undefined,
  ) {}

  with(name: string, value: unknown): Evaluator {
    const locals = new Map(this.locals);
    locals.set(name, value);
    return new Evaluator(this.scope, locals, this.splatItem);
  }

  eval(expr: Expr): unknown {
    switch (expr.kind) {
      case "literal":
        return expr.value;
      case "template": {
        if (expr.parts.length === 1 && typeof expr.parts[0] !== "string") return this.eval(expr.parts[0]);
        return expr.parts.map((p) => (typeof p === "string" ? p : toTerraformString(this.eval(p), "interpolated value"))).join("");
      }
      case "ref":
        return this.locals.has(expr.root) ? this.locals.get(expr.root) : this.scope.root(expr.root);
      case "attr":
        return getAttribute(this.eval(expr.target), expr.name, expr);
      case "index":
        return getIndex(this.eval(expr.target), this.eval(expr.key), expr);
      case "splatItem":
        return this.splatItem;
      case "splat": {
        const target = this.eval(expr.target);
        const items = target === null || target === undefined ? [] : Array.isArray(target) ? target : [target];
        return expr.each ? items.map((item) => new Evaluator(this.scope, this.locals, item).eval(expr.each!)) : items;
      }
      case "call": {
        const fn = FUNCTIONS[expr.name];
        if (!fn) throw new ExpressionError(`call to unknown function "${expr.name}"`);
        if (expr.name === "try" || expr.name === "can") return fn(...expr.args.map((a) => () => this.eval(a)));
        let args = expr.args.map((a) => this.eval(a));
        if (expr.expandLast) {
          const last = args.pop();
          if (!Array.isArray(last)) throw new ExpressionError(`"${expr.name}(...)": the expanded argument must be a list`);
          args = [...args, ...last];
        }
        try {
          return fn(...args);
        } catch (error) {
          if (error instanceof ExpressionError) throw new ExpressionError(`call to function "${expr.name}" failed: ${error.message}`);
          throw error;
        }
      }
      case "tuple":
        return expr.items.map((i) => this.eval(i));
      case "object": {
        const entries = expr.items.map(({ key, value }) => [toTerraformString(this.eval(key), "object key"), this.eval(value)] as const);
        return Object.fromEntries(entries);
      }
      case "unary": {
        const operand = this.eval(expr.operand);
        return expr.op === "!" ? !truthy(operand, "operand of !") : -toNumber(operand, "operand of -");
      }
      case "binary":
        return this.binary(expr);
      case "conditional":
        return truthy(this.eval(expr.condition), "condition") ? this.eval(expr.then) : this.eval(expr.otherwise);
      case "for":
        return this.forExpression(expr);
    }
  }

  binary(expr: Extract<Expr, { kind: "binary" }>): unknown {
    if (expr.op === "&&") return truthy(this.eval(expr.left), "left of &&") && truthy(this.eval(expr.right), "right of &&");
    if (expr.op === "||") return truthy(this.eval(expr.left), "left of ||") || truthy(this.eval(expr.right), "right of ||");
    const left = this.eval(expr.left);
    const right = this.eval(expr.right);
    switch (expr.op) {
      case "==":
        return JSON.stringify(left) === JSON.stringify(right);
      case "!=":
        return JSON.stringify(left) !== JSON.stringify(right);
    }
    const a = toNumber(left, `left of ${expr.op}`);
    const b = toNumber(right, `right of ${expr.op}`);
    switch (expr.op) {
      case "<":
        return a < b;
      case ">":
        return a > b;
      case "<=":
        return a <= b;
      case ">=":
        return a >= b;
      case "+":
        return a + b;
      case "-":
        return a - b;
      case "*":
        return a * b;
      case "/":
        return a / b;
      case "%":
        return a % b;
    }
    throw new ExpressionError(`unknown operator ${expr.op}`);
  }

  forExpression(expr: Extract<Expr, { kind: "for" }>): unknown {
    const collection = this.eval(expr.collection);
    const pairs: [unknown, unknown][] = Array.isArray(collection)
      ? collection.map((v, i) => [i, v])
      : isObject(collection)
        ? Object.keys(collection).sort().map((k) => [k, collection[k]])
        : (() => {
            throw new ExpressionError("for expression over a value that is neither a list nor an object");
          })();
    const results: [string, unknown][] = [];
    const list: unknown[] = [];
    for (const [key, value] of pairs) {
      let scope = this.with(expr.valueVar, value);
      if (expr.keyVar) scope = scope.with(expr.keyVar, key);
      if (expr.condition && !truthy(scope.eval(expr.condition), "for condition")) continue;
      if (expr.object) results.push([toTerraformString(scope.eval(expr.keyExpr!), "for key"), scope.eval(expr.valueExpr)]);
      else list.push(scope.eval(expr.valueExpr));
    }
    if (!expr.object) return list;
    const object: Record<string, unknown> = {};
    for (const [key, value] of results) {
      if (expr.grouping) ((object[key] ??= []) as unknown[]).push(value);
      else if (key in object) throw new ExpressionError(`for expression produced the key "${key}" twice`);
      else object[key] = value;
    }
    return object;
  }
}

export function evaluateExpression(expr: Expr, scope: Scope): unknown {
  return new Evaluator(scope).eval(expr);
}

/** Evaluates every string in a JSON configuration value as a template, recursively. */
export function evaluateConfig(value: unknown, scope: Scope): unknown {
  if (typeof value === "string") return evaluateExpression(parseTemplate(value), scope);
  if (Array.isArray(value)) return value.map((v) => evaluateConfig(v, scope));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (key !== "//") out[key] = evaluateConfig(v, scope);
    return out;
  }
  return value;
}

/** References an expression makes, as `type.name`, `data.type.name`, `local.x`, `var.x`. */
export function references(expr: Expr, found: Set<string> = new Set()): Set<string> {
  const chain = (e: Expr): string[] | undefined => {
    if (e.kind === "ref") return [e.root];
    if (e.kind === "attr") {
      const inner = chain(e.target);
      return inner ? [...inner, e.name] : undefined;
    }
    if (e.kind === "index") {
      const inner = chain(e.target);
      return inner && e.key.kind === "literal" && typeof e.key.value === "string" ? [...inner, e.key.value] : inner;
    }
    return undefined;
  };
  const indexKeys = (e: Expr): Expr[] =>
    e.kind === "attr" ? indexKeys(e.target) : e.kind === "index" ? [e.key, ...indexKeys(e.target)] : [];
  const walk = (e: Expr) => {
    const parts = e.kind === "attr" || e.kind === "ref" || e.kind === "index" ? chain(e) : undefined;
    if (!parts) {
      for (const child of children(e)) walk(child);
      return;
    }
    const [root] = parts;
    const depth = root === "data" ? 3 : root === "terraform" || root === "each" || root === "count" ? 0 : 2;
    if (depth > 0) found.add(parts.slice(0, depth).join("."));
    for (const key of indexKeys(e)) walk(key);
  };
  walk(expr);
  return found;
}

function children(e: Expr): Expr[] {
  switch (e.kind) {
    case "template":
      return e.parts.filter((p): p is Expr => typeof p !== "string");
    case "attr":
      return [e.target];
    case "index":
      return [e.target, e.key];
    case "splat":
      return e.each ? [e.target, e.each] : [e.target];
    case "call":
      return e.args;
    case "tuple":
      return e.items;
    case "object":
      return e.items.flatMap((i) => [i.key, i.value]);
    case "unary":
      return [e.operand];
    case "binary":
      return [e.left, e.right];
    case "conditional":
      return [e.condition, e.then, e.otherwise];
    case "for":
      return [e.collection, e.valueExpr, ...(e.keyExpr ? [e.keyExpr] : []), ...(e.condition ? [e.condition] : [])];
    default:
      return [];
  }
}

/** References made anywhere in a JSON configuration value. */
export function configReferences(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (typeof value === "string") references(parseTemplate(value), found);
  else if (Array.isArray(value)) for (const v of value) configReferences(v, found);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) if (k !== "//") configReferences(v, found);
  return found;
}
