// npm run bench:synth: wall time and peak memory of synthesizing every stack for every workspace
// (one synth: the workspace is chosen at plan time), each run in a fresh process as `npm run
// synth` would be, against a baseline measured in the same run: the same process importing the
// app without synthesizing it. Target (SPEC 11): under 5 s wall on a 2-core machine.
import { execFileSync } from "node:child_process";
import { REPO_ROOT } from "../lib/synth";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_MS = 5000;

interface Sample {
  wallMs: number;
  inProcessMs: number;
  maxRssMb: number;
}

function run(args: string[]): Sample {
  const started = performance.now();
  const out = execFileSync(process.execPath, ["--import", "tsx", "scripts/bench/synth-once.ts", ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
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

console.log(`synth benchmark: ${RUNS} runs each, fresh process per run`);
const baseline = describe("baseline (start + import, no synth)", Array.from({ length: RUNS }, () => run(["baseline"])));
const aws = describe("synth all stacks, target aws", Array.from({ length: RUNS }, () => run(["synth", "aws"])));
const offline = describe("synth all stacks, target offline", Array.from({ length: RUNS }, () => run(["synth", "offline"])));
console.log(`synth cost above baseline: aws ${(aws - baseline).toFixed(0)} ms, offline ${(offline - baseline).toFixed(0)} ms`);
const worst = Math.max(aws, offline);
console.log(`target: under ${TARGET_MS} ms wall -> ${worst < TARGET_MS ? "met" : "NOT MET"} (${worst.toFixed(0)} ms)`);
if (worst >= TARGET_MS) process.exitCode = 1;
