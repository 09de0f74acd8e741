// Terraform resource types of KMS.
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

export const kmsResources: Record<string, ResourceHandler<RegionServices>> = {
  aws_kms_key: ({ config, services, region, address }) => {
    const key = services.kms.createKey(region, {
      keySpec: config.customer_master_key_spec ?? config.key_spec ?? undefined,
      keyUsage: config.key_usage ?? undefined,
      description: config.description ?? "",
      policy: config.policy ?? undefined,
      // The same key (and key material) on every start of the local cloud.
      idempotencyToken: address,
    });
    return { id: key.KeyId, key_id: key.KeyId, arn: key.Arn };
  },
  aws_kms_alias: ({ config, services, region }) => {
    const alias = services.kms.createAlias(region, config.name, config.target_key_id);
    return { id: alias.AliasName, arn: alias.AliasArn, target_key_arn: services.kms.describeKey(region, alias.TargetKeyId).Arn };
  },
};
