// Rows as Kinesis Analytics writes them to a destination in CSV format: values separated by
// commas, one row per line, numbers as Java writes them, NULL as an empty field. Fields that
// contain a comma, a quote or a line break are quoted (RFC 4180).
import type { Column } from "./operators";
import type { Value } from "./types";
import { formatValue } from "./values";

export function toCsvLine(columns: readonly Column[], values: readonly Value[]): string {
  return `${columns.map((column, i) => csvField(formatValue(values[i], column.type))).join(",")}\n`;
}

function csvField(text: string | null): string {
  if (text === null) return "";
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
