// One REGIONAL REST API per region with stage `prod`: JSON access logs with the enhanced
// observability fields, stage throttling and per-method limits, X-Ray, JSON gateway responses, a
// custom domain with base path `v1`, and a deployment that is replaced whenever anything it serves
// changes, or, with the canary on, a canary deployment that takes a share of the traffic while the
// stage keeps the deployment it served (README: Releasing with a canary).
import { createHash } from "node:crypto";
import { Construct } from "constructs";
import { Fn, Lazy, TerraformIterator, TerraformResource, Token, dependable, type IResolvable, type IResolveContext } from "cdktf";
import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { ApiGatewayAccount } from "@cdktf/provider-aws/lib/api-gateway-account";
import { ApiGatewayBasePathMapping } from "@cdktf/provider-aws/lib/api-gateway-base-path-mapping";
import { ApiGatewayDeployment } from "@cdktf/provider-aws/lib/api-gateway-deployment";
import { ApiGatewayDomainName } from "@cdktf/provider-aws/lib/api-gateway-domain-name";
import { ApiGatewayGatewayResponse } from "@cdktf/provider-aws/lib/api-gateway-gateway-response";
import { ApiGatewayIntegration } from "@cdktf/provider-aws/lib/api-gateway-integration";
import { ApiGatewayIntegrationResponse } from "@cdktf/provider-aws/lib/api-gateway-integration-response";
import { ApiGatewayMethod } from "@cdktf/provider-aws/lib/api-gateway-method";
import { ApiGatewayMethodResponse } from "@cdktf/provider-aws/lib/api-gateway-method-response";
import { ApiGatewayMethodSettings } from "@cdktf/provider-aws/lib/api-gateway-method-settings";
import { ApiGatewayResource } from "@cdktf/provider-aws/lib/api-gateway-resource";
import { ApiGatewayRestApi } from "@cdktf/provider-aws/lib/api-gateway-rest-api";
import { ApiGatewayStage } from "@cdktf/provider-aws/lib/api-gateway-stage";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { serviceTrustPolicy } from "../iam/policy";
import { ACCESS_LOG_FORMAT, GATEWAY_RESPONSE_TYPES, GATEWAY_RESPONSE_TEMPLATE } from "./formats";

export const STAGE_NAME = "prod";
/**
 * A caching authorizer's Lambda declares here the shortest remaining lifetime a token must have
 * to be accepted: a cached decision then never outlives its token (checked by npm run guardrails).
 */
export const MIN_TOKEN_LIFETIME_ENV = "MIN_TOKEN_LIFETIME_SECONDS";
export const BASE_PATH = "v1";

export interface RestApiProps {
  name: string;
  description?: string;
  region: string;
  /** Prefix for account-global names (IAM roles). */
  project: string;
  logRetentionDays: number;
  throttle: { rateLimit: number; burstLimit: number };
  /**
   * Limits replacing the stage default for single methods: a map (Terraform value) from method
   * path (`comments/POST`) to `{ rateLimit, burstLimit }`.
   */
  methodThrottles?: IResolvable;
  canary?: CanaryProps;
  customDomain: { domainName: string; hostedZoneId: string };
}

/** The stage's canary (Terraform values: the workspace's environment decides). */
export interface CanaryProps {
  enabled: IResolvable;
  percentTraffic: number;
  /** A map of stage variable -> value for the canary's requests. */
  stageVariableOverrides: IResolvable;
}

export interface IntegrationResponseSpec {
  statusCode: string;
  /** Regex over the Lambda error message (or the backend status for AWS/HTTP integrations). */
  selectionPattern?: string;
  responseTemplates?: Record<string, string>;
  /** Integration -> method response header mappings, e.g. `method.response.header.Location`. */
  responseParameters?: Record<string, string>;
  responseModels?: Record<string, string>;
}

export interface IntegrationSpec {
  type: "AWS" | "AWS_PROXY" | "MOCK" | "HTTP" | "HTTP_PROXY";
  uri?: string;
  /** The method API Gateway uses to call the backend (POST for Lambda and AWS actions). */
  integrationHttpMethod?: string;
  /** Role API Gateway assumes to call an AWS service. */
  credentials?: string;
  requestTemplates?: Record<string, string>;
  requestParameters?: Record<string, string>;
  passthroughBehavior?: "WHEN_NO_MATCH" | "WHEN_NO_TEMPLATES" | "NEVER";
  contentHandling?: "CONVERT_TO_TEXT" | "CONVERT_TO_BINARY";
  timeoutMilliseconds?: number;
  /** Method responses and the integration responses that produce them (not for proxy types). */
  responses?: IntegrationResponseSpec[];
}

