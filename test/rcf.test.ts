// RANDOM_CUT_FOREST against the reference's published example (Guha et al. 2016, figure 3 data,
// as in aws/random-cut-forest-by-aws), plus warm-up, reproducibility, snapshots and time decay.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RandomCutForest, RcfError, Shingle } from "../lambdas/lib/random-cut-forest";
import { SeededRandom } from "../lambdas/lib/seeded-random";

const PAPER = readFileSync(new URL("../data/rcf-paper.csv", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((line) => line.split(",").map(Number));
const nearOrigin = (p: number[]) => Math.abs(p[0]) < 1;

/** Scores each point, then adds it: what the reference's README example does. */
function scoreInOrder(seed: number, points = PAPER) {
  const forest = RandomCutForest.create({ dimensions: 3, numberOfTrees: 100, sampleSize: 256, seed });
  return points.map((p) => forest.scoreThenUpdate(p));
}

describe("random cut forest on the paper's example data", () => {
  // Three seeds: the published figures must not depend on a lucky one.
  const runs = [1, 2, 3].map((seed) => ({ seed, scores: scoreInOrder(seed) }));

  it("has the data described in data/README.md", () => {
    expect(PAPER).toHaveLength(2010);
    expect(PAPER.filter(nearOrigin)).toHaveLength(11);
    expect(PAPER.at(-5)).toEqual([0.0158, 0.0061, 0.0091]);
  });

  it.each([1, 2, 3])("seed %i: every point near the origin scores above 2", (seed) => {
    const { scores } = runs.find((r) => r.seed === seed)!;
    const origin = PAPER.map((p, i) => [p, scores[i]] as const).filter(([p]) => nearOrigin(p));
    for (const [, score] of origin) expect(score).toBeGreaterThan(2);
  });

  it.each([1, 2, 3])("seed %i: the last ten rows score as published (clusters ~0.65-1.05, 0.0158,0.0061,0.0091 ~2.8)", (seed) => {
    const { scores } = runs.find((r) => r.seed === seed)!;
    const last = PAPER.slice(-10).map((p, i) => ({ p, score: scores[scores.length - 10 + i] }));
    for (const { p, score } of last) {
      if (nearOrigin(p)) {
        expect(score).toBeGreaterThan(2.6);
        expect(score).toBeLessThan(3.0);
      } else {
        // "about 0.65-1.05": a few hundredths of slack for a different random stream.
        expect(score).toBeGreaterThan(0.6);
        expect(score).toBeLessThan(1.1);
      }
    }
  });

  it("scores 0 during warm-up (the reference's outputAfter: sampleSize / 4 points), then not", () => {
    const { scores } = runs[0];
    expect(scores.slice(0, 64).every((s) => s === 0)).toBe(true);
    expect(scores[64]).toBeGreaterThan(0);
  });

  it("gives the same scores for the same seed, and others for another seed", () => {
    const again = scoreInOrder(1, PAPER.slice(0, 400));
    expect(again).toEqual(runs[0].scores.slice(0, 400));
    expect(scoreInOrder(7, PAPER.slice(0, 400))).not.toEqual(again);
  });
});

describe("random cut forest state", () => {
  it("continues from a JSON snapshot exactly as the uninterrupted forest", () => {
    const options = { dimensions: 3, numberOfTrees: 30, sampleSize: 64, seed: 5 };
    const whole = RandomCutForest.create(options);
    const expected = PAPER.map((p) => whole.scoreThenUpdate(p));

    const first = RandomCutForest.create(options);
    PAPER.slice(0, 1000).forEach((p) => first.scoreThenUpdate(p));
    const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
    const restored = RandomCutForest.restore(snapshot);
    const rest = PAPER.slice(1000).map((p) => restored.scoreThenUpdate(p));
    expect(rest).toEqual(expected.slice(1000));
    expect(restored.snapshot()).toEqual(whole.snapshot());
  });

  it("refuses a snapshot that is not a forest's, naming the problem", () => {
    const snapshot = RandomCutForest.create({ dimensions: 1, numberOfTrees: 2, sampleSize: 16 }).snapshot();
    expect(() => RandomCutForest.restore({ ...snapshot, format: "other" } as never)).toThrow(/not a random-cut-forest\/1 snapshot/);
    const broken = { ...snapshot, trees: [{ ...snapshot.trees[0], boxes: "AAAA" }, snapshot.trees[1]] };
    expect(() => RandomCutForest.restore(broken)).toThrow(expect.objectContaining({ code: "RCF_INVALID_SNAPSHOT", message: expect.stringMatching(/tree\.boxes/) }));
  });

  it("refuses points of the wrong size or with non-finite coordinates, and bad options", () => {
    const forest = RandomCutForest.create({ dimensions: 2, numberOfTrees: 2, sampleSize: 16 });
    expect(() => forest.update([1])).toThrow(expect.objectContaining({ code: "RCF_INVALID_POINT" }));
    expect(() => forest.score([1, Number.NaN])).toThrow(/coordinate 1 is NaN/);
    expect(() => RandomCutForest.create({ dimensions: 0 })).toThrow(RcfError);
    expect(() => RandomCutForest.create({ dimensions: 1, sampleSize: 2.5, timeDecay: -1 })).toThrow(/sampleSize must be a positive integer.*timeDecay must be/);
  });
});

describe("random cut forest behaviour", () => {
  const gaussian = (random: SeededRandom) => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());

  it("with time decay forgets an old level sooner than a uniform sample does", () => {
    const random = new SeededRandom(11);
    const stream = [...Array.from({ length: 2000 }, () => [gaussian(random)]), ...Array.from({ length: 300 }, () => [20 + gaussian(random)])];
    const tail = (timeDecay: number) => {
      const forest = RandomCutForest.create({ dimensions: 1, numberOfTrees: 50, sampleSize: 128, timeDecay, seed: 1 });
      const scores = stream.map((p) => forest.scoreThenUpdate(p));
      return scores.slice(-50).reduce((a, b) => a + b, 0) / 50;
    };
    const decaying = tail(0.05);
    const uniform = tail(0);
    expect(decaying).toBeLessThan(1.5);
    expect(uniform).toBeGreaterThan(decaying);
  });

  it("handles repeated points: a seen value scores low, a new one high", () => {
    const forest = RandomCutForest.create({ dimensions: 1, numberOfTrees: 50, sampleSize: 32, seed: 3 });
    for (let i = 0; i < 500; i++) forest.update([i % 4]);
    expect(forest.score([2])).toBeLessThan(1);
    expect(forest.score([40])).toBeGreaterThan(2);
  });

  it("shingles the last points oldest first", () => {
    const shingle = new Shingle(2, 3);
    shingle.add([1, 2]);
    shingle.add([3, 4]);
    expect(shingle.isFull).toBe(false);
    shingle.add([5, 6]);
    shingle.add([7, 8]);
    expect(shingle.isFull).toBe(true);
    expect(shingle.current()).toEqual([3, 4, 5, 6, 7, 8]);
    expect(Shingle.restore(2, 3, JSON.parse(JSON.stringify(shingle.snapshot()))).current()).toEqual([3, 4, 5, 6, 7, 8]);
  });
});
