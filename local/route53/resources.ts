// Terraform resource types of Route 53.
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";
import { normalizeName } from "./state";

type Handler = ResourceHandler<RegionServices>;

export const route53Resources: Record<string, Handler> = {
  aws_route53_record: ({ config, services }) => {
    services.route53.putRecord({
      zoneId: config.zone_id,
      name: config.name,
      type: config.type,
      ttl: Number(config.ttl ?? 300),
      records: config.records ?? [],
      setIdentifier: config.set_identifier ?? undefined,
      latencyRegion: config.latency_routing_policy?.region ?? config.latency_routing_policy?.[0]?.region,
      healthCheckId: config.health_check_id ?? undefined,
    });
    const fqdn = normalizeName(config.name);
    return { id: `${config.zone_id}_${fqdn}_${config.type}${config.set_identifier ? `_${config.set_identifier}` : ""}`, fqdn };
  },

  aws_route53_health_check: ({ config, services, stableId, accountId }) => {
    const id = `${stableId(8, "0123456789abcdef")}-${stableId(4, "0123456789abcdef", "a")}-${stableId(4, "0123456789abcdef", "b")}-${stableId(4, "0123456789abcdef", "c")}-${stableId(12, "0123456789abcdef", "d")}`;
    services.route53.healthChecks.set(id, {
      id,
      accountId,
      type: config.type,
      fqdn: config.fqdn,
      port: Number(config.port ?? (String(config.type).startsWith("HTTPS") ? 443 : 80)),
      resourcePath: config.resource_path ?? "/",
      searchString: config.search_string ?? undefined,
      requestInterval: Number(config.request_interval ?? 30),
      failureThreshold: Number(config.failure_threshold ?? 3),
    });
    return { id, arn: `arn:aws:route53:::healthcheck/${id}` };
  },
};