export interface MethodSpec {
  httpMethod: string;
  /** Resource path such as `/comments/{pageId}`. */
  path: string;
  authorization?: "NONE" | "AWS_IAM" | "CUSTOM";
  authorizerId?: string;
  apiKeyRequired?: boolean;
  /** `method.request.header.X`, `method.request.querystring.y`, ... -> required. */
  requestParameters?: Record<string, boolean>;
  requestValidatorId?: string;
  requestModels?: Record<string, string>;
  integration: IntegrationSpec;
}

export class RestApi extends Construct {
  readonly api: ApiGatewayRestApi;
  readonly stage: ApiGatewayStage;
  readonly domain: ApiGatewayDomainName;
  readonly id: string;
  readonly executionArn: string;
  /** `<api id>.execute-api.<region>.amazonaws.com`: what Route 53 health checks call. */
  readonly executeApiHost: string;
  /** `https://<api id>.execute-api.<region>.amazonaws.com/prod` */
  readonly invokeUrl: string;
  /** Target of the latency records: the custom domain's regional endpoint. */
  readonly regionalDomainName: string;
  readonly regionalZoneId: string;
  /** The API's name: its metrics' ApiName dimension. */
  readonly name: string;
  /** Method paths of every method, as method settings name them (`comments/POST`). */
  readonly methodPaths: string[] = [];

  private readonly resources = new Map<string, string>();
  /** The deployments that snapshot what the API serves: the stage's, and the canary's when it is on. */
  private readonly deployments: ApiGatewayDeployment[] = [];
  private readonly served: TerraformResource[] = [];

  constructor(scope: Construct, id: string, private readonly props: RestApiProps) {
    super(scope, id);
    this.name = props.name;

    this.api = new ApiGatewayRestApi(this, "api", {
      name: props.name,
      description: props.description,
      endpointConfiguration: { types: ["REGIONAL"] },
      apiKeySource: "HEADER",
    });
    this.id = this.api.id;
    this.executionArn = this.api.executionArn;
    this.executeApiHost = `${this.api.id}.execute-api.${props.region}.amazonaws.com`;
    this.resources.set("/", this.api.rootResourceId);

    const configuration = Lazy.stringValue({ produce: (context) => this.configurationHash(context) });
    const canary = props.canary;
    // The stage's deployment follows the configuration, except while the canary is on: then the
    // hash it was made from is held (terraform_data keeps its output while its trigger stays
    // "canary", and ignores changes of its input), so that the stage keeps serving it.
    const stageConfiguration = canary ? this.heldWhileCanary(configuration, canary.enabled) : configuration;
    const deployment = this.newDeployment("deployment", stageConfiguration);
    for (const responseType of GATEWAY_RESPONSE_TYPES) {
      this.serve(
        new ApiGatewayGatewayResponse(this, `gateway-response-${responseType}`, {
          restApiId: this.api.id,
          responseType,
          responseTemplates: { "application/json": GATEWAY_RESPONSE_TEMPLATE },
        }),
      );
    }

    const cloudwatchRole = new IamRole(this, "cloudwatch-role", {
      name: `${props.project}-apigw-logs-${props.region}`,
      description: "Lets API Gateway write access and execution logs in this region",
      assumeRolePolicy: serviceTrustPolicy("apigateway.amazonaws.com"),
    });
    new IamRolePolicyAttachment(this, "cloudwatch-role-policy", {
      role: cloudwatchRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
    });
    const account = new ApiGatewayAccount(this, "account", { cloudwatchRoleArn: cloudwatchRole.arn });

    const accessLogs = new CloudwatchLogGroup(this, "access-logs", {
      name: `/aws/apigateway/${props.name}/access`,
      retentionInDays: props.logRetentionDays,
    });
    this.stage = new ApiGatewayStage(this, "stage", {
      restApiId: this.api.id,
      stageName: STAGE_NAME,
      deploymentId: deployment.id,
      xrayTracingEnabled: true,
      accessLogSettings: { destinationArn: accessLogs.arn, format: JSON.stringify(ACCESS_LOG_FORMAT) },
      dependsOn: [account],
    });
    const settings = (limits: { rateLimit: number; burstLimit: number }) => ({
      metricsEnabled: true,
      loggingLevel: "ERROR",
      dataTraceEnabled: false,
      throttlingRateLimit: limits.rateLimit,
      throttlingBurstLimit: limits.burstLimit,
    });
    new ApiGatewayMethodSettings(this, "stage-settings", {
      restApiId: this.api.id,
      stageName: this.stage.stageName,
      methodPath: "*/*",
      settings: settings(props.throttle),
    });
    if (props.methodThrottles) {
      const throttles = TerraformIterator.fromMap(props.methodThrottles);
      new ApiGatewayMethodSettings(this, "method-settings", {
        forEach: throttles,
        restApiId: this.api.id,
        stageName: this.stage.stageName,
        methodPath: throttles.key,
        settings: settings({ rateLimit: throttles.getNumber("rateLimit"), burstLimit: throttles.getNumber("burstLimit") }),
      });
    }
    if (canary) this.canary(canary, configuration);
    this.invokeUrl = this.stage.invokeUrl;

    this.domain = this.customDomain();
    this.regionalDomainName = this.domain.regionalDomainName;
    this.regionalZoneId = this.domain.regionalZoneId;
  }

