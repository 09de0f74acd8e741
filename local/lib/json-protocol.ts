// The awsJson protocol (`X-Amz-Target: <Prefix>.<Operation>`, JSON in and out) as an edge
// service: KMS, SSM and CloudWatch Logs declare their operations (the IAM action, the resources it
// acts on, and what it does to the state of the caller's account) and share the parsing, the
// errors and the answers.
import { AwsServiceError } from "./aws-wire";
import type { HttpResponse } from "./http-serve";
import type { EdgeCall, EdgeService, Requirement, ResourcePolicy } from "../edge/types";

/**
 * The body of an awsJson request: a JSON object, or `{}` when empty. Anything else is refused as
 * the JSON services refuse it, with SerializationException (`notJson`: a service's own wording).
 */
export function jsonRequestBody(body: Buffer, notJson = "The request body is not JSON"): Record<string, unknown> {
  let input: unknown;
  try {
    input = body.length ? JSON.parse(body.toString("utf8")) : {};
  } catch {
    throw new AwsServiceError("SerializationException", notJson);
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new AwsServiceError("SerializationException", "The request body must be a JSON object");
  return input as Record<string, unknown>;
}

export interface JsonOperation<S> {
  /** The IAM action; `<iamPrefix>:<Operation>` when absent. */
  action?: string;
  /** The ARNs the operation acts on; `*` when absent. */
  resources?(state: S, region: string, input: Record<string, unknown>, call: EdgeCall): string[];
  /** Service-specific condition keys for a resource (`kms:ResourceAliases`). */
  context?(state: S, resource: string): Record<string, string | string[]>;
  run(state: S, region: string, input: Record<string, unknown>, call: EdgeCall): unknown;
}

export interface JsonProtocolServiceOptions<S> {
  /** `TrentService` for KMS, `AmazonSSM` for SSM, `Logs_20140328` for CloudWatch Logs. */
  targetPrefix: string;
  /** Named in the error for an operation the emulator lacks. */
  serviceName: string;
  iamPrefix: string;
  version: "1.0" | "1.1";
  /** The state of the caller's account in which the call acts. */
  stateFor(call: EdgeCall): S;
  operations: Record<string, JsonOperation<S>>;
  resourcePolicy?(state: S, resource: string, call: EdgeCall): ResourcePolicy | undefined;
}

export function jsonProtocolService<S>(options: JsonProtocolServiceOptions<S>): EdgeService {
  const parse = (call: EdgeCall) => {
    const target = String(call.request.headers["x-amz-target"] ?? "");
    const prefix = `${options.targetPrefix}.`;
    const name = target.startsWith(prefix) ? target.slice(prefix.length) : "";
    const operation = options.operations[name];
    if (!operation) throw new AwsServiceError("UnknownOperationException", `The local ${options.serviceName} does not implement ${target || "(no X-Amz-Target)"}`);
    return { name, operation, input: jsonRequestBody(call.request.body), state: options.stateFor(call) };
  };
  const contentType = `application/x-amz-json-${options.version}`;
  return {
    protocol: { kind: "json", version: options.version },
    requirements(call): Requirement[] {
      const { name, operation, input, state } = parse(call);
      const action = operation.action ?? `${options.iamPrefix}:${name}`;
      return (operation.resources?.(state, call.region, input, call) ?? ["*"]).map((resource) => ({
        action,
        resource,
        context: resource !== "*" ? operation.context?.(state, resource) : undefined,
      }));
    },
    resourcePolicy: options.resourcePolicy && ((resource, call) => options.resourcePolicy!(options.stateFor(call), resource, call)),
    async handle(call): Promise<HttpResponse> {
      const { operation, input, state } = parse(call);
      const result = await operation.run(state, call.region, input, call);
      return { status: 200, headers: { "content-type": contentType, "x-amzn-requestid": call.requestId }, body: JSON.stringify(result ?? {}) };
    },
  };
}

export const jsonText = (value: unknown): string => (typeof value === "string" ? value : "");
