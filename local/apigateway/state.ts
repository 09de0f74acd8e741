// API Gateway (REST) state for one region: what the control plane holds after Terraform
// created it. Stages serve a deployment, and a deployment is a snapshot of the API taken when
// it was created, as in AWS: a change reaches clients only through a new deployment.

export interface IntegrationResponse {
  statusCode: string;
  selectionPattern?: string;
  responseTemplates: Record<string, string>;
  responseParameters: Record<string, string>;
}

export interface MethodResponse {
  statusCode: string;
  responseParameters: Record<string, boolean>;
  responseModels: Record<string, string>;
}

/** The integration types the local cloud runs (the deployer refuses HTTP and HTTP_PROXY). */
export interface Integration {
  type: "AWS" | "AWS_PROXY" | "MOCK";
  uri?: string;
  integrationHttpMethod?: string;
  credentials?: string;
  requestTemplates: Record<string, string>;
  requestParameters: Record<string, string>;
  passthroughBehavior: "WHEN_NO_MATCH" | "WHEN_NO_TEMPLATES" | "NEVER";
  timeoutMs: number;
  responses: Map<string, IntegrationResponse>;
}

export interface Method {
  httpMethod: string;
  resourceId: string;
  authorizationType: "NONE" | "AWS_IAM" | "CUSTOM" | "COGNITO_USER_POOLS";
  authorizerId?: string;
  apiKeyRequired: boolean;
  requestParameters: Record<string, boolean>;
  requestModels: Record<string, string>;
  requestValidatorId?: string;
  integration?: Integration;
  responses: Map<string, MethodResponse>;
}

export interface Resource {
  id: string;
  parentId?: string;
  pathPart: string;
  /** Full path such as `/comments/{pageId}`. */
  path: string;
  methods: Map<string, Method>;
}

export interface Authorizer {
  id: string;
  name: string;
  type: "TOKEN" | "REQUEST" | "COGNITO_USER_POOLS";
  authorizerUri?: string;
  authorizerCredentials?: string;
  identitySource?: string;
  identityValidationExpression?: string;
  resultTtlSeconds: number;
}

export interface RequestValidator {
  id: string;
  name: string;
  validateRequestBody: boolean;
  validateRequestParameters: boolean;
}

export interface Model {
  id: string;
  name: string;
  contentType: string;
  schema: string;
}

export interface GatewayResponse {
  responseType: string;
  statusCode?: string;
  responseTemplates: Record<string, string>;
  responseParameters: Record<string, string>;
}

/** What a deployment froze. */
export interface ApiSnapshot {
  resources: Map<string, Resource>;
  authorizers: Map<string, Authorizer>;
  validators: Map<string, RequestValidator>;
  models: Map<string, Model>;
  gatewayResponses: Map<string, GatewayResponse>;
}

export interface MethodSettings {
  throttlingRateLimit?: number;
  throttlingBurstLimit?: number;
  metricsEnabled?: boolean;
  loggingLevel?: string;
}

export interface Stage {
  name: string;
  deploymentId: string;
  variables: Record<string, string>;
  /** A share of the requests served by another deployment, with stage variable overrides. */
  canary?: { deploymentId: string; percentTraffic: number; stageVariableOverrides: Record<string, string> };
  accessLog?: { destinationArn: string; format: string };
  tracingEnabled: boolean;
  /** By method path: `*\/*` or `resource/path/GET`. */
  methodSettings: Map<string, MethodSettings>;
}

export interface RestApi extends ApiSnapshot {
  id: string;
  /** The account that created it: its ARNs and `$context.accountId`. */
  accountId: string;
  name: string;
  rootResourceId: string;
  apiKeySource: "HEADER" | "AUTHORIZER";
  binaryMediaTypes: string[];
  deployments: Map<string, ApiSnapshot>;
  stages: Map<string, Stage>;
}

export interface ApiKey {
  id: string;
  name: string;
  value: string;
  enabled: boolean;
}

export interface UsagePlan {
  id: string;
  name: string;
  stages: { apiId: string; stage: string }[];
  throttle?: { rateLimit?: number; burstLimit?: number };
  quota?: { limit: number; period: "DAY" | "WEEK" | "MONTH"; offset?: number };
  keyIds: Set<string>;
}

export interface DomainName {
  domainName: string;
  regionalDomainName: string;
  regionalHostedZoneId: string;
  /** base path ("" for none) -> API and stage */
  basePaths: Map<string, { apiId: string; stage: string }>;
}

export class ApiGatewayError extends Error {
  constructor(
    readonly code: "NotFoundException" | "ConflictException" | "BadRequestException",
    message: string,
  ) {
    super(message);
  }
}

export class ApiGatewayState {
  readonly apis = new Map<string, RestApi>();
  readonly apiKeys = new Map<string, ApiKey>();
  readonly usagePlans = new Map<string, UsagePlan>();
  readonly domainNames = new Map<string, DomainName>();

  constructor(readonly region: string) {}

