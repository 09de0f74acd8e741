// Integrations: Lambda proxy, Lambda (non-proxy), AWS service actions called with the
// integration's role, and MOCK; then the integration response chosen by its selection pattern,
// mapped by its template and parameters.
import type { ApiGatewayDependencies, AwsServiceCall } from "./dependencies";
import { GatewayFailure } from "./gateway-responses";
import { findHeader, lambdaArnOfUri, proxyRequestContext, resolveMappingValue, type ApiResponse, type RequestState } from "./pipeline";
import type { Integration, IntegrationResponse, Method } from "./state";
import { MappingTemplateError, renderTemplate, type RenderResult } from "./vtl";

export interface IntegrationOutcome {
  response: ApiResponse;
}

interface IntegrationCall {
  state: RequestState;
  integration: Integration;
  method: Method;
  methodArn: string;
  contentType: string;
  deps: ApiGatewayDependencies;
  region: string;
  accountId: string;
  sourceArn: string;
}

/** What came back from the backend, before the integration response maps it. */
interface BackendResult {
  /** Matched against selection patterns: the status code, or a Lambda error's message. */
  selector: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Lambda errors select among patterns; a success or service answer without a match takes the default. */
  isLambdaError: boolean;
}

const INTERNAL_ERROR_502 = (error: string) => new GatewayFailure("API_CONFIGURATION_ERROR", "Internal server error", { phase: "integration", error }, 502);

function configError(error: string) {
  return new GatewayFailure("API_CONFIGURATION_ERROR", undefined, { phase: "integration", error: `Execution failed due to configuration error: ${error}` });
}

export async function callIntegration(call: IntegrationCall): Promise<IntegrationOutcome> {
  const started = performance.now();
  try {
    if (call.integration.type === "AWS_PROXY") return { response: await lambdaProxy(call) };
    return { response: await nonProxy(call) };
  } finally {
    call.state.context.integration.latency = Math.round(performance.now() - started);
    call.state.context.integrationLatency = call.state.context.integration.latency;
  }
}

function checkLambdaPermission(call: IntegrationCall, functionArn: string) {
  const permitted = call.deps.lambdaAllows(functionArn, call.sourceArn);
  if (!permitted.allowed) throw configError(`Invalid permissions on Lambda function (${permitted.reason})`);
}

async function invokeWithTimeout(call: IntegrationCall, functionArn: string, event: unknown) {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new GatewayFailure("INTEGRATION_TIMEOUT", undefined, { phase: "integration", error: "Execution failed due to a timeout error" })), call.integration.timeoutMs).unref(),
  );
  const invoked = await Promise.race([call.deps.invokeLambda(functionArn, event), timeout]);
  call.state.context.integration.requestId = invoked.requestId;
  call.state.context.integration.integrationStatus = 200;
  return invoked;
}

