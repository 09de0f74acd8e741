// A Velocity 1.7 renderer for the syntax tree velocityjs parses, with API Gateway's semantics
// rather than JavaScript's: Java values and methods (./values, ./java-methods), `#if` truthiness
// (only null and false are false), `==` as Velocity compares, whole-number arithmetic, `#set` of
// null changing nothing, `#foreach` over a map's values with `$foreach` / `$velocityCount`,
// `#break`, `#stop`, `#macro`, `#define`. Where API Gateway differs from Velocity it follows
// API Gateway: a null or missing reference renders as the empty string, not as its own text
// (recorded on AWS: LocalStack test_input_path_template_formatting). Loops and macro recursion
// are bounded so that no template can hang the gateway or exhaust its memory.
import { MappingTemplateError } from "./errors";
import { callMethod, getIndex, getProperty } from "./java-methods";
import { HostObject, JavaMap, NO_SUCH_METHOD, isTruthy, javaString, velocityCompare, velocityEquals, velocityMath } from "./values";

/** Iterations one rendering may run in all of its loops, and the longest `[a..b]` range. */
const MAX_ITERATIONS = 100_000;
/** Nesting of macro calls. */
const MAX_MACRO_DEPTH = 100;

// The parts of velocityjs's syntax tree this renderer reads (the package does not export them).
export interface Position {
  first_line: number;
  first_column: number;
}
export interface Ast {
  type: string;
  id?: string;
  leader?: string;
  pos?: Position;
  operator?: string;
  expression?: Ast[];
  condition?: Ast;
  from?: Ast;
  to?: string;
  value?: unknown;
  isRange?: boolean;
  isEval?: boolean;
  path?: Ast[];
  args?: Ast[] | false;
  equal?: [Ast, Ast];
}
export type Node = Ast | string | Node[];

export interface Macro {
  params: string[];
  body: Node[];
}

export function where(ast: { pos?: Position }): string {
  return ast.pos ? `line ${ast.pos.first_line}, column ${ast.pos.first_column + 1}: ` : "";
}

/** Velocity directives that need resources a mapping template does not have. */
export const UNSUPPORTED_DIRECTIVES = new Set(["evaluate", "include", "parse"]);

class Stop {}
class Break {}

/** `#define($name)...#end`: a block that renders where `$name` is referenced. */
class DefinedBlock {
  constructor(readonly body: Node[]) {}
}

/** Velocity 1.7's `$foreach`: hasNext, count (from 1), index (from 0), first, last. */
class ForeachScope extends HostObject {
  constructor(
    private readonly index: number,
    private readonly size: number,
  ) {
    super();
  }

  property(name: string): unknown {
    switch (name) {
      case "hasNext":
        return this.index + 1 < this.size;
      case "count":
        return BigInt(this.index + 1);
      case "index":
        return BigInt(this.index);
      case "first":
        return this.index === 0;
      case "last":
        return this.index + 1 === this.size;
      default:
        return undefined;
    }
  }

  call(name: string, args: unknown[]): unknown {
    if (args.length > 0) return NO_SUCH_METHOD;
    const property = name === "hasNext" ? "hasNext" : name.replace(/^(get|is)([A-Z])/, (_, _prefix, c: string) => c.toLowerCase());
    return this.property(property) ?? NO_SUCH_METHOD;
  }
}

export class Renderer {
  private out: string[] = [];
  private readonly frames: Map<string, unknown>[] = [];
  private iterations = 0;
  private macroDepth = 0;

  constructor(
    private readonly globals: Map<string, unknown>,
    private readonly macros: Map<string, Macro>,
    /** Parses the text of a double-quoted string literal for interpolation. */
    private readonly parseString: (text: string) => Node[],
  ) {}

  render(nodes: Node[]): string {
    this.out = [];
    try {
      this.renderNodes(nodes);
    } catch (signal) {
      // `#stop`, and a `#break` outside any loop, end the template.
      if (!(signal instanceof Stop) && !(signal instanceof Break)) throw signal;
    }
    return this.out.join("");
  }

  private renderNodes(nodes: Node[]): void {
    for (const node of nodes) {
      if (typeof node === "string") this.out.push(node);
      else if (Array.isArray(node)) this.renderBlock(node);
      else this.renderDirective(node);
    }
  }

