// The KMS JSON protocol (awsJson1.1, `X-Amz-Target: TrentService.<Operation>`) over KmsState.
// One endpoint serves every region: the region is the one in the request's credential scope.
import { createServer, type IncomingMessage } from "node:http";
import { AwsServiceError, readBody, regionOfRequest, sendJson, sendJsonError } from "../lib/aws-wire";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";
import type { KmsState } from "./state";

const CONTENT_TYPE = "application/x-amz-json-1.1";

type Handler = (state: KmsState, region: string, input: Record<string, unknown>) => unknown;

const blob = (value: unknown, field: string): Buffer => {
  if (typeof value !== "string") throw new AwsServiceError("ValidationException", `${field} is required (base64)`);
  return Buffer.from(value, "base64");
};
const text = (value: unknown): string => (typeof value === "string" ? value : "");

const OPERATIONS: Record<string, Handler> = {
  CreateKey: (state, region, input) => ({
    KeyMetadata: state.createKey(region, {
      keySpec: text(input.KeySpec ?? input.CustomerMasterKeySpec) || undefined,
      keyUsage: text(input.KeyUsage) || undefined,
      description: text(input.Description),
    }),
  }),
  CreateAlias: (state, region, input) => {
    state.createAlias(region, text(input.AliasName), text(input.TargetKeyId));
    return {};
  },
  ListAliases: (state, region) => ({
    Aliases: state.listAliases(region).map(({ AliasName, AliasArn, TargetKeyId }) => ({ AliasName, AliasArn, TargetKeyId })),
    Truncated: false,
  }),
  DescribeKey: (state, region, input) => ({ KeyMetadata: state.describeKey(region, text(input.KeyId)) }),
  GetPublicKey: (state, region, input) => {
    const result = state.getPublicKey(region, text(input.KeyId));
    return { ...result, PublicKey: result.PublicKey.toString("base64") };
  },
  Sign: (state, region, input) => {
    const result = state.sign(region, {
      keyId: text(input.KeyId),
      message: blob(input.Message, "Message"),
      messageType: text(input.MessageType) || undefined,
      signingAlgorithm: text(input.SigningAlgorithm),
    });
    return { ...result, Signature: result.Signature.toString("base64") };
  },
  Verify: (state, region, input) =>
    state.verify(region, {
      keyId: text(input.KeyId),
      message: blob(input.Message, "Message"),
      messageType: text(input.MessageType) || undefined,
      signature: blob(input.Signature, "Signature"),
      signingAlgorithm: text(input.SigningAlgorithm),
    }),
};

async function handle(state: KmsState, request: IncomingMessage) {
  const target = String(request.headers["x-amz-target"] ?? "");
  const operation = target.startsWith("TrentService.") ? OPERATIONS[target.slice("TrentService.".length)] : undefined;
  if (!operation) throw new AwsServiceError("UnknownOperationException", `The local KMS does not implement ${target || "(no X-Amz-Target)"}`);
  const region = regionOfRequest(request.headers, request.url);
  const body = await readBody(request);
  let input: unknown;
  try {
    input = body.length ? JSON.parse(body.toString("utf8")) : {};
  } catch {
    throw new AwsServiceError("SerializationException", "Request body is not JSON");
  }
  if (typeof input !== "object" || input === null) throw new AwsServiceError("SerializationException", "Request body must be a JSON object");
  return operation(state, region, input as Record<string, unknown>);
}

export async function startKmsServer(options: { state: KmsState; port?: number }): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = createServer((request, response) => {
    handle(options.state, request).then(
      (result) => sendJson(response, 200, result, CONTENT_TYPE),
      (error) => sendJsonError(response, error, CONTENT_TYPE),
    );
  });
  const port = await listenOnLoopback(server, options.port);
  return { endpoint: `http://${LOOPBACK}:${port}`, stop: () => closeServer(server) };
}
