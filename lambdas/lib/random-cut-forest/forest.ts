// A random cut forest over a stream (Guha et al., "Robust Random Cut Forest Based Anomaly
// Detection on Streams", ICML 2016; reference: aws/random-cut-forest-by-aws): each tree has its
// own time-decayed sample of the stream and a random cut tree over it; a point's anomaly score
// is the trees' average. Scores near or below 1 are normal, well above 1 anomalous, and 0 until
// the forest has seen `outputAfter` points. Everything is seeded, so a run is reproducible, and
// the whole state is a plain-JSON snapshot.
import { SeededRandom } from "../seeded-random";
import { RcfError } from "./errors";
import { PointStore, type PointStoreSnapshot } from "./point-store";
import { NO_EVICTION, REJECTED, StreamSampler, type SamplerSnapshot } from "./sampler";
import { RandomCutTree, type TreeSnapshot } from "./tree";

export interface ForestOptions {
  /** Coordinates per point (after shingling). */
  dimensions: number;
  /** Default 100 (Kinesis Analytics' default; the reference library defaults to 50). */
  numberOfTrees?: number;
  /** Points each tree samples; default 256. */
  sampleSize?: number;
  /**
   * Sampling decay per point: 0 samples the whole stream uniformly, larger values favour recent
   * points. Default 1 / (10 * sampleSize), the reference's default.
   */
  timeDecay?: number;
  /** Points to see before scores are reported (0 until then); default sampleSize / 4, as the reference. */
  outputAfter?: number;
  /** Seed of every tree's and sampler's random generator; default 0. */
  seed?: number;
}

export type ResolvedForestOptions = Required<ForestOptions>;

export interface ForestSnapshot {
  format: "random-cut-forest/1";
  options: ResolvedForestOptions;
  totalUpdates: number;
  store: PointStoreSnapshot;
  samplers: SamplerSnapshot[];
  trees: TreeSnapshot[];
}

export class RandomCutForest {
  readonly options: ResolvedForestOptions;
  private totalUpdates = 0;
  private readonly query: Float64Array;

  private constructor(
    options: ResolvedForestOptions,
    private readonly store: PointStore,
    private readonly samplers: StreamSampler[],
    private readonly trees: RandomCutTree[],
  ) {
    this.options = options;
    this.query = new Float64Array(options.dimensions);
  }

  static create(options: ForestOptions): RandomCutForest {
    const resolved = resolveOptions(options);
    const { dimensions, numberOfTrees, sampleSize, timeDecay, seed } = resolved;
    const store = new PointStore(dimensions, sampleSize * numberOfTrees + 1);
    const seeds = new SeededRandom(seed);
    const samplers: StreamSampler[] = [];
    const trees: RandomCutTree[] = [];
    for (let t = 0; t < numberOfTrees; t++) {
      samplers.push(new StreamSampler(sampleSize, timeDecay, new SeededRandom(seeds.nextUint32() | 0)));
      trees.push(new RandomCutTree(store, sampleSize, new SeededRandom(seeds.nextUint32() | 0)));
    }
    return new RandomCutForest(resolved, store, samplers, trees);
  }

  /** Points seen so far. */
  get updates(): number {
    return this.totalUpdates;
  }

  get isReady(): boolean {
    return this.totalUpdates >= this.options.outputAfter;
  }

  /** The anomaly score of `point` against the current sample; 0 until the forest is ready. */
  score(point: ArrayLike<number>): number {
    this.load(point);
    if (!this.isReady) return 0;
    let sum = 0;
    for (const tree of this.trees) sum += tree.score(this.query);
    return sum / this.trees.length;
  }

  /** Offers `point` to every tree's sampler; trees whose sampler takes it insert it. */
  update(point: ArrayLike<number>): void {
    this.load(point);
    const sequenceIndex = ++this.totalUpdates;
    let stored = -1;
    for (let t = 0; t < this.trees.length; t++) {
      const sampler = this.samplers[t];
      const evicted = sampler.offer(sequenceIndex);
      if (evicted === REJECTED) continue;
      const tree = this.trees[t];
      if (evicted !== NO_EVICTION) {
        tree.delete(evicted);
        this.store.removeReference(evicted);
      }
      if (stored < 0) stored = this.store.add(this.query);
      this.store.addReference(stored);
      sampler.add(stored);
      tree.insert(stored);
    }
  }

