// Terraform resource types of API Gateway (REST), applied to the region's API Gateway state.
// An integration or a mapping template the local cloud cannot run as AWS would is refused here,
// naming its address, so that nothing deploys only to fail on every request.
import { INTEGRATION_SERVICES } from "../cloud/aws-call";
import type { RegionServices } from "../cloud/services";
import { DeployError, type ResourceContext, type ResourceHandler } from "../deployer/types";
import { lambdaArnOfUri } from "./pipeline";
import type { Integration, Stage } from "./state";
import { templateProblem } from "./vtl";

type Handler = ResourceHandler<RegionServices>;

const ID = "abcdefghijklmnopqrstuvwxyz0123456789";
const KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Route 53 hosted zone ids of regional API Gateway endpoints, as AWS publishes them. */
const REGIONAL_ZONE_IDS: Record<string, string> = {
  "us-east-1": "Z1UJRXOUMOOFQ8",
  "us-east-2": "ZOJJZC49E0EPZ",
  "us-west-1": "Z2MOQ4RRCS7MVG",
  "us-west-2": "Z2OJLYMUO9EFXC",
  "eu-west-1": "ZLY8HYME6SFDD",
  "eu-central-1": "Z1U9ULNL0V5AJ3",
};

const strings = (value: unknown): Record<string, string> => (value && typeof value === "object" ? (value as Record<string, string>) : {});

function refuse(ctx: ResourceContext<RegionServices>, problem: string): never {
  throw new DeployError("UNSUPPORTED_INTEGRATION", `${ctx.stack.name}: ${ctx.address}: the local cloud cannot run this as AWS does, so it will not deploy the stack: ${problem}`);
}

function checkTemplates(ctx: ResourceContext<RegionServices>, kind: string, templates: Record<string, string>) {
  for (const [contentType, template] of Object.entries(templates)) {
    const problem = templateProblem(template);
    if (problem) refuse(ctx, `${kind} template for ${contentType}: ${problem}`);
  }
}

const EMULATED_SERVICES = Object.keys(INTEGRATION_SERVICES).join(" and ");

/** Why the local cloud cannot run an integration, or undefined when it can. */
function integrationProblem(type: string, uri: string, contentHandling: string | undefined): string | undefined {
  if (type === "HTTP" || type === "HTTP_PROXY") return `${type} integrations call ${uri || "an HTTP endpoint"} beyond loopback, which the local cloud never reaches`;
  if (!["AWS", "AWS_PROXY", "MOCK"].includes(type)) return `integration type ${type} is unknown`;
  if (contentHandling) return `content_handling ${contentHandling} (binary payload conversion) is not emulated`;
  if (type === "MOCK") return undefined;
  if (uri.includes("${stageVariables.")) return `stage variables in the integration URI (${uri}) are not emulated`;
  if (lambdaArnOfUri(uri)) return undefined;
  if (type === "AWS_PROXY") return `an AWS_PROXY integration must invoke a Lambda function, got ${uri}`;
  const service = /^arn:aws:apigateway:[^:]*:([^:]+):(action|path)\//.exec(uri);
  if (!service) return `${uri} is not an API Gateway service URI (arn:aws:apigateway:<region>:<service>:action/<Action>)`;
  if (!Object.hasOwn(INTEGRATION_SERVICES, service[1])) return `AWS integrations with ${service[1]} are not emulated (the local cloud emulates actions of ${EMULATED_SERVICES})`;
  if (service[2] === "path") return `path-style AWS integrations (${service[1]}:path/...) are not emulated (the local cloud emulates actions of ${EMULATED_SERVICES})`;
  return undefined;
}
const booleans = (value: unknown): Record<string, boolean> => (value && typeof value === "object" ? (value as Record<string, boolean>) : {});

