// One request through a deployed stage, in API Gateway's order: the stage's web ACL (WAF), route,
// throttling (per method), authorization, API key and usage plan, request validation, integration
// request, integration, integration response, gateway responses for every failure, an access log
// line, and the stage's metrics (Count, 4XXError, 5XXError, Latency, IntegrationLatency).
import { randomUUID } from "node:crypto";
import { renderAccessLog } from "./access-log";
import { REAL_TIME, type ApiGatewayDependencies, type CallerIdentity, type GatewayClock } from "./dependencies";
import { GATEWAY_RESPONSE_DEFAULTS, GatewayFailure, type GatewayResponseType } from "./gateway-responses";
import { callIntegration } from "./integrations";
import { Router } from "./router";
import type { ApiGatewayState, ApiSnapshot, Authorizer, Method, RestApi, Stage } from "./state";
import { QuotaCounter, TokenBucket, type MethodThrottles } from "./throttle";
import { ModelValidators, validateRequest } from "./validation";
import { TemplateOverrides, renderTemplate } from "./vtl";

export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface ApiRequest {
  httpMethod: string;
  /** Path below the stage or base path, as received (percent-encoded), starting with "/". */
  path: string;
  /** The full request path, e.g. `/prod/helloworld` or `/v1/helloworld`. */
  requestPath: string;
  rawQuery: string;
  /** Header names as the client sent them; the last value of a repeated header. */
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  body: Buffer;
  sourceIp: string;
  domainName: string;
  protocol: string;
  /** The body exceeded the payload limit and was not read in full. */
  tooLarge?: boolean;
}

export interface ApiResponse {
  status: number;
  /** A list is sent as one header line per value (multi-value headers of a Lambda proxy). */
  headers: Record<string, string | string[]>;
  body: Buffer;
}

interface AuthorizerResult {
  principalId: string;
  context: Record<string, unknown>;
  policy: unknown;
  usageIdentifierKey?: string;
}

/** What a request accumulates on its way through: becomes $context. */
export interface RequestState {
  context: Record<string, any>;
  request: ApiRequest;
  query: Record<string, string>;
  multiQuery: Record<string, string[]>;
  pathParameters: Record<string, string>;
  method?: Method;
  stageVariables: Record<string, string>;
  /** `$context.requestOverride` / `.responseOverride`, shared by the request's templates (made by the first). */
  overrides?: TemplateOverrides;
}

/** What an integration needs of the stage it runs for. */
export interface StageCall {
  state: RequestState;
  method: Method;
  methodArn: string;
  /** The request's media type, choosing the request template. */
  contentType: string;
  deps: ApiGatewayDependencies;
  clock: GatewayClock;
  region: string;
  accountId: string;
  binaryMediaTypes: string[];
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function parseQuery(raw: string): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    single[key] = value;
    (multi[key] ??= []).push(value);
  }
  return { single, multi };
}

