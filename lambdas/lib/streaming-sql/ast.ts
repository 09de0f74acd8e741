// The syntax tree the parser builds. Every node keeps where it starts in the SQL text, so that
// the compiler's errors can name the line and column.
import type { SourcePosition } from "./errors";
import type { SqlType, TimeUnit } from "./types";

export interface Identifier {
  name: string;
  position: SourcePosition;
}

export type BinaryOperator = "+" | "-" | "*" | "/" | "||" | "=" | "<>" | "<" | "<=" | ">" | ">=" | "AND" | "OR";

interface Node {
  position: SourcePosition;
}

export type Expr =
  | (Node & { kind: "number"; value: number; exact: boolean })
  | (Node & { kind: "string"; value: string })
  | (Node & { kind: "boolean"; value: boolean })
  | (Node & { kind: "null" })
  /** TIMESTAMP 'yyyy-mm-dd hh:mm:ss[.fff]', as epoch milliseconds (UTC). */
  | (Node & { kind: "timestamp"; value: number })
  /** INTERVAL 'n' unit, as milliseconds. */
  | (Node & { kind: "interval"; value: number })
  | (Node & { kind: "column"; qualifier?: string; name: string })
  | (Node & { kind: "unary"; operator: "-" | "NOT"; operand: Expr })
  | (Node & { kind: "binary"; operator: BinaryOperator; left: Expr; right: Expr })
  | (Node & { kind: "isNull"; negated: boolean; operand: Expr })
  /** Function call; `star` for COUNT(*). */
  | (Node & { kind: "call"; name: string; args: Expr[]; star: boolean })
  | (Node & { kind: "cast"; operand: Expr; type: SqlType })
  /** FLOOR(x) / CEIL(x), or FLOOR(datetime-or-interval TO unit). */
  | (Node & { kind: "floor" | "ceil"; operand: Expr; unit?: TimeUnit })
  /** STEP(x BY interval): x rounded down to a multiple of the interval. */
  | (Node & { kind: "step"; operand: Expr; by: Expr })
  /** (datetime - datetime) unit: the difference as an interval of that unit. */
  | (Node & { kind: "intervalOf"; operand: Expr; unit: TimeUnit });

export type SelectItem =
  | (Node & { kind: "all"; qualifier?: Identifier })
  | (Node & { kind: "expr"; expr: Expr; alias?: Identifier });

export type FromItem =
  | (Node & { kind: "stream"; name: Identifier; alias?: Identifier })
  /** TABLE(RANDOM_CUT_FOREST(CURSOR(query), numberOfTrees, subSampleSize, timeDecay, shingleSize)) */
  | (Node & { kind: "randomCutForest"; cursor: Query; args: { value: number; exact: boolean; position: SourcePosition }[]; alias?: Identifier });

export interface Query extends Node {
  items: SelectItem[];
  from: FromItem[];
  /** ON condition of `a JOIN b ON ...`. */
  joinCondition?: Expr;
  where?: Expr;
  groupBy: Expr[];
}

export interface ColumnDefinition extends Node {
  name: Identifier;
  type: SqlType;
}

export type Statement =
  | (Node & { kind: "createStream"; name: Identifier; columns: ColumnDefinition[] })
  | (Node & { kind: "createPump"; name: Identifier; target: Identifier; columns?: Identifier[]; query: Query });
