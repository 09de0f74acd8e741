// Pieces of the AWS wire protocols that several emulators share: the region a request is for
// (from its SigV4 credential scope), reading a request body with a size cap, JSON errors.
import type { IncomingMessage, ServerResponse } from "node:http";

/** Errors an emulator answers with: `code` is the AWS error code the SDK turns into an exception. */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * The region of a SigV4-signed request: `Credential=AKID/20240101/us-east-1/kms/aws4_request`
 * in the Authorization header, or `X-Amz-Credential` in the query of a presigned request.
 */
export function regionOfRequest(headers: IncomingMessage["headers"], url = ""): string {
  const authorization = String(headers.authorization ?? "");
  const fromHeader = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(authorization)?.[1];
  const query = new URL(url, "http://localhost").searchParams.get("X-Amz-Credential") ?? "";
  const fromQuery = /^[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(query)?.[1];
  const region = fromHeader ?? fromQuery;
  if (!region) {
    throw new AwsServiceError(
      "MissingAuthenticationToken",
      "Request is not signed with SigV4: no credential scope to read the region from",
      403,
    );
  }
  return region;
}

/** Reads a request body, refusing more than `limitBytes` without buffering it. */
export function readBody(request: IncomingMessage, limitBytes = 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new AwsServiceError("RequestEntityTooLarge", `Request body is larger than ${limitBytes} bytes`, 413));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

export function sendJson(response: ServerResponse, statusCode: number, body: unknown, contentType: string): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  response.end(text);
}

/** The awsJson 1.0/1.1 error shape: `__type` names the exception. */
export function sendJsonError(response: ServerResponse, error: unknown, contentType: string): void {
  const e = error instanceof AwsServiceError ? error : new AwsServiceError("InternalFailure", (error as Error).message, 500);
  response.setHeader("x-amzn-errortype", e.code);
  sendJson(response, e.statusCode, { __type: e.code, message: e.message }, contentType);
}
