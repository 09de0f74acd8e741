// Parser for the Terraform (HCL native syntax) expressions that appear in synthesized JSON:
// string templates with `${...}` interpolations, references, function calls, operators,
// conditionals, tuple/object constructors, for expressions and splats.

export type Expr =
  | { kind: "literal"; value: unknown }
  | { kind: "template"; parts: (string | Expr)[] }
  | { kind: "ref"; root: string }
  | { kind: "attr"; target: Expr; name: string }
  | { kind: "index"; target: Expr; key: Expr }
  | { kind: "splat"; target: Expr; each: Expr | undefined }
  | { kind: "call"; name: string; args: Expr[]; expandLast: boolean }
  | { kind: "tuple"; items: Expr[] }
  | { kind: "object"; items: { key: Expr; value: Expr }[] }
  | { kind: "unary"; op: "!" | "-"; operand: Expr }
  | { kind: "binary"; op: string; left: Expr; right: Expr }
  | { kind: "conditional"; condition: Expr; then: Expr; otherwise: Expr }
  | {
      kind: "for";
      keyVar: string | undefined;
      valueVar: string;
      collection: Expr;
      keyExpr: Expr | undefined;
      valueExpr: Expr;
      condition: Expr | undefined;
      grouping: boolean;
      object: boolean;
    }
  /** The current element inside a splat (`[*].attr`). */
  | { kind: "splatItem" };

export class ExpressionSyntaxError extends Error {
  readonly code = "EXPRESSION_SYNTAX";
  constructor(message: string, readonly source: string, readonly offset: number) {
    super(`${message} at offset ${offset} in ${JSON.stringify(source.length > 200 ? `${source.slice(0, 200)}...` : source)}`);
  }
}

