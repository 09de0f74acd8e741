// The event a Kinesis event source mapping invokes a Lambda with, and reading its records.

export interface KinesisEventRecord {
  /** `<shard id>:<sequence number>` */
  eventID: string;
  eventSource: "aws:kinesis";
  eventSourceARN: string;
  kinesis: {
    /** The record's bytes, base64. */
    data: string;
    partitionKey: string;
    sequenceNumber: string;
    /** When Kinesis received the record, in epoch seconds (with fractions). */
    approximateArrivalTimestamp: number;
  };
}

export interface KinesisEvent {
  Records: KinesisEventRecord[];
}

export function isKinesisEvent(event: unknown): event is KinesisEvent {
  const records = (event as KinesisEvent | undefined)?.Records;
  return (
    Array.isArray(records) &&
    records.every(
      (r) =>
        r?.eventSource === "aws:kinesis" &&
        typeof r.eventID === "string" &&
        typeof r.kinesis?.data === "string" &&
        /^\d+$/.test(r.kinesis.sequenceNumber) &&
        Number.isFinite(r.kinesis.approximateArrivalTimestamp),
    )
  );
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The record's data as UTF-8 text; undefined when it is not base64 (Buffer would decode garbage). */
export function recordText(record: KinesisEventRecord): string | undefined {
  const { data } = record.kinesis;
  return BASE64.test(data) ? Buffer.from(data, "base64").toString("utf8") : undefined;
}

/** The shard a record came from (the part of its eventID before the sequence number). */
export function shardOf(record: KinesisEventRecord): string {
  return record.eventID.slice(0, record.eventID.lastIndexOf(":")) || record.eventSourceARN;
}
