// Access log lines in the stage's format: every `$context.<path>` is replaced by its value, and
// a value the request does not have becomes "-", as in API Gateway's access logs.

const VARIABLE = /\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_-]+)*)/g;

function lookup(context: Record<string, unknown>, path: string): unknown {
  let value: unknown = context;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function renderAccessLog(format: string, context: Record<string, unknown>): string {
  return format.replace(VARIABLE, (_match, path: string) => {
    const value = lookup(context, path);
    if (value === undefined || value === null || value === "") return "-";
    const text = typeof value === "object" ? JSON.stringify(value) : String(value);
    // Values sit inside the format's JSON strings: keep the line valid JSON.
    return JSON.stringify(text).slice(1, -1);
  });
}
