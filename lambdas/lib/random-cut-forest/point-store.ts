// The points the trees hold, stored once for the whole forest (as the reference's PointStore):
// a point accepted by many trees' samplers is kept once, with a reference count; freed slots
// are reused, so a long stream allocates nothing once the store has grown to its working size.
import { RcfError } from "./errors";
import { decodeFloat64, decodeInt32, encodeArray } from "./typed-arrays";

export interface PointStoreSnapshot {
  capacity: number;
  used: number;
  values: string;
  refCounts: string;
  freeSlots: string;
}

export class PointStore {
  /** Coordinates of point i are values[i * dimensions ... (i + 1) * dimensions - 1]. */
  values: Float64Array;
  private refCounts: Int32Array;
  private capacity: number;
  /** Slots below this index have been handed out at least once. */
  private used: number;
  private readonly freeSlots: number[] = [];

  constructor(
    readonly dimensions: number,
    initialCapacity: number,
  ) {
    this.capacity = Math.max(1, initialCapacity);
    this.values = new Float64Array(this.capacity * dimensions);
    this.refCounts = new Int32Array(this.capacity);
    this.used = 0;
  }

  /** Stores a copy of `point` with no references yet; the caller takes the first one. */
  add(point: ArrayLike<number>): number {
    let index = this.freeSlots.pop();
    if (index === undefined) {
      if (this.used === this.capacity) this.grow();
      index = this.used++;
    }
    const base = index * this.dimensions;
    for (let i = 0; i < this.dimensions; i++) this.values[base + i] = point[i];
    return index;
  }

  addReference(index: number): void {
    this.refCounts[index]++;
  }

  removeReference(index: number): void {
    if (this.refCounts[index] <= 0) throw new Error(`point ${index} has no reference to remove`);
    if (--this.refCounts[index] === 0) this.freeSlots.push(index);
  }

  /** Whether stored points a and b have the same coordinates. */
  equal(a: number, b: number): boolean {
    const d = this.dimensions;
    for (let i = 0; i < d; i++) if (this.values[a * d + i] !== this.values[b * d + i]) return false;
    return true;
  }

  /** Whether stored point a has the coordinates of `point`. */
  equalTo(a: number, point: Float64Array): boolean {
    const d = this.dimensions;
    for (let i = 0; i < d; i++) if (this.values[a * d + i] !== point[i]) return false;
    return true;
  }

  snapshot(): PointStoreSnapshot {
    return {
      capacity: this.capacity,
      used: this.used,
      values: encodeArray(this.values),
      refCounts: encodeArray(this.refCounts),
      freeSlots: encodeArray(Int32Array.from(this.freeSlots)),
    };
  }

  static restore(dimensions: number, snapshot: PointStoreSnapshot): PointStore {
    const { capacity, used } = snapshot;
    if (!Number.isInteger(capacity) || capacity < 1 || !Number.isInteger(used) || used < 0 || used > capacity) {
      throw new RcfError("RCF_INVALID_SNAPSHOT", `point store capacity ${capacity} / used ${used} are not valid`);
    }
    const store = new PointStore(dimensions, capacity);
    store.values = decodeFloat64(snapshot.values, capacity * dimensions, "pointStore.values");
    store.refCounts = decodeInt32(snapshot.refCounts, capacity, "pointStore.refCounts");
    store.used = used;
    const freeCount = typeof snapshot.freeSlots === "string" ? Buffer.byteLength(snapshot.freeSlots, "base64") / 4 : -1;
    const freeSlots = decodeInt32(snapshot.freeSlots, freeCount, "pointStore.freeSlots");
    for (const slot of freeSlots) {
      if (!(slot >= 0 && slot < used && store.refCounts[slot] === 0)) {
        throw new RcfError("RCF_INVALID_SNAPSHOT", `point store free slot ${slot} is not an unreferenced slot`);
      }
      store.freeSlots.push(slot);
    }
    return store;
  }

  private grow(): void {
    this.capacity *= 2;
    const values = new Float64Array(this.capacity * this.dimensions);
    values.set(this.values);
    this.values = values;
    const refCounts = new Int32Array(this.capacity);
    refCounts.set(this.refCounts);
    this.refCounts = refCounts;
  }
}
