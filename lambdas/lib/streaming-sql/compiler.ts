// From SQL text to a runnable Application: streams are declared, each pump's query becomes a
// chain of closures and stateful operators, and anything the runtime cannot run is refused here,
// at compile (deploy) time, with its line, column and construct.
import { createHash } from "node:crypto";
import type { Expr, FromItem, Query, Statement } from "./ast";
import { Application, ErrorChannel, type PumpSummary } from "./application";
import { SqlError, type SourcePosition } from "./errors";
import {
  AGGREGATES,
  compileExpr,
  readsRowtime,
  resolveColumn,
  signature,
  type Compiled,
  type Scope,
  type ScopeColumn,
  type Tuple,
} from "./expressions";
import {
  RandomCutForestOperator,
  RowtimeJoin,
  StreamNode,
  WindowAggregate,
  rowtimeOf,
  type AggregateSpec,
  type Column,
  type Emit,
  type Report,
  type StatefulOperator,
  type WindowSpec,
} from "./operators";
import { parse, parseType } from "./parser";
import { BIGINT, DOUBLE, TIMESTAMP, UNIT_MS, assignable, comparable, isExactNumeric, isNumeric, isText, typeText } from "./types";
import { castValue } from "./values";

export interface InputColumn {
  name: string;
  /** SQL type, e.g. `VARCHAR(32)`, `DOUBLE`. */
  sqlType: string;
}

export interface InputStream {
  /** In-application name, e.g. SOURCE_SQL_STREAM_001. */
  name: string;
  columns: InputColumn[];
}

export interface CompileOptions {
  inputs: InputStream[];
  /** Seed of the RANDOM_CUT_FOREST random generators; default 0. */
  seed?: number;
}

/** Defaults and bounds of RANDOM_CUT_FOREST's numeric arguments, in argument order. */
const RCF_ARGUMENTS = [
  { name: "numberOfTrees", fallback: 100, min: 1, max: 1000 },
  { name: "subSampleSize", fallback: 256, min: 10, max: 1000 },
  { name: "timeDecay", fallback: 100000, min: 1, max: Number.MAX_SAFE_INTEGER },
  { name: "shingleSize", fallback: 1, min: 1, max: 30 },
] as const;

const WINDOW_FORMS =
  "supported tumbling windows: FLOOR(ROWTIME TO unit), STEP(ROWTIME BY INTERVAL 'n' unit), FLOOR((ROWTIME - TIMESTAMP '...') unit / n TO unit)";

export function compile(sql: string, options: CompileOptions): Application {
  const seed = options.seed ?? 0;
  const statements = parse(sql);
  const streams = new Map<string, StreamNode>();
  const declared = new Map<string, SourcePosition | undefined>();
  const inputs = new Set<string>();

  for (const input of options.inputs) {
    if (streams.has(input.name)) throw new SqlError("SQL_INVALID", `input stream ${input.name}`, "is listed twice");
    const columns = input.columns.map((c) => {
      try {
        return { name: c.name, type: parseType(c.sqlType) };
      } catch (error) {
        throw new SqlError("SQL_INVALID", `input stream ${input.name} column ${c.name}`, `type ${JSON.stringify(c.sqlType)}: ${(error as SqlError).detail}`);
      }
    });
    streams.set(input.name, new StreamNode(input.name, columns));
    declared.set(input.name, undefined);
    inputs.add(input.name);
  }

  for (const statement of statements) {
    if (statement.kind !== "createStream") continue;
    const name = statement.name.name;
    if (declared.has(name)) {
      const earlier = declared.get(name);
      const where = earlier ? `at line ${earlier.line}` : "as an input stream";
      throw new SqlError("SQL_INVALID", `stream ${name}`, `is already defined ${where}`, statement.name.position);
    }
    const seen = new Set<string>();
    for (const column of statement.columns) {
      if (seen.has(column.name.name)) throw new SqlError("SQL_INVALID", `column ${column.name.name}`, `is defined twice in stream ${name}`, column.position);
      seen.add(column.name.name);
    }
    streams.set(name, new StreamNode(name, statement.columns.map((c) => ({ name: c.name.name, type: c.type }))));
    declared.set(name, statement.position);
  }

  const errors = new ErrorChannel();
  const pumps: PumpCompiler[] = [];
  const pumpNames = new Set<string>();
  let rcfCount = 0;
  for (const statement of statements) {
    if (statement.kind !== "createPump") continue;
    if (pumpNames.has(statement.name.name)) throw new SqlError("SQL_INVALID", `pump ${statement.name.name}`, "is defined twice", statement.name.position);
    pumpNames.add(statement.name.name);
    const pump = new PumpCompiler(statement, streams, errors.reporter(statement.name.name), () => seed + rcfCount++);
    pump.compile(inputs);
    pumps.push(pump);
  }

  const ordered = topologicalOrder(pumps);
  const fingerprint = createHash("sha256").update(JSON.stringify({ sql, inputs: options.inputs, seed })).digest("hex");
  return new Application(fingerprint, streams, inputs, ordered.flatMap((p) => p.operators), errors, ordered.map((p) => p.summary()));
}

