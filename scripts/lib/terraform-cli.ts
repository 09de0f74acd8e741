// Runs the real Terraform CLI against the synthesized stacks, offline: providers come from a
// filesystem mirror through a project-local CLI config, never from a registry.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./synth";

export const AWS_PROVIDER_VERSION = "5.100.0";
const PROVIDER_PATH = join("registry.terraform.io", "hashicorp", "aws", AWS_PROVIDER_VERSION);
const MIRROR_CANDIDATES = ["/opt/tf-plugins", "/usr/share/terraform/plugins", "/usr/local/share/terraform/plugins"];

export class TerraformUnavailable extends Error {
  readonly code = "TERRAFORM_UNAVAILABLE";
}

/** The directory holding `registry.terraform.io/hashicorp/aws/<version>`: $TF_PROVIDER_MIRROR or a search. */
export function findProviderMirror(): string {
  const fromEnv = process.env.TF_PROVIDER_MIRROR;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, PROVIDER_PATH))) {
      throw new TerraformUnavailable(`TF_PROVIDER_MIRROR=${fromEnv} has no ${PROVIDER_PATH}`);
    }
    return fromEnv;
  }
  for (const candidate of MIRROR_CANDIDATES) if (existsSync(join(candidate, PROVIDER_PATH))) return candidate;
  let found = "";
  try {
    found = execFileSync("find", ["/", "-maxdepth", "4", "-type", "d", "-name", "registry.terraform.io"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch (error) {
    found = String((error as { stdout?: string }).stdout ?? "");
  }
  for (const dir of found.split("\n").filter(Boolean)) {
    const root = join(dir, "..");
    if (existsSync(join(root, PROVIDER_PATH))) return root;
  }
  throw new TerraformUnavailable(
    `no offline provider mirror with ${PROVIDER_PATH} was found (looked in $TF_PROVIDER_MIRROR, ${MIRROR_CANDIDATES.join(", ")} and / to depth 4)`,
  );
}

export function terraformVersion(): string {
  try {
    const out = execFileSync("terraform", ["version", "-json"], { encoding: "utf8", env: terraformEnv() });
    return JSON.parse(out).terraform_version as string;
  } catch (error) {
    throw new TerraformUnavailable(`terraform is not runnable from PATH: ${(error as Error).message}`);
  }
}

let cachedEnv: NodeJS.ProcessEnv | undefined;

/** Environment for every terraform call: project CLI config, shared plugin cache, no telemetry. */
export function terraformEnv(): NodeJS.ProcessEnv {
  if (cachedEnv) return cachedEnv;
  const mirror = findProviderMirror();
  const dir = join(REPO_ROOT, ".local", "terraform");
  const cache = join(dir, "plugin-cache");
  mkdirSync(cache, { recursive: true });
  const cliConfig = join(dir, "cli.tfrc");
  writeFileSync(
    cliConfig,
    `# Written by scripts/lib/terraform-cli.ts: providers from the offline mirror only.
provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(mirror)}
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
plugin_cache_dir = ${JSON.stringify(cache)}
disable_checkpoint = true
`,
  );
  cachedEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    // A fresh synth has no lock file: without this, every init reinstalls the provider from the
    // mirror and rewrites the shared cache entry, pulling it from under the stacks that link to it
    // ("no package ... cached in .terraform/providers" in a parallel plan). The lock file then
    // records the mirror's package hash only, which is all an offline run checks.
    TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE: "1",
  };
  return cachedEnv;
}

export interface TerraformRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `terraform <args>` in `cwd`. Output is collected and, with `echo`, also streamed with
 * a `[label]` prefix so parallel runs stay readable.
 */
export function terraform(
  args: string[],
  options: { cwd: string; label: string; env?: NodeJS.ProcessEnv; echo?: boolean },
): Promise<TerraformRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("terraform", args, {
      cwd: options.cwd,
      env: { ...terraformEnv(), ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const echo = (chunk: string) => {
      if (!options.echo) return;
      for (const line of chunk.split("\n")) if (line.trim()) process.stdout.write(`[${options.label}] ${line}\n`);
    };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      echo(chunk);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      echo(chunk);
    });
    child.on("error", (error) => reject(new TerraformUnavailable(`cannot run terraform: ${error.message}`)));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
