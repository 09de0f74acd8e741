// The alert the seed's anomaly Lambda publishes for a row of DESTINATION_SQL_STREAM, which
// arrives as CSV ("<ctr>,<anomaly score>"): the two fields are quoted into the text as written.

export const ANOMALY_SUBJECT = "Anomaly Detected";
/** Rows above this score are anomalies (the SQL's WHERE ANOMALY_SCORE > 2). */
export const ANOMALY_THRESHOLD = 2;

export interface AnomalyAlert {
  subject: string;
  message: string;
  ctr: string;
  score: string;
}

export type ParsedRow = { alert: AnomalyAlert } | { skip: string };

export function anomalyAlert(csv: string): ParsedRow {
  // Kinesis Analytics ends every CSV row with a newline; the seed's split(',') kept it in the score.
  const fields = csv.replace(/\r?\n$/, "").split(",");
  if (fields.length !== 2) return { skip: `expected "<ctr>,<anomaly score>", got ${fields.length} field(s): ${JSON.stringify(csv.slice(0, 80))}` };
  const [ctr, score] = fields;
  if (!isNumber(ctr) || !isNumber(score)) return { skip: `expected two numbers, got ${JSON.stringify(csv.slice(0, 80))}` };
  if (!(Number(score) > ANOMALY_THRESHOLD)) return { skip: `anomaly score ${score} is not above ${ANOMALY_THRESHOLD}` };
  return {
    alert: {
      subject: ANOMALY_SUBJECT,
      message: `Anomaly detected with a click through rate of ${ctr}% and an anomaly score of ${score}`,
      ctr,
      score,
    },
  };
}

function isNumber(text: string): boolean {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text);
}
