// The seed's anomaly execution function: invoked by the output stream's event source mapping
// (batch size 1), it publishes every anomalous row to the SNS topic ClickStreamEvent, whose
// subscribers get an e-mail or SMS. Environment: TOPIC_ARN.
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { isKinesisEvent, recordText } from "../lib/kinesis-event";
import { METRICS } from "../lib/metric-names";
import { countEvent, instrumented, logger, traced } from "../lib/observability";
import { anomalyAlert } from "./message";

const sns = traced(new SNSClient({}));

export class AnomalyHandlerError extends Error {
  constructor(
    readonly code: "CONFIG_INVALID" | "UNKNOWN_EVENT",
    message: string,
  ) {
    super(message);
    this.name = "AnomalyHandlerError";
  }
}

export interface AnomalySummary {
  published: number;
  skipped: number;
}

export const handler = instrumented(async (event: unknown): Promise<AnomalySummary> => {
  const topicArn = process.env.TOPIC_ARN;
  if (!topicArn) throw new AnomalyHandlerError("CONFIG_INVALID", "environment variable TOPIC_ARN is not set");
  if (!isKinesisEvent(event)) throw new AnomalyHandlerError("UNKNOWN_EVENT", `expected a Kinesis batch, got ${JSON.stringify(event)?.slice(0, 200)}`);
  const summary: AnomalySummary = { published: 0, skipped: 0 };
  for (const record of event.Records) {
    const text = recordText(record);
    const row = text === undefined ? { skip: "data is not base64" } : anomalyAlert(text);
    if ("skip" in row) {
      // A row that is not an alert is not worth retrying the shard for: log it and go on.
      summary.skipped++;
      logger.warn("row skipped", { code: "ROW_SKIPPED", sequenceNumber: record.kinesis.sequenceNumber, reason: row.skip });
      countEvent(METRICS.anomalyRowsSkipped);
      continue;
    }
    const { subject, message } = row.alert;
    // A failed publish fails the invocation: the mapping retries the record, so no alert is lost.
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
    summary.published++;
    countEvent(METRICS.anomaliesPublished);
  }
  return summary;
});
