// One region of the platform. Every region is built by this class from the same modules; only
// the region (and whether it is the primary, which owns global resources) differs.
import type { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { ApiModels } from "../modules/api-models";
import { Clickstream } from "../modules/clickstream";
import { ErrorDemo } from "../modules/errors";
import { CommentsApi } from "../modules/comments-api";
import { Health } from "../modules/health";
import { MarsDisplay } from "../modules/mars-display";
import { Orders } from "../modules/orders";
import { RestApi } from "../modules/rest-api";
import { SamlFederation } from "../modules/saml-federation";
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

    this.api = new RestApi(this, "api", {
      name: `${config.project}-api`,
      description: `The platform's REST API in ${region}`,
      region,
      project: config.project,
      logRetentionDays,
      throttle: { rateLimit: env.number("api", "throttleRateLimit"), burstLimit: env.number("api", "throttleBurstLimit") },
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

    new Health(this, "health", {
      api: this.api,
      project: config.project,
      region,
      logRetentionDays,
      dependencies: {
        tables: [...saml.tables, comments.table, ...clickstream.dependencies.tables],
        streams: clickstream.dependencies.streams,
      },
    });

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

    const outputs: Record<keyof typeof REGIONAL_OUTPUTS, string> = {
      apiId: this.api.id,
      executeApiHost: this.api.executeApiHost,
      invokeUrl: this.api.invokeUrl,
      regionalDomainName: this.api.regionalDomainName,
      regionalZoneId: this.api.regionalZoneId,
    };
    for (const [key, value] of Object.entries(outputs)) {
      new TerraformOutput(this, REGIONAL_OUTPUTS[key as keyof typeof REGIONAL_OUTPUTS], { value }).overrideLogicalId(
        REGIONAL_OUTPUTS[key as keyof typeof REGIONAL_OUTPUTS],
      );
    }
  }
}