type PumpStatement = Extract<Statement, { kind: "createPump" }>;

interface Source {
  scope: Scope;
  connect(handler: Emit): void;
}

class PumpCompiler {
  readonly name: string;
  readonly target: string;
  readonly reads = new Set<string>();
  readonly operators: StatefulOperator[] = [];
  private form: PumpSummary["form"] = "row by row";

  constructor(
    readonly statement: PumpStatement,
    private readonly streams: Map<string, StreamNode>,
    private readonly report: Report,
    private readonly nextSeed: () => number,
  ) {
    this.name = statement.name.name;
    this.target = statement.target.name;
  }

  compile(inputs: ReadonlySet<string>): void {
    const { statement } = this;
    const target = this.stream(statement.target.name, statement.target.position);
    if (inputs.has(target.name)) {
      throw new SqlError("SQL_INVALID", `INSERT INTO ${target.name}`, "an input stream is filled by its source, not by a pump", statement.target.position);
    }
    let insert: Emit = () => {};
    const selected = this.query(statement.query, (tuple) => insert(tuple));
    this.form = pumpForm(statement.query);

    const targetColumns = statement.columns
      ? statement.columns.map((c, i) => {
          const index = target.columns.findIndex((t) => t.name === c.name);
          if (index < 0) throw new SqlError("SQL_INVALID", `column ${c.name}`, `stream ${target.name} has no such column; columns: ${target.columns.map((t) => `"${t.name}"`).join(", ")}`, c.position);
          if (statement.columns!.findIndex((o) => o.name === c.name) !== i) throw new SqlError("SQL_INVALID", `column ${c.name}`, "is listed twice", c.position);
          return index;
        })
      : target.columns.map((_, i) => i);
    if (targetColumns.length !== selected.length) {
      throw new SqlError("SQL_INVALID", `INSERT INTO ${target.name}`, `${targetColumns.length} target column(s), but the SELECT gives ${selected.length}`, statement.query.position);
    }
    const conversions = targetColumns.map((index, i) => {
      const from = selected[i].type;
      const to = target.columns[index].type;
      if (!assignable(from, to)) {
        throw new SqlError("SQL_INVALID", `INSERT INTO ${target.name}`, `column "${target.columns[index].name}" is ${typeText(to)} but SELECT item ${i + 1} is ${typeText(from)}`, statement.query.position);
      }
      const identity = from.name === to.name && !isText(to);
      return { index, convert: identity ? undefined : (v: Tuple[number]) => castValue(v, from, to) };
    });
    const width = target.columns.length;
    insert = (tuple) => {
      const row: Tuple = new Array(width + 1).fill(null);
      for (let i = 0; i < conversions.length; i++) {
        const { index, convert } = conversions[i];
        row[index] = convert ? convert(tuple[i]) : tuple[i];
      }
      row[width] = rowtimeOf(tuple);
      target.insert(row);
    };
  }

