// velocityjs's renderer with Velocity 1.7's semantics where they differ from JavaScript's, which
// is what API Gateway runs: `#if` truthiness (only null and false are false), a null value
// rendering as its reference text, `#set` of null changing nothing, `#break` leaving the loop at
// once, `#foreach` scoping its variables (also over a map) and offering `$velocityHasNext`.
// Loops are bounded so that no template can hang the gateway.
import { Compile, Helper } from "velocityjs";
import { MappingTemplateError } from "./errors";

/** Iterations one rendering may run in all of its loops, and the longest `[a..b]` range. */
export const MAX_ITERATIONS = 100_000;

// The parts of velocityjs's AST and renderer this subclass works with (the package does not
// export their types).
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
}
export type Node = Ast | string | Node[];

type Local = Record<string, unknown>;
interface Internals {
  local: Record<string, Local>;
  conditions: string[];
  contextId: string;
  runState: { stop: boolean; break: boolean };
  getBlock(block: Node[]): string;
  getReferences(ast: Ast, isVal?: boolean): unknown;
  getLiteral(ast: Ast): unknown;
  getExpression(ast: Ast): unknown;
  setValue(ast: Ast): void;
  getMacro(ast: Ast): string;
}

const base = Compile.prototype as unknown as Internals & { getArray(ast: Ast): unknown[] };

/** Velocity 1.7: everything but null and false is true, the empty string and 0 included. */
export function isTruthy(value: unknown): boolean {
  return value !== null && value !== undefined && value !== false;
}

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

let loopIds = 0;

// Thrown by the value mapper of `#set` and caught there: Velocity 1.7 leaves the left side of a
// `#set` unchanged when the right side is null (a missing path, an undefined reference).
const NULL_ASSIGNMENT = Symbol("null #set");
const refuseNull = (value: unknown) => {
  if (value === null || value === undefined) throw NULL_ASSIGNMENT;
  return value;
};

export class MappingTemplateRenderer extends Compile {
  private iterations = 0;

  constructor(asts: ConstructorParameters<typeof Compile>[0], config: ConstructorParameters<typeof Compile>[1]) {
    super(asts, { ...config, valueMapper: refuseNull });
  }

  setValue(ast: never): void {
    try {
      base.setValue.call(this, ast);
    } catch (error) {
      if (error !== NULL_ASSIGNMENT) throw error;
    }
  }

  private get internals(): Internals {
    return this as unknown as Internals;
  }

  // Velocity renders a null value the way it renders an undefined one: as the reference's text.
  // (velocityjs declares getReferences and getExpression as returning strings; they return any value.)
  getReferences(ast: Ast, isVal?: boolean): string {
    const value = base.getReferences.call(this, ast, isVal);
    if (!isVal || value !== null) return value as string;
    return this.silence || ast.leader === "$!" ? "" : Helper.getRefText(ast as never);
  }

  getExpression(ast: Ast): string {
    return this.evaluate(ast) as string;
  }

  private evaluate(ast: Ast): unknown {
    const [left, right] = ast.expression ?? [];
    if (ast.type === "math" && ast.operator === "not") return !isTruthy(this.getExpression(left));
    if (ast.type === "math" && ast.operator === "&&") return isTruthy(this.getExpression(left)) && isTruthy(this.getExpression(right));
    if (ast.type === "math" && ast.operator === "||") return isTruthy(this.getExpression(left)) || isTruthy(this.getExpression(right));
    return base.getExpression.call(this, ast);
  }

  getBlockIf(block: Ast[]): string {
    for (let i = 0; i < block.length; i++) {
      const branch = block[i];
      if (branch.type !== "if" && branch.type !== "elseif" && branch.type !== "else") continue;
      if (branch.type !== "else" && !isTruthy(this.getExpression(branch.condition!))) continue;
      let end = i + 1;
      while (end < block.length && !["elseif", "else"].includes(block[end].type)) end++;
      return this.renderAstList(block.slice(i + 1, end) as never, this.internals.contextId);
    }
    return "";
  }

  getBlockEach(block: Node[]): string {
    const ast = block[0] as Ast;
    const from = this.internals.getLiteral({ ...ast.from!, pos: ast.pos });
    // Velocity iterates a map's values.
    const items = Array.isArray(from) ? from : isMap(from) ? Object.values(from) : [];
    const contextId = `foreach:${loopIds++}`;
    const runState = this.internals.runState;
    let out = "";
    for (let i = 0; i < items.length && !runState.break && !runState.stop; i++) {
      this.countIteration(ast);
      const hasNext = i + 1 < items.length;
      this.internals.local[contextId] = {
        [ast.to!]: items[i],
        foreach: { count: i + 1, index: i, hasNext, first: i === 0, last: !hasNext },
        velocityCount: i + 1,
        velocityHasNext: hasNext,
      };
      out += this.renderAstList(block.slice(1) as never, contextId);
    }
    runState.break = false;
    delete this.internals.local[contextId];
    this.internals.conditions = this.internals.conditions.filter((id) => id !== contextId);
    this.internals.contextId = this.internals.conditions[0] ?? "";
    return out;
  }

  // `[a..b]` is checked before velocityjs builds it: a huge range would exhaust the memory.
  getArray(ast: Ast): unknown[] {
    if (ast.isRange) {
      const [begin, end] = (ast.value as (string | Ast)[]).map((bound) => Number(typeof bound === "string" ? bound : this.internals.getReferences(bound)));
      const size = Math.abs(end - begin) + 1;
      if (size > MAX_ITERATIONS) throw new MappingTemplateError(`${where(ast)}the range [${begin}..${end}] has ${size} elements, more than ${MAX_ITERATIONS}`);
    }
    return base.getArray.call(this, ast);
  }

  // velocityjs's own loop goes on after `#break` to the end of the body; Velocity stops there.
  renderAstList(asts?: Node[], contextId?: string): string {
    const internals = this.internals;
    if (contextId) {
      if (contextId !== internals.contextId && !internals.conditions.includes(contextId)) internals.conditions.unshift(contextId);
      internals.contextId = contextId;
    } else {
      internals.contextId = "";
    }
    let out = "";
    for (const ast of asts ?? (this.asts as Node[])) {
      if (internals.runState.stop || internals.runState.break) break;
      if (typeof ast === "string") out += ast;
      else if (Array.isArray(ast)) out += internals.getBlock(ast);
      else if (ast.type === "references") out += renderValue(internals.getReferences(ast, true));
      else if (ast.type === "set") internals.setValue(ast);
      else if (ast.type === "break") internals.runState.break = true;
      else if (ast.type === "macro_call") out += internals.getMacro(ast);
      else if (ast.type === "raw") out += String(ast.value);
      else if (ast.type !== "comment") out += internals.getBlock(ast as never);
    }
    return out;
  }

  private countIteration(ast: Ast): void {
    if (++this.iterations > MAX_ITERATIONS) {
      throw new MappingTemplateError(`${where(ast)}#foreach ran more than ${MAX_ITERATIONS} iterations in one rendering`);
    }
  }
}

export function where(ast: { pos?: Position }): string {
  return ast.pos ? `line ${ast.pos.first_line}, column ${ast.pos.first_column + 1}: ` : "";
}

/** Java's toString of what a template renders: lists as [a, b], maps as {k=v}. */
export function renderValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(renderValue).join(", ")}]`;
  if (isMap(value)) {
    // An object with a toString of its own (a helper's result) renders through it.
    if (Object.hasOwn(value, "toString") || (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)) return String(value);
    return `{${Object.entries(value).map(([k, v]) => `${k}=${renderValue(v)}`).join(", ")}}`;
  }
  return String(value);
}
