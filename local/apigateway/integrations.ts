// Integrations: Lambda proxy, Lambda (non-proxy), AWS service actions called with the
// integration's role, and MOCK; then the integration response chosen by its selection pattern,
// mapped by its template and parameters. Which integrations can run here is decided when they
// are deployed (./resources): what reaches this module is runnable.
import { LambdaServiceError, type InvokeResult } from "../lambda/service";
import type { AwsServiceCall } from "./dependencies";
import { GatewayFailure } from "./gateway-responses";
import type { ApiResponse, StageCall } from "./pipeline";
import { findHeader, lambdaArnOfUri, proxyRequestContext, resolveMappingValue } from "./pipeline";
import { parseProxyResponse } from "./proxy-response";
import type { Integration, IntegrationResponse } from "./state";
import { MappingTemplateError, TemplateOverrides, renderTemplate } from "./vtl";
import { JsonSyntaxError, parseJson } from "./vtl/json";
import { JavaMap } from "./vtl/values";

/** What came back from the backend, before the integration response maps it. */
interface BackendResult {
  /** Matched against selection patterns: the status code, or a Lambda error's message. */
  selector: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

function integrationFailure(status: number, error: string) {
  return new GatewayFailure("API_CONFIGURATION_ERROR", "Internal server error", { phase: "integration", error }, status);
}

function configError(error: string) {
  return new GatewayFailure("API_CONFIGURATION_ERROR", undefined, { phase: "integration", error: `Execution failed due to configuration error: ${error}` });
}

export async function callIntegration(call: StageCall, integration: Integration): Promise<ApiResponse> {
  const started = performance.now();
  try {
    return integration.type === "AWS_PROXY" ? await lambdaProxy(call, integration) : await nonProxy(call, integration);
  } finally {
    call.state.context.integration.latency = Math.round(performance.now() - started);
    call.state.context.integrationLatency = call.state.context.integration.latency;
  }
}

function lambdaFunction(call: StageCall, uri: string | undefined): string {
  const functionArn = lambdaArnOfUri(uri)!;
  const permitted = call.deps.lambdaAllows(functionArn, call.methodArn);
  if (!permitted.allowed) throw configError(`Invalid permissions on Lambda function (${permitted.reason})`);
  return functionArn;
}

/**
 * Invokes within the integration's timeout (504 past it). When the Lambda API refuses the
 * invocation (throttled, function gone) API Gateway answers 500 (Lambda developer guide,
 * "Handling Lambda errors with an API Gateway API": "If the Lambda API rejects the invocation
 * request, API Gateway returns a 500 error code").
 */
async function invoke(call: StageCall, integration: Integration, functionArn: string, event: unknown): Promise<InvokeResult> {
  const timer = call.clock.timer(integration.timeoutMs);
  const timeout = timer.elapsed.then((elapsed) => {
    if (elapsed) throw new GatewayFailure("INTEGRATION_TIMEOUT", undefined, { phase: "integration", error: "Execution failed due to a timeout error" });
  });
  let invoked: InvokeResult;
  try {
    invoked = (await Promise.race([call.deps.invokeLambda(functionArn, event), timeout])) as InvokeResult;
  } catch (error) {
    if (!(error instanceof LambdaServiceError)) throw error;
    call.state.context.integration.integrationStatus = error.statusCode;
    throw new GatewayFailure(
      "INTEGRATION_FAILURE",
      "Internal server error",
      { phase: "integration", error: `Lambda invocation failed with status: ${error.statusCode}: ${error.code}: ${error.message}` },
      500,
    );
  } finally {
    timer.cancel();
  }
  call.state.context.integration.requestId = invoked.requestId;
  call.state.context.integration.integrationStatus = 200;
  return invoked;
}

/** Whether a media type is one of the API's binary media types (`*` matches any part). */
function isBinary(mediaType: string | undefined, binaryMediaTypes: string[]): boolean {
  if (!mediaType) return false;
  const [type, subtype] = mediaType.split(";")[0].trim().toLowerCase().split("/");
  return binaryMediaTypes.some((entry) => {
    const [t, s] = entry.toLowerCase().split("/");
    return (t === "*" || t === type) && (s === "*" || s === subtype);
  });
}

async function lambdaProxy(call: StageCall, integration: Integration): Promise<ApiResponse> {
  const functionArn = lambdaFunction(call, integration.uri);
  const { state, binaryMediaTypes } = call;
  const { request } = state;
  const hasQuery = Object.keys(state.query).length > 0;
  // A body of one of the API's binary media types reaches the function base64-encoded.
  const binaryBody = isBinary(findHeader(request.headers, "content-type"), binaryMediaTypes);
  const event = {
    resource: state.context.resourcePath,
    path: request.requestPath.startsWith(`/${state.context.stage}/`) ? request.path : request.requestPath,
    httpMethod: request.httpMethod,
    headers: Object.keys(request.headers).length > 0 ? request.headers : null,
    multiValueHeaders: Object.keys(request.multiValueHeaders).length > 0 ? request.multiValueHeaders : null,
    queryStringParameters: hasQuery ? state.query : null,
    multiValueQueryStringParameters: hasQuery ? state.multiQuery : null,
    pathParameters: Object.keys(state.pathParameters).length > 0 ? state.pathParameters : null,
    stageVariables: Object.keys(state.stageVariables).length > 0 ? state.stageVariables : null,
    requestContext: proxyRequestContext(state),
    body: request.body.length > 0 ? request.body.toString(binaryBody ? "base64" : "utf8") : null,
    isBase64Encoded: binaryBody && request.body.length > 0,
  };
  const invoked = await invoke(call, integration, functionArn, event);
  if (!invoked.ok) {
    state.context.integration.status = 200;
    throw integrationFailure(502, `Lambda execution failed with status 200 due to customer function error: ${invoked.error.errorMessage}`);
  }
  const parsed = parseProxyResponse(invoked.payload);
  if (!parsed.ok) throw integrationFailure(502, `Execution failed due to configuration error: Malformed Lambda proxy response: ${parsed.reason}`);
  const { status, headers, body, isBase64Encoded } = parsed.response;
  state.context.integration.status = status;
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
  // A base64 body is decoded only for a client whose first Accept type is a binary media type
  // (binary media pages of the developer guide; recorded on AWS without binary media types: the
  // base64 text reaches the client as it is, LocalStack test_aws_proxy_response_payload_format_validation).
  const firstAccept = (findHeader(request.headers, "accept") ?? "").split(",")[0];
  if (isBase64Encoded && isBinary(firstAccept, binaryMediaTypes)) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.replace(/\s/g, ""))) throw integrationFailure(500, "Execution failed due to configuration error: Unable to base64 decode the body");
    return { status, headers, body: Buffer.from(body, "base64") };
  }
  return { status, headers, body: Buffer.from(body, "utf8") };
}