  /** Compiles a SELECT STREAM; its rows go to `emit`. Returns the columns it produces. */
  private query(query: Query, emit: Emit): Column[] {
    if (query.from.length > 2) {
      throw new SqlError("SQL_UNSUPPORTED", "join of more than two streams", "join two streams at a time, through an intermediate stream", query.from[2].position);
    }
    const sources = query.from.map((item) => this.source(item));
    const conditions = [...conjuncts(query.joinCondition), ...conjuncts(query.where)];
    let downstream: Emit = () => {};
    const forward: Emit = (tuple) => downstream(tuple);

    let scope: Scope;
    if (sources.length === 1) {
      scope = sources[0].scope;
      sources[0].connect(forward);
    } else {
      const [left, right] = sources;
      const offset = left.scope.columns.length;
      scope = { columns: [...left.scope.columns, ...right.scope.columns.map((c) => ({ ...c, index: c.index + offset }))] };
      const joinOn = conditions.findIndex((c) => isRowtimeEquality(c, scope, offset));
      if (joinOn < 0) {
        throw new SqlError(
          "SQL_UNSUPPORTED",
          "stream join",
          "a join needs its two ROWTIMEs equal (WHERE a.ROWTIME = b.ROWTIME); windowed joins are not supported",
          query.joinCondition || query.where ? startOf((query.joinCondition ?? query.where)!) : query.from[1].position,
        );
      }
      conditions.splice(joinOn, 1);
      const join = new RowtimeJoin(this.operatorId("join"), forward);
      this.operators.push(join);
      left.connect((tuple) => join.push(0, tuple));
      right.connect((tuple) => join.push(1, tuple));
    }

    let filter: Compiled | undefined;
    if (conditions.length > 0) {
      filter = compileExpr(conditions.reduce((a, b) => ({ kind: "binary", operator: "AND", left: a, right: b, position: a.position })), scope);
      if (filter.type.name !== "BOOLEAN" && filter.type.name !== "NULL") {
        throw new SqlError("SQL_INVALID", "WHERE", `the condition is ${typeText(filter.type)}, not BOOLEAN`, startOf((query.where ?? query.joinCondition)!));
      }
    }

    const { columns, stage } = isAggregated(query) ? this.aggregate(query, scope, emit) : this.project(query, scope, emit);
    const test = filter?.evaluate;
    downstream = test ? (tuple) => test(tuple) === true && stage(tuple) : stage;
    return columns;
  }

  private source(item: FromItem): Source {
    if (item.kind === "stream") {
      const stream = this.stream(item.name.name, item.name.position);
      this.reads.add(stream.name);
      const qualifiers = [stream.name, ...(item.alias ? [item.alias.name] : [])];
      return {
        scope: scopeOf(stream.columns, qualifiers),
        connect: (handler) => stream.addReader(handler, this.report),
      };
    }

    if (item.args.length > RCF_ARGUMENTS.length) {
      throw new SqlError("SQL_INVALID", "RANDOM_CUT_FOREST", `takes a cursor and at most ${RCF_ARGUMENTS.length} numbers (numberOfTrees, subSampleSize, timeDecay, shingleSize)`, item.args[RCF_ARGUMENTS.length].position);
    }
    const [numberOfTrees, subSampleSize, timeDecay, shingleSize] = RCF_ARGUMENTS.map((spec, i) => {
      const arg = item.args[i];
      if (!arg) return spec.fallback;
      if (!arg.exact || arg.value < spec.min || arg.value > spec.max) {
        const range = spec.max === Number.MAX_SAFE_INTEGER ? `an integer >= ${spec.min}` : `an integer from ${spec.min} to ${spec.max}`;
        throw new SqlError("SQL_INVALID", `RANDOM_CUT_FOREST ${spec.name}`, `must be ${range}, got ${arg.value}`, arg.position);
      }
      return arg.value;
    });

    let push: Emit = () => {};
    const cursor = this.query(item.cursor, (tuple) => push(tuple));
    const numeric = cursor.map((c, index) => ({ ...c, index })).filter((c) => isNumeric(c.type));
    if (numeric.length === 0) {
      throw new SqlError("SQL_INVALID", "RANDOM_CUT_FOREST", "its cursor must select at least one numeric column", item.cursor.position);
    }
    if (cursor.some((c) => c.name === "ANOMALY_SCORE")) {
      throw new SqlError("SQL_INVALID", "RANDOM_CUT_FOREST", "its cursor already has a column ANOMALY_SCORE, the name of the score it adds", item.cursor.position);
    }
    let downstream: Emit = () => {};
    const operator = new RandomCutForestOperator(
      this.operatorId("random_cut_forest"),
      numeric,
      { numberOfTrees, subSampleSize, timeDecay, shingleSize },
      this.nextSeed(),
      (tuple) => downstream(tuple),
    );
    this.operators.push(operator);
    push = (tuple) => operator.push(tuple);
    return {
      scope: scopeOf([...cursor, { name: "ANOMALY_SCORE", type: DOUBLE }], item.alias ? [item.alias.name] : []),
      connect: (handler) => {
        downstream = handler;
      },
    };
  }

