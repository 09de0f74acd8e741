// Rows of DESTINATION_SQL_STREAM to the output stream, as CSV records keyed by their ROWTIME.
import { PutRecordsCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import { RuntimeError } from "./errors";

export interface OutputRecord {
  data: string;
  partitionKey: string;
}

const PUT_RECORDS_LIMIT = 500;

/** Writes the rows in order, retrying the ones Kinesis refuses; fails after three attempts. */
export async function deliverRows(kinesis: KinesisClient, stream: string, records: readonly OutputRecord[]): Promise<void> {
  for (let start = 0; start < records.length; start += PUT_RECORDS_LIMIT) {
    let pending = records.slice(start, start + PUT_RECORDS_LIMIT);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const result = await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: pending.map((r) => ({ Data: Buffer.from(r.data, "utf8"), PartitionKey: r.partitionKey })),
        }),
      );
      const failed = pending.filter((_, i) => result.Records?.[i]?.ErrorCode);
      if (failed.length > 0 && attempt >= 3) {
        const reason = result.Records?.find((r) => r.ErrorCode)?.ErrorMessage;
        throw new RuntimeError("OUTPUT_FAILED", `${failed.length} row(s) could not be written to ${stream}: ${reason}; they stay in the state's outbox and go with a later invocation`);
      }
      pending = failed;
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