const BINARY_PRECEDENCE: Record<string, number> = {
  "||": 1,
  "&&": 2,
  "==": 3,
  "!=": 3,
  "<": 4,
  ">": 4,
  "<=": 4,
  ">=": 4,
  "+": 5,
  "-": 5,
  "*": 6,
  "/": 6,
  "%": 6,
};

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_-]/;

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  fail(message: string): never {
    throw new ExpressionSyntaxError(message, this.src, this.pos);
  }

  skipSpace() {
    for (;;) {
      const c = this.src[this.pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") this.pos++;
      else if (c === "#" || (c === "/" && this.src[this.pos + 1] === "/")) {
        while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
      } else if (c === "/" && this.src[this.pos + 1] === "*") {
        const end = this.src.indexOf("*/", this.pos + 2);
        if (end < 0) this.fail("unterminated comment");
        this.pos = end + 2;
      } else return;
    }
  }

  peek(text: string): boolean {
    this.skipSpace();
    return this.src.startsWith(text, this.pos);
  }

  eat(text: string): boolean {
    if (!this.peek(text)) return false;
    this.pos += text.length;
    return true;
  }

  expect(text: string) {
    if (!this.eat(text)) this.fail(`expected "${text}"`);
  }

  identifier(): string | undefined {
    this.skipSpace();
    if (!IDENT_START.test(this.src[this.pos] ?? "")) return undefined;
    const start = this.pos;
    while (this.pos < this.src.length && IDENT_CHAR.test(this.src[this.pos])) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** A keyword only when not followed by identifier characters. */
  keyword(word: string): boolean {
    this.skipSpace();
    if (!this.src.startsWith(word, this.pos) || IDENT_CHAR.test(this.src[this.pos + word.length] ?? "")) return false;
    this.pos += word.length;
    return true;
  }

  expression(): Expr {
    const condition = this.binary(0);
    if (this.peek("?")) {
      this.pos++;
      const then = this.expression();
      this.expect(":");
      const otherwise = this.expression();
      return { kind: "conditional", condition, then, otherwise };
    }
    return condition;
  }

  binaryOperator(): string | undefined {
    this.skipSpace();
    for (const op of ["||", "&&", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%"]) {
      if (this.src.startsWith(op, this.pos)) {
        // `=>` belongs to for expressions, `<<` to heredocs: neither is a comparison.
        if ((op === ">" || op === "<") && (this.src[this.pos + 1] === "=" || this.src[this.pos + 1] === op)) continue;
        return op;
      }
    }
    return undefined;
  }

  binary(minPrecedence: number): Expr {
    let left = this.unary();
    for (;;) {
      const op = this.binaryOperator();
      if (!op || BINARY_PRECEDENCE[op] <= minPrecedence) return left;
      this.pos += op.length;
      const right = this.binary(BINARY_PRECEDENCE[op]);
      left = { kind: "binary", op, left, right };
    }
  }

  unary(): Expr {
    if (this.peek("!")) {
      this.pos++;
      return { kind: "unary", op: "!", operand: this.unary() };
    }
    if (this.peek("-")) {
      this.pos++;
      return { kind: "unary", op: "-", operand: this.unary() };
    }
    return this.postfix(this.primary());
  }

  postfix(target: Expr): Expr {
    for (;;) {
      this.skipSpace();
      if (this.src.startsWith(".*", this.pos)) {
        this.pos += 2;
        target = { kind: "splat", target, each: this.splatTail(false) };
      } else if (this.src.startsWith("[*]", this.pos)) {
        this.pos += 3;
        target = { kind: "splat", target, each: this.splatTail(true) };
      } else if (this.src[this.pos] === "." && /[0-9]/.test(this.src[this.pos + 1] ?? "")) {
        this.pos++;
        const start = this.pos;
        while (/[0-9]/.test(this.src[this.pos] ?? "")) this.pos++;
        target = { kind: "index", target, key: { kind: "literal", value: Number(this.src.slice(start, this.pos)) } };
      } else if (this.src[this.pos] === "." && IDENT_START.test(this.src[this.pos + 1] ?? "")) {
        this.pos++;
        target = { kind: "attr", target, name: this.identifier()! };
      } else if (this.src[this.pos] === "[") {
        this.pos++;
        const key = this.expression();
        this.expect("]");
        target = { kind: "index", target, key };
      } else return target;
    }
  }

  /** Attribute and (for full splats) index steps applied to each element of a splat. */
  splatTail(full: boolean): Expr | undefined {
    let each: Expr = { kind: "splatItem" };
    let any = false;
    for (;;) {
      this.skipSpace();
      if (this.src[this.pos] === "." && IDENT_START.test(this.src[this.pos + 1] ?? "")) {
        this.pos++;
        each = { kind: "attr", target: each, name: this.identifier()! };
      } else if (full && this.src[this.pos] === "[" && this.src[this.pos + 1] !== "*") {
        this.pos++;
        const key = this.expression();
        this.expect("]");
        each = { kind: "index", target: each, key };
      } else return any ? each : undefined;
      any = true;
    }
  }

  primary(): Expr {
    this.skipSpace();
    const c = this.src[this.pos];
    if (c === undefined) this.fail("unexpected end of expression");
    if (c === "(") {
      this.pos++;
      const inner = this.expression();
      this.expect(")");
      return inner;
    }
    if (c === '"') return this.quotedTemplate();
    if (/[0-9]/.test(c)) return this.number();
    if (c === "[") return this.tupleOrFor();
    if (c === "{") return this.objectOrFor();
    if (this.src.startsWith("<<", this.pos)) return this.heredoc();
    const name = this.identifier();
    if (!name) this.fail(`unexpected "${c}"`);
    if (name === "true") return { kind: "literal", value: true };
    if (name === "false") return { kind: "literal", value: false };
    if (name === "null") return { kind: "literal", value: null };
    if (this.peek("(")) {
      this.pos++;
      const args: Expr[] = [];
      let expandLast = false;
      while (!this.peek(")")) {
        args.push(this.expression());
        if (this.eat("...")) expandLast = true;
        if (!this.eat(",")) break;
      }
      this.expect(")");
      return { kind: "call", name: name.includes("::") ? name.split("::").pop()! : name, args, expandLast };
    }
    return { kind: "ref", root: name };
  }

  number(): Expr {
    const match = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.src.slice(this.pos))!;
    this.pos += match[0].length;
    return { kind: "literal", value: Number(match[0]) };
  }

  tupleOrFor(): Expr {
    this.expect("[");
    if (this.keyword("for")) return this.forRest(false);
    const items: Expr[] = [];
    while (!this.peek("]")) {
      items.push(this.expression());
      if (!this.eat(",")) break;
    }
    this.expect("]");
    return { kind: "tuple", items };
  }

  objectOrFor(): Expr {
    this.expect("{");
    if (this.keyword("for")) return this.forRest(true);
    const items: { key: Expr; value: Expr }[] = [];
    while (!this.peek("}")) {
      const keyStart = this.pos;
      let key: Expr;
      const ident = this.identifier();
      if (ident && (this.peek("=") || this.peek(":")) && !this.peek("==")) key = { kind: "literal", value: ident };
      else {
        this.pos = keyStart;
        key = this.expression();
      }
      if (!this.eat("=") && !this.eat(":")) this.fail('expected "=" or ":" in object');
      items.push({ key, value: this.expression() });
      if (!this.eat(",")) this.skipSpace();
    }
    this.expect("}");
    return { kind: "object", items };
  }

  forRest(object: boolean): Expr {
    const first = this.identifier() ?? this.fail("expected a variable name after for");
    let keyVar: string | undefined;
    let valueVar = first;
    if (this.eat(",")) {
      keyVar = first;
      valueVar = this.identifier() ?? this.fail("expected a second variable name");
    }
    if (!this.keyword("in")) this.fail('expected "in"');
    const collection = this.expression();
    this.expect(":");
    let keyExpr: Expr | undefined;
    let valueExpr = this.expression();
    if (object) {
      this.expect("=>");
      keyExpr = valueExpr;
      valueExpr = this.expression();
    }
    const grouping = object && this.eat("...");
    let condition: Expr | undefined;
    if (this.keyword("if")) condition = this.expression();
    this.expect(object ? "}" : "]");
    return { kind: "for", keyVar, valueVar, collection, keyExpr, valueExpr, condition, grouping, object };
  }

  heredoc(): Expr {
    const match = /^<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n/.exec(this.src.slice(this.pos));
    if (!match) this.fail("malformed heredoc");
    this.pos += match[0].length;
    const end = new RegExp(`^[ \\t]*${match[2]}[ \\t]*$`, "m");
    const rest = this.src.slice(this.pos);
    const found = end.exec(rest);
    if (!found) this.fail(`heredoc ${match[2]} is not terminated`);
    let body = rest.slice(0, found.index);
    this.pos += found.index + found[0].length;
    if (match[1] === "-") {
      const lines = body.split("\n");
      const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length));
      body = lines.map((l) => l.slice(indent)).join("\n");
    }
    return parseTemplateText(body, this.src);
  }

  /** A quoted string inside an expression: itself a template, with escapes. */
  quotedTemplate(): Expr {
    this.pos++; // opening quote
    const parts: (string | Expr)[] = [];
    let text = "";
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) this.fail("unterminated string");
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === "\\") {
        text += this.escape();
        continue;
      }
      if ((c === "$" || c === "%") && this.src[this.pos + 1] === c && this.src[this.pos + 2] === "{") {
        text += `${c}{`;
        this.pos += 3;
        continue;
      }
      if ((c === "$" || c === "%") && this.src[this.pos + 1] === "{") {
        if (c === "%") this.fail("template directives (%{...}) are not supported");
        if (text) parts.push(text);
        text = "";
        this.pos += 2;
        parts.push(this.expression());
        this.skipStrip();
        this.expect("}");
        continue;
      }
      text += c;
      this.pos++;
    }
    if (text || parts.length === 0) parts.push(text);
    return simplifyTemplate(parts);
  }

  skipStrip() {
    this.eat("~");
  }

  escape(): string {
    const next = this.src[this.pos + 1];
    this.pos += 2;
    switch (next) {
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case '"':
        return '"';
      case "\\":
        return "\\";
      case "u": {
        const hex = this.src.slice(this.pos, this.pos + 4);
        this.pos += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      case "U": {
        const hex = this.src.slice(this.pos, this.pos + 8);
        this.pos += 8;
        return String.fromCodePoint(parseInt(hex, 16));
      }
      default:
        return this.fail(`unknown escape "\\${next}"`);
    }
  }
}

