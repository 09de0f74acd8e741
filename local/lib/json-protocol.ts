// The awsJson1.1 protocol (`X-Amz-Target: <Prefix>.<Operation>`, JSON in and out) that KMS and
// SSM speak. One endpoint serves every region: the region is the one in the request's
// credential scope.
import { createServer, type IncomingMessage } from "node:http";
import { AwsServiceError, readBody, regionOfRequest, sendJson, sendJsonError } from "./aws-wire";
import { closeServer, listenOnLoopback, LOOPBACK } from "./listen";
import { verifySigV4, type CredentialLookup } from "./sigv4";

const CONTENT_TYPE = "application/x-amz-json-1.1";

export type JsonOperation = (region: string, input: Record<string, unknown>) => unknown;

export interface JsonProtocolServerOptions {
  /** `TrentService` for KMS, `AmazonSSM` for SSM. */
  targetPrefix: string;
  /** Named in the error for an operation the emulator lacks. */
  serviceName: string;
  operations: Record<string, JsonOperation>;
  /** When given, every request's SigV4 signature is verified against these credentials. */
  credentials?: CredentialLookup;
  port?: number;
}

export interface RunningJsonServer {
  endpoint: string;
  stop(): Promise<void>;
}

async function handle(options: JsonProtocolServerOptions, request: IncomingMessage) {
  const target = String(request.headers["x-amz-target"] ?? "");
  const prefix = `${options.targetPrefix}.`;
  const operation = target.startsWith(prefix) ? options.operations[target.slice(prefix.length)] : undefined;
  if (!operation) throw new AwsServiceError("UnknownOperationException", `The local ${options.serviceName} does not implement ${target || "(no X-Amz-Target)"}`);
  const body = await readBody(request);
  if (options.credentials) {
    const [path, query = ""] = (request.url ?? "/").split("?");
    const verified = verifySigV4({ method: request.method ?? "POST", path, query, headers: request.headers, body }, options.credentials);
    if (!verified.ok) {
      const code = verified.code === "InvalidSignature" ? "InvalidSignatureException" : verified.code === "ExpiredToken" ? "ExpiredTokenException" : "UnrecognizedClientException";
      throw new AwsServiceError(code, verified.message, code === "UnrecognizedClientException" ? 400 : 403);
    }
  }
  const region = regionOfRequest(request.headers, request.url);
  let input: unknown;
  try {
    input = body.length ? JSON.parse(body.toString("utf8")) : {};
  } catch {
    throw new AwsServiceError("SerializationException", "Request body is not JSON");
  }
  if (typeof input !== "object" || input === null) throw new AwsServiceError("SerializationException", "Request body must be a JSON object");
  return operation(region, input as Record<string, unknown>);
}

export async function startJsonProtocolServer(options: JsonProtocolServerOptions): Promise<RunningJsonServer> {
  const server = createServer((request, response) => {
    handle(options, request).then(
      (result) => sendJson(response, 200, result, CONTENT_TYPE),
      (error) => sendJsonError(response, error, CONTENT_TYPE),
    );
  });
  const port = await listenOnLoopback(server, options.port);
  return { endpoint: `http://${LOOPBACK}:${port}`, stop: () => closeServer(server) };
}

export const jsonText = (value: unknown): string => (typeof value === "string" ? value : "");
