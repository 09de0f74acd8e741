// The stacks of a synthesized app (its manifest), in deployment order, and the region each one's
// AWS provider names.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readStackJson, type StackToDeploy } from "../deployer/deploy";
import { DeployError } from "../deployer/types";

interface Manifest {
  stacks: Record<string, { name: string; dependencies: string[]; workingDirectory: string }>;
}

/** Every stack after the stacks it depends on; otherwise by name. */
export function readStacks(outdir: string): StackToDeploy[] {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as Manifest;
  } catch (error) {
    throw new DeployError("NO_SYNTHESIZED_APP", `${outdir} holds no synthesized app (manifest.json: ${(error as Error).message}); run npm run synth`);
  }
  const stacks = Object.values(manifest.stacks).map((s) => ({ name: s.name, dir: join(outdir, s.workingDirectory), dependencies: s.dependencies }));
  const ordered: StackToDeploy[] = [];
  const visit = (stack: StackToDeploy) => {
    if (ordered.includes(stack)) return;
    for (const d of stack.dependencies) {
      const dependency = stacks.find((s) => s.name === d);
      if (!dependency) throw new DeployError("UNKNOWN_DEPENDENCY", `stack ${stack.name} depends on ${d}, which the manifest does not list`);
      visit(dependency);
    }
    ordered.push(stack);
  };
  for (const stack of stacks.sort((a, b) => a.name.localeCompare(b.name))) visit(stack);
  return ordered;
}

/** The region a stack's AWS provider names (a literal string, as the platform synthesizes it). */
export function providerRegion(stack: StackToDeploy): string {
  const region = readStackJson(stack.dir).provider?.aws?.[0]?.region;
  if (typeof region !== "string" || region.includes("${")) {
    throw new DeployError("UNSUPPORTED_PROVIDER", `${stack.name}: the local cloud needs a literal provider region, got ${JSON.stringify(region)}`);
  }
  return region;
}
