// A function's output as Lambda sends it to CloudWatch Logs ("Configuring advanced logging
// controls", "Log-level filtering"):
// - JSON log format: every line the function writes is an application log event with a level:
//   the runtime's console methods write JSON with theirs (bootstrap.cjs), a JSON object written
//   to stdout or stderr by other means (Powertools) is read for its "level", and any other line
//   counts as INFO. Events less severe than the application log level are dropped, EMF metric
//   lines (no level: INFO) among them. Lambda's own events are JSON records (platform.start,
//   platform.report) at INFO, dropped below the system log level.
// - Text format: lines as written, Lambda's START / END / REPORT lines, no filtering.
import type { Writable } from "node:stream";
import type { FunctionConfig, LambdaError } from "./service";

export type LogLevel = "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL";
export const LOG_LEVELS: readonly LogLevel[] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/** The level Lambda gives a line of application output in JSON format. */
export function levelOf(line: string): LogLevel {
  if (!line.startsWith("{")) return "INFO";
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    const upper = typeof level === "string" ? level.toUpperCase() : "";
    return (LOG_LEVELS as readonly string[]).includes(upper) ? (upper as LogLevel) : "INFO";
  } catch {
    return "INFO";
  }
}

/** What the runtime (bootstrap.cjs) writes to each stream after an invocation's output. */
export const OUTPUT_END = "\u0000local-lambda-output-end:";

const atLeast = (level: LogLevel, threshold: LogLevel | undefined) => !threshold || LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);

export class FunctionLog {
  constructor(
    private readonly out: Writable,
    private readonly config: () => FunctionConfig,
  ) {}

  private get json() {
    return this.config().logFormat === "JSON";
  }

  /**
   * A writer for one stream of one execution environment: whole lines, filtered by level;
   * `ended` hears the request id of each invocation whose output on this stream is complete.
   */
  output(ended: (requestId: string) => void): { write(chunk: Buffer): void } {
    let partial = "";
    return {
      write: (chunk) => {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) {
          if (line.startsWith(OUTPUT_END)) ended(line.slice(OUTPUT_END.length));
          else this.application(line);
        }
      },
    };
  }

  application(line: string): void {
    if (this.json && !atLeast(levelOf(line), this.config().applicationLogLevel)) return;
    this.out.write(`${line}\n`);
  }

  start(requestId: string): void {
    if (!this.json) return void this.out.write(`START RequestId: ${requestId} Version: $LATEST\n`);
    this.system({ type: "platform.start", record: { requestId, version: "$LATEST" } });
  }

  report(requestId: string, durationMs: number, status: "success" | "error" | "timeout"): void {
    const { memorySizeMb } = this.config();
    if (!this.json) {
      return void this.out.write(`END RequestId: ${requestId}\nREPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tMemory Size: ${memorySizeMb} MB\n`);
    }
    this.system({
      type: "platform.report",
      record: { requestId, metrics: { durationMs: Number(durationMs.toFixed(2)), billedDurationMs: Math.ceil(durationMs), memorySizeMB: memorySizeMb }, status },
    });
  }

  /** The runtime's record of a failed invocation (an application event at ERROR). */
  invokeError(requestId: string, error: LambdaError): void {
    const record = { timestamp: new Date().toISOString(), level: "ERROR", requestId, message: "Invoke Error", errorType: error.errorType, errorMessage: error.errorMessage, stackTrace: error.trace ?? [] };
    this.application(JSON.stringify(record));
  }

  runtimeFailure(requestId: string, message: string): void {
    this.application(JSON.stringify({ timestamp: new Date().toISOString(), level: "FATAL", requestId, message }));
  }

  private system(event: { type: string; record: Record<string, unknown> }): void {
    // Lambda's platform events are INFO.
    if (!atLeast("INFO", this.config().systemLogLevel)) return;
    this.out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
}