  /** Scores `point`, then learns it: how Kinesis Analytics' RANDOM_CUT_FOREST treats each row. */
  scoreThenUpdate(point: ArrayLike<number>): number {
    const score = this.score(point);
    this.update(point);
    return score;
  }

  snapshot(): ForestSnapshot {
    return {
      format: "random-cut-forest/1",
      options: { ...this.options },
      totalUpdates: this.totalUpdates,
      store: this.store.snapshot(),
      samplers: this.samplers.map((s) => s.snapshot()),
      trees: this.trees.map((t) => t.snapshot()),
    };
  }

  static restore(snapshot: ForestSnapshot): RandomCutForest {
    if (snapshot?.format !== "random-cut-forest/1") {
      throw new RcfError("RCF_INVALID_SNAPSHOT", `not a random-cut-forest/1 snapshot (format ${JSON.stringify(snapshot?.format)})`);
    }
    const options = resolveOptions(snapshot.options);
    const { dimensions, numberOfTrees, sampleSize, timeDecay } = options;
    if (snapshot.samplers?.length !== numberOfTrees || snapshot.trees?.length !== numberOfTrees) {
      throw new RcfError("RCF_INVALID_SNAPSHOT", `snapshot must hold ${numberOfTrees} samplers and trees`);
    }
    if (!Number.isInteger(snapshot.totalUpdates) || snapshot.totalUpdates < 0) {
      throw new RcfError("RCF_INVALID_SNAPSHOT", `totalUpdates ${snapshot.totalUpdates} is not a count`);
    }
    const store = PointStore.restore(dimensions, snapshot.store);
    const samplers = snapshot.samplers.map((s) => StreamSampler.restore(sampleSize, timeDecay, s));
    const trees = snapshot.trees.map((t) => RandomCutTree.restore(store, sampleSize, SeededRandom.fromState(t.random), t));
    const forest = new RandomCutForest(options, store, samplers, trees);
    forest.totalUpdates = snapshot.totalUpdates;
    return forest;
  }

  private load(point: ArrayLike<number>): void {
    if (point.length !== this.options.dimensions) {
      throw new RcfError("RCF_INVALID_POINT", `a point has ${this.options.dimensions} coordinates, got ${point.length}`);
    }
    for (let i = 0; i < point.length; i++) {
      const v = point[i];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new RcfError("RCF_INVALID_POINT", `coordinate ${i} is ${v}: every coordinate must be a finite number`);
      }
      // -0 and 0 are the same point (the reference does the same when it stores floats).
      this.query[i] = v === 0 ? 0 : v;
    }
  }
}

function resolveOptions(options: ForestOptions): ResolvedForestOptions {
  const sampleSize = options.sampleSize ?? 256;
  const resolved: ResolvedForestOptions = {
    dimensions: options.dimensions,
    numberOfTrees: options.numberOfTrees ?? 100,
    sampleSize,
    timeDecay: options.timeDecay ?? 1 / (10 * sampleSize),
    outputAfter: options.outputAfter ?? Math.floor(sampleSize / 4),
    seed: options.seed ?? 0,
  };
  const problems: string[] = [];
  const positiveInteger = (name: keyof ResolvedForestOptions) => {
    const v = resolved[name];
    if (!Number.isInteger(v) || (v as number) < 1) problems.push(`${name} must be a positive integer, got ${v}`);
  };
  positiveInteger("dimensions");
  positiveInteger("numberOfTrees");
  positiveInteger("sampleSize");
  if (!(Number.isFinite(resolved.timeDecay) && resolved.timeDecay >= 0)) problems.push(`timeDecay must be a finite number >= 0, got ${resolved.timeDecay}`);
  if (!Number.isInteger(resolved.outputAfter) || resolved.outputAfter < 0) problems.push(`outputAfter must be an integer >= 0, got ${resolved.outputAfter}`);
  if (!Number.isInteger(resolved.seed)) problems.push(`seed must be an integer, got ${resolved.seed}`);
  if (problems.length > 0) throw new RcfError("RCF_INVALID_OPTIONS", `invalid random cut forest options: ${problems.join("; ")}`);
  return resolved;
}
