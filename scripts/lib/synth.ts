// Synthesizes the app in-process into a clean output directory.
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildApp } from "../../stacks/app";
import { loadConfig, type PlatformConfig } from "../../stacks/config";
import type { DeployTarget } from "../../stacks/platform-stack";
import { REPO_ROOT } from "../../modules/nodejs-function/bundle";

export { REPO_ROOT };

/** Where each target is synthesized: the real deployment's config in cdktf.out, as cdktf expects. */
export function defaultOutdir(target: DeployTarget): string {
  return target === "aws" ? join(REPO_ROOT, "cdktf.out") : join(REPO_ROOT, "cdktf.out", target);
}

export interface SynthResult {
  outdir: string;
  stacks: string[];
  /** `cdk.tf.json` of a stack */
  stackFile(stack: string): string;
}

export function synth(options: { target: DeployTarget; outdir?: string; config?: PlatformConfig }): SynthResult {
  const outdir = resolve(options.outdir ?? defaultOutdir(options.target));
  // Stacks removed from the app must not linger from an earlier synth.
  rmSync(join(outdir, "stacks"), { recursive: true, force: true });
  const app = buildApp(options.config ?? loadConfig(), options.target, outdir);
  app.synth();
  const stacks = app.node.children.map((c) => c.node.id).sort();
  return { outdir, stacks, stackFile: (stack) => join(outdir, "stacks", stack, "cdk.tf.json") };
}
