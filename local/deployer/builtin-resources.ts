// Terraform's built-in resource types (provider terraform.io/builtin/terraform), which no AWS
// service creates. terraform_data holds a value: its output is its input once applied, and the
// local deployer always applies on an empty state.
import type { ResourceHandler } from "./types";

export const builtinResources: Record<string, ResourceHandler> = {
  terraform_data: ({ config, stableId }) => ({ id: stableId(36, "0123456789abcdef"), output: config.input ?? null }),
};
