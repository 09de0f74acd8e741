// Terraform resource types of EventBridge (scheduled rules and their Lambda targets).
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

type Handler = ResourceHandler<RegionServices>;

export const eventsResources: Record<string, Handler> = {
  aws_cloudwatch_event_rule: ({ config, services }) => {
    if (config.event_pattern) throw new Error(`rule ${config.name}: event patterns are not emulated, only schedules`);
    const rule = services.events.putRule(config.name, config.schedule_expression, (config.state ?? "ENABLED") === "ENABLED" && config.is_enabled !== false);
    return { id: rule.name, arn: rule.arn };
  },
  aws_cloudwatch_event_target: ({ config, services, stableId }) => {
    const id = config.target_id ?? `terraform-${stableId(12)}`;
    if (!String(config.arn).startsWith("arn:aws:lambda:")) throw new Error(`event target ${id}: only Lambda targets are emulated, got ${config.arn}`);
    services.events.putTarget(config.rule, { id, arn: config.arn, input: config.input ?? undefined });
    return { id: `${config.rule}-${id}`, target_id: id };
  },
};
