// What a handler writes to stdout and stderr, line by line, as Lambda receives it: Powertools'
// Logger and Metrics write there directly (not through console.log), one JSON object per line
// (Logger's warnings and errors to stderr).
import { vi } from "vitest";

export interface StdoutLines {
  /** Every line so far, as text. */
  text(): string[];
  /** Every line so far that is a JSON object. */
  json(): Record<string, any>[];
  restore(): void;
}

export function captureStdout(): StdoutLines {
  const lines: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) => {
    let partial = "";
    return vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      const parts = (partial + (typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"))).split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
      return true;
    });
  });
  return {
    text: () => [...lines],
    json: () =>
      lines.flatMap((line) => {
        try {
          const value = JSON.parse(line);
          return value && typeof value === "object" && !Array.isArray(value) ? [value] : [];
        } catch {
          return [];
        }
      }),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}