function render(template: string, body: string, call: StageCall): string {
  try {
    return renderTemplate(
      template,
      { body, params: { path: call.state.pathParameters, querystring: call.state.query, header: call.state.request.headers } },
      { context: call.state.context, stageVariables: call.state.stageVariables, overrides: (call.state.overrides ??= new TemplateOverrides()) },
    );
  } catch (error) {
    if (error instanceof MappingTemplateError) throw configError(`mapping template failed: ${error.message}`);
    throw error;
  }
}

/** The integration request body: the matching template rendered, or the body passed through. */
function integrationRequestBody(call: StageCall, integration: Integration): string {
  const templates = integration.requestTemplates;
  const template = templates[call.contentType];
  const raw = call.state.request.body.toString("utf8");
  if (template !== undefined) return render(template, raw, call);
  const behavior = integration.passthroughBehavior;
  const hasTemplates = Object.keys(templates).length > 0;
  if (behavior === "NEVER" || (behavior === "WHEN_NO_TEMPLATES" && hasTemplates)) throw new GatewayFailure("UNSUPPORTED_MEDIA_TYPE");
  return raw;
}

async function nonProxy(call: StageCall, integration: Integration): Promise<ApiResponse> {
  const { state } = call;
  const body = integrationRequestBody(call, integration);
  const headers: Record<string, string> = {};
  for (const [target, source] of Object.entries(integration.requestParameters)) {
    const name = /^integration\.request\.header\.(.+)$/.exec(target)?.[1];
    const value = resolveMappingValue(source, state);
    if (name && value !== undefined) headers[name] = value;
  }
  Object.assign(headers, state.overrides?.requestHeaders());

  const backend =
    integration.type === "MOCK"
      ? mock(body)
      : lambdaArnOfUri(integration.uri)
        ? await lambda(call, integration, body)
        : await awsService(call, integration, body, headers);
  state.context.integration.status = backend.status;
  return integrationResponse(call, integration, backend);
}

/**
 * MOCK answers with the `statusCode` of its integration request. API Gateway reads it leniently
 * (recorded on AWS: `{statusCode: 200}`, which is not JSON, answers 200; LocalStack
 * test_integration_mock_with_path_param); without a body the default response answers.
 */
function mock(body: string): BackendResult {
  let status = 200;
  if (body.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = parseJson(body, { relaxed: true });
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error;
    }
    const code = parsed instanceof JavaMap ? parsed.get("statusCode") : undefined;
    if (typeof code !== "bigint") throw configError("Unable to parse statusCode. It should be an integer that is defined in the request template.");
    status = Number(code);
  }
  return { selector: String(status), status, headers: {}, body: "" };
}

