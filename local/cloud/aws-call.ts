// Calls an emulated AWS service the way API Gateway calls AWS: the request an integration
// rendered, signed with SigV4, sent to the service's endpoint in the local cloud. The services an
// AWS integration may call here are the JSON-protocol ones below; the deployer refuses others.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsServiceCall, AwsServiceResult } from "../apigateway/dependencies";

/** How each service an integration can call names its operations. */
export const INTEGRATION_SERVICES: Record<string, { target: string; contentType: string }> = {
  dynamodb: { target: "DynamoDB_20120810", contentType: "application/x-amz-json-1.0" },
  kinesis: { target: "Kinesis_20131202", contentType: "application/x-amz-json-1.1" },
};

/** Credentials API Gateway signs with locally: the emulators check signatures' shape, not secrets. */
const SERVICE_CREDENTIALS = { accessKeyId: "ASIALOCALAPIGATEWAY0", secretAccessKey: "local-api-gateway-integration" };

export async function callService(call: AwsServiceCall, endpointOf: (service: string) => string | undefined): Promise<AwsServiceResult> {
  const protocol = INTEGRATION_SERVICES[call.service];
  const endpoint = endpointOf(call.service);
  // An integration may name another region than the ones the local cloud runs.
  if (!endpoint) throw new Error(`the local cloud runs no ${call.service} in ${call.region}`);
  const url = new URL(endpoint);
  // One spelling per header: an integration's `Content-Type` and the protocol's `content-type` must not both go out.
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(call.headers)) headers[name.toLowerCase()] = value;
  headers["x-amz-target"] = `${protocol.target}.${call.action}`;
  headers["content-type"] = protocol.contentType;
  const method = call.httpMethod.toUpperCase();
  const signer = new SignatureV4({ service: call.service, region: call.region, credentials: SERVICE_CREDENTIALS, sha256: Sha256 });
  const signed = await signer.sign({ method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: "/", headers, body: call.body });
  const response = await fetch(new URL("/", endpoint), {
    method,
    headers: signed.headers as Record<string, string>,
    body: ["GET", "HEAD"].includes(method) ? undefined : call.body,
  });
  const responseHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => (responseHeaders[name] = value));
  return { status: response.status, headers: responseHeaders, body: await response.text() };
}

/** The ARN a service call acts on, for the IAM check of the integration's role. */
export function resourceOfCall(call: AwsServiceCall, accountId: string): string {
  let input: Record<string, any> = {};
  try {
    input = JSON.parse(call.body) ?? {};
  } catch {
    input = {};
  }
  if (call.service === "dynamodb") return input.TableName ? `arn:aws:dynamodb:${call.region}:${accountId}:table/${input.TableName}` : "*";
  return input.StreamARN ?? (input.StreamName ? `arn:aws:kinesis:${call.region}:${accountId}:stream/${input.StreamName}` : "*");
}
