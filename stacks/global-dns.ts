// Route 53 for the active-active platform: per region a health check on the regional API's deep
// ping and a latency record for the platform domain tied to it, so that a failing region leaves
// the answers until it recovers. The regional values come from the regional stacks' outputs.
import type { Construct } from "constructs";
import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { STAGE_NAME } from "../modules/rest-api";
import type { PlatformConfig } from "./config";
import { REGIONAL_OUTPUTS, regionalStackName } from "./outputs";
import { PlatformStack, type DeployTarget } from "./platform-stack";

export const GLOBAL_DNS_STACK = "global-dns";

/** The multi-region post's health check, one per region. */
export const HEALTH_CHECK = {
  type: "HTTPS_STR_MATCH",
  port: 443,
  resourcePath: `/${STAGE_NAME}/healthcheck`,
  searchString: "ok",
  requestInterval: 30,
  failureThreshold: 2,
} as const;

export const LATENCY_RECORD_TTL = 60;

export interface GlobalDnsProps {
  config: PlatformConfig;
  target: DeployTarget;
}

export class GlobalDns extends PlatformStack {
  constructor(scope: Construct, props: GlobalDnsProps) {
    // Route 53 is a global service; its API lives in us-east-1.
    super(scope, GLOBAL_DNS_STACK, { ...props, region: "us-east-1" });
    const env = this.environment;

    for (const region of props.config.regions) {
      const regional = this.remoteState(`state-${region}`, regionalStackName(region), {
        [REGIONAL_OUTPUTS.executeApiHost]: `offline-plan.execute-api.${region}.amazonaws.com`,
        [REGIONAL_OUTPUTS.regionalDomainName]: `d-offlineplan.execute-api.${region}.amazonaws.com`,
      });

      const healthCheck = new Route53HealthCheck(this, `health-check-${region}`, {
        fqdn: regional.getString(REGIONAL_OUTPUTS.executeApiHost),
        type: HEALTH_CHECK.type,
        port: HEALTH_CHECK.port,
        resourcePath: HEALTH_CHECK.resourcePath,
        searchString: HEALTH_CHECK.searchString,
        requestInterval: HEALTH_CHECK.requestInterval,
        failureThreshold: HEALTH_CHECK.failureThreshold,
        tags: { Name: `${props.config.project}-${region}` },
      });

      new Route53Record(this, `latency-record-${region}`, {
        zoneId: env.string("hostedZone", "id"),
        name: env.string("domainName"),
        type: "CNAME",
        ttl: LATENCY_RECORD_TTL,
        records: [regional.getString(REGIONAL_OUTPUTS.regionalDomainName)],
        setIdentifier: region,
        latencyRoutingPolicy: { region },
        healthCheckId: healthCheck.id,
      });
    }
  }
}
