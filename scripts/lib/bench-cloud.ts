// The local cloud the request-path benchmarks measure: workspace dev, synthesized and deployed
// into fresh directories, with the stage's throttling and WAF's rate-based rule lifted (dev's 100
// requests/s, and 2,000 requests per client in 5 minutes, would measure the limits, not the
// emulator), stopped and removed afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalCloud } from "../../local/cloud";
import type { PlatformConfig } from "../../stacks/config";

export async function withUnthrottledCloud<T>(name: string, use: (cloud: LocalCloud, config: PlatformConfig) => Promise<T>): Promise<T> {
  // Loaded here, not at the top, so that the benchmarks answer --help without loading the app.
  const [{ LocalCloud }, { loadConfig }, { synth }] = await Promise.all([import("../../local/cloud"), import("../../stacks/config"), import("./synth")]);
  const outdir = mkdtempSync(join(tmpdir(), `${name}-synth-`));
  const dataDir = mkdtempSync(join(tmpdir(), `${name}-data-`));
  try {
    const config = loadConfig();
    const dev = config.environments.dev;
    dev.api = { ...dev.api, throttleRateLimit: 1_000_000, throttleBurstLimit: 1_000_000, methodThrottles: {} };
    dev.waf = { ...dev.waf, rateLimit: 2_000_000_000 };
    synth({ target: "aws", outdir, config });
    const cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir, port: 0 });
    try {
      return await use(cloud, config);
    } finally {
      await cloud.stop();
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
