// Time-decayed weighted reservoir sampling, as the reference's CompactSampler: point i gets the
// weight -timeDecay * i + log(-log(u)) with u uniform in (0, 1), and the sample keeps the
// `capacity` points of smallest weight in a max-heap. A new point enters while the sample is
// not full, or when its weight is below the heaviest point's, which it then evicts. With
// timeDecay = 0 this is a uniform sample of the stream; larger values favour recent points.
import { SeededRandom } from "../seeded-random";
import { RcfError } from "./errors";
import { decodeFloat64, decodeInt32, encodeArray } from "./typed-arrays";

export interface SamplerSnapshot {
  size: number;
  weights: string;
  points: string;
  random: number[];
}

/** What `offer` decided: the point is not sampled, or it is and maybe evicts one. */
export const REJECTED = -2;
export const NO_EVICTION = -1;

export class StreamSampler {
  private weights: Float64Array;
  private points: Int32Array;
  private size = 0;
  private pendingWeight = Number.NaN;

  constructor(
    readonly capacity: number,
    private readonly timeDecay: number,
    private random: SeededRandom,
  ) {
    this.weights = new Float64Array(capacity);
    this.points = new Int32Array(capacity);
  }

  /**
   * Decides whether the point with this sequence index enters the sample. Returns REJECTED,
   * NO_EVICTION, or the store index of the point evicted to make room; after an acceptance the
   * caller must call `add` with the new point's store index.
   */
  offer(sequenceIndex: number): number {
    let u = 0;
    while (u === 0) u = this.random.next();
    const weight = -sequenceIndex * this.timeDecay + Math.log(-Math.log(u));
    if (this.size < this.capacity) {
      this.pendingWeight = weight;
      return NO_EVICTION;
    }
    if (weight >= this.weights[0]) return REJECTED;
    const evicted = this.points[0];
    this.removeHeaviest();
    this.pendingWeight = weight;
    return evicted;
  }

  add(pointIndex: number): void {
    if (Number.isNaN(this.pendingWeight)) throw new Error("StreamSampler.add without an accepted offer");
    let current = this.size++;
    this.weights[current] = this.pendingWeight;
    this.points[current] = pointIndex;
    this.pendingWeight = Number.NaN;
    while (current > 0) {
      const parent = (current - 1) >> 1;
      if (this.weights[parent] >= this.weights[current]) break;
      this.swap(parent, current);
      current = parent;
    }
  }

  snapshot(): SamplerSnapshot {
    return {
      size: this.size,
      weights: encodeArray(this.weights.subarray(0, this.size)),
      points: encodeArray(this.points.subarray(0, this.size)),
      random: this.random.state(),
    };
  }

  static restore(capacity: number, timeDecay: number, snapshot: SamplerSnapshot): StreamSampler {
    const { size } = snapshot;
    if (!Number.isInteger(size) || size < 0 || size > capacity) {
      throw new RcfError("RCF_INVALID_SNAPSHOT", `sampler size ${size} is not within capacity ${capacity}`);
    }
    const sampler = new StreamSampler(capacity, timeDecay, SeededRandom.fromState(snapshot.random));
    sampler.weights.set(decodeFloat64(snapshot.weights, size, "sampler.weights"));
    sampler.points.set(decodeInt32(snapshot.points, size, "sampler.points"));
    sampler.size = size;
    return sampler;
  }

  private removeHeaviest(): void {
    const last = --this.size;
    this.weights[0] = this.weights[last];
    this.points[0] = this.points[last];
    let current = 0;
    for (;;) {
      const left = 2 * current + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const heavier = right < this.size && this.weights[right] > this.weights[left] ? right : left;
      if (this.weights[heavier] <= this.weights[current]) break;
      this.swap(current, heavier);
      current = heavier;
    }
  }

  private swap(a: number, b: number): void {
    const w = this.weights[a];
    this.weights[a] = this.weights[b];
    this.weights[b] = w;
    const p = this.points[a];
    this.points[a] = this.points[b];
    this.points[b] = p;
  }
}
