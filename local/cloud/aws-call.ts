// Calls an emulated AWS service the way API Gateway calls AWS: the request an integration
// rendered, signed with SigV4, sent to the service's endpoint in the local cloud.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsServiceCall, AwsServiceResult } from "../apigateway/dependencies";

/** How each JSON-protocol service names its operations. */
const JSON_PROTOCOLS: Record<string, { target: string; contentType: string }> = {
  dynamodb: { target: "DynamoDB_20120810", contentType: "application/x-amz-json-1.0" },
  kinesis: { target: "Kinesis_20131202", contentType: "application/x-amz-json-1.1" },
  kms: { target: "TrentService", contentType: "application/x-amz-json-1.1" },
};

/** Credentials API Gateway signs with locally: the emulators check signatures' shape, not secrets. */
const SERVICE_CREDENTIALS = { accessKeyId: "ASIALOCALAPIGATEWAY0", secretAccessKey: "local-api-gateway-integration" };

export class UnsupportedServiceCall extends Error {
  readonly code = "UNSUPPORTED_SERVICE_CALL";
}

export async function callService(call: AwsServiceCall, endpointOf: (service: string) => string | undefined): Promise<AwsServiceResult> {
  const endpoint = endpointOf(call.service);
  if (!endpoint) throw new UnsupportedServiceCall(`the local cloud has no ${call.service} emulator for ${call.region}`);
  const url = new URL(endpoint);
  // One spelling per header: an integration's `Content-Type` and the protocol's `content-type` must not both go out.
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(call.headers)) headers[name.toLowerCase()] = value;
  let path = "/";
  let body = call.body;
  const protocol = JSON_PROTOCOLS[call.service];
  if (protocol && call.action) {
    headers["x-amz-target"] = `${protocol.target}.${call.action}`;
    headers["content-type"] = protocol.contentType;
  } else if (call.action) {
    // Query protocol (SNS, STS, ...): the action and its parameters as a form.
    const form = new URLSearchParams(body.trim().startsWith("{") ? {} : Object.fromEntries(new URLSearchParams(body)));
    form.set("Action", call.action);
    body = form.toString();
    headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
  } else if (call.path) {
    path = `/${call.path.replace(/^\//, "")}`;
  } else {
    throw new UnsupportedServiceCall(`${call.service} call has neither an action nor a path`);
  }
  const signer = new SignatureV4({ service: call.service, region: call.region, credentials: SERVICE_CREDENTIALS, sha256: Sha256 });
  const signed = await signer.sign({
    method: call.httpMethod.toUpperCase(),
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path,
    headers,
    body,
  });
  const response = await fetch(new URL(path, endpoint), {
    method: call.httpMethod.toUpperCase(),
    headers: signed.headers as Record<string, string>,
    body: ["GET", "HEAD"].includes(call.httpMethod.toUpperCase()) ? undefined : body,
  });
  const responseHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => (responseHeaders[name] = value));
  return { status: response.status, headers: responseHeaders, body: await response.text() };
}

/** The ARN a service call acts on, for the IAM check of the integration's role. */
export function resourceOfCall(call: AwsServiceCall, accountId: string): string {
  let input: Record<string, any> = {};
  try {
    input = call.body.trim().startsWith("{") ? JSON.parse(call.body) : Object.fromEntries(new URLSearchParams(call.body));
  } catch {
    input = {};
  }
  switch (call.service) {
    case "dynamodb":
      return input.TableName ? `arn:aws:dynamodb:${call.region}:${accountId}:table/${input.TableName}` : "*";
    case "kinesis":
      return input.StreamARN ?? (input.StreamName ? `arn:aws:kinesis:${call.region}:${accountId}:stream/${input.StreamName}` : "*");
    case "sns":
      return input.TopicArn ?? "*";
    case "s3":
      return call.path ? `arn:aws:s3:::${call.path.replace(/^\//, "")}` : "*";
    default:
      return "*";
  }
}