  /** Adds a method with its integration and responses, creating the resource path as needed. */
  addMethod(spec: MethodSpec): ApiGatewayMethod {
    const resourceId = this.resource(spec.path);
    this.methodPaths.push(`${spec.path.slice(1)}/${spec.httpMethod}`);
    const id = `${spec.httpMethod}${spec.path}`.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+/g, "-");
    const method = new ApiGatewayMethod(this, `method-${id}`, {
      restApiId: this.api.id,
      resourceId,
      httpMethod: spec.httpMethod,
      authorization: spec.authorization ?? "NONE",
      authorizerId: spec.authorizerId,
      apiKeyRequired: spec.apiKeyRequired,
      requestParameters: spec.requestParameters,
      requestValidatorId: spec.requestValidatorId,
      requestModels: spec.requestModels,
    });
    const integration = new ApiGatewayIntegration(this, `integration-${id}`, {
      restApiId: this.api.id,
      resourceId,
      httpMethod: method.httpMethod,
      type: spec.integration.type,
      uri: spec.integration.uri,
      integrationHttpMethod: spec.integration.integrationHttpMethod,
      credentials: spec.integration.credentials,
      requestTemplates: spec.integration.requestTemplates,
      requestParameters: spec.integration.requestParameters,
      passthroughBehavior: spec.integration.passthroughBehavior,
      contentHandling: spec.integration.contentHandling,
      timeoutMilliseconds: spec.integration.timeoutMilliseconds,
    });
    this.serve(method, integration);

