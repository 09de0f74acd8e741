// One region of the platform. Every region is built by this class from the same modules; only
// the region (and whether it is the primary, which owns global resources) differs.
import type { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { ApiModels } from "../modules/api-models";
import { Clickstream } from "../modules/clickstream";
import { ErrorDemo } from "../modules/errors";
import { CommentsApi } from "../modules/comments-api";
import { Health, type HealthDependencies } from "../modules/health";
import { MarsDisplay } from "../modules/mars-display";
import { Monitoring } from "../modules/monitoring";
import { NodejsFunction, setLambdaDefaults } from "../modules/nodejs-function";
import { Orders } from "../modules/orders";
import { RestApi } from "../modules/rest-api";
import { SamlFederation } from "../modules/saml-federation";
import { Waf } from "../modules/waf";
import type { PlatformConfig } from "./config";
import { REGIONAL_OUTPUTS, regionalStackName } from "./outputs";
import { PlatformStack, type DeployTarget } from "./platform-stack";

export interface RegionalPlatformProps {
  config: PlatformConfig;
  target: DeployTarget;
  region: string;
}

export class RegionalPlatform extends PlatformStack {
  readonly api: RestApi;
  readonly isPrimary: boolean;

  constructor(scope: Construct, props: RegionalPlatformProps) {
    super(scope, regionalStackName(props.region), { ...props });
    const { config, region } = props;
    this.isPrimary = region === config.primaryRegion;
    const env = this.environment;
    const logRetentionDays = env.number("logRetentionDays");
    setLambdaDefaults(this, {
      applicationLogLevel: env.string("lambda", "applicationLogLevel"),
      systemLogLevel: env.string("lambda", "systemLogLevel"),
      metricsNamespace: config.project,
    });

    this.api = new RestApi(this, "api", {
      name: `${config.project}-api`,
      description: `The platform's REST API in ${region}`,
      region,
      project: config.project,
      logRetentionDays,
      throttle: { rateLimit: env.number("api", "throttleRateLimit"), burstLimit: env.number("api", "throttleBurstLimit") },
      methodThrottles: env.map("api", "methodThrottles"),
      canary: {
        enabled: env.boolean("api", "canary", "enabled"),
        percentTraffic: env.number("api", "canary", "percentTraffic"),
        stageVariableOverrides: env.map("api", "canary", "stageVariableOverrides"),
      },
      customDomain: { domainName: env.string("domainName"), hostedZoneId: env.string("hostedZone", "id") },
    });

    const models = new ApiModels(this, "api-models", this.api);
    new Orders(this, "orders", { api: this.api, models });
    new ErrorDemo(this, "errors", { api: this.api, models, project: config.project, region, logRetentionDays });
    const comments = new CommentsApi(this, "comments-api", {
      api: this.api,
      models,
      project: config.project,
      region,
      accountId: env.string("accountId"),
      isPrimary: this.isPrimary,
      regions: config.regions,
      logRetentionDays,
      tokens: { issuer: env.string("commentsAuth", "issuer"), jwksUrl: env.string("commentsAuth", "jwksUrl"), audience: env.string("commentsAuth", "audience") },
    });

    const saml = new SamlFederation(this, "saml-federation", {
      api: this.api,
      project: config.project,
      region,
      isPrimary: this.isPrimary,
      regions: config.regions,
      accountId: env.string("accountId"),
      logRetentionDays,
      domainName: env.string("domainName"),
      idp: {
        metadata: env.string("saml", "idpMetadata"),
        entityId: env.string("saml", "idpEntityId"),
        signingCertificates: env.string("saml", "idpSigningCertificates"),
        ssoUrl: env.string("saml", "idpSsoUrl"),
      },
      roleNameContains: env.string("saml", "roleNameContains"),
      authorityRegion: env.string("saml", "authorityRegion"),
      sessionDurationSeconds: {
        production: env.number("saml", "sessionDurationSeconds", "production"),
        dev: env.number("saml", "sessionDurationSeconds", "dev"),
      },
      loginSiteBucket: env.string("saml", "loginSiteBucket"),
      loginSiteOrigin: env.string("saml", "loginSiteOrigin"),
    });

    const clickstream = new Clickstream(this, "clickstream", {
      api: this.api,
      project: config.project,
      region,
      logRetentionDays,
      alerts: { email: env.list("alerts", "email"), sms: env.list("alerts", "sms") },
      legacyKinesisAnalytics: env.boolean("features", "legacyKinesisAnalytics"),
      inputStream: { mode: env.string("clickstream", "inputStream", "mode"), shards: env.optionalNumber(["clickstream", "inputStream"], "shards") },
    });

    new TerraformOutput(this, "ClickstreamBeaconUrl", { value: clickstream.beaconUrl, description: "GET /beacon?browseraction=Impression|Click of this region" }).overrideLogicalId(
      "ClickstreamBeaconUrl",
    );
    new TerraformOutput(this, "ExecutionCommand", {
      value: clickstream.executionCommand,
      description: "Sends the clickstream post's traffic to this region: run it from the repository",
    }).overrideLogicalId("ExecutionCommand");

    const dependencies: HealthDependencies = {
      tables: [...saml.tables, comments.table, ...clickstream.dependencies.tables],
      streams: clickstream.dependencies.streams,
    };
    new Health(this, "health", { api: this.api, project: config.project, region, logRetentionDays, dependencies });

    const mars = new MarsDisplay(this, "mars-display", {
      api: this.api,
      project: config.project,
      region,
      accountId: env.string("accountId"),
      logRetentionDays,
      upstream: {
        photosApiUrl: env.string("mars", "photosApiUrl"),
        weatherSource: env.string("mars", "weather", "source"),
        weatherUrl: env.string("mars", "weather", "url"),
      },
      usagePlan: {
        rateLimit: env.number("mars", "usagePlan", "rateLimit"),
        burstLimit: env.number("mars", "usagePlan", "burstLimit"),
        quotaLimit: env.number("mars", "usagePlan", "quotaLimit"),
        quotaPeriod: env.string("mars", "usagePlan", "quotaPeriod"),
      },
      reservedConcurrency: env.number("mars", "reservedConcurrency"),
    });
    new TerraformOutput(this, "MarsApiUrl", { value: mars.url, description: "GET /mars of this region (firmware secrets.py mars_api_url)" }).overrideLogicalId("MarsApiUrl");
    new TerraformOutput(this, "MarsApiKey", { value: mars.apiKeyValue, sensitive: true, description: "API key of the Mars displays (secrets.py mars_api_key)" }).overrideLogicalId("MarsApiKey");

    checkMethodThrottles(config, this.api);
    const waf = new Waf(this, "waf", {
      name: `${config.project}-api`,
      stageArn: this.api.stage.arn,
      rateLimit: env.number("waf", "rateLimit"),
      evaluationWindowSeconds: env.number("waf", "evaluationWindowSeconds"),
      managedCommonRuleSet: env.boolean("waf", "managedCommonRuleSet"),
      logRetentionDays,
    });

    // Every function of the region, found in the construct tree, so that none goes unwatched.
    const functions = this.node.findAll().filter((c): c is NodejsFunction => c instanceof NodejsFunction);
    const consumed = new Set(
      this.node
        .findAll()
        .filter((c): c is LambdaEventSourceMapping => c instanceof LambdaEventSourceMapping)
        // The mapping names the function by the same token its NodejsFunction exposes.
        .map((mapping) => mapping.functionNameInput),
    );
    const monitoring = new Monitoring(this, "monitoring", {
      project: config.project,
      region,
      api: { name: this.api.name, stageName: this.api.stage.stageName },
      alerts: { email: env.list("alerts", "email"), sms: env.list("alerts", "sms") },
      thresholds: {
        periodSeconds: env.number("monitoring", "periodSeconds"),
        evaluationPeriods: env.number("monitoring", "evaluationPeriods"),
        datapointsToAlarm: env.number("monitoring", "datapointsToAlarm"),
        api: {
          serverErrorRate: env.number("monitoring", "api", "serverErrorRate"),
          clientErrorRate: env.number("monitoring", "api", "clientErrorRate"),
          p99LatencyMs: env.number("monitoring", "api", "p99LatencyMs"),
        },
        lambda: {
          errors: env.number("monitoring", "lambda", "errors"),
          throttles: env.number("monitoring", "lambda", "throttles"),
          durationOfTimeout: env.number("monitoring", "lambda", "durationOfTimeout"),
          iteratorAgeMs: env.number("monitoring", "lambda", "iteratorAgeMs"),
        },
        dynamodb: {
          throttledRequests: env.number("monitoring", "dynamodb", "throttledRequests"),
          systemErrors: env.number("monitoring", "dynamodb", "systemErrors"),
        },
        kinesis: { writeThrottles: env.number("monitoring", "kinesis", "writeThrottles") },
        saml: { refusals: env.number("monitoring", "saml", "refusals"), refusalsByReason: env.map("monitoring", "saml", "refusalsByReason") },
        anomalies: { published: env.number("monitoring", "anomalies", "published") },
      },
      functions,
      streamConsumers: functions.filter((fn) => consumed.has(fn.arn) || consumed.has(fn.functionName)),
      tables: dependencies.tables,
      streams: dependencies.streams,
      platformMetrics: { namespace: config.project, samlService: saml.processSaml.serviceName, anomalyService: clickstream.anomalyFunction.serviceName },
      webAclName: waf.name,
    });

    const outputs: Record<keyof typeof REGIONAL_OUTPUTS, string> = {
      apiId: this.api.id,
      executeApiHost: this.api.executeApiHost,
      invokeUrl: this.api.invokeUrl,
      regionalDomainName: this.api.regionalDomainName,
      regionalZoneId: this.api.regionalZoneId,
      alertsTopicArn: monitoring.topic.arn,
    };
    for (const [key, value] of Object.entries(outputs)) {
      new TerraformOutput(this, REGIONAL_OUTPUTS[key as keyof typeof REGIONAL_OUTPUTS], { value }).overrideLogicalId(
        REGIONAL_OUTPUTS[key as keyof typeof REGIONAL_OUTPUTS],
      );
    }
  }
}

/** Every method path a per-method throttle names must be a method of the API, in every environment. */
function checkMethodThrottles(config: PlatformConfig, api: RestApi): void {
  for (const [name, env] of Object.entries(config.environments)) {
    for (const methodPath of Object.keys(env.api.methodThrottles)) {
      if (!api.methodPaths.includes(methodPath)) {
        throw new Error(
          `config: environments.${name}.api.methodThrottles names ${methodPath}, which is not a method of the API (methods: ${[...api.methodPaths].sort().join(", ")})`,
        );
      }
    }
  }
}