export const apiGatewayResources: Record<string, Handler> = {
  aws_api_gateway_rest_api: ({ config, services, stableId, region, accountId }) => {
    const id = stableId(10, ID);
    const rootResourceId = stableId(10, ID, "root-resource");
    services.apigateway.createRestApi({ id, accountId, rootResourceId, name: config.name, apiKeySource: config.api_key_source, binaryMediaTypes: config.binary_media_types });
    return {
      id,
      root_resource_id: rootResourceId,
      arn: `arn:aws:apigateway:${region}::/restapis/${id}`,
      execution_arn: `arn:aws:execute-api:${region}:${accountId}:${id}`,
    };
  },

  aws_api_gateway_resource: ({ config, services, stableId }) => {
    const resource = services.apigateway.createResource(config.rest_api_id, { id: stableId(6, ID), parentId: config.parent_id, pathPart: config.path_part });
    return { id: resource.id, path: resource.path };
  },

  aws_api_gateway_method: ({ config, services }) => {
    services.apigateway.putMethod(config.rest_api_id, {
      httpMethod: config.http_method,
      resourceId: config.resource_id,
      authorizationType: config.authorization,
      authorizerId: config.authorizer_id ?? undefined,
      apiKeyRequired: config.api_key_required === true,
      requestParameters: booleans(config.request_parameters),
      requestModels: strings(config.request_models),
      requestValidatorId: config.request_validator_id ?? undefined,
    });
    return { id: `agm-${config.rest_api_id}-${config.resource_id}-${config.http_method}` };
  },

  aws_api_gateway_integration: (ctx) => {
    const { config, services } = ctx;
    const problem = integrationProblem(config.type, config.uri ?? "", config.content_handling ?? undefined);
    if (problem) refuse(ctx, problem);
    checkTemplates(ctx, "request", strings(config.request_templates));
    services.apigateway.putIntegration(config.rest_api_id, config.resource_id, config.http_method, {
      type: config.type as Integration["type"],
      uri: config.uri ?? undefined,
      integrationHttpMethod: config.integration_http_method ?? undefined,
      credentials: config.credentials ?? undefined,
      requestTemplates: strings(config.request_templates),
      requestParameters: strings(config.request_parameters),
      passthroughBehavior: config.passthrough_behavior ?? "WHEN_NO_MATCH",
      timeoutMs: config.timeout_milliseconds ?? 29000,
    });
    return { id: `agi-${config.rest_api_id}-${config.resource_id}-${config.http_method}` };
  },

  aws_api_gateway_method_response: ({ config, services }) => {
    services.apigateway.putMethodResponse(config.rest_api_id, config.resource_id, config.http_method, {
      statusCode: String(config.status_code),
      responseParameters: booleans(config.response_parameters),
      responseModels: strings(config.response_models),
    });
    return { id: `agmr-${config.rest_api_id}-${config.resource_id}-${config.http_method}-${config.status_code}` };
  },

  aws_api_gateway_integration_response: (ctx) => {
    const { config, services } = ctx;
    if (config.content_handling) refuse(ctx, `content_handling ${config.content_handling} (binary payload conversion) is not emulated`);
    checkTemplates(ctx, "response", strings(config.response_templates));
    services.apigateway.putIntegrationResponse(config.rest_api_id, config.resource_id, config.http_method, {
      statusCode: String(config.status_code),
      selectionPattern: config.selection_pattern ?? undefined,
      responseTemplates: strings(config.response_templates),
      responseParameters: strings(config.response_parameters),
    });
    return { id: `agir-${config.rest_api_id}-${config.resource_id}-${config.http_method}-${config.status_code}` };
  },

  aws_api_gateway_authorizer: ({ config, services, stableId }) => {
    const id = stableId(6, ID);
    services.apigateway.api(config.rest_api_id).authorizers.set(id, {
      id,
      name: config.name,
      type: config.type ?? "TOKEN",
      authorizerUri: config.authorizer_uri ?? undefined,
      authorizerCredentials: config.authorizer_credentials ?? undefined,
      identitySource: config.identity_source ?? undefined,
      identityValidationExpression: config.identity_validation_expression ?? undefined,
      resultTtlSeconds: config.authorizer_result_ttl_in_seconds ?? 300,
    });
    return { id };
  },

  aws_api_gateway_request_validator: ({ config, services, stableId }) => {
    const id = stableId(6, ID);
    services.apigateway.api(config.rest_api_id).validators.set(id, {
      id,
      name: config.name,
      validateRequestBody: config.validate_request_body === true,
      validateRequestParameters: config.validate_request_parameters === true,
    });
    return { id };
  },

  aws_api_gateway_model: ({ config, services, stableId }) => {
    const id = stableId(6, ID);
    try {
      JSON.parse(config.schema);
    } catch (error) {
      throw new Error(`model ${config.name}: the schema is not JSON: ${(error as Error).message}`);
    }
    services.apigateway.api(config.rest_api_id).models.set(config.name, { id, name: config.name, contentType: config.content_type, schema: config.schema });
    return { id };
  },

  aws_api_gateway_gateway_response: (ctx) => {
    const { config, services } = ctx;
    checkTemplates(ctx, "gateway response", strings(config.response_templates));
    services.apigateway.api(config.rest_api_id).gatewayResponses.set(config.response_type, {
      responseType: config.response_type,
      statusCode: config.status_code ?? undefined,
      responseTemplates: strings(config.response_templates),
      responseParameters: strings(config.response_parameters),
    });
    return { id: `aggr-${config.rest_api_id}-${config.response_type}` };
  },

  aws_api_gateway_deployment: ({ config, services, stableId, region, accountId }) => {
    const id = stableId(6, ID);
    services.apigateway.createDeployment(config.rest_api_id, id);
    return {
      id,
      execution_arn: `arn:aws:execute-api:${region}:${accountId}:${config.rest_api_id}/`,
      invoke_url: `https://${config.rest_api_id}.execute-api.${region}.amazonaws.com/`,
      created_date: new Date(0).toISOString(),
    };
  },

  aws_api_gateway_stage: ({ config, services, region, accountId }) => {
    // A list of at most one block (a dynamic block makes it a list).
    const canary = [config.canary_settings ?? []].flat()[0] as Record<string, any> | undefined;
    const stage: Stage = {
      name: config.stage_name,
      deploymentId: config.deployment_id,
      variables: strings(config.variables),
      canary: canary
        ? { deploymentId: canary.deployment_id, percentTraffic: Number(canary.percent_traffic ?? 0), stageVariableOverrides: strings(canary.stage_variable_overrides) }
        : undefined,
      accessLog: config.access_log_settings ? { destinationArn: config.access_log_settings.destination_arn, format: config.access_log_settings.format } : undefined,
      tracingEnabled: config.xray_tracing_enabled === true,
      methodSettings: new Map(),
    };
    services.apigateway.createStage(config.rest_api_id, stage);
    return {
      id: `ags-${config.rest_api_id}-${config.stage_name}`,
      arn: `arn:aws:apigateway:${region}::/restapis/${config.rest_api_id}/stages/${config.stage_name}`,
      execution_arn: `arn:aws:execute-api:${region}:${accountId}:${config.rest_api_id}/${config.stage_name}`,
      invoke_url: `https://${config.rest_api_id}.execute-api.${region}.amazonaws.com/${config.stage_name}`,
    };
  },

  aws_api_gateway_method_settings: ({ config, services }) => {
    const s = config.settings ?? {};
    services.apigateway.stage(config.rest_api_id, config.stage_name).methodSettings.set(config.method_path, {
      throttlingRateLimit: s.throttling_rate_limit,
      throttlingBurstLimit: s.throttling_burst_limit,
      metricsEnabled: s.metrics_enabled,
      loggingLevel: s.logging_level,
    });
    return { id: `${config.rest_api_id}-${config.stage_name}-${config.method_path}` };
  },

  // The account-level CloudWatch role: nothing to emulate beyond recording that it is set.
  aws_api_gateway_account: ({ config }) => ({ id: "api-gateway-account", cloudwatch_role_arn: config.cloudwatch_role_arn }),

  aws_api_gateway_domain_name: ({ config, services, stableId, region }) => {
    const regionalDomainName = `d-${stableId(10, ID)}.execute-api.${region}.amazonaws.com`;
    const regionalHostedZoneId = REGIONAL_ZONE_IDS[region] ?? "Z000LOCALZONE";
    services.apigateway.domainNames.set(config.domain_name, { domainName: config.domain_name, regionalDomainName, regionalHostedZoneId, basePaths: new Map() });
    return {
      id: config.domain_name,
      arn: `arn:aws:apigateway:${region}::/domainnames/${config.domain_name}`,
      regional_domain_name: regionalDomainName,
      regional_zone_id: regionalHostedZoneId,
    };
  },

  aws_api_gateway_base_path_mapping: ({ config, services }) => {
    const domain = services.apigateway.domainNames.get(config.domain_name);
    if (!domain) throw new Error(`base path mapping: domain name ${config.domain_name} does not exist`);
    const basePath = config.base_path ?? "";
    domain.basePaths.set(basePath, { apiId: config.api_id, stage: config.stage_name });
    return { id: `${config.domain_name}/${basePath}` };
  },

  aws_api_gateway_api_key: ({ config, services, stableId, region }) => {
    const id = stableId(10, ID);
    const value = config.value ?? stableId(40, KEY_ALPHABET);
    services.apigateway.apiKeys.set(id, { id, name: config.name, value, enabled: config.enabled !== false });
    return { id, value, arn: `arn:aws:apigateway:${region}::/apikeys/${id}` };
  },

  aws_api_gateway_usage_plan: ({ config, services, stableId, region }) => {
    const id = stableId(6, ID);
    const throttle = config.throttle_settings?.[0] ?? config.throttle_settings;
    const quota = config.quota_settings?.[0] ?? config.quota_settings;
    services.apigateway.usagePlans.set(id, {
      id,
      name: config.name,
      stages: [config.api_stages ?? []].flat().map((s: { api_id: string; stage: string }) => ({ apiId: s.api_id, stage: s.stage })),
      throttle: throttle ? { rateLimit: throttle.rate_limit, burstLimit: throttle.burst_limit } : undefined,
      quota: quota ? { limit: quota.limit, period: quota.period, offset: quota.offset } : undefined,
      keyIds: new Set(),
    });
    return { id, arn: `arn:aws:apigateway:${region}::/usageplans/${id}` };
  },

  aws_api_gateway_usage_plan_key: ({ config, services }) => {
    const plan = services.apigateway.usagePlans.get(config.usage_plan_id);
    if (!plan) throw new Error(`usage plan key: usage plan ${config.usage_plan_id} does not exist`);
    if (config.key_type !== "API_KEY") throw new Error(`usage plan key: key_type ${config.key_type} is not supported`);
    plan.keyIds.add(config.key_id);
    return { id: config.key_id };
  },
};
