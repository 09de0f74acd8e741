// One region of the platform. Every region is built by this class from the same modules; only
// the region (and whether it is the primary, which owns global resources) differs.
import type { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { Health } from "../modules/health";
import { RestApi } from "../modules/rest-api";
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

    new Health(this, "health", {
      api: this.api,
      project: config.project,
      region,
      logRetentionDays,
      dependencies: { tables: [], streams: [] },
    });

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