    for (const response of spec.integration.responses ?? []) {
      const methodResponse = new ApiGatewayMethodResponse(this, `response-${id}-${response.statusCode}`, {
        restApiId: this.api.id,
        resourceId,
        httpMethod: method.httpMethod,
        statusCode: response.statusCode,
        responseModels: response.responseModels,
        responseParameters: response.responseParameters
          ? Object.fromEntries(Object.keys(response.responseParameters).map((name) => [name, false]))
          : undefined,
      });
      const integrationResponse = new ApiGatewayIntegrationResponse(
        this,
        `integration-response-${id}-${response.statusCode}`,
        {
          restApiId: this.api.id,
          resourceId,
          httpMethod: method.httpMethod,
          statusCode: methodResponse.statusCode,
          selectionPattern: response.selectionPattern,
          responseTemplates: response.responseTemplates,
          responseParameters: response.responseParameters,
          dependsOn: [integration],
        },
      );
      this.serve(methodResponse, integrationResponse);
    }
    return method;
  }

  /** A method whose integration is a Lambda proxy, with the permission for API Gateway to call it. */
  addLambdaProxy(
    spec: Omit<MethodSpec, "integration">,
    fn: { functionName: string; invokeArn: string },
  ): ApiGatewayMethod {
    const method = this.addMethod({
      ...spec,
      integration: { type: "AWS_PROXY", integrationHttpMethod: "POST", uri: fn.invokeArn },
    });
    this.allowInvoke(`${spec.httpMethod}${spec.path}`, fn.functionName, `${spec.httpMethod}${spec.path}`);
    return method;
  }

  /** Lets this API (any stage) invoke `functionName` on `methodPath` (`GET/users`, `*` for authorizers). */
  allowInvoke(id: string, functionName: string, methodPath: string): void {
    new LambdaPermission(this, `permission-${id.replace(/[^A-Za-z0-9]+/g, "-")}`, {
      functionName,
      action: "lambda:InvokeFunction",
      principal: "apigateway.amazonaws.com",
      sourceArn: `${this.api.executionArn}/*/${methodPath.replace(/\{[^}]+\}/g, "*")}`,
    });
  }

  /**
   * Makes the deployment wait for these resources and hash their configuration. Authorizers,
   * validators and models created outside this construct must be passed here too.
   */
  serve(...resources: TerraformResource[]): void {
    this.served.push(...resources);
    for (const deployment of this.deployments) deployment.dependsOn!.push(...resources.map((r) => dependable(r)));
  }

  /** A snapshot of the API, replaced (not updated) whenever `configuration` changes. */
  private newDeployment(id: string, configuration: string, count?: number): ApiGatewayDeployment {
    const deployment = new ApiGatewayDeployment(this, id, {
      count,
      restApiId: this.api.id,
      description: "Managed by Terraform: replaced whenever the API's configuration changes",
      triggers: { configuration },
      lifecycle: { createBeforeDestroy: true },
      dependsOn: [...this.served],
    });
    this.deployments.push(deployment);
    return deployment;
  }

  /** `configuration` while `enabled` is false; while it is true, the value it had when it was turned on. */
  private heldWhileCanary(configuration: string, enabled: IResolvable): string {
    // The hash as a resource's output, so that the condition below refers to it (a literal inside
    // an expression would be resolved, and hashed, differently).
    const current = terraformData(this, "configuration", configuration);
    const held = terraformData(this, "stage-configuration", configuration);
    held.addOverride("triggers_replace", Fn.conditional(enabled, "canary", Token.asString(current.interpolationForAttribute("output"))));
    held.addOverride("lifecycle", { ignore_changes: ["input"] });
    return Token.asString(held.interpolationForAttribute("output"));
  }

  /** While enabled: a deployment of the current configuration takes percentTraffic of the stage's requests. */
  private canary(canary: CanaryProps, configuration: string): void {
    const candidate = this.newDeployment("canary-deployment", configuration, Token.asNumber(Fn.conditional(canary.enabled, 1, 0)));
    this.stage.addOverride("dynamic.canary_settings", {
      for_each: Fn.conditional(canary.enabled, ["canary"], []),
      content: {
        deployment_id: Token.asString(`\${${candidate.fqn}[0].id}`),
        percent_traffic: canary.percentTraffic,
        stage_variable_overrides: canary.stageVariableOverrides,
        use_stage_cache: false,
      },
    });
  }

  private resource(path: string): string {
    const existing = this.resources.get(path);
    if (existing) return existing;
    if (!path.startsWith("/") || path.endsWith("/")) {
      throw new Error(`API path "${path}" must start with "/" and must not end with "/"`);
    }
    const parentPath = path.slice(0, path.lastIndexOf("/")) || "/";
    const part = path.slice(path.lastIndexOf("/") + 1);
    const resource = new ApiGatewayResource(this, `resource${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+/g, "-")}`, {
      restApiId: this.api.id,
      parentId: this.resource(parentPath),
      pathPart: part,
    });
    this.serve(resource);
    this.resources.set(path, resource.id);
    return resource.id;
  }

  private configurationHash(context: IResolveContext): string {
    const configuration = this.served.map((r) => context.resolve(r.toTerraform()));
    // Construct paths ("//" metadata) are not configuration, and the stack's own region is the
    // same for the whole stack (AWS integration URIs name it): leave both out so that the same
    // API gives the same hash in every region.
    const withoutMetadata = JSON.stringify(configuration, (key, value) => (key === "//" ? undefined : value));
    return createHash("sha256").update(withoutMetadata.split(this.props.region).join("<region>")).digest("hex");
  }

  private customDomain(): ApiGatewayDomainName {
    const { domainName, hostedZoneId } = this.props.customDomain;
    const certificate = new AcmCertificate(this, "certificate", {
      domainName,
      validationMethod: "DNS",
      lifecycle: { createBeforeDestroy: true },
    });
    const option = certificate.domainValidationOptions.get(0);
    // Both regions request a certificate for the same name, and ACM asks for the same validation
    // record in both: each stack may write it.
    const validationRecord = new Route53Record(this, "certificate-validation-record", {
      zoneId: hostedZoneId,
      name: option.resourceRecordName,
      type: option.resourceRecordType,
      records: [option.resourceRecordValue],
      ttl: 60,
      allowOverwrite: true,
    });
    const validation = new AcmCertificateValidation(this, "certificate-validation", {
      certificateArn: certificate.arn,
      validationRecordFqdns: [validationRecord.fqdn],
    });
    const domain = new ApiGatewayDomainName(this, "domain", {
      domainName,
      regionalCertificateArn: validation.certificateArn,
      endpointConfiguration: { types: ["REGIONAL"] },
      securityPolicy: "TLS_1_2",
    });
    new ApiGatewayBasePathMapping(this, "base-path", {
      apiId: this.api.id,
      stageName: this.stage.stageName,
      domainName: domain.domainName,
      basePath: BASE_PATH,
    });
    return domain;
  }
}


/** Terraform's built-in `terraform_data` resource holding `input` (its `output`). */
function terraformData(scope: Construct, id: string, input: string): TerraformResource {
  const data = new TerraformResource(scope, id, { terraformResourceType: "terraform_data" });
  data.addOverride("input", input);
  return data;
}
