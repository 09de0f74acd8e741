// Errors of the streaming SQL engine. Compile errors name the line, the column and the construct
// ("line 12, column 5: OVER (sliding window): ..."); runtime errors are values delivered to the
// application's error_stream, as Kinesis Analytics delivers them, with the pump that raised them.

export interface SourcePosition {
  line: number;
  column: number;
}

export type SqlErrorCode =
  /** The text is not SQL this dialect can read. */
  | "SQL_SYNTAX"
  /** Valid Kinesis Analytics SQL that this runtime does not run. */
  | "SQL_UNSUPPORTED"
  /** Readable SQL that cannot run: unknown stream or column, type mismatch, ... */
  | "SQL_INVALID"
  /** A value inserted into an input stream that does not fit its column. */
  | "SQL_INPUT"
  /** A snapshot that does not belong to this application. */
  | "SQL_SNAPSHOT";

export class SqlError extends Error {
  constructor(
    readonly code: SqlErrorCode,
    /** What the error is about: "CASE expression", "column browseraction", ... */
    readonly construct: string,
    readonly detail: string,
    readonly position?: SourcePosition,
  ) {
    super(position ? `line ${position.line}, column ${position.column}: ${construct}: ${detail}` : `${construct}: ${detail}`);
    this.name = "SqlError";
  }
}

/** A row that failed inside a pump (division by zero, a failed CAST, ...): it is dropped, the error reported. */
export class SqlRuntimeError extends Error {
  readonly code = "SQL_RUNTIME";
  constructor(message: string) {
    super(message);
    this.name = "SqlRuntimeError";
  }
}

/** What the application's error_stream carries. */
export interface ErrorRow {
  code: "SQL_RUNTIME";
  pump: string;
  rowtime: number;
  message: string;
}