function requestTime(date: Date): string {
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** How a request reaches the stage: its throttles (shared by the stage's deployments) and whether it is the canary's. */
export interface StageRoute {
  throttles: MethodThrottles;
  /** The request goes to the stage's canary deployment, with its stage variable overrides. */
  canary: boolean;
}

export class StageEndpoint {
  private readonly router: Router;
  private readonly models: ModelValidators;
  private readonly authorizerCache = new Map<string, { result: AuthorizerResult; expiresAt: number }>();
  private readonly clock: GatewayClock;
  private readonly variables: Record<string, string>;
  private readonly arn: string;

  constructor(
    readonly state: ApiGatewayState,
    readonly api: RestApi,
    readonly stage: Stage,
    readonly snapshot: ApiSnapshot,
    readonly deps: ApiGatewayDependencies,
    private readonly usage: UsagePlanEnforcer,
    private readonly route: StageRoute,
  ) {
    this.router = new Router(snapshot.resources.values());
    this.models = new ModelValidators(api.id, snapshot.models);
    this.clock = deps.clock ?? REAL_TIME;
    this.variables = route.canary ? { ...stage.variables, ...stage.canary?.stageVariableOverrides } : stage.variables;
    this.arn = `arn:aws:apigateway:${state.region}::/restapis/${api.id}/stages/${stage.name}`;
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const started = performance.now();
    const now = new Date(this.clock.now());
    const { single, multi } = parseQuery(request.rawQuery);
    const requestId = randomUUID();
    const state: RequestState = {
      request,
      query: single,
      multiQuery: multi,
      pathParameters: {},
      stageVariables: this.variables,
      context: {
        requestId,
        extendedRequestId: requestId.replace(/-/g, "").slice(0, 16),
        accountId: this.api.accountId,
        apiId: this.api.id,
        stage: this.stage.name,
        httpMethod: request.httpMethod,
        path: request.requestPath,
        protocol: request.protocol,
        domainName: request.domainName,
        domainPrefix: request.domainName.split(".")[0],
        requestTime: requestTime(now),
        requestTimeEpoch: now.getTime(),
        identity: {
          sourceIp: request.sourceIp,
          userAgent: header(request.headers, "user-agent") ?? "",
          accountId: null,
          apiKey: null,
          apiKeyId: null,
          caller: null,
          user: null,
          userArn: null,
          accessKey: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          cognitoAuthenticationType: null,
          cognitoAuthenticationProvider: null,
        },
        authorizer: {},
        integration: {},
        error: {},
        // Only a stage with a canary says which way a request went.
        ...(this.stage.canary ? { isCanaryRequest: this.route.canary } : {}),
      },
    };

    let response: ApiResponse;
    try {
      response = await this.process(state);
    } catch (error) {
      if (!(error instanceof GatewayFailure)) {
        state.context.integration.error = (error as Error).message;
        error = new GatewayFailure("API_CONFIGURATION_ERROR", undefined, { phase: "integration", error: (error as Error).stack ?? String(error) });
      }
      response = this.gatewayResponse(error as GatewayFailure, state);
    }
    const invalid = invalidHeader(response.headers);
    if (invalid) {
      // A header no HTTP response can carry (from a template's override) fails the request.
      response = this.gatewayResponse(new GatewayFailure("API_CONFIGURATION_ERROR", undefined, { phase: "integration", error: `Execution failed due to configuration error: ${invalid}` }), state);
    }
    utf8HeaderValues(response.headers);
    response.headers["x-amzn-RequestId"] = requestId;
    response.headers["x-amz-apigw-id"] = state.context.extendedRequestId;
    state.context.status = response.status;
    state.context.responseLength = response.body.length;
    state.context.responseLatency = Math.round(performance.now() - started);
    if (this.stage.accessLog) {
      this.deps.writeAccessLog(this.stage.accessLog.destinationArn, renderAccessLog(this.stage.accessLog.format, state.context));
    }
    this.publishMetrics(state, response.status);
    return response;
  }

  /** The stage's metrics for one request; per method too where detailed metrics are on. */
  private publishMetrics(state: RequestState, status: number) {
    const publish = (dimensions: Record<string, string>) => {
      const metric = (name: string, value: number, unit = "Count") => this.deps.publishMetric(this.api.accountId, name, dimensions, value, unit);
      metric("Count", 1);
      metric("4XXError", status >= 400 && status < 500 ? 1 : 0);
      metric("5XXError", status >= 500 ? 1 : 0);
      metric("Latency", state.context.responseLatency, "Milliseconds");
      if (typeof state.context.integration.latency === "number") metric("IntegrationLatency", state.context.integration.latency, "Milliseconds");
    };
    publish({ ApiName: this.api.name, Stage: this.stage.name });
    const methodPath = state.method && this.methodPath(state);
    const settings = methodPath ? (this.stage.methodSettings.get(methodPath) ?? this.stage.methodSettings.get("*/*")) : undefined;
    if (settings?.metricsEnabled) publish({ ApiName: this.api.name, Method: state.method!.httpMethod, Resource: state.context.resourcePath, Stage: this.stage.name });
  }

  /** `comments/POST`: how method settings name the request's method. */
  private methodPath(state: RequestState): string {
    return `${String(state.context.resourcePath).slice(1)}/${state.method!.httpMethod}`;
  }

  private async process(state: RequestState): Promise<ApiResponse> {
    const { request } = state;
    const verdict = this.deps.firewall(
      this.api.accountId,
      this.arn,
      {
        clientIp: request.sourceIp,
        method: request.httpMethod,
        uri: request.requestPath,
        rawQuery: request.rawQuery,
        httpVersion: request.protocol,
        headers: request.headers,
        body: request.body,
        requestId: state.context.requestId,
      },
      `${this.api.accountId}:${this.api.id}:${this.stage.name}`,
    );
    if (verdict) state.context.wafResponseCode = verdict === "BLOCK" ? "WAF_BLOCK" : "WAF_ALLOW";
    if (verdict === "BLOCK") throw new GatewayFailure("WAF_FILTERED");
    if (request.tooLarge || request.body.length > MAX_PAYLOAD_BYTES) throw new GatewayFailure("REQUEST_TOO_LARGE");

    const match = this.router.match(request.path);
    const method = match?.resource.methods.get(request.httpMethod) ?? match?.resource.methods.get("ANY");
    if (!match || !method) throw new GatewayFailure("MISSING_AUTHENTICATION_TOKEN");
    state.method = method;
    state.pathParameters = match.pathParameters;
    state.context.resourceId = match.resource.id;
    state.context.resourcePath = match.resource.path;

    if (!this.route.throttles.take(this.methodPath(state))) throw new GatewayFailure("THROTTLED");

    const methodArn = `arn:aws:execute-api:${this.state.region}:${this.api.accountId}:${this.api.id}/${this.stage.name}/${request.httpMethod}${match.resource.path === "/" ? "/" : match.resource.path}`;
    const authorizerResult = await this.authorize(state, method, methodArn);

    if (method.apiKeyRequired) {
      const key = this.api.apiKeySource === "AUTHORIZER" ? authorizerResult?.usageIdentifierKey : header(request.headers, "x-api-key");
      const verdict = this.usage.admit(this.api.id, this.stage.name, key);
      if (verdict !== "ok") throw new GatewayFailure(verdict);
      const apiKey = this.usage.keyByValue(key!)!;
      state.context.identity.apiKey = apiKey.value;
      state.context.identity.apiKeyId = apiKey.id;
    }

    const contentType = (header(request.headers, "content-type") ?? "application/json").split(";")[0].trim().toLowerCase();
    const failure = validateRequest(
      method,
      method.requestValidatorId ? this.snapshot.validators.get(method.requestValidatorId) : undefined,
      this.models,
      { headers: request.headers, query: state.query, pathParameters: state.pathParameters, contentType, body: request.body.toString("utf8") },
    );
    if (failure) {
      state.context.error.validationErrorString = failure.kind === "body" ? failure.errors : failure.message;
      throw new GatewayFailure(failure.kind === "parameters" ? "BAD_REQUEST_PARAMETERS" : "BAD_REQUEST_BODY", failure.message);
    }

    const integration = method.integration;
    if (!integration) throw new GatewayFailure("API_CONFIGURATION_ERROR", undefined, { phase: "integration", error: "the method has no integration" });
    return callIntegration(
      {
        state,
        method,
        methodArn,
        contentType,
        deps: this.deps,
        clock: this.clock,
        region: this.state.region,
        accountId: this.api.accountId,
        binaryMediaTypes: this.api.binaryMediaTypes,
      },
      integration,
    );
  }

  /** AWS_IAM and Lambda authorizers; fills $context.identity / $context.authorizer. */
  private async authorize(state: RequestState, method: Method, methodArn: string): Promise<AuthorizerResult | undefined> {
    const { request } = state;
    if (method.authorizationType === "AWS_IAM") {
      const authenticated = this.deps.authenticate({
        method: request.httpMethod,
        path: request.requestPath,
        query: request.rawQuery,
        headers: request.headers,
        body: request.body,
      });
      if (!authenticated.ok) {
        state.context.authenticate = { status: 403, error: authenticated.message };
        const type: GatewayResponseType =
          authenticated.code === "MissingAuthenticationToken" ? "MISSING_AUTHENTICATION_TOKEN" : authenticated.code === "ExpiredToken" ? "EXPIRED_TOKEN" : "INVALID_SIGNATURE";
        // An expired session gets AWS's own words; why exactly is in the access log's $context.authenticate.error.
        throw new GatewayFailure(type, type === "EXPIRED_TOKEN" ? undefined : authenticated.message, { phase: "authenticate", error: authenticated.message });
      }
      this.fillIdentity(state, authenticated.identity);
      const allowed = this.deps.callerAllows(authenticated.identity, methodArn);
      if (!allowed.allowed) {
        state.context.authorize = { status: 403, error: allowed.reason };
        throw new GatewayFailure(
          "ACCESS_DENIED",
          `User: ${authenticated.identity.userArn} is not authorized to perform: execute-api:Invoke on resource: ${methodArn}`,
          { phase: "authorize", error: allowed.reason },
        );
      }
      state.context.authorize = { status: 200 };
      return undefined;
    }
    if (method.authorizationType !== "CUSTOM") return undefined;
    const authorizer = method.authorizerId ? this.snapshot.authorizers.get(method.authorizerId) : undefined;
    if (!authorizer) throw new GatewayFailure("AUTHORIZER_CONFIGURATION_ERROR", undefined, { phase: "authorizer", error: `authorizer ${method.authorizerId} not found` });
    const result = await this.runAuthorizer(state, authorizer, methodArn);
    state.context.authorizer = { ...result.context, principalId: result.principalId };
    return result;
  }

  private fillIdentity(state: RequestState, identity: CallerIdentity) {
    Object.assign(state.context.identity, {
      accessKey: identity.accessKeyId,
      accountId: identity.accountId,
      caller: identity.caller,
      user: identity.user,
      userArn: identity.userArn,
    });
  }

  private identitySources(state: RequestState, authorizer: Authorizer): string[] | undefined {
    const sources = (authorizer.identitySource ?? (authorizer.type === "TOKEN" ? "method.request.header.Authorization" : ""))
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const values: string[] = [];
    for (const source of sources) {
      const match = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(source) ?? /^(stageVariables|context)\.(.+)$/.exec(source);
      if (!match) return undefined;
      const [, where, name] = match;
      const value =
        where === "header"
          ? header(state.request.headers, name)
          : where === "querystring"
            ? state.query[name]
            : where === "path"
              ? state.pathParameters[name]
              : where === "stageVariables"
                ? state.stageVariables[name]
                : String(state.context[name] ?? "");
      if (value === undefined || value === "") return undefined;
      values.push(value);
    }
    return values;
  }

  private async runAuthorizer(state: RequestState, authorizer: Authorizer, methodArn: string): Promise<AuthorizerResult> {
    const started = performance.now();
    const sources = this.identitySources(state, authorizer);
    // A missing identity source is refused before the authorizer runs.
    if (!sources) throw new GatewayFailure("UNAUTHORIZED", undefined, { phase: "authorizer", error: "identity source missing" });
    if (authorizer.type === "TOKEN" && authorizer.identityValidationExpression && !new RegExp(`^(?:${authorizer.identityValidationExpression})$`).test(sources[0])) {
      throw new GatewayFailure("UNAUTHORIZED", undefined, { phase: "authorizer", error: "token does not match the validation expression" });
    }
    const cacheKey = `${authorizer.id}\u0000${sources.join("\u0000")}`;
    const cached = authorizer.resultTtlSeconds > 0 ? this.authorizerCache.get(cacheKey) : undefined;
    let result: AuthorizerResult;
    if (cached && cached.expiresAt > this.clock.now()) {
      result = cached.result;
    } else {
      const functionArn = lambdaArnOfUri(authorizer.authorizerUri);
      if (!functionArn) throw new GatewayFailure("AUTHORIZER_CONFIGURATION_ERROR", undefined, { phase: "authorizer", error: `unsupported authorizer URI ${authorizer.authorizerUri}` });
      const sourceArn = `arn:aws:execute-api:${this.state.region}:${this.api.accountId}:${this.api.id}/authorizers/${authorizer.id}`;
      const permitted = this.deps.lambdaAllows(functionArn, sourceArn);
      if (!permitted.allowed) throw new GatewayFailure("AUTHORIZER_CONFIGURATION_ERROR", undefined, { phase: "authorizer", error: permitted.reason });
      const event = authorizer.type === "TOKEN" ? { type: "TOKEN", methodArn, authorizationToken: sources[0] } : this.requestAuthorizerEvent(state, methodArn);
      const invoked = await this.deps.invokeLambda(functionArn, event);
      state.context.authorizer.latency = Math.round(performance.now() - started);
      state.context.authorizer.requestId = invoked.requestId;
      if (!invoked.ok) {
        if (invoked.error.errorMessage === "Unauthorized") {
          state.context.authorizer.status = 401;
          throw new GatewayFailure("UNAUTHORIZED", undefined, { phase: "authorizer", error: "the authorizer answered Unauthorized" });
        }
        throw new GatewayFailure("AUTHORIZER_CONFIGURATION_ERROR", undefined, { phase: "authorizer", error: `${invoked.error.errorType}: ${invoked.error.errorMessage}` });
      }
      result = parseAuthorizerResult(invoked.payload);
      if (authorizer.resultTtlSeconds > 0) this.authorizerCache.set(cacheKey, { result, expiresAt: this.clock.now() + authorizer.resultTtlSeconds * 1000 });
    }
    if (!policyAllows(result.policy, methodArn)) {
      state.context.authorizer.status = 403;
      state.context.authorizer.principalId = result.principalId;
      throw new GatewayFailure("ACCESS_DENIED", undefined, { phase: "authorizer", error: "the policy does not allow this method" });
    }
    state.context.authorizer.status = 200;
    return result;
  }

  private requestAuthorizerEvent(state: RequestState, methodArn: string) {
    const { request } = state;
    return {
      type: "REQUEST",
      methodArn,
      resource: state.context.resourcePath,
      path: request.path,
      httpMethod: request.httpMethod,
      headers: request.headers,
      multiValueHeaders: request.multiValueHeaders,
      queryStringParameters: state.query,
      multiValueQueryStringParameters: state.multiQuery,
      pathParameters: state.pathParameters,
      stageVariables: state.stageVariables,
      requestContext: proxyRequestContext(state),
    };
  }

  /** A failure rendered through the API's gateway responses (or AWS's defaults). */
  gatewayResponse(failure: GatewayFailure, state: RequestState): ApiResponse {
    const defaults = GATEWAY_RESPONSE_DEFAULTS[failure.responseType];
    const message = failure.message;
    state.context.error = {
      ...state.context.error,
      message,
      messageString: JSON.stringify(message),
      responseType: failure.responseType,
    };
    if (failure.cause) {
      state.context[failure.cause.phase] = { ...(state.context[failure.cause.phase] ?? {}), error: failure.cause.error };
      if (failure.cause.phase === "integration") state.context.integrationErrorMessage = failure.cause.error;
    }
    const isClientError = defaults.status < 500;
    // REQUEST_TOO_LARGE cannot be customized (AWS documents it).
    const configured =
      failure.responseType === "REQUEST_TOO_LARGE"
        ? undefined
        : (this.snapshot.gatewayResponses.get(failure.responseType) ?? this.snapshot.gatewayResponses.get(isClientError ? "DEFAULT_4XX" : "DEFAULT_5XX"));
    const status = Number(configured?.statusCode ?? failure.status ?? defaults.status);
    const headers: Record<string, string> = { "content-type": "application/json" };
    let body = JSON.stringify({ message });
    const template = configured?.responseTemplates["application/json"];
    if (template !== undefined) {
      try {
        body = renderTemplate(template, { body: "", params: this.templateParams(state) }, { context: state.context, stageVariables: state.stageVariables, overrides: new TemplateOverrides() });
      } catch {
        // A template that fails as it renders leaves the default body (its syntax was checked at deploy).
      }
    }
    for (const [name, value] of Object.entries(configured?.responseParameters ?? {})) {
      const headerName = /^gatewayresponse\.header\.(.+)$/.exec(name)?.[1];
      if (!headerName) continue;
      const resolved = resolveMappingValue(value, state);
      if (resolved !== undefined) headers[headerName] = resolved;
    }
    const errorType = ERROR_TYPE_HEADERS[failure.responseType];
    if (errorType) headers["x-amzn-ErrorType"] = errorType;
    return { status, headers, body: Buffer.from(body, "utf8") };
  }

  templateParams(state: RequestState) {
    return { path: state.pathParameters, querystring: state.query, header: state.request.headers };
  }
}

/** Values of request/response parameter mappings: `'literal'`, `method.request.header.X`, `context.x`, `stageVariables.x`. */
export function resolveMappingValue(expression: string, state: RequestState, integrationResponse?: { headers: Record<string, string>; body: string }): string | undefined {
  if (expression.startsWith("'") && expression.endsWith("'")) return expression.slice(1, -1);
  let match = /^method\.request\.(header|querystring|path|multivalueheader|multivaluequerystring)\.(.+)$/.exec(expression);
  if (match) {
    const [, where, name] = match;
    if (where === "header") return header(state.request.headers, name);
    if (where === "querystring") return state.query[name];
    if (where === "path") return state.pathParameters[name];
    if (where === "multivalueheader") return state.request.multiValueHeaders[name.toLowerCase()]?.join(",");
    return state.multiQuery[name]?.join(",");
  }
  match = /^context\.(.+)$/.exec(expression);
  if (match) {
    let value: any = state.context;
    for (const part of match[1].split(".")) value = value?.[part];
    return value === undefined || value === null ? undefined : String(value);
  }
  match = /^stageVariables\.(.+)$/.exec(expression);
  if (match) return state.stageVariables[match[1]];
  if (integrationResponse) {
    match = /^integration\.response\.header\.(.+)$/.exec(expression);
    if (match) return header(integrationResponse.headers, match[1]);
    if (expression === "integration.response.body") return integrationResponse.body;
    match = /^integration\.response\.body\.(.+)$/.exec(expression);
    if (match) {
      try {
        let value: any = JSON.parse(integrationResponse.body);
        for (const part of match[1].split(".")) value = value?.[part];
        return value === undefined || value === null ? undefined : typeof value === "object" ? JSON.stringify(value) : String(value);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function proxyRequestContext(state: RequestState) {
  const c = state.context;
  return {
    resourceId: c.resourceId,
    resourcePath: c.resourcePath,
    httpMethod: c.httpMethod,
    extendedRequestId: c.extendedRequestId,
    requestTime: c.requestTime,
    path: c.path,
    accountId: c.accountId,
    protocol: c.protocol,
    stage: c.stage,
    domainPrefix: c.domainPrefix,
    requestTimeEpoch: c.requestTimeEpoch,
    requestId: c.requestId,
    identity: { ...c.identity },
    domainName: c.domainName,
    apiId: c.apiId,
    ...(Object.keys(c.authorizer ?? {}).length > 0 ? { authorizer: { ...c.authorizer } } : {}),
  };
}

/** `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations` -> function ARN */
export function lambdaArnOfUri(uri: string | undefined): string | undefined {
  return uri ? /:lambda:path\/2015-03-31\/functions\/(arn:[^/]+)\/invocations$/.exec(uri)?.[1] : undefined;
}

function parseAuthorizerResult(payload: string): AuthorizerResult {
  let parsed: any;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new GatewayFailure("AUTHORIZER_CONFIGURATION_ERROR", undefined, { phase: "authorizer", error: "the authorizer's answer is not JSON" });
  }
  if (!parsed || typeof parsed.principalId !== "string" || !parsed.policyDocument) {
    throw new GatewayFailure("AUTHORIZER_CONFIGURATION_ERROR", undefined, { phase: "authorizer", error: "the authorizer's answer has no principalId or policyDocument" });
  }
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed.context ?? {})) {
    // Only strings, numbers and booleans pass through an authorizer's context.
    if (["string", "number", "boolean"].includes(typeof value)) context[key] = value;
    else throw new GatewayFailure("AUTHORIZER_CONFIGURATION_ERROR", undefined, { phase: "authorizer", error: `context value ${key} is not a string, number or boolean` });
  }
  return { principalId: parsed.principalId, context, policy: parsed.policyDocument, usageIdentifierKey: parsed.usageIdentifierKey };
}

/** The policy an authorizer returns: an explicit Deny on the method wins, else an Allow is needed. */
function policyAllows(policy: any, methodArn: string): boolean {
  const statements = Array.isArray(policy?.Statement) ? policy.Statement : policy?.Statement ? [policy.Statement] : [];
  const matches = (pattern: string, value: string) =>
    new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(value);
  let allowed = false;
  for (const s of statements) {
    const actions = [s.Action].flat().filter(Boolean) as string[];
    const resources = [s.Resource].flat().filter(Boolean) as string[];
    if (!actions.some((a) => matches(a.toLowerCase(), "execute-api:invoke"))) continue;
    if (!resources.some((r) => matches(r, methodArn))) continue;
    if (s.Effect === "Deny") return false;
    if (s.Effect === "Allow") allowed = true;
  }
  return allowed;
}

/** API keys and usage plans of one region: which key may call which stage, and how often. */
export class UsagePlanEnforcer {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly quotas: QuotaCounter;

  /** `now`: the gateway's clock (epoch ms), which refills the buckets and turns the quota periods. */
  constructor(
    private readonly state: ApiGatewayState,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.quotas = new QuotaCounter(() => new Date(this.now()));
  }

  keyByValue(value: string) {
    for (const key of this.state.apiKeys.values()) if (key.value === value) return key;
    return undefined;
  }

  admit(apiId: string, stage: string, value: string | undefined): "ok" | "INVALID_API_KEY" | "THROTTLED" | "QUOTA_EXCEEDED" {
    if (!value) return "INVALID_API_KEY";
    const key = this.keyByValue(value);
    if (!key || !key.enabled) return "INVALID_API_KEY";
    const plan = [...this.state.usagePlans.values()].find((p) => p.keyIds.has(key.id) && p.stages.some((s) => s.apiId === apiId && s.stage === stage));
    if (!plan) return "INVALID_API_KEY";
    const bucketKey = `${plan.id}/${key.id}`;
    if (plan.throttle?.rateLimit !== undefined) {
      let bucket = this.buckets.get(bucketKey);
      if (!bucket) this.buckets.set(bucketKey, (bucket = new TokenBucket(plan.throttle.rateLimit, plan.throttle.burstLimit ?? plan.throttle.rateLimit, this.now)));
      if (!bucket.take()) return "THROTTLED";
    }
    if (plan.quota && !this.quotas.take(bucketKey, plan.quota.limit, plan.quota.period)) return "QUOTA_EXCEEDED";
    return "ok";
  }
}

export { header as findHeader };

/** The x-amzn-ErrorType API Gateway sends with some of its own answers. */
const ERROR_TYPE_HEADERS: Partial<Record<GatewayResponseType, string>> = {
  UNAUTHORIZED: "UnauthorizedException",
  MISSING_AUTHENTICATION_TOKEN: "MissingAuthenticationTokenException",
  WAF_FILTERED: "ForbiddenException",
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

/** What makes a header unsendable, if one is. */
function invalidHeader(headers: ApiResponse["headers"]): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) return `${JSON.stringify(name)} is not a valid header name`;
    if ([value].flat().some((v) => CONTROL.test(v))) return `the value of header ${JSON.stringify(name)} holds a control character`;
  }
  return undefined;
}

/** Header values go out as bytes: a character beyond Latin-1 as its UTF-8 bytes. */
function utf8HeaderValues(headers: ApiResponse["headers"]): void {
  const utf8 = (v: string) => (BEYOND_LATIN1.test(v) ? Buffer.from(v, "utf8").toString("latin1") : v);
  for (const [name, value] of Object.entries(headers)) headers[name] = Array.isArray(value) ? value.map(utf8) : utf8(value);
}
