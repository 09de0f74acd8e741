// One synth of every stack (all workspaces share one synth), reporting its own time and memory.
// Run by scripts/bench/synth.ts in a fresh process each time.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const mode = process.argv[2] ?? "synth";
const started = performance.now();
if (mode === "synth") {
  const { synth } = await import("../lib/synth");
  const target = (process.argv[3] ?? "aws") as "aws" | "offline";
  synth({ target, outdir: mkdtempSync(join(tmpdir(), "bench-synth-")) });
} else {
  // Baseline: the same process with the same imports, minus the synth itself.
  await import("../../stacks/app");
}
const elapsedMs = performance.now() - started;
console.log(JSON.stringify({ mode, elapsedMs, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
