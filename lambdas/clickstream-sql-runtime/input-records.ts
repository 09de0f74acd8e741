// Reads input records the way the application's input schema maps them: JSON objects, each
// column taken from a top-level field (`$.browseraction`), a missing field being NULL.

export interface InputSchema {
  name: string;
  recordFormat: string;
  recordRowPath: string;
  columns: { name: string; sqlType: string; mapping: string }[];
}

export type Decoded = { values: Record<string, unknown> } | { problem: string };

export function inputDecoder(schema: InputSchema): (text: string) => Decoded {
  if (schema.recordFormat !== "JSON" || schema.recordRowPath !== "$") {
    throw new Error(`input ${schema.name}: only JSON records with row path "$" are read, not ${schema.recordFormat} at ${schema.recordRowPath}`);
  }
  const fields = schema.columns.map((column) => {
    const match = /^\$\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(column.mapping);
    if (!match) throw new Error(`input ${schema.name} column ${column.name}: mapping ${column.mapping} is not a top-level field ($.name)`);
    return { column: column.name, field: match[1] };
  });
  return (text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return { problem: `not JSON: ${(error as Error).message}` };
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { problem: "not a JSON object" };
    const record = parsed as Record<string, unknown>;
    return { values: Object.fromEntries(fields.map(({ column, field }) => [column, record[field] ?? null])) };
  };
}
