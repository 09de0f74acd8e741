// Terraform and moto_server for the tests that run them. A missing tool is said loudly and its
// tests are skipped, unless REQUIRE_TERRAFORM=1 / REQUIRE_MOTO=1 (CI) make that a failure.
import { motoUnavailableReason } from "../../scripts/lib/moto/server";
import { TerraformUnavailable, terraformEnv, terraformVersion } from "../../scripts/lib/terraform-cli";

function announce(reason: string | undefined, what: string, flag: string): string | undefined {
  if (!reason) return undefined;
  const message = `\n!!! ${what} tests NOT RUN: ${reason}\n`;
  if (process.env[flag] === "1") throw new Error(message);
  console.warn(message);
  return reason;
}

function terraformUnavailableReason(): string | undefined {
  try {
    terraformVersion();
    terraformEnv();
    return undefined;
  } catch (error) {
    if (error instanceof TerraformUnavailable) return error.message;
    throw error;
  }
}

/** Why terraform cannot run here, or undefined. */
export const terraformMissing = announce(terraformUnavailableReason(), "terraform", "REQUIRE_TERRAFORM");

/** Why terraform and moto_server cannot both run here, or undefined. */
export const motoMissing = terraformMissing ?? announce(motoUnavailableReason(), "moto (AWS emulator)", "REQUIRE_MOTO");