  private project(query: Query, scope: Scope, emit: Emit): { columns: Column[]; stage: Emit } {
    const items: { column: Column; evaluate: Compiled["evaluate"] }[] = [];
    query.items.forEach((item, i) => {
      if (item.kind === "all") {
        const q = item.qualifier?.name;
        const visible = scope.columns.filter((c) => !c.hidden && (q === undefined || c.qualifiers.includes(q)));
        if (q !== undefined && visible.length === 0) throw new SqlError("SQL_INVALID", `${q}.*`, `no stream or alias ${q} in FROM`, item.position);
        for (const c of visible) items.push({ column: { name: c.name, type: c.type }, evaluate: (t) => t[c.index] });
        return;
      }
      const compiled = compileExpr(item.expr, scope);
      items.push({ column: { name: itemName(item, i), type: compiled.type }, evaluate: compiled.evaluate });
    });
    const evaluators = items.map((i) => i.evaluate);
    return {
      columns: items.map((i) => i.column),
      stage: (tuple) => {
        const out: Tuple = new Array(evaluators.length + 1);
        for (let i = 0; i < evaluators.length; i++) out[i] = evaluators[i](tuple);
        out[evaluators.length] = rowtimeOf(tuple);
        emit(out);
      },
    };
  }

  private aggregate(query: Query, scope: Scope, emit: Emit): { columns: Column[]; stage: Emit } {
    const star = query.items.find((i) => i.kind === "all");
    if (star) throw new SqlError("SQL_INVALID", "SELECT *", "cannot be used with GROUP BY: name the grouped columns and aggregates", star.position);
    if (query.groupBy.length === 0) {
      const first = query.items.find((i) => i.kind === "expr" && containsAggregate(i.expr))!;
      throw new SqlError("SQL_INVALID", "aggregate without GROUP BY", `a stream never ends, so an aggregate needs a ROWTIME window; ${WINDOW_FORMS}`, first.position);
    }
    const keys = query.groupBy.map((e) => compileExpr(e, scope));
    const windows = query.groupBy.map((e, i) => (readsRowtime(e, scope) ? i : -1)).filter((i) => i >= 0);
    if (windows.length === 0) {
      throw new SqlError("SQL_INVALID", "GROUP BY", `a streaming GROUP BY needs a ROWTIME window, or its groups never end; ${WINDOW_FORMS}`, query.groupBy[0].position);
    }
    if (windows.length > 1) {
      throw new SqlError("SQL_UNSUPPORTED", "GROUP BY with two ROWTIME windows", "group by one ROWTIME window", query.groupBy[windows[1]].position);
    }
    const window = windowSpec(query.groupBy[windows[0]], scope);
    const keySignatures = query.groupBy.map((e) => signature(e, scope));
    const aggregates: AggregateSpec[] = [];

    // In the SELECT list, GROUP BY expressions and aggregates read the grouped tuple
    // [keys..., aggregate results..., window end]; ROWTIME is the window's end.
    const hook = (expr: Expr): Compiled | undefined => {
      if (expr.kind === "call" && AGGREGATES.has(expr.name)) {
        const spec = aggregateSpec(expr, scope);
        const slot = keys.length + aggregates.length;
        aggregates.push(spec);
        return { type: spec.type, evaluate: (t) => t[slot] };
      }
      const key = keySignatures.indexOf(signature(expr, scope));
      if (key >= 0) return { type: keys[key].type, evaluate: (t) => t[key] };
      if (expr.kind === "column") {
        if (resolveColumn(expr, scope).hidden) return { type: TIMESTAMP, evaluate: rowtimeOf };
        throw new SqlError("SQL_INVALID", `column ${expr.name}`, "must appear in GROUP BY or inside an aggregate function", expr.position);
      }
      return undefined;
    };
    const items = query.items.map((item, i) => {
      if (item.kind !== "expr") throw new Error("unreachable: SELECT * was refused above");
      return { name: itemName(item, i), compiled: compileExpr(item.expr, scope, hook) };
    });
    const evaluators = items.map((i) => i.compiled.evaluate);
    const operator = new WindowAggregate(
      this.operatorId("aggregate"),
      window,
      keys.map((k) => k.evaluate),
      keys.map((_, i) => i).filter((i) => i !== windows[0]),
      aggregates,
      (grouped) => [...evaluators.map((f) => f(grouped)), rowtimeOf(grouped)],
      emit,
      this.report,
    );
    this.operators.push(operator);
    return {
      columns: items.map((i) => ({ name: i.name, type: i.compiled.type })),
      stage: (tuple) => operator.push(tuple),
    };
  }

