// The edge endpoint: one loopback port serving every emulated AWS API, as LocalStack's edge does,
// so that `AWS_ENDPOINT_URL=<edge>` (SDKs) and `aws --endpoint-url <edge>` (CLI) reach every
// service. A request is routed by its SigV4 credential scope (service, region); its signature is
// verified against the access keys of every account; then the one IAM path (local/iam/authorize)
// decides each permission the call needs before the service answers. A service the local cloud
// does not emulate is authorized all the same and then answered "not emulated", naming it.
import { randomUUID } from "node:crypto";
import { AwsServiceError } from "../lib/aws-wire";
import { accessDeniedError, authenticationError, errorResponse, type AwsProtocol } from "../lib/aws-protocols";
import { serveHttp, type HttpRequest, type HttpResponse, type RunningHttpServer } from "../lib/http-serve";
import { REGION_DOWN_MESSAGE, type RegionOutages } from "../lib/outages";
import { verifySigV4, type CredentialLookup } from "../lib/sigv4";
import { authorize, type PolicySources } from "../iam/authorize";
import type { Caller } from "../sts/credentials";
import type { EdgeCall, EdgeService } from "./types";

/** S3 objects are the largest bodies the local cloud takes (it keeps them in memory). */
export const EDGE_MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface EdgeOptions {
  services: Record<string, EdgeService>;
  /** The access key's secret and owner, in whichever account issued it. */
  credentials: CredentialLookup;
  callerOf(accessKeyId: string): Caller | undefined;
  policies: PolicySources;
  regions(): string[];
  outages: RegionOutages;
  /** The local cloud's clock: signatures are checked against it and answers carry it as `Date` (SDKs correct their skew from it). */
  now(): Date;
  log(line: string): void;
}

