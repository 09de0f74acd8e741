// Calls an emulated AWS service the way API Gateway calls AWS for an integration: the request the
// integration rendered, signed with SigV4 by a session of the integration's role, handed to the
// edge (in-process: the same authentication and IAM path as any client's call). The services an
// AWS integration may call here are the JSON-protocol ones below; the deployer refuses others.
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsServiceCall, AwsServiceResult } from "../apigateway/dependencies";
import type { HttpRequest, HttpResponse } from "../lib/http-serve";
import type { IssuedCredentials } from "../sts/credentials";

/** How each service an integration can call names its operations. */
export const INTEGRATION_SERVICES: Record<string, { target: string; contentType: string }> = {
  dynamodb: { target: "DynamoDB_20120810", contentType: "application/x-amz-json-1.0" },
  kinesis: { target: "Kinesis_20131202", contentType: "application/x-amz-json-1.1" },
};

/** `signedAt`: the local cloud's time, which the edge checks the signature against. */
export async function callService(
  call: AwsServiceCall,
  session: IssuedCredentials,
  edge: (request: HttpRequest) => Promise<HttpResponse>,
  signedAt: Date,
): Promise<AwsServiceResult> {
  const protocol = INTEGRATION_SERVICES[call.service];
  // One spelling per header: an integration's `Content-Type` and the protocol's `content-type` must not both go out.
  const headers: Record<string, string> = { host: `${call.service}.${call.region}.amazonaws.com` };
  for (const [name, value] of Object.entries(call.headers)) headers[name.toLowerCase()] = value;
  headers["x-amz-target"] = `${protocol.target}.${call.action}`;
  headers["content-type"] = protocol.contentType;
  const signer = new SignatureV4({
    service: call.service,
    region: call.region,
    credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken },
    sha256: Sha256,
  });
  const method = call.httpMethod.toUpperCase();
  const signed = await signer.sign({ method, protocol: "https:", hostname: headers.host, path: "/", headers, body: call.body }, { signingDate: signedAt });
  const signedHeaders = Object.fromEntries(Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
  const response = await edge({
    method,
    url: "/",
    rawPath: "/",
    rawQuery: "",
    headers: signedHeaders,
    rawHeaders: Object.entries(signedHeaders).flat(),
    body: Buffer.from(call.body, "utf8"),
    bodyTooLarge: false,
    remoteAddress: "127.0.0.1",
    httpVersion: "1.1",
  });
  const responseHeaders = Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
  const responseBody = response.body === undefined ? "" : Buffer.isBuffer(response.body) ? response.body.toString("utf8") : response.body;
  return { status: response.status, headers: responseHeaders, body: responseBody };
}
