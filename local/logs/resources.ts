// Terraform resource types of CloudWatch Logs.
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

export const logsResources: Record<string, ResourceHandler<RegionServices>> = {
  aws_cloudwatch_log_group: ({ config, services }) => {
    const group = services.logs.create(config.name, config.retention_in_days ?? undefined);
    return { id: group.name, arn: group.arn };
  },
};
