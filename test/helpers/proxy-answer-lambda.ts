// A Lambda for the API Gateway tests, run in the local cloud: behind a Lambda proxy integration it
// answers with whatever JSON the client posted (as LocalStack's AWS-validated tests do), so a test
// can hand API Gateway every malformed shape of proxy response. `?sleepMs=` answers late;
// `?describe=1` answers with what arrived (body and isBase64Encoded).
interface ProxyEvent {
  body: string | null;
  isBase64Encoded: boolean;
  queryStringParameters: Record<string, string> | null;
}

export async function handler(event: ProxyEvent): Promise<unknown> {
  const query = event.queryStringParameters ?? {};
  if (query.sleepMs) {
    await new Promise((resolve) => setTimeout(resolve, Number(query.sleepMs)));
    return { statusCode: 200, body: "late" };
  }
  if (query.describe) return { statusCode: 200, body: JSON.stringify({ body: event.body, isBase64Encoded: event.isBase64Encoded }) };
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : (event.body ?? "");
  return JSON.parse(text);
}