async function lambda(call: StageCall, integration: Integration, body: string): Promise<BackendResult> {
  const functionArn = lambdaFunction(call, integration.uri);
  let event: unknown;
  try {
    event = body.trim() === "" ? {} : JSON.parse(body);
  } catch {
    throw configError("the Lambda integration request is not JSON (InvalidRequestContentException)");
  }
  const invoked = await invoke(call, integration, functionArn, event);
  if (!invoked.ok) {
    call.state.context.integration.error = invoked.error.errorMessage;
    const errorBody = JSON.stringify({ errorMessage: invoked.error.errorMessage, errorType: invoked.error.errorType, stackTrace: invoked.error.trace ?? [] });
    return { selector: invoked.error.errorMessage, status: 200, headers: {}, body: errorBody };
  }
  // A success selects the default response, whatever a pattern would match.
  return { selector: "", status: 200, headers: {}, body: invoked.payload };
}

async function awsService(call: StageCall, integration: Integration, body: string, headers: Record<string, string>): Promise<BackendResult> {
  const [, uriRegion, service, action] = /^arn:aws:apigateway:([^:]*):([^:]+):action\/([^&]+)/.exec(integration.uri ?? "")!;
  const request: AwsServiceCall = { region: uriRegion || call.region, service, action, httpMethod: integration.integrationHttpMethod ?? "POST", body, headers };
  const roleArn = integration.credentials;
  if (!roleArn) throw configError("an AWS service integration needs credentials (an IAM role)");
  // API Gateway assumes the role, then calls the service with its session: the service's IAM
  // decides, and a refusal is the service's own answer (AccessDeniedException, 400), which the
  // integration responses map like any other.
  const assumable = call.deps.roleAssumable(roleArn);
  if (!assumable.allowed) throw configError(`API Gateway does not have permission to assume the provided role ${roleArn} (${assumable.reason})`);
  const result = await call.deps.callAwsService(request, roleArn);
  call.state.context.integration.integrationStatus = result.status;
  return { selector: String(result.status), status: result.status, headers: result.headers, body: result.body };
}

/** Selection patterns are Java regexes that must match the whole selector. */
function selectResponse(responses: Map<string, IntegrationResponse>, backend: BackendResult): IntegrationResponse | undefined {
  let fallback: IntegrationResponse | undefined;
  for (const response of [...responses.values()].sort((a, b) => a.statusCode.localeCompare(b.statusCode))) {
    const pattern = response.selectionPattern;
    if (pattern === undefined || pattern === "") {
      fallback ??= response;
      continue;
    }
    let regex: RegExp;
    try {
      regex = new RegExp(`^(?:${pattern})$`, "s");
    } catch {
      throw configError(`selection pattern ${JSON.stringify(pattern)} is not a valid regular expression`);
    }
    if (regex.test(backend.selector)) return response;
  }
  return fallback;
}

function integrationResponse(call: StageCall, integration: Integration, backend: BackendResult): ApiResponse {
  const { state } = call;
  const selected = selectResponse(integration.responses, backend);
  if (!selected) throw configError("No match for output mapping and no default output mapping configured");
  if (!call.method.responses.has(selected.statusCode)) throw configError(`Output mapping refers to an invalid method response: ${selected.statusCode}`);
  const headers: Record<string, string> = {};
  for (const [target, source] of Object.entries(selected.responseParameters)) {
    const name = /^method\.response\.header\.(.+)$/.exec(target)?.[1];
    const value = resolveMappingValue(source, state, { headers: backend.headers, body: backend.body });
    if (name && value !== undefined) headers[name] = value;
  }
  let body = backend.body;
  const accept = (findHeader(state.request.headers, "accept") ?? "").split(",").map((t) => t.split(";")[0].trim().toLowerCase());
  const templates = selected.responseTemplates;
  const contentType = accept.find((t) => t in templates) ?? ("application/json" in templates ? "application/json" : Object.keys(templates)[0]);
  if (contentType !== undefined) body = render(templates[contentType], backend.body, call);
  // Response overrides apply whether the request or the response template set them.
  let status: number;
  try {
    status = state.overrides?.responseStatus() ?? Number(selected.statusCode);
  } catch (error) {
    if (error instanceof MappingTemplateError) throw configError(error.message);
    throw error;
  }
  Object.assign(headers, state.overrides?.responseHeaders());
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = contentType ?? "application/json";
  return { status, headers, body: Buffer.from(body, "utf8") };
}
