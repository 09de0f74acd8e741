// npm run bench:synth: wall time and peak memory of synthesizing every stack for every workspace
// (one synth: the workspace is chosen at plan time), each run in a fresh process as `npm run
// synth` would be, against a baseline measured in the same run: the same process importing the
// app without synthesizing it. Target (docs/design.md): under 5 s wall on a 2-core machine. Measured with
// the Lambda bundle cache (every synth after a checkout's first) and without (bundles built).
import { execFileSync } from "node:child_process";
import { defineCli, integerOption } from "../lib/cli";
import { REPO_ROOT } from "../../modules/nodejs-function/bundle";

const TARGET_MS = 5000;

const cli = defineCli({
  command: "npm run bench:synth --",
  summary:
    "Wall time and peak memory of synthesizing every stack, each run in a fresh process, against a baseline measured in the same run " +
    `(the same process importing the app without synthesizing it); with and without the Lambda bundle cache. Target: under ${TARGET_MS} ms.`,
  options: { runs: { type: "string", value: "<n>", default: "5", description: "runs of each case" } },
  notes: ["exit code: 1 when the target is not met"],
});

interface Sample {
  wallMs: number;
  inProcessMs: number;
  maxRssMb: number;
}

function run(args: string[], bundleCache: "on" | "off" = "on"): Sample {
  const started = performance.now();
  const out = execFileSync(process.execPath, ["--import", "tsx", "scripts/bench/synth-once.ts", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, LAMBDA_BUNDLE_CACHE: bundleCache },
  });
  const wallMs = performance.now() - started;
  const reported = JSON.parse(out.trim().split("\n").pop()!);
  return { wallMs, inProcessMs: reported.elapsedMs, maxRssMb: reported.maxRssMb };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const describe = (name: string, samples: Sample[]) => {
  const wall = samples.map((s) => s.wallMs);
  console.log(
    `${name.padEnd(34)} wall median ${median(wall).toFixed(0).padStart(5)} ms (min ${Math.min(...wall).toFixed(0)}, max ${Math.max(...wall).toFixed(0)})` +
      `  in-process ${median(samples.map((s) => s.inProcessMs)).toFixed(0).padStart(5)} ms  peak RSS ${median(samples.map((s) => s.maxRssMb)).toFixed(0)} MB`,
  );
  return median(wall);
};

cli.main(({ values }) => {
  const runs = integerOption("runs", values.runs, { min: 1 });
  const times = (args: string[], bundleCache: "on" | "off" = "on") => Array.from({ length: runs }, () => run(args, bundleCache));
  console.log(`synth benchmark: ${runs} runs each, fresh process per run`);
  const baseline = describe("baseline (start + import, no synth)", times(["baseline"]));
  const cold = describe("synth, aws, bundles built", times(["synth", "aws"], "off"));
  run(["synth", "aws"]); // fills the bundle cache, as the first synth of a checkout does
  const aws = describe("synth, aws, bundles from cache", times(["synth", "aws"]));
  const offline = describe("synth, offline, bundles from cache", times(["synth", "offline"]));
  console.log(`synth cost above baseline: built ${(cold - baseline).toFixed(0)} ms, cached aws ${(aws - baseline).toFixed(0)} ms, offline ${(offline - baseline).toFixed(0)} ms`);
  const verdict = (ms: number) => `${ms < TARGET_MS ? "met" : "NOT MET"} (${ms.toFixed(0)} ms)`;
  console.log(`target: under ${TARGET_MS} ms wall -> with the bundle cache ${verdict(Math.max(aws, offline))}; first synth of a checkout ${verdict(cold)}`);
  return Math.max(aws, offline) >= TARGET_MS ? 1 : 0;
});