async function lambdaProxy(call: IntegrationCall): Promise<ApiResponse> {
  const functionArn = lambdaArnOfUri(call.integration.uri);
  if (!functionArn) throw configError(`unsupported AWS_PROXY URI ${call.integration.uri}`);
  checkLambdaPermission(call, functionArn);
  const { state } = call;
  const { request } = state;
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(request.multiValueHeaders)) multiValueHeaders[name] = values;
  const hasQuery = Object.keys(state.query).length > 0;
  const event = {
    resource: state.context.resourcePath,
    path: request.requestPath.startsWith(`/${state.context.stage}/`) ? request.path : request.requestPath,
    httpMethod: request.httpMethod,
    headers: Object.keys(request.headers).length > 0 ? request.headers : null,
    multiValueHeaders: Object.keys(multiValueHeaders).length > 0 ? multiValueHeaders : null,
    queryStringParameters: hasQuery ? state.query : null,
    multiValueQueryStringParameters: hasQuery ? state.multiQuery : null,
    pathParameters: Object.keys(state.pathParameters).length > 0 ? state.pathParameters : null,
    stageVariables: Object.keys(state.stageVariables).length > 0 ? state.stageVariables : null,
    requestContext: proxyRequestContext(state),
    body: request.body.length > 0 ? request.body.toString("utf8") : null,
    isBase64Encoded: false,
  };
  const invoked = await invokeWithTimeout(call, functionArn, event);
  if (!invoked.ok) {
    state.context.integration.status = 200;
    throw INTERNAL_ERROR_502(`Lambda execution failed with status 200 due to customer function error: ${invoked.error.errorMessage}`);
  }
  let result: any;
  try {
    result = JSON.parse(invoked.payload);
  } catch {
    throw INTERNAL_ERROR_502("Malformed Lambda proxy response");
  }
  const status = Number(result?.statusCode);
  if (!result || typeof result !== "object" || !Number.isInteger(status) || status < 100 || status > 599) {
    throw INTERNAL_ERROR_502("Malformed Lambda proxy response");
  }
  state.context.integration.status = status;
  const headers: Record<string, string> = {};
  for (const [name, values] of Object.entries((result.multiValueHeaders ?? {}) as Record<string, unknown[]>)) headers[name] = values.map(String).join(",");
  for (const [name, value] of Object.entries((result.headers ?? {}) as Record<string, unknown>)) headers[name] = String(value);
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
  const body = result.body === undefined || result.body === null ? "" : String(result.body);
  return { status, headers, body: result.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8") };
}

function render(template: string, body: string, call: IntegrationCall): RenderResult {
  try {
    return renderTemplate(template, { body, params: templateParams(call.state) }, {
      context: call.state.context,
      stageVariables: call.state.stageVariables,
    });
  } catch (error) {
    if (error instanceof MappingTemplateError) throw configError(`mapping template failed: ${error.message}`);
    throw error;
  }
}

function templateParams(state: RequestState) {
  return { path: state.pathParameters, querystring: state.query, header: state.request.headers };
}

/** The integration request body: the matching template rendered, or the body passed through. */
function integrationRequestBody(call: IntegrationCall): { body: string; rendered?: RenderResult } {
  const templates = call.integration.requestTemplates;
  const template = templates[call.contentType];
  const raw = call.state.request.body.toString("utf8");
  if (template !== undefined) {
    const rendered = render(template, raw, call);
    return { body: rendered.output, rendered };
  }
  const behavior = call.integration.passthroughBehavior;
  const hasTemplates = Object.keys(templates).length > 0;
  if (behavior === "NEVER" || (behavior === "WHEN_NO_TEMPLATES" && hasTemplates)) throw new GatewayFailure("UNSUPPORTED_MEDIA_TYPE");
  return { body: raw };
}

async function nonProxy(call: IntegrationCall): Promise<ApiResponse> {
  const { integration, state } = call;
  const { body, rendered } = integrationRequestBody(call);
  const headers: Record<string, string> = {};
  for (const [target, source] of Object.entries(integration.requestParameters)) {
    const name = /^integration\.request\.header\.(.+)$/.exec(target)?.[1];
    const value = resolveMappingValue(source, state);
    if (name && value !== undefined) headers[name] = value;
  }
  Object.assign(headers, rendered?.requestOverride.header ?? {});

  let backend: BackendResult;
  if (integration.type === "MOCK") backend = mock(body);
  else if (integration.type === "AWS") backend = await awsIntegration(call, body, headers);
  else throw configError(`${integration.type} integrations are not emulated by the local cloud`);

  state.context.integration.status = backend.status;
  return integrationResponse(call, backend);
}

function mock(body: string): BackendResult {
  let status = 200;
  if (body.trim() !== "") {
    try {
      const parsed = JSON.parse(body);
      if (parsed && parsed.statusCode !== undefined) status = Number(parsed.statusCode);
    } catch {
      throw configError("MOCK integration request template did not produce JSON with a statusCode");
    }
  }
  return { selector: String(status), status, headers: {}, body: "", isLambdaError: false };
}