  private renderDirective(ast: Ast): void {
    switch (ast.type) {
      case "references":
        return this.display(this.reference(ast));
      case "set":
        return this.set(ast);
      case "raw":
        this.out.push(String(ast.value));
        return;
      case "comment":
        return;
      case "break":
        throw new Break();
      case "macro_call":
        return this.callMacro(ast);
      default:
        throw new MappingTemplateError(`${where(ast)}#${ast.type} is not emulated by the local cloud`);
    }
  }

  /** A value where the template shows it: null as nothing, anything else as Java's toString. */
  private display(value: unknown): void {
    if (value instanceof DefinedBlock) this.renderNodes(value.body);
    else if (value !== null && value !== undefined) this.out.push(javaString(value));
  }

  private renderBlock(block: Node[]): void {
    const head = block[0] as Ast;
    switch (head.type) {
      case "if":
        return this.renderIf(block);
      case "foreach":
        return this.renderForeach(head, block.slice(1));
      case "define":
        return this.assign(head.id!, new DefinedBlock(block.slice(1)));
      case "macro":
        return; // collected when the template was compiled
      default:
        throw new MappingTemplateError(`${where(head)}#${head.type} is not emulated by the local cloud`);
    }
  }

  private renderIf(block: Node[]): void {
    for (let i = 0; i < block.length; i++) {
      const branch = block[i] as Ast;
      if (typeof branch !== "object" || Array.isArray(branch) || !["if", "elseif", "else"].includes(branch.type)) continue;
      if (branch.type !== "else" && !isTruthy(this.value(branch.condition!))) continue;
      let end = i + 1;
      while (end < block.length && !isBranch(block[end])) end++;
      return this.renderNodes(block.slice(i + 1, end));
    }
  }

  private renderForeach(head: Ast, body: Node[]): void {
    const source = this.value(head.from!);
    // Velocity iterates a list's elements and a map's values; anything else not at all.
    const items = Array.isArray(source) ? [...source] : source instanceof JavaMap ? [...source.values()] : [];
    const frame = new Map<string, unknown>();
    this.frames.push(frame);
    try {
      for (let i = 0; i < items.length; i++) {
        if (++this.iterations > MAX_ITERATIONS) {
          throw new MappingTemplateError(`${where(head)}#foreach ran more than ${MAX_ITERATIONS} iterations in one rendering`);
        }
        frame.set(head.to!, items[i]);
        frame.set("foreach", new ForeachScope(i, items.length));
        frame.set("velocityCount", BigInt(i + 1));
        frame.set("velocityHasNext", i + 1 < items.length);
        try {
          this.renderNodes(body);
        } catch (signal) {
          if (signal instanceof Break) break;
          throw signal;
        }
      }
    } finally {
      this.frames.pop();
    }
  }

  private callMacro(ast: Ast): void {
    const name = ast.id!;
    if (name === "stop") throw new Stop();
    if (UNSUPPORTED_DIRECTIVES.has(name)) throw new MappingTemplateError(`${where(ast)}#${name} is not emulated by the local cloud`);
    const macro = this.macros.get(name);
    if (!macro) throw new MappingTemplateError(`${where(ast)}#${name} is neither a Velocity directive nor a macro of this template`);
    if (this.macroDepth >= MAX_MACRO_DEPTH) throw new MappingTemplateError(`${where(ast)}macro calls nested deeper than ${MAX_MACRO_DEPTH}`);
    const args = (ast.args || []).map((arg) => this.value(arg));
    const frame = new Map<string, unknown>(macro.params.map((param, i) => [param, args[i] ?? null]));
    this.frames.push(frame);
    this.macroDepth++;
    try {
      this.renderNodes(macro.body);
    } finally {
      this.macroDepth--;
      this.frames.pop();
    }
  }

