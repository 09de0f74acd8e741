// Route 53 for the active-active platform: per region a health check on the regional API's deep
// ping and a latency record for the platform domain tied to it, so that a failing region leaves
// the answers until it recovers, and an alarm on each health check (their metrics exist in
// us-east-1 only) notifying us-east-1's alerts topic. The regional values come from the regional
// stacks' outputs.
import type { Construct } from "constructs";
import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { HealthCheckAlarms } from "../modules/monitoring";
import { STAGE_NAME } from "../modules/rest-api";
import type { PlatformConfig } from "./config";
import { REGIONAL_OUTPUTS, regionalStackName } from "./outputs";
import { PlatformStack, type DeployTarget } from "./platform-stack";

export const GLOBAL_DNS_STACK = "global-dns";
/** Route 53's API, its health checks' metrics and so their alarms are in us-east-1. */
export const ROUTE53_REGION = "us-east-1";

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
    super(scope, GLOBAL_DNS_STACK, { ...props, region: ROUTE53_REGION });
    const env = this.environment;
    if (!props.config.regions.includes(ROUTE53_REGION)) {
      throw new Error(`config: regions must include ${ROUTE53_REGION}: the health check alarms notify that region's alerts topic`);
    }
    const healthChecks: Record<string, string> = {};
    let alertsTopicArn = "";

    for (const region of props.config.regions) {
      const regional = this.remoteState(`state-${region}`, regionalStackName(region), {
        [REGIONAL_OUTPUTS.executeApiHost]: `offline-plan.execute-api.${region}.amazonaws.com`,
        [REGIONAL_OUTPUTS.regionalDomainName]: `d-offlineplan.execute-api.${region}.amazonaws.com`,
        [REGIONAL_OUTPUTS.alertsTopicArn]: `arn:aws:sns:${region}:000000000000:offline-plan-alerts`,
      });
      if (region === ROUTE53_REGION) alertsTopicArn = regional.getString(REGIONAL_OUTPUTS.alertsTopicArn);

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
      healthChecks[region] = healthCheck.id;

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

    new HealthCheckAlarms(this, "health-check-alarms", {
      project: props.config.project,
      healthChecks,
      topicArn: alertsTopicArn,
      thresholds: {
        periodSeconds: env.number("monitoring", "periodSeconds"),
        evaluationPeriods: env.number("monitoring", "evaluationPeriods"),
        datapointsToAlarm: env.number("monitoring", "datapointsToAlarm"),
      },
    });
  }
}
