// Terraform resource types of SSM.
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

export const ssmResources: Record<string, ResourceHandler<RegionServices>> = {
  aws_ssm_parameter: ({ config, services, region }) => {
    // overwrite: a restart of the local cloud applies the same parameter again, as Terraform would update it.
    const version = services.ssm.putParameter(region, { name: config.name, type: config.type ?? "String", value: String(config.value), overwrite: true });
    return { id: config.name, arn: services.ssm.arn(region, config.name), version };
  },
};
