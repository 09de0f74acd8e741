// Why an invocation of the SQL runtime failed. Lambda reports the error and the event source
// mapping retries the batch, so none of these loses a record.

export type RuntimeErrorCode =
  /** An environment variable the function needs is missing or malformed. */
  | "CONFIG_INVALID"
  /** The event is neither a Kinesis batch nor a scheduled tick. */
  | "UNKNOWN_EVENT"
  /** Other invocations kept changing the state between our read and write. */
  | "STATE_CONFLICT"
  /** The stored state cannot be read (not gzip'd JSON of this runtime). */
  | "STATE_CORRUPT"
  /** The state outgrew a DynamoDB item. */
  | "STATE_TOO_LARGE"
  /** The output stream would not take the rows. */
  | "OUTPUT_FAILED";

export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RuntimeError";
  }
}
