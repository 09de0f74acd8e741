// Facts read back from a synthesized app: its stacks, their order, and the workspaces each one
// is deployed in (the keys of its `local.environments`), so that scripts never restate them.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface SynthesizedStack {
  name: string;
  dir: string;
  file: string;
  dependencies: string[];
  workspaces: string[];
  json: TerraformJson;
}

export interface TerraformJson {
  locals?: Record<string, unknown>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean }>;
  variable?: Record<string, Record<string, unknown>>;
  provider?: Record<string, Record<string, unknown>[]>;
  terraform?: Record<string, unknown>;
}

interface Manifest {
  stacks: Record<string, { name: string; dependencies: string[]; workingDirectory: string; synthesizedStackPath: string }>;
}

/** Stacks of a synthesized app, each after the stacks it depends on. */
export function readSynthesized(outdir: string): SynthesizedStack[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as Manifest;
  const stacks = Object.values(manifest.stacks).map((entry): SynthesizedStack => {
    const file = join(outdir, entry.synthesizedStackPath);
    const json = JSON.parse(readFileSync(file, "utf8")) as TerraformJson;
    const environments = (json.locals?.environments ?? {}) as Record<string, unknown>;
    return {
      name: entry.name,
      dir: join(outdir, entry.workingDirectory),
      file,
      dependencies: entry.dependencies,
      workspaces: Object.keys(environments).sort(),
      json,
    };
  });
  return dependencyOrder(stacks);
}

function dependencyOrder(stacks: SynthesizedStack[]): SynthesizedStack[] {
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const ordered: SynthesizedStack[] = [];
  const visiting = new Set<string>();
  const visit = (stack: SynthesizedStack) => {
    if (ordered.includes(stack)) return;
    if (visiting.has(stack.name)) throw new Error(`stack dependency cycle through ${stack.name}`);
    visiting.add(stack.name);
    for (const dependency of stack.dependencies) {
      const other = byName.get(dependency);
      if (!other) throw new Error(`stack ${stack.name} depends on unknown stack ${dependency}`);
      visit(other);
    }
    ordered.push(stack);
  };
  for (const stack of [...stacks].sort((a, b) => a.name.localeCompare(b.name))) visit(stack);
  return ordered;
}
