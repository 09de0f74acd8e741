// CloudWatch metric math ("Using math expressions with CloudWatch metrics"), the part alarms and
// dashboards of this platform use: numbers, the ids of other queries, + - * / and parentheses,
// METRICS() (every metric query of the request), SUM / AVG / MIN / MAX of an array of series
// (per timestamp, over the series that have a value there), and FILL(series, number). Arithmetic
// between two series keeps the timestamps both have. Anything else is refused with its name.

/** A time series: value by timestamp (epoch ms). */
export type Series = Map<number, number>;
type Value = number | Series | Series[];

export class MathError extends Error {
  readonly code = "ValidationError";
}

type Token = { kind: "number"; value: number } | { kind: "name"; value: string } | { kind: "string"; value: string } | { kind: "punct"; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|"([^"]*)"|([-+*/(),]))/y;
  let index = 0;
  while (index < text.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (!match) {
      if (text.slice(index).trim() === "") break;
      throw new MathError(`metric math: unexpected ${JSON.stringify(text.slice(index).trim().slice(0, 20))} in ${JSON.stringify(text)}`);
    }
    index = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: "number", value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: "name", value: match[2] });
    else if (match[3] !== undefined) tokens.push({ kind: "string", value: match[3] });
    else tokens.push({ kind: "punct", value: match[4] });
  }
  return tokens;
}

/** Evaluates `expression` over the series of the request's other queries, by id. */
export function evaluateMath(expression: string, series: Map<string, Series>): Value {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = () => tokens[position];
  const take = (punct?: string) => {
    const token = tokens[position++];
    if (!token || (punct && (token.kind !== "punct" || token.value !== punct))) {
      throw new MathError(`metric math: expected ${punct ?? "more"} in ${JSON.stringify(expression)}`);
    }
    return token;
  };
  const isPunct = (value: string) => peek()?.kind === "punct" && peek()!.value === value;

  const expr = (): Value => {
    let left = term();
    while (isPunct("+") || isPunct("-")) {
      const op = take().value as string;
      left = arithmetic(left, term(), op);
    }
    return left;
  };
  const term = (): Value => {
    let left = factor();
    while (isPunct("*") || isPunct("/")) {
      const op = take().value as string;
      left = arithmetic(left, factor(), op);
    }
    return left;
  };
  const factor = (): Value => {
    const token = take();
    if (token.kind === "number") return token.value;
    if (token.kind === "punct" && token.value === "-") return arithmetic(-1, factor(), "*");
    if (token.kind === "punct" && token.value === "(") {
      const inner = expr();
      take(")");
      return inner;
    }
    if (token.kind === "name") {
      if (isPunct("(")) {
        take("(");
        const args: (Value | string)[] = [];
        while (!isPunct(")")) {
          const next = peek();
          if (next?.kind === "string") {
            take();
            args.push(next.value);
          } else args.push(expr());
          if (!isPunct(")")) take(",");
        }
        take(")");
        return call(token.value, args, series);
      }
      const found = series.get(token.value);
      if (!found) throw new MathError(`metric math: ${JSON.stringify(expression)} names ${token.value}, which is no query of the request`);
      return found;
    }
    throw new MathError(`metric math: unexpected ${JSON.stringify(String(token.value))} in ${JSON.stringify(expression)}`);
  };
  const result = expr();
  if (position !== tokens.length) throw new MathError(`metric math: unexpected ${JSON.stringify(String(peek()!.value))} in ${JSON.stringify(expression)}`);
  return result;
}

function call(name: string, args: (Value | string)[], series: Map<string, Series>): Value {
  const arrayArg = () => {
    const [arg] = args;
    if (Array.isArray(arg)) return arg;
    if (arg instanceof Map) return [arg];
    throw new MathError(`metric math: ${name} takes an array of time series`);
  };
  switch (name) {
    case "METRICS": {
      const filter = typeof args[0] === "string" ? args[0] : "";
      return [...series.entries()].filter(([id]) => id.includes(filter)).map(([, s]) => s);
    }
    case "SUM":
      return reduce(arrayArg(), (values) => values.reduce((a, b) => a + b, 0));
    case "AVG":
      return reduce(arrayArg(), (values) => values.reduce((a, b) => a + b, 0) / values.length);
    case "MIN":
      return reduce(arrayArg(), (values) => Math.min(...values));
    case "MAX":
      return reduce(arrayArg(), (values) => Math.max(...values));
    case "FILL": {
      const [target, fill] = args;
      if (!(target instanceof Map) || typeof fill !== "number") throw new MathError("metric math: FILL takes a time series and a number");
      // The timestamps any series of the request has are the ones to fill.
      const filled: Series = new Map(target);
      for (const s of series.values()) for (const t of s.keys()) if (!filled.has(t)) filled.set(t, fill);
      return new Map([...filled.entries()].sort(([a], [b]) => a - b));
    }
    default:
      throw new MathError(`metric math: the function ${name} is not emulated (the local cloud runs METRICS, SUM, AVG, MIN, MAX and FILL)`);
  }
}

function reduce(all: Series[], combine: (values: number[]) => number): Series {
  const timestamps = [...new Set(all.flatMap((s) => [...s.keys()]))].sort((a, b) => a - b);
  return new Map(timestamps.map((t) => [t, combine(all.flatMap((s) => (s.has(t) ? [s.get(t)!] : [])))]));
}

function arithmetic(left: Value, right: Value | string, op: string): Value {
  if (typeof right === "string" || Array.isArray(left) || Array.isArray(right)) throw new MathError(`metric math: ${op} takes numbers and single time series`);
  const apply = (a: number, b: number) => (op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : a / b);
  if (typeof left === "number" && typeof right === "number") return apply(left, right);
  if (typeof left === "number") return new Map([...(right as Series)].map(([t, v]) => [t, apply(left, v)]));
  if (typeof right === "number") return new Map([...left].map(([t, v]) => [t, apply(v, right)]));
  return new Map([...left].filter(([t]) => right.has(t)).map(([t, v]) => [t, apply(v, right.get(t)!)]));
}
