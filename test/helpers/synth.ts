// Synthesizes the app into a fresh temporary directory and reads the stacks back.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PlatformConfig } from "../../stacks/config";
import type { DeployTarget } from "../../stacks/platform-stack";
import { synth } from "../../scripts/lib/synth";
import { readSynthesized, type SynthesizedStack, type TerraformJson } from "../../scripts/lib/synthesized";

export interface Synthesized {
  outdir: string;
  stacks: SynthesizedStack[];
  stack(name: string): TerraformJson;
}

export function synthTo(target: DeployTarget, config?: PlatformConfig): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), `platform-synth-${target}-`));
  synth({ target, outdir, config });
  const stacks = readSynthesized(outdir);
  return {
    outdir,
    stacks,
    stack(name) {
      const found = stacks.find((s) => s.name === name);
      if (!found) throw new Error(`no stack ${name}; have ${stacks.map((s) => s.name).join(", ")}`);
      return found.json;
    },
  };
}

/** The resources of one type in a stack, by logical id. */
export function resources(json: TerraformJson, type: string): Record<string, Record<string, any>> {
  return (json.resource?.[type] ?? {}) as Record<string, Record<string, any>>;
}

export function only(json: TerraformJson, type: string): Record<string, any> {
  const all = Object.values(resources(json, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}