function simplifyTemplate(parts: (string | Expr)[]): Expr {
  if (parts.length === 1 && typeof parts[0] === "string") return { kind: "literal", value: parts[0] };
  return { kind: "template", parts };
}

/**
 * A string value from the JSON configuration: literal text with `${...}` interpolations
 * (`$${` is a literal `${`). JSON already decoded its escapes.
 */
function parseTemplateText(text: string, source = text): Expr {
  const parts: (string | Expr)[] = [];
  let literal = "";
  let pos = 0;
  while (pos < text.length) {
    const c = text[pos];
    if ((c === "$" || c === "%") && text[pos + 1] === c && text[pos + 2] === "{") {
      literal += `${c}{`;
      pos += 3;
      continue;
    }
    if ((c === "$" || c === "%") && text[pos + 1] === "{") {
      if (c === "%") throw new ExpressionSyntaxError("template directives (%{...}) are not supported", source, pos);
      if (literal) parts.push(literal);
      literal = "";
      const parser = new Parser(text);
      parser.pos = pos + 2;
      parser.eat("~");
      parts.push(parser.expression());
      parser.eat("~");
      parser.expect("}");
      pos = parser.pos;
      continue;
    }
    literal += c;
    pos++;
  }
  if (literal || parts.length === 0) parts.push(literal);
  return simplifyTemplate(parts);
}

const cache = new Map<string, Expr>();

/** Parses a string from the Terraform JSON configuration (cached: configurations repeat strings). */
export function parseTemplate(text: string): Expr {
  let parsed = cache.get(text);
  if (!parsed) {
    parsed = parseTemplateText(text);
    cache.set(text, parsed);
  }
  return parsed;
}

/** Parses a bare expression (as in `depends_on` entries or `-var` values). */
export function parseExpression(text: string): Expr {
  const parser = new Parser(text);
  const expr = parser.expression();
  parser.skipSpace();
  if (parser.pos !== text.length) parser.fail("unexpected text after expression");
  return expr;
}
