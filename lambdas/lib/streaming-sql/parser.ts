// A recursive-descent parser for the Kinesis Analytics SQL dialect: one method per grammar
// rule, in the order the rules nest. Constructs of the dialect this runtime does not run (CASE,
// OVER windows, outer joins, ...) are recognised and refused by name, so that the error says
// what is unsupported rather than "unexpected token".
import type { BinaryOperator, ColumnDefinition, Expr, FromItem, Identifier, Query, SelectItem, Statement } from "./ast";
import { SqlError, type SourcePosition } from "./errors";
import { tokenize, type Token } from "./lexer";
import { TIME_UNITS, UNIT_MS, type SqlType, type TimeUnit, type TypeName } from "./types";

/** Keywords that cannot be used unquoted as names. */
const RESERVED = new Set([
  "AND", "AS", "BY", "CASE", "CAST", "CREATE", "CURSOR", "FROM", "GROUP", "HAVING", "INSERT", "INTERVAL", "INTO",
  "IS", "JOIN", "NOT", "NULL", "ON", "OR", "ORDER", "OVER", "PUMP", "SELECT", "STREAM", "TABLE", "TIMESTAMP",
  "TO", "UNION", "WHERE", "WINDOW", "TRUE", "FALSE", "LIMIT", "LEFT", "RIGHT", "FULL", "INNER", "OUTER", "CROSS",
]);

/** Clauses after FROM / WHERE / GROUP BY that this runtime does not run. */
const UNSUPPORTED_CLAUSES: Record<string, string> = {
  HAVING: "HAVING clause",
  WINDOW: "WINDOW clause (sliding windows)",
  ORDER: "ORDER BY",
  UNION: "UNION",
  LIMIT: "LIMIT",
  EXCEPT: "EXCEPT",
  INTERSECT: "INTERSECT",
};

const SIMPLE_TYPES: Record<string, TypeName> = {
  DOUBLE: "DOUBLE",
  FLOAT: "DOUBLE",
  REAL: "REAL",
  BIGINT: "BIGINT",
  INTEGER: "INTEGER",
  INT: "INTEGER",
  SMALLINT: "SMALLINT",
  TINYINT: "TINYINT",
  BOOLEAN: "BOOLEAN",
  TIMESTAMP: "TIMESTAMP",
};

export function parse(sql: string): Statement[] {
  return new Parser(tokenize(sql)).script();
}