  summary(): PumpSummary {
    const aggregate = this.form === "windowed aggregate" ? this.operators.find((o) => o instanceof WindowAggregate) : undefined;
    return { name: this.name, target: this.target, reads: [...this.reads], position: this.statement.name.position, form: this.form, aggregate };
  }

  private stream(name: string, position: SourcePosition): StreamNode {
    const stream = this.streams.get(name);
    if (!stream) {
      const hint = /[a-z]/.test(name) ? "" : " (unquoted names are upper-cased)";
      throw new SqlError("SQL_INVALID", `stream ${name}`, `is not defined${hint}; streams: ${[...this.streams.keys()].join(", ")}`, position);
    }
    return stream;
  }

  private operatorId(kind: string): string {
    return `${this.name}/${kind}/${this.operators.length}`;
  }
}

function scopeOf(columns: Column[], qualifiers: string[]): Scope {
  const visible: ScopeColumn[] = columns.map((c, index) => ({ name: c.name, qualifiers, type: c.type, index, hidden: false }));
  return { columns: [...visible, { name: "ROWTIME", qualifiers, type: TIMESTAMP, index: columns.length, hidden: true }] };
}

function itemName(item: Extract<Query["items"][number], { kind: "expr" }>, index: number): string {
  return item.alias?.name ?? (item.expr.kind === "column" ? item.expr.name : `EXPR$${index}`);
}

/** Where an expression starts in the text (a binary node's own position is its operator's). */
function startOf(expr: Expr): SourcePosition {
  return expr.kind === "binary" ? startOf(expr.left) : expr.position;
}

/** How a pump's query reads its source, as far as splitting the work by shard is concerned. */
function pumpForm(query: Query): PumpSummary["form"] {
  if (query.from.some((item) => item.kind === "randomCutForest")) return "RANDOM_CUT_FOREST";
  if (query.from.length > 1) return "join";
  return isAggregated(query) ? "windowed aggregate" : "row by row";
}

function isAggregated(query: Query): boolean {
  return query.groupBy.length > 0 || query.items.some((i) => i.kind === "expr" && containsAggregate(i.expr));
}

function conjuncts(expr: Expr | undefined): Expr[] {
  if (!expr) return [];
  if (expr.kind === "binary" && expr.operator === "AND") return [...conjuncts(expr.left), ...conjuncts(expr.right)];
  return [expr];
}

function containsAggregate(expr: Expr): boolean {
  switch (expr.kind) {
    case "call":
      return AGGREGATES.has(expr.name) || expr.args.some(containsAggregate);
    case "unary":
    case "isNull":
    case "cast":
    case "floor":
    case "ceil":
    case "intervalOf":
      return containsAggregate(expr.operand);
    case "binary":
      return containsAggregate(expr.left) || containsAggregate(expr.right);
    case "step":
      return containsAggregate(expr.operand) || containsAggregate(expr.by);
    default:
      return false;
  }
}

