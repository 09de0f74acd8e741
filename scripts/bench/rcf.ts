// Throughput of RANDOM_CUT_FOREST at Kinesis Analytics' defaults (100 trees, 256 samples per
// tree): points scored then learned per second, as the SQL function treats each row. Target:
// 10,000 points/s. Data: the paper's 3-D example (data/rcf-paper.csv, repeated) and a 1-D
// CTR-like stream. Baseline in the same run: the 100 time-decayed samplers alone (the reservoir
// decisions every forest makes, without trees), to show what the trees cost on top.
//
//   options: npm run bench:rcf -- --help
import { readFileSync } from "node:fs";
import { RandomCutForest } from "../../lambdas/lib/random-cut-forest";
import { REJECTED, StreamSampler } from "../../lambdas/lib/random-cut-forest/sampler";
import { SeededRandom } from "../../lambdas/lib/seeded-random";
import { defineCli, integerOption } from "../lib/cli";

const TREES = 100;
const SAMPLES = 256;

const cli = defineCli({
  command: "npm run bench:rcf --",
  summary:
    `RANDOM_CUT_FOREST points scored then learned per second at Kinesis Analytics' defaults (${TREES} trees, ${SAMPLES} samples per tree), ` +
    "on the paper's 3-D example and a 1-D CTR-like stream, against the samplers alone (no trees) in the same run. Target: 10,000 points/s.",
  options: { points: { type: "string", value: "<n>", default: "20000", description: "points per stream" } },
});

function streams(count: number): Record<string, number[][]> {
  const paper = readFileSync(new URL("../../data/rcf-paper.csv", import.meta.url), "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(",").map(Number));
  const random = new SeededRandom(7);
  return {
    "paper 3-D": Array.from({ length: count }, (_, i) => paper[i % paper.length]),
    "CTR 1-D": Array.from({ length: count }, () => [10 + 4 * (random.next() - 0.5)]),
  };
}

function forest(points: number[][]): number {
  const rcf = RandomCutForest.create({ dimensions: points[0].length, numberOfTrees: TREES, sampleSize: SAMPLES, seed: 1 });
  // Fill the samples first: steady state is what a long-running application sees.
  for (let i = 0; i < SAMPLES * 4; i++) rcf.update(points[i % points.length]);
  const started = performance.now();
  let checksum = 0;
  for (const p of points) checksum += rcf.scoreThenUpdate(p);
  if (!Number.isFinite(checksum)) throw new Error("scores are not finite");
  return points.length / ((performance.now() - started) / 1000);
}

function samplersOnly(count: number): number {
  const rng = new SeededRandom(1);
  // The same time decay as the forests above (the forest's default).
  const { timeDecay } = RandomCutForest.create({ dimensions: 1, numberOfTrees: 1, sampleSize: SAMPLES }).options;
  const samplers = Array.from({ length: TREES }, () => new StreamSampler(SAMPLES, timeDecay, new SeededRandom(rng.nextUint32() | 0)));
  const started = performance.now();
  let next = 0;
  for (let i = 1; i <= count; i++) {
    for (const sampler of samplers) {
      if (sampler.offer(i) !== REJECTED) sampler.add(next++ % (SAMPLES * TREES));
    }
  }
  return count / ((performance.now() - started) / 1000);
}

const format = (n: number) => Math.round(n).toLocaleString("en-US");

cli.main(({ values }) => {
  const count = integerOption("points", values.points, { min: 1 });
  console.log(`random cut forest, ${TREES} trees x ${SAMPLES} samples, ${format(count)} points scored then learned`);
  for (const [name, points] of Object.entries(streams(count))) {
    forest(points.slice(0, 2_000)); // warm the JIT
    const runs = [forest(points), forest(points), forest(points)].sort((a, b) => a - b);
    console.log(`  ${name.padEnd(10)} ${format(runs[1]).padStart(8)} points/s (median of 3)   target 10,000: ${runs[1] >= 10_000 ? "met" : "NOT met"}`);
  }
  console.log(`  baseline   ${format(samplersOnly(count)).padStart(8)} points/s (the ${TREES} samplers alone, no trees)`);
  return 0;
});
