// The platform on the local cloud as `npm start` runs it: synthesized (target aws) into a fresh
// directory and started on free ports with fresh data, workspace dev unless told otherwise.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalCloud, type LocalCloudOptions } from "../../local/cloud";
import type { PlatformConfig } from "../../stacks/config";
import { synth } from "../../scripts/lib/synth";

export type PlatformCloudOptions = Partial<Omit<LocalCloudOptions, "outdir" | "dataDir">> & {
  /** The configuration to synthesize with (default: config/environments.json). */
  config?: PlatformConfig;
};

/** `name` names the temporary directories (`<name>-synth-…`, `<name>-…`). */
export async function startPlatformCloud(name: string, options: PlatformCloudOptions = {}): Promise<LocalCloud> {
  const { config, ...cloudOptions } = options;
  const outdir = mkdtempSync(join(tmpdir(), `${name}-synth-`));
  synth({ target: "aws", outdir, config });
  return LocalCloud.start({ outdir, workspace: "dev", dataDir: mkdtempSync(join(tmpdir(), `${name}-`)), port: 0, ...cloudOptions });
}