  createRestApi(input: { id: string; accountId: string; rootResourceId: string; name: string; apiKeySource?: string; binaryMediaTypes?: string[] }): RestApi {
    const root: Resource = { id: input.rootResourceId, pathPart: "", path: "/", methods: new Map() };
    const api: RestApi = {
      id: input.id,
      accountId: input.accountId,
      name: input.name,
      rootResourceId: input.rootResourceId,
      apiKeySource: input.apiKeySource === "AUTHORIZER" ? "AUTHORIZER" : "HEADER",
      binaryMediaTypes: input.binaryMediaTypes ?? [],
      resources: new Map([[root.id, root]]),
      authorizers: new Map(),
      validators: new Map(),
      models: new Map(),
      gatewayResponses: new Map(),
      deployments: new Map(),
      stages: new Map(),
    };
    this.apis.set(api.id, api);
    return api;
  }

  api(id: string): RestApi {
    const api = this.apis.get(id);
    if (!api) throw new ApiGatewayError("NotFoundException", `Invalid API identifier specified ${id}`);
    return api;
  }

  createResource(apiId: string, input: { id: string; parentId: string; pathPart: string }): Resource {
    const api = this.api(apiId);
    const parent = api.resources.get(input.parentId);
    if (!parent) throw new ApiGatewayError("NotFoundException", `Invalid Resource identifier specified: ${input.parentId}`);
    const path = parent.path === "/" ? `/${input.pathPart}` : `${parent.path}/${input.pathPart}`;
    for (const existing of api.resources.values()) {
      if (existing.path === path) throw new ApiGatewayError("ConflictException", `Another resource with the same parent already has this name: ${input.pathPart}`);
    }
    const resource: Resource = { id: input.id, parentId: input.parentId, pathPart: input.pathPart, path, methods: new Map() };
    api.resources.set(resource.id, resource);
    return resource;
  }

  resource(apiId: string, resourceId: string): Resource {
    const resource = this.api(apiId).resources.get(resourceId);
    if (!resource) throw new ApiGatewayError("NotFoundException", `Invalid Resource identifier specified: ${resourceId}`);
    return resource;
  }

  putMethod(apiId: string, method: Omit<Method, "responses" | "integration">): Method {
    const resource = this.resource(apiId, method.resourceId);
    const created: Method = { ...method, responses: new Map() };
    resource.methods.set(method.httpMethod, created);
    return created;
  }

  method(apiId: string, resourceId: string, httpMethod: string): Method {
    const method = this.resource(apiId, resourceId).methods.get(httpMethod);
    if (!method) throw new ApiGatewayError("NotFoundException", `Invalid Method identifier specified: ${httpMethod} on ${resourceId}`);
    return method;
  }

  putIntegration(apiId: string, resourceId: string, httpMethod: string, integration: Omit<Integration, "responses">): Integration {
    const method = this.method(apiId, resourceId, httpMethod);
    method.integration = { ...integration, responses: method.integration?.responses ?? new Map() };
    return method.integration;
  }

  putMethodResponse(apiId: string, resourceId: string, httpMethod: string, response: MethodResponse): void {
    this.method(apiId, resourceId, httpMethod).responses.set(response.statusCode, response);
  }

  putIntegrationResponse(apiId: string, resourceId: string, httpMethod: string, response: IntegrationResponse): void {
    const method = this.method(apiId, resourceId, httpMethod);
    if (!method.integration) throw new ApiGatewayError("NotFoundException", `No integration defined for method ${httpMethod}`);
    if (!method.responses.has(response.statusCode)) {
      throw new ApiGatewayError("NotFoundException", `Invalid Response status code specified: ${response.statusCode} has no method response`);
    }
    method.integration.responses.set(response.statusCode, response);
  }

  /** Freezes the API as it is now; stages serve snapshots, never the live definition. */
  createDeployment(apiId: string, deploymentId: string): void {
    const api = this.api(apiId);
    api.deployments.set(deploymentId, structuredClone(snapshotOf(api)));
  }

  createStage(apiId: string, stage: Stage): void {
    const api = this.api(apiId);
    if (!api.deployments.has(stage.deploymentId)) throw new ApiGatewayError("NotFoundException", `Invalid deployment identifier specified: ${stage.deploymentId}`);
    if (stage.canary && !api.deployments.has(stage.canary.deploymentId)) {
      throw new ApiGatewayError("NotFoundException", `Invalid deployment identifier specified for the canary: ${stage.canary.deploymentId}`);
    }
    api.stages.set(stage.name, stage);
  }

  stage(apiId: string, stageName: string): Stage {
    const stage = this.api(apiId).stages.get(stageName);
    if (!stage) throw new ApiGatewayError("NotFoundException", `Invalid stage identifier specified: ${stageName}`);
    return stage;
  }
}

function snapshotOf(api: RestApi): ApiSnapshot {
  return {
    resources: api.resources,
    authorizers: api.authorizers,
    validators: api.validators,
    models: api.models,
    gatewayResponses: api.gatewayResponses,
  };
}