/** `a.ROWTIME = b.ROWTIME` with a on the left side of the join (index < offset) and b on the right. */
function isRowtimeEquality(expr: Expr, scope: Scope, offset: number): boolean {
  if (expr.kind !== "binary" || expr.operator !== "=" || expr.left.kind !== "column" || expr.right.kind !== "column") return false;
  const a = resolveColumn(expr.left, scope);
  const b = resolveColumn(expr.right, scope);
  return a.hidden && b.hidden && a.index < offset !== b.index < offset;
}

function aggregateSpec(expr: Extract<Expr, { kind: "call" }>, scope: Scope): AggregateSpec {
  const fn = expr.name as AggregateSpec["fn"];
  const invalid = (detail: string) => new SqlError("SQL_INVALID", `${fn}(...)`, detail, expr.position);
  if (expr.star) {
    if (fn !== "COUNT") throw invalid(`${fn}(*) is not SQL: only COUNT takes *`);
    return { fn, type: BIGINT };
  }
  if (expr.args.length !== 1) throw invalid(`takes one argument, got ${expr.args.length}`);
  const argument = compileExpr(expr.args[0], scope);
  const type = argument.type;
  switch (fn) {
    case "COUNT":
      return { fn, argument: argument.evaluate, type: BIGINT };
    case "SUM":
    case "AVG":
      if (!isNumeric(type)) throw invalid(`needs a number, got ${typeText(type)}`);
      return { fn, argument: argument.evaluate, type: fn === "AVG" || !isExactNumeric(type) ? DOUBLE : BIGINT };
    default:
      if (!comparable(type, type) || type.name === "BOOLEAN") throw invalid(`cannot order ${typeText(type)}`);
      return { fn, argument: argument.evaluate, type };
  }
}

/** Recognises the tumbling-window forms of GROUP BY and returns their origin and size. */
function windowSpec(expr: Expr, scope: Scope): WindowSpec {
  const isRowtime = (e: Expr) => e.kind === "column" && resolveColumn(e, scope).hidden;
  if (expr.kind === "step" && isRowtime(expr.operand) && expr.by.kind === "interval" && expr.by.value > 0) {
    return { origin: 0, size: expr.by.value };
  }
  if (expr.kind === "floor" && expr.unit) {
    const unitMs = UNIT_MS[expr.unit];
    if (isRowtime(expr.operand)) return { origin: 0, size: unitMs };
    let inner = expr.operand;
    let count = 1;
    if (inner.kind === "binary" && inner.operator === "/" && inner.right.kind === "number" && inner.right.exact && inner.right.value > 0) {
      count = inner.right.value;
      inner = inner.left;
    }
    if (
      inner.kind === "intervalOf" &&
      inner.unit === expr.unit &&
      inner.operand.kind === "binary" &&
      inner.operand.operator === "-" &&
      isRowtime(inner.operand.left) &&
      inner.operand.right.kind === "timestamp"
    ) {
      return { origin: inner.operand.right.value, size: count * unitMs };
    }
  }
  throw new SqlError("SQL_UNSUPPORTED", "GROUP BY window", WINDOW_FORMS, expr.position);
}

/** Pumps ordered so that every pump comes after the pumps filling the streams it reads. */
function topologicalOrder(pumps: PumpCompiler[]): PumpCompiler[] {
  const ordered: PumpCompiler[] = [];
  const remaining = [...pumps];
  while (remaining.length > 0) {
    const ready = remaining.findIndex((p) => !remaining.some((q) => q !== p && p.reads.has(q.target)));
    if (ready < 0) {
      const cycle = remaining.map((p) => `${p.name} (${[...p.reads].join(", ")} -> ${p.target})`).join("; ");
      throw new SqlError("SQL_INVALID", "pumps", `they feed each other in a cycle, so rows would never settle: ${cycle}`, remaining[0].statement.position);
    }
    ordered.push(...remaining.splice(ready, 1));
  }
  return ordered;
}
