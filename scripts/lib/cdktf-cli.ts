// Runs the CDKTF CLI pinned in devDependencies (never a registry copy), with telemetry off.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./synth";
import type { TerraformRun } from "./terraform-cli";

export const CDKTF_BIN = join(REPO_ROOT, "node_modules", ".bin", "cdktf");

/** `cdktf <args>` in the repository root; output collected and, with `echo`, streamed. */
export function runCdktf(args: string[], env: NodeJS.ProcessEnv, echo = false): Promise<TerraformRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(CDKTF_BIN, args, {
      cwd: REPO_ROOT,
      // CHECKPOINT_DISABLE: no version check or telemetry call to HashiCorp; CI: plain output, no spinner.
      env: { ...env, CHECKPOINT_DISABLE: "1", CI: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (echo) process.stdout.write(chunk);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      if (echo) process.stderr.write(chunk);
    });
    child.on("error", (error) => reject(new Error(`cannot run ${CDKTF_BIN}: ${error.message}`)));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