const CREDENTIAL = /Credential=([^/\s,]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;

/** Service and region from the SigV4 credential scope (Authorization header or presigned query). */
export function signedScope(request: HttpRequest): { service: string; region: string } | undefined {
  const header = CREDENTIAL.exec(String(request.headers.authorization ?? ""));
  if (header) return { region: header[3], service: header[4] };
  let query: string | null = null;
  try {
    query = new URLSearchParams(request.rawQuery).get("X-Amz-Credential");
  } catch {
    return undefined;
  }
  const presigned = query ? CREDENTIAL.exec(`Credential=${query}`) : null;
  return presigned ? { region: presigned[3], service: presigned[4] } : undefined;
}

/** The operation a request names: `X-Amz-Target: Service.Operation`, or the query protocol's Action. */
export function operationOf(request: HttpRequest): string | undefined {
  const target = String(request.headers["x-amz-target"] ?? "");
  if (target.includes(".")) return target.slice(target.lastIndexOf(".") + 1);
  if (String(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    return new URLSearchParams(request.body.toString("utf8")).get("Action") ?? undefined;
  }
  return new URLSearchParams(request.rawQuery).get("Action") ?? undefined;
}

/**
 * The protocol of a request that names no service (unsigned, or for a service the local cloud does
 * not know), guessed from its shape. A plain HTTP request is S3's, as LocalStack's edge assumes:
 * anonymous S3 GETs (a browser on an object URL) are the unsigned requests AWS sees most.
 */
function guessedProtocol(request: HttpRequest): AwsProtocol {
  const contentType = String(request.headers["content-type"] ?? "");
  if (request.headers["x-amz-target"]) return { kind: "json", version: contentType.endsWith("1.0") ? "1.0" : "1.1" };
  if (contentType.startsWith("application/x-www-form-urlencoded")) return { kind: "query", xmlns: "https://local-cloud.amazonaws.com/doc/" };
  if (/^\/\d{4}-\d{2}-\d{2}\//.test(request.rawPath)) return { kind: "rest-json" };
  return { kind: "s3" };
}

export class Edge {
  constructor(private readonly options: EdgeOptions) {}

  /** Answers one request; never throws (a bug is the service's own 500 answer). */
  handle = async (request: HttpRequest): Promise<HttpResponse> => {
    const requestId = randomUUID();
    const scope = signedScope(request);
    const unsignedService = scope ? undefined : Object.entries(this.options.services).find(([, s]) => s.acceptsUnsigned?.(request));
    const name = scope?.service ?? unsignedService?.[0];
    const service = name ? this.options.services[name] : undefined;
    const protocol = service?.protocolOf?.(request) ?? service?.protocol ?? guessedProtocol(request);
    try {
      if (request.bodyTooLarge) throw new AwsServiceError("RequestEntityTooLarge", `Request body is larger than ${EDGE_MAX_BODY_BYTES} bytes`, 413);
      if (unsignedService) return await unsignedService[1].handle({ request, service: unsignedService[0], region: "us-east-1", requestId, allowed: () => false });
      const signed = { method: request.method, path: request.rawPath, query: request.rawQuery, headers: request.headers, body: request.body };
      const verified = verifySigV4(signed, this.options.credentials, { now: this.options.now() });
      if (!verified.ok) throw authenticationError(protocol, verified);
      const caller = this.options.callerOf(verified.accessKeyId)!;
      const region = verified.region;
      if (!service?.global && !this.options.regions().includes(region)) {
        throw new AwsServiceError(authenticationError(protocol, { code: "InvalidSignature", message: "" }).code, `Credential should be scoped to a valid region, not '${region}'. The local cloud runs ${this.options.regions().join(", ")}.`, 400);
      }
      if (!service?.global && this.options.outages.isDown(region)) throw new AwsServiceError("ServiceUnavailable", REGION_DOWN_MESSAGE, 503);
      const call: EdgeCall = {
        request,
        service: verified.service,
        region,
        caller,
        requestId,
        allowed: (action, resource) => this.decide(service, call, caller, { action, resource }).allowed,
      };
      if (!service) {
        const operation = operationOf(request) ?? "*";
        const decision = this.decide(undefined, call, caller, { action: `${verified.service}:${operation}`, resource: "*" });
        if (!decision.allowed) throw accessDeniedError(protocol, decision.message);
        throw new AwsServiceError(
          "NotImplemented",
          `The local cloud does not emulate the ${verified.service} service (${operation}): the call was authenticated and authorized, and goes no further.`,
          501,
        );
      }
      for (const permission of await service.requirements(call)) {
        const decision = this.decide(service, call, caller, permission);
        if (!decision.allowed) {
          this.options.log(`edge: ${caller.principalArn} denied ${permission.action} on ${permission.resource}: ${decision.reason}`);
          throw accessDeniedError(protocol, decision.message, service.accessDeniedCode);
        }
      }
      return await service.handle(call);
    } catch (error) {
      if (!(error instanceof AwsServiceError)) this.options.log(`edge: ${name ?? "?"} ${request.method} ${request.rawPath}: ${(error as Error)?.stack ?? String(error)}`);
      const e = error instanceof AwsServiceError ? error : new AwsServiceError("InternalFailure", `The local cloud failed on this request: ${(error as Error)?.message}`, 500);
      return errorResponse(protocol, e, requestId);
    }
  };

  private decide(service: EdgeService | undefined, call: EdgeCall, caller: Caller, permission: { action: string; resource: string; context?: Record<string, string | string[]> }) {
    const resourcePolicy = permission.resource !== "*" ? service?.resourcePolicy?.(permission.resource, call) : undefined;
    return authorize(this.options.policies, caller, permission, resourcePolicy, call.region);
  }

  start(port?: number): Promise<RunningHttpServer> {
    return serveHttp(this.handle, {
      name: "edge",
      port,
      maxBodyBytes: EDGE_MAX_BODY_BYTES,
      log: this.options.log,
      now: () => this.options.now().getTime(),
      onError: (error) => errorResponse({ kind: "rest-json" }, error instanceof AwsServiceError ? error : new AwsServiceError("InternalFailure", String(error), 500)),
    });
  }
}
