// Route 53's data plane in the local cloud: health checkers polling the deployed health checks
// with the local clock, the DNS server answering the hosted zones, and the platform domain (the
// name of the latency records) served through the DNS answers.
import type { Clock } from "../lib/clock";
import { HealthCheckers } from "../route53/health-checker";
import { startDnsServer, type RunningDnsServer } from "../route53/dns-server";
import type { Route53State } from "../route53/state";
import { regionOfAddress } from "../route53/client-regions";
import { startPlatformDomain, type RunningPlatformDomain } from "../standins/platform-domain";

export interface Route53Plane {
  healthCheckers: HealthCheckers;
  dns: RunningDnsServer;
  platformDomain?: RunningPlatformDomain;
  stop(): Promise<void>;
}

export async function startRoute53Plane(options: {
  state: Route53State;
  clock: Clock;
  /** The loopback URL of a region's API Gateway. */
  gatewayOf(region: string): string | undefined;
  callerRegion: string;
  nextPort(): number;
  log(line: string): void;
  /** Publishes a metric of Route 53 (namespace AWS/Route53, in us-east-1) in an account. */
  publishMetric(accountId: string, metricName: string, dimensions: Record<string, string>, value: number, unit: string): void;
}): Promise<Route53Plane | undefined> {
  const { state } = options;
  if (state.records.length === 0) return undefined;
  // The hosted zones exist outside Terraform (they hold the domain): a zone is named after the
  // parent of its shortest record name (api.dev.example.com -> dev.example.com).
  for (const zone of state.zones.values()) {
    const shortest = state.records.filter((r) => r.zoneId === zone.id).sort((a, b) => a.name.length - b.name.length)[0];
    if (!zone.name && shortest) state.ensureZone(zone.id, shortest.name.split(".").slice(1).join("."));
  }
  const healthCheckers = new HealthCheckers({
    state,
    clock: options.clock,
    resolveTarget: (fqdn, _port, path) => {
      const region = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(fqdn)?.[1];
      const gateway = region ? options.gatewayOf(region) : undefined;
      return gateway && `${gateway}${path}`;
    },
    onChange: ({ id, healthy }) => options.log(`route53: health check ${id} is now ${healthy ? "healthy" : "unhealthy"}`),
    // HealthCheckStatus is the check's status (1 healthy); HealthCheckPercentageHealthy the share of
    // checkers reporting success, here the one checker's last result.
    onObservation: (check, { healthy, observation }) => {
      const dimensions = { HealthCheckId: check.id };
      options.publishMetric(check.accountId, "HealthCheckStatus", dimensions, healthy ? 1 : 0, "None");
      options.publishMetric(check.accountId, "HealthCheckPercentageHealthy", dimensions, observation.ok ? 100 : 0, "Percent");
    },
  });
  healthCheckers.start();
  const dns = await startDnsServer({
    state,
    isHealthy: (id) => healthCheckers.isHealthy(id),
    // A resolver's EDNS client subnet (or the caller's address) maps to its nearest region.
    callerRegion: (caller) => regionOfAddress(caller.clientSubnet?.address) ?? options.callerRegion,
    port: options.nextPort(),
  });
  const domain = state.records.find((r) => r.latencyRegion)?.name;
  const platformDomain = domain ? await startPlatformDomain({ domain, dnsServer: dns.address, gatewayOf: options.gatewayOf, port: options.nextPort() }) : undefined;
  options.log(`route53: DNS ${dns.address}${platformDomain ? `, ${domain} at ${platformDomain.url}` : ""}`);
  return {
    healthCheckers,
    dns,
    platformDomain,
    async stop() {
      await healthCheckers.stop();
      await platformDomain?.stop();
      await dns.stop();
    },
  };
}
