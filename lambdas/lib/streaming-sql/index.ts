// Streaming SQL for the Kinesis Analytics SQL dialect: compile(sql, { inputs }) gives an
// Application; insert rows with their arrival time, advance its clock, subscribe to its streams.
export { compile, type CompileOptions, type InputColumn, type InputStream } from "./compiler";
export { Application, ERROR_STREAM, UnreportedRowError, type ApplicationSnapshot, type PartitionPlan, type Partials } from "./application";
export { SqlError, type ErrorRow, type SqlErrorCode, type SourcePosition } from "./errors";
export type { Column, OutputRow, PartialGroup } from "./operators";
export type { SqlType, Value } from "./types";
export { formatDouble } from "./values";
export { toCsvLine } from "./csv";