  private variable(name: string): unknown {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i].has(name)) return this.frames[i].get(name);
    return this.globals.get(name) ?? null;
  }

  /** `#set($name = ...)`: a loop or macro variable where one is in scope, the template's otherwise. */
  private assign(name: string, value: unknown): void {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      if (this.frames[i].has(name)) {
        this.frames[i].set(name, value);
        return;
      }
    }
    this.globals.set(name, value);
  }

  private reference(ast: Ast): unknown {
    if (ast.args) throw new MappingTemplateError(`${where(ast)}$${ast.id}(...) calls a method on nothing`);
    let value = this.variable(ast.id!);
    for (const step of ast.path ?? []) {
      if (value === null || value === undefined) return null;
      if (value instanceof DefinedBlock) value = this.capture(value.body);
      value = this.step(value, step);
    }
    return value ?? null;
  }

  private step(value: unknown, step: Ast): unknown {
    if (step.type === "property") return getProperty(value, step.id!);
    if (step.type === "index") return getIndex(value, this.value(step.id as unknown as Ast));
    return callMethod(value, step.id!, (step.args || []).map((arg) => this.value(arg)));
  }

  /** `#set`: Velocity 1.7 leaves the target as it was when the value is null. */
  private set(ast: Ast): void {
    const [target, source] = ast.equal!;
    const value = this.value(source);
    if (value === null || value === undefined) return;
    const path = target.path ?? [];
    if (path.length === 0) return this.assign(target.id!, value);
    let holder = this.variable(target.id!);
    for (const step of path.slice(0, -1)) {
      if (holder === null || holder === undefined) return;
      holder = this.step(holder, step);
    }
    const last = path[path.length - 1];
    if (last.type === "method") throw new MappingTemplateError(`${where(target)}#set cannot assign to a method call`);
    const key = last.type === "property" ? last.id! : this.value(last.id as unknown as Ast);
    if (holder instanceof JavaMap) holder.set(javaString(key), value);
    else if (Array.isArray(holder) && last.type === "index") callMethod(holder, "set", [key, value]);
  }

  /** The value of an expression. */
  private value(ast: Ast): unknown {
    switch (ast.type) {
      case "references":
        return this.reference(ast);
      case "string":
        return ast.isEval ? this.interpolate(String(ast.value)) : String(ast.value);
      case "integer":
        return BigInt(ast.value as string | number);
      case "decimal":
        return Number(ast.value);
      case "bool":
        return ast.value === "true" || ast.value === true;
      case "array":
        return ast.isRange ? this.range(ast) : ((ast.value ?? []) as Ast[]).map((item) => this.value(item));
      case "map":
        return new JavaMap(Object.entries((ast.value ?? {}) as Record<string, Ast>).map(([key, item]) => [key, this.value(item)]));
      case "math":
        return this.math(ast);
      default:
        throw new MappingTemplateError(`${where(ast)}${ast.type} is not emulated by the local cloud`);
    }
  }

  private math(ast: Ast): unknown {
    const [left, right] = ast.expression!;
    switch (ast.operator) {
      case "parenthesis":
        return this.value(left);
      case "not":
        return !isTruthy(this.value(left));
      case "&&":
        return isTruthy(this.value(left)) && isTruthy(this.value(right));
      case "||":
        return isTruthy(this.value(left)) || isTruthy(this.value(right));
      case "==":
        return velocityEquals(this.value(left), this.value(right));
      case "!=":
        return !velocityEquals(this.value(left), this.value(right));
      case "<":
      case ">":
      case "<=":
      case ">=":
        return velocityCompare(ast.operator, this.value(left), this.value(right));
      case "+":
      case "-":
      case "*":
      case "/":
      case "%":
        return velocityMath(ast.operator, this.value(left), this.value(right));
      case "minus": {
        const operand = this.value(left);
        return typeof operand === "bigint" || typeof operand === "number" ? -operand : null;
      }
      default:
        throw new MappingTemplateError(`${where(ast)}the operator ${ast.operator} is not emulated by the local cloud`);
    }
  }

  /** `[a..b]`: whole numbers up or down; a bound that is not a whole number gives nothing. */
  private range(ast: Ast): unknown[] {
    const [from, to] = (ast.value as (string | Ast)[]).map((bound) => (typeof bound === "string" ? BigInt(bound) : this.value(bound)));
    if (typeof from !== "bigint" || typeof to !== "bigint") return [];
    const size = (from > to ? from - to : to - from) + 1n;
    if (size > BigInt(MAX_ITERATIONS)) throw new MappingTemplateError(`${where(ast)}the range [${from}..${to}] has ${size} elements, more than ${MAX_ITERATIONS}`);
    const step = from <= to ? 1n : -1n;
    return Array.from({ length: Number(size) }, (_, i) => from + step * BigInt(i));
  }

  /** A double-quoted string: its references and directives rendered. */
  private interpolate(text: string): string {
    if (!text.includes("$") && !text.includes("#")) return text;
    return this.capture(this.parseString(text));
  }

  private capture(nodes: Node[]): string {
    const outer = this.out;
    this.out = [];
    try {
      this.renderNodes(nodes);
      return this.out.join("");
    } finally {
      this.out = outer;
    }
  }
}

const isBranch = (node: Node) => typeof node === "object" && !Array.isArray(node) && (node.type === "elseif" || node.type === "else");
