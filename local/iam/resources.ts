// Terraform resource types of IAM, applied to the account's IAM state.
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

type Handler = ResourceHandler<RegionServices>;

export const iamResources: Record<string, Handler> = {
  aws_iam_role: ({ config, services, stableId }) => {
    const role = services.iam.createRole({
      name: config.name,
      assumeRolePolicy: config.assume_role_policy,
      maxSessionDuration: config.max_session_duration ?? undefined,
      path: config.path ?? undefined,
    });
    return { id: role.name, arn: role.arn, unique_id: `AROA${stableId(17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}` };
  },

  aws_iam_role_policy: ({ config, services }) => {
    services.iam.putRolePolicy(config.role, config.name, config.policy);
    return { id: `${config.role}:${config.name}` };
  },

  aws_iam_role_policy_attachment: ({ config, services, stableId }) => {
    services.iam.attachRolePolicy(config.role, config.policy_arn);
    return { id: `${config.role}-${stableId(8)}` };
  },

  aws_iam_saml_provider: ({ config, services }) => {
    const provider = services.sts.createSamlProvider(config.name, config.saml_metadata_document);
    return { id: provider.arn, arn: provider.arn };
  },

  aws_iam_policy: ({ config, services, accountId }) => {
    const arn = `arn:aws:iam::${accountId}:policy${config.path ?? "/"}${config.name}`;
    services.iam.createPolicy(arn, config.policy);
    return { id: arn, arn };
  },
};
