// Splits SQL text into tokens with their line and column. Unquoted identifiers are folded to
// upper case and double-quoted ones kept as written, as Kinesis Analytics does; `--` and
// `/* */` comments are skipped.
import { SqlError, type SourcePosition } from "./errors";

export type TokenKind =
  /** Unquoted identifier or keyword; `value` is upper case. */
  | "word"
  /** Double-quoted identifier; `value` is as written. */
  | "quoted"
  /** 'string literal'; `value` without quotes, '' unescaped. */
  | "string"
  | "number"
  | "symbol"
  | "end";

export interface Token extends SourcePosition {
  kind: TokenKind;
  value: string;
}

const NUMBER = /(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_$]*/y;
const SYMBOLS = ["<>", "!=", "<=", ">=", "||", "(", ")", ",", ";", ".", "*", "+", "-", "/", "=", "<", ">"];

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): SourcePosition => ({ line, column: i - lineStart + 1 });
  const advance = (to: number) => {
    for (; i < to; i++) {
      if (sql[i] === "\n") {
        line++;
        lineStart = i + 1;
      }
    }
  };

  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      advance(i + 1);
      continue;
    }
    if (sql.startsWith("--", i)) {
      const end = sql.indexOf("\n", i);
      advance(end < 0 ? sql.length : end);
      continue;
    }
    if (sql.startsWith("/*", i)) {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) throw new SqlError("SQL_SYNTAX", "comment", "/* comment is never closed with */", here());
      advance(end + 2);
      continue;
    }
    const start = here();
    if (c === "'" || c === '"') {
      const kind = c === "'" ? "string" : "quoted";
      let value = "";
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) {
          throw new SqlError("SQL_SYNTAX", kind === "string" ? "string literal" : "quoted identifier", `${c} is never closed`, start);
        }
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += sql[j++];
      }
      if (kind === "quoted" && value === "") throw new SqlError("SQL_SYNTAX", "quoted identifier", '"" is not a name', start);
      advance(j + 1);
      tokens.push({ kind, value, ...start });
      continue;
    }
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(sql);
    if (number) {
      advance(i + number[0].length);
      tokens.push({ kind: "number", value: number[0], ...start });
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(sql);
    if (word) {
      advance(i + word[0].length);
      tokens.push({ kind: "word", value: word[0].toUpperCase(), ...start });
      continue;
    }
    const symbol = SYMBOLS.find((s) => sql.startsWith(s, i));
    if (symbol) {
      advance(i + symbol.length);
      tokens.push({ kind: "symbol", value: symbol, ...start });
      continue;
    }
    throw new SqlError("SQL_SYNTAX", "character", `unexpected ${JSON.stringify(c)}`, start);
  }
  tokens.push({ kind: "end", value: "", ...here() });
  return tokens;
}