/** `arn:aws:apigateway:<region>:<service>:action/<Action>` or `:path/<path>` */
function serviceCallOf(uri: string, region: string): Omit<AwsServiceCall, "httpMethod" | "body" | "headers"> {
  const match = /^arn:aws:apigateway:([^:]+):([^:]+):(action|path)\/(.+)$/.exec(uri);
  if (!match) throw configError(`AWS integration URI is not an API Gateway service ARN: ${uri}`);
  const [, uriRegion, service, kind, rest] = match;
  return { region: uriRegion || region, service, ...(kind === "action" ? { action: rest.split("&")[0] } : { path: rest }) };
}

async function awsIntegration(call: IntegrationCall, body: string, headers: Record<string, string>): Promise<BackendResult> {
  const uri = call.integration.uri ?? "";
  const functionArn = lambdaArnOfUri(uri);
  if (functionArn) {
    checkLambdaPermission(call, functionArn);
    let event: unknown;
    try {
      event = body.trim() === "" ? {} : JSON.parse(body);
    } catch {
      throw configError("the Lambda integration request is not JSON (InvalidRequestContentException)");
    }
    const invoked = await invokeWithTimeout(call, functionArn, event);
    if (!invoked.ok) {
      const errorBody = JSON.stringify({ errorMessage: invoked.error.errorMessage, errorType: invoked.error.errorType, stackTrace: invoked.error.trace ?? [] });
      call.state.context.integration.error = invoked.error.errorMessage;
      return { selector: invoked.error.errorMessage, status: 200, headers: {}, body: errorBody, isLambdaError: true };
    }
    return { selector: "", status: 200, headers: {}, body: invoked.payload, isLambdaError: false };
  }

  const service = serviceCallOf(uri, call.region);
  const request: AwsServiceCall = { ...service, httpMethod: call.integration.integrationHttpMethod ?? "POST", body, headers };
  const roleArn = call.integration.credentials;
  if (!roleArn) throw configError("an AWS service integration needs credentials (an IAM role)");
  // API Gateway assumes the role, then calls the service with its session: the service's IAM
  // decides, and a refusal is the service's own answer (AccessDeniedException, 400), which the
  // integration responses map like any other.
  const assumable = call.deps.roleAssumable(roleArn);
  if (!assumable.allowed) throw configError(`API Gateway does not have permission to assume the provided role ${roleArn} (${assumable.reason})`);
  const result = await call.deps.callAwsService(request, roleArn);
  call.state.context.integration.integrationStatus = result.status;
  return { selector: String(result.status), status: result.status, headers: result.headers, body: result.body, isLambdaError: false };
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

function integrationResponse(call: IntegrationCall, backend: BackendResult): ApiResponse {
  const { state, method } = call;
  const selected = selectResponse(call.integration.responses, backend);
  if (!selected) throw configError("No match for output mapping and no default output mapping configured");
  if (!method.responses.has(selected.statusCode)) throw configError(`Output mapping refers to an invalid method response: ${selected.statusCode}`);
  const headers: Record<string, string> = {};
  for (const [target, source] of Object.entries(selected.responseParameters)) {
    const name = /^method\.response\.header\.(.+)$/.exec(target)?.[1];
    const value = resolveMappingValue(source, state, { headers: backend.headers, body: backend.body });
    if (name && value !== undefined) headers[name] = value;
  }
  let status = Number(selected.statusCode);
  let body = backend.body;
  const accept = (findHeader(state.request.headers, "accept") ?? "").split(",").map((t) => t.split(";")[0].trim().toLowerCase());
  const templates = selected.responseTemplates;
  const contentType = accept.find((t) => t in templates) ?? ("application/json" in templates ? "application/json" : Object.keys(templates)[0]);
  if (contentType !== undefined) {
    const rendered = render(templates[contentType], backend.body, call);
    body = rendered.output;
    if (rendered.responseOverride.status !== undefined) status = rendered.responseOverride.status;
    Object.assign(headers, rendered.responseOverride.header);
  }
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = contentType ?? "application/json";
  return { status, headers, body: Buffer.from(body, "utf8") };
}