/** Parses a column type such as `VARCHAR(32)` (input schemas use the same type syntax as SQL). */
export function parseType(text: string): SqlType {
  const parser = new Parser(tokenize(text));
  const type = parser.type();
  parser.expectEnd("type");
  return type;
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  script(): Statement[] {
    const statements: Statement[] = [];
    for (;;) {
      while (this.acceptSymbol(";"));
      if (this.peek().kind === "end") return statements;
      statements.push(this.statement());
      if (this.peek().kind !== "end") this.expectSymbol(";", "end of statement");
    }
  }

  expectEnd(construct: string): void {
    const token = this.peek();
    if (token.kind !== "end") throw this.error("SQL_SYNTAX", construct, `unexpected ${describe(token)}`, token);
  }

  private statement(): Statement {
    const start = this.peek();
    if (!this.isWord("CREATE")) {
      throw this.error("SQL_UNSUPPORTED", `${describe(start)} statement`, "an application is made of CREATE OR REPLACE STREAM and CREATE OR REPLACE PUMP statements", start);
    }
    this.next();
    if (this.acceptWord("OR")) this.expectWord("REPLACE", "CREATE OR REPLACE");
    const what = this.peek();
    if (this.acceptWord("STREAM")) return this.createStream(start);
    if (this.acceptWord("PUMP")) return this.createPump(start);
    throw this.error("SQL_UNSUPPORTED", `CREATE ${what.value}`, "only STREAM and PUMP can be created", what);
  }

  private createStream(start: Token): Statement {
    const name = this.identifier("stream name");
    this.expectSymbol("(", "column list of CREATE STREAM");
    const columns: ColumnDefinition[] = [];
    do {
      const column = this.identifier("column name");
      columns.push({ name: column, type: this.type(), position: column.position });
    } while (this.acceptSymbol(","));
    this.expectSymbol(")", "column list of CREATE STREAM");
    return { kind: "createStream", name, columns, position: at(start) };
  }

  private createPump(start: Token): Statement {
    const name = this.identifier("pump name");
    this.expectWord("STARTED", "CREATE PUMP ... STARTED AS");
    this.expectWord("AS", "CREATE PUMP ... STARTED AS");
    this.expectWord("INSERT", "pump body (INSERT INTO ... SELECT STREAM ...)");
    this.expectWord("INTO", "INSERT INTO");
    const target = this.identifier("target stream name");
    let columns: Identifier[] | undefined;
    if (this.acceptSymbol("(")) {
      columns = [];
      do columns.push(this.identifier("column name"));
      while (this.acceptSymbol(","));
      this.expectSymbol(")", "INSERT column list");
    }
    return { kind: "createPump", name, target, columns, query: this.query(), position: at(start) };
  }

  private query(): Query {
    const start = this.peek();
    this.expectWord("SELECT", "query");
    if (!this.acceptWord("STREAM")) {
      const token = this.peek();
      if (this.isWord("DISTINCT")) throw this.error("SQL_UNSUPPORTED", "SELECT DISTINCT", "not supported on streams", token);
      throw this.error("SQL_INVALID", "SELECT without STREAM", "a pump reads streams: write SELECT STREAM", token);
    }
    const items: SelectItem[] = [];
    do items.push(this.selectItem());
    while (this.acceptSymbol(","));

    this.expectWord("FROM", "SELECT STREAM ... FROM");
    const from = [this.fromItem()];
    let joinCondition: Expr | undefined;
    for (;;) {
      if (this.acceptSymbol(",")) {
        from.push(this.fromItem());
        continue;
      }
      const token = this.peek();
      if (["LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "NATURAL"].includes(token.kind === "word" ? token.value : "")) {
        throw this.error("SQL_UNSUPPORTED", `${token.value} JOIN`, "only inner stream-to-stream joins on ROWTIME are supported", token);
      }
      if (this.acceptWord("INNER") || this.isWord("JOIN")) {
        this.expectWord("JOIN", "INNER JOIN");
        from.push(this.fromItem());
        this.expectWord("ON", "JOIN ... ON");
        const condition = this.expression();
        joinCondition = joinCondition ? and(joinCondition, condition) : condition;
        continue;
      }
      break;
    }
    const where = this.acceptWord("WHERE") ? this.expression() : undefined;
    const groupBy: Expr[] = [];
    if (this.acceptWord("GROUP")) {
      this.expectWord("BY", "GROUP BY");
      do groupBy.push(this.expression());
      while (this.acceptSymbol(","));
    }
    const next = this.peek();
    if (next.kind === "word" && UNSUPPORTED_CLAUSES[next.value]) {
      throw this.error("SQL_UNSUPPORTED", UNSUPPORTED_CLAUSES[next.value], "not supported by this runtime", next);
    }
    return { items, from, joinCondition, where, groupBy, position: at(start) };
  }

  private selectItem(): SelectItem {
    const start = this.peek();
    if (this.acceptSymbol("*")) return { kind: "all", position: at(start) };
    // qualifier.*
    if ((start.kind === "word" || start.kind === "quoted") && this.peekAt(1).value === "." && this.peekAt(2).value === "*") {
      const qualifier = this.identifier("stream name");
      this.next();
      this.next();
      return { kind: "all", qualifier, position: at(start) };
    }
    const expr = this.expression();
    let alias: Identifier | undefined;
    if (this.acceptWord("AS")) alias = this.identifier("column alias");
    else if (this.peek().kind === "quoted" || (this.peek().kind === "word" && !RESERVED.has(this.peek().value))) {
      alias = this.identifier("column alias");
    }
    return { kind: "expr", expr, alias, position: at(start) };
  }

  private fromItem(): FromItem {
    const start = this.peek();
    if (this.isSymbol("(")) throw this.error("SQL_UNSUPPORTED", "subquery in FROM", "read from a stream, or from TABLE(RANDOM_CUT_FOREST(CURSOR(...)))", start);
    if (this.acceptWord("TABLE")) {
      this.expectSymbol("(", "TABLE(...)");
      const fn = this.peek();
      if (!this.acceptWord("RANDOM_CUT_FOREST")) {
        throw this.error("SQL_UNSUPPORTED", `table function ${describe(fn)}`, "the only table function is RANDOM_CUT_FOREST", fn);
      }
      this.expectSymbol("(", "RANDOM_CUT_FOREST(...)");
      this.expectWord("CURSOR", "RANDOM_CUT_FOREST(CURSOR(SELECT STREAM ...), ...)");
      this.expectSymbol("(", "CURSOR(...)");
      const cursor = this.query();
      this.expectSymbol(")", "CURSOR(...)");
      const args: { value: number; exact: boolean; position: SourcePosition }[] = [];
      while (this.acceptSymbol(",")) {
        const token = this.peek();
        const negative = this.acceptSymbol("-");
        const number = this.next();
        if (number.kind !== "number") throw this.error("SQL_SYNTAX", "RANDOM_CUT_FOREST argument", `expected a number, found ${describe(number)}`, number);
        args.push({ value: (negative ? -1 : 1) * Number(number.value), exact: /^\d+$/.test(number.value), position: at(token) });
      }
      this.expectSymbol(")", "RANDOM_CUT_FOREST(...)");
      this.expectSymbol(")", "TABLE(...)");
      return { kind: "randomCutForest", cursor, args, alias: this.alias(), position: at(start) };
    }
    const name = this.identifier("stream name");
    return { kind: "stream", name, alias: this.alias(), position: at(start) };
  }

  private alias(): Identifier | undefined {
    if (this.acceptWord("AS")) return this.identifier("alias");
    const token = this.peek();
    if (token.kind === "quoted" || (token.kind === "word" && !RESERVED.has(token.value) && !(token.value in UNSUPPORTED_CLAUSES) && !["NATURAL"].includes(token.value))) {
      return this.identifier("alias");
    }
    return undefined;
  }

  type(): SqlType {
    const token = this.next();
    if (token.kind !== "word") throw this.error("SQL_SYNTAX", "column type", `expected a type, found ${describe(token)}`, token);
    if (token.value === "VARCHAR" || token.value === "CHAR") {
      this.expectSymbol("(", `${token.value}(length)`);
      const length = this.next();
      if (length.kind !== "number" || !/^\d+$/.test(length.value) || Number(length.value) < 1) {
        throw this.error("SQL_SYNTAX", `${token.value}(length)`, `the length must be a positive integer, found ${describe(length)}`, length);
      }
      this.expectSymbol(")", `${token.value}(length)`);
      return { name: token.value, length: Number(length.value) };
    }
    const name = SIMPLE_TYPES[token.value];
    if (!name) {
      const supported = "DOUBLE, REAL, FLOAT, BIGINT, INTEGER, SMALLINT, TINYINT, BOOLEAN, TIMESTAMP, VARCHAR(n), CHAR(n)";
      throw this.error("SQL_UNSUPPORTED", `type ${token.value}`, `supported types: ${supported}`, token);
    }
    if (token.value === "DOUBLE") this.acceptWord("PRECISION");
    return { name };
  }

  // Expressions, loosest binding first.

  private expression(): Expr {
    let left = this.conjunction();
    while (this.isWord("OR")) {
      const token = this.next();
      left = { kind: "binary", operator: "OR", left, right: this.conjunction(), position: at(token) };
    }
    return left;
  }

  private conjunction(): Expr {
    let left = this.negation();
    while (this.isWord("AND")) {
      const token = this.next();
      left = { kind: "binary", operator: "AND", left, right: this.negation(), position: at(token) };
    }
    return left;
  }

  private negation(): Expr {
    const token = this.peek();
    if (this.acceptWord("NOT")) return { kind: "unary", operator: "NOT", operand: this.negation(), position: at(token) };
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.additive();
    const token = this.peek();
    if (token.kind === "symbol" && ["=", "<>", "!=", "<", "<=", ">", ">="].includes(token.value)) {
      this.next();
      const operator = (token.value === "!=" ? "<>" : token.value) as BinaryOperator;
      return { kind: "binary", operator, left, right: this.additive(), position: at(token) };
    }
    if (this.acceptWord("IS")) {
      const negated = this.acceptWord("NOT");
      this.expectWord("NULL", "IS [NOT] NULL");
      return { kind: "isNull", negated, operand: left, position: at(token) };
    }
    const predicate = this.isWord("NOT") ? this.peekAt(1) : token;
    if (predicate.kind === "word" && ["IN", "LIKE", "BETWEEN", "SIMILAR"].includes(predicate.value)) {
      throw this.error("SQL_UNSUPPORTED", `${predicate.value} predicate`, "not supported by this runtime", predicate);
    }
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const token = this.peek();
      if (!(token.kind === "symbol" && (token.value === "+" || token.value === "-" || token.value === "||"))) return left;
      this.next();
      left = { kind: "binary", operator: token.value as BinaryOperator, left, right: this.multiplicative(), position: at(token) };
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const token = this.peek();
      if (!(token.kind === "symbol" && (token.value === "*" || token.value === "/"))) return left;
      this.next();
      left = { kind: "binary", operator: token.value as BinaryOperator, left, right: this.unary(), position: at(token) };
    }
  }

  private unary(): Expr {
    const token = this.peek();
    if (this.acceptSymbol("-")) return { kind: "unary", operator: "-", operand: this.unary(), position: at(token) };
    if (this.acceptSymbol("+")) return this.unary();
    return this.primary();
  }

  private primary(): Expr {
    const token = this.next();
    const position = at(token);
    switch (token.kind) {
      case "number":
        return { kind: "number", value: Number(token.value), exact: /^\d+$/.test(token.value), position };
      case "string":
        return { kind: "string", value: token.value, position };
      case "quoted":
        return this.columnReference(token);
      case "symbol":
        if (token.value === "(") {
          if (this.isWord("SELECT")) throw this.error("SQL_UNSUPPORTED", "subquery", "scalar subqueries are not supported", this.peek());
          const inner = this.expression();
          this.expectSymbol(")", "parenthesized expression");
          const unit = this.timeUnit();
          return unit ? { kind: "intervalOf", operand: inner, unit, position } : inner;
        }
        throw this.error("SQL_SYNTAX", "expression", `unexpected ${describe(token)}`, token);
      case "end":
        throw this.error("SQL_SYNTAX", "expression", "the statement ends where an expression was expected", token);
    }
    switch (token.value) {
      case "TRUE":
      case "FALSE":
        return { kind: "boolean", value: token.value === "TRUE", position };
      case "NULL":
        return { kind: "null", position };
      case "TIMESTAMP":
        return { kind: "timestamp", value: this.timestampLiteral(), position };
      case "INTERVAL":
        return { kind: "interval", value: this.intervalLiteral(), position };
      case "CASE":
        throw this.error("SQL_UNSUPPORTED", "CASE expression", "not supported by this runtime", token);
      case "EXISTS":
        throw this.error("SQL_UNSUPPORTED", "EXISTS", "subqueries are not supported", token);
      case "CAST": {
        this.expectSymbol("(", "CAST(value AS type)");
        const operand = this.expression();
        this.expectWord("AS", "CAST(value AS type)");
        const type = this.type();
        this.expectSymbol(")", "CAST(value AS type)");
        return { kind: "cast", operand, type, position };
      }
      case "FLOOR":
      case "CEIL":
      case "CEILING": {
        if (!this.isSymbol("(")) break;
        this.next();
        const operand = this.expression();
        let unit: TimeUnit | undefined;
        if (this.acceptWord("TO")) {
          unit = this.timeUnit();
          if (!unit) throw this.unitError(`${token.value}(... TO unit)`);
        }
        this.expectSymbol(")", `${token.value}(...)`);
        return { kind: token.value === "FLOOR" ? "floor" : "ceil", operand, unit, position };
      }
      case "STEP": {
        if (!this.isSymbol("(")) break;
        this.next();
        const operand = this.expression();
        this.expectWord("BY", "STEP(value BY INTERVAL 'n' unit)");
        const by = this.expression();
        this.expectSymbol(")", "STEP(...)");
        return { kind: "step", operand, by, position };
      }
    }
    if (RESERVED.has(token.value)) throw this.error("SQL_SYNTAX", "expression", `unexpected ${describe(token)}`, token);
    if (this.isSymbol("(")) return this.call(token);
    return this.columnReference(token);
  }

  private call(name: Token): Expr {
    this.next();
    const args: Expr[] = [];
    let star = false;
    if (this.acceptSymbol("*")) star = true;
    else if (!this.isSymbol(")")) {
      if (this.isWord("DISTINCT")) throw this.error("SQL_UNSUPPORTED", `${name.value}(DISTINCT ...)`, "not supported by this runtime", this.peek());
      do args.push(this.expression());
      while (this.acceptSymbol(","));
    }
    this.expectSymbol(")", `${name.value}(...)`);
    if (this.isWord("OVER")) throw this.error("SQL_UNSUPPORTED", "OVER (sliding window)", "only tumbling windows (GROUP BY on ROWTIME) are supported", this.peek());
    return { kind: "call", name: name.value, args, star, position: at(name) };
  }

  private columnReference(first: Token): Expr {
    if (this.acceptSymbol(".")) {
      const name = this.identifier("column name");
      return { kind: "column", qualifier: first.value, name: name.name, position: at(first) };
    }
    return { kind: "column", name: first.value, position: at(first) };
  }

  private timestampLiteral(): number {
    const token = this.next();
    const match = token.kind === "string" && /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?$/.exec(token.value);
    const value = match
      ? Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6], match[7] ? Math.round(Number(match[7]) * 1000) : 0)
      : Number.NaN;
    // Date.UTC rolls over out-of-range fields (month 13): refuse those instead.
    if (!match || new Date(value).toISOString().slice(0, 19) !== `${token.value.slice(0, 10)}T${token.value.slice(11, 19)}`) {
      throw this.error("SQL_SYNTAX", "TIMESTAMP literal", `expected TIMESTAMP 'yyyy-mm-dd hh:mm:ss', found ${describe(token)}`, token);
    }
    return value;
  }

  private intervalLiteral(): number {
    const token = this.next();
    if (token.kind !== "string" || !/^\s*\d+(\.\d+)?\s*$/.test(token.value)) {
      throw this.error("SQL_SYNTAX", "INTERVAL literal", `expected INTERVAL 'n' unit with a number in quotes, found ${describe(token)}`, token);
    }
    const unit = this.timeUnit();
    if (!unit) throw this.unitError("INTERVAL literal");
    if (this.isWord("TO")) throw this.error("SQL_UNSUPPORTED", "INTERVAL ... TO ...", "use a single-unit interval such as INTERVAL '90' SECOND", this.peek());
    return Number(token.value) * UNIT_MS[unit];
  }

  private timeUnit(): TimeUnit | undefined {
    const token = this.peek();
    if (token.kind !== "word") return undefined;
    if (TIME_UNITS.includes(token.value as TimeUnit)) {
      this.next();
      return token.value as TimeUnit;
    }
    if (["YEAR", "MONTH", "MILLISECOND"].includes(token.value)) {
      throw this.error("SQL_UNSUPPORTED", `${token.value} interval`, "supported units: SECOND, MINUTE, HOUR, DAY", token);
    }
    return undefined;
  }

  private unitError(construct: string): SqlError {
    return this.error("SQL_SYNTAX", construct, `expected SECOND, MINUTE, HOUR or DAY, found ${describe(this.peek())}`, this.peek());
  }

  // Token helpers.

  private identifier(what: string): Identifier {
    const token = this.next();
    if (token.kind === "quoted" || (token.kind === "word" && !RESERVED.has(token.value))) {
      return { name: token.value, position: at(token) };
    }
    throw this.error("SQL_SYNTAX", what, `expected a name, found ${describe(token)}`, token);
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private peekAt(offset: number): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const token = this.tokens[this.i];
    if (token.kind !== "end") this.i++;
    return token;
  }

  private isWord(word: string): boolean {
    const token = this.peek();
    return token.kind === "word" && token.value === word;
  }

  private isSymbol(symbol: string): boolean {
    const token = this.peek();
    return token.kind === "symbol" && token.value === symbol;
  }

  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.next();
    return true;
  }

  private acceptSymbol(symbol: string): boolean {
    if (!this.isSymbol(symbol)) return false;
    this.next();
    return true;
  }

  private expectWord(word: string, construct: string): void {
    if (!this.acceptWord(word)) throw this.error("SQL_SYNTAX", construct, `expected ${word}, found ${describe(this.peek())}`, this.peek());
  }

  private expectSymbol(symbol: string, construct: string): void {
    if (!this.acceptSymbol(symbol)) throw this.error("SQL_SYNTAX", construct, `expected "${symbol}", found ${describe(this.peek())}`, this.peek());
  }

  private error(code: "SQL_SYNTAX" | "SQL_UNSUPPORTED" | "SQL_INVALID", construct: string, detail: string, token: Token): SqlError {
    return new SqlError(code, construct, detail, at(token));
  }
}

function at(token: Token): SourcePosition {
  return { line: token.line, column: token.column };
}

function describe(token: Token): string {
  switch (token.kind) {
    case "end":
      return "the end of the text";
    case "string":
      return `'${token.value}'`;
    case "quoted":
      return `"${token.value}"`;
    default:
      return token.value;
  }
}

function and(left: Expr, right: Expr): Expr {
  return { kind: "binary", operator: "AND", left, right, position: left.position };
}
