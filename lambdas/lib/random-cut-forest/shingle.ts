// Shingling (the reference's ShingleBuilder, sliding): the forest sees the last `size` points of
// the stream side by side, oldest first, so that it scores shapes over time, not single values.
import { RcfError } from "./errors";

export interface ShingleSnapshot {
  values: number[];
}

export class Shingle {
  private values: number[] = [];

  constructor(
    readonly inputDimensions: number,
    readonly size: number,
  ) {}

  get dimensions(): number {
    return this.inputDimensions * this.size;
  }

  get isFull(): boolean {
    return this.values.length === this.dimensions;
  }

  add(point: readonly number[]): void {
    if (point.length !== this.inputDimensions) {
      throw new RcfError("RCF_INVALID_POINT", `a shingle input has ${this.inputDimensions} coordinates, got ${point.length}`);
    }
    this.values.push(...point);
    if (this.values.length > this.dimensions) this.values.splice(0, this.inputDimensions);
  }

  /** The last `size` points, oldest first; only meaningful when full. */
  current(): readonly number[] {
    return this.values;
  }

  snapshot(): ShingleSnapshot {
    return { values: [...this.values] };
  }

  static restore(inputDimensions: number, size: number, snapshot: ShingleSnapshot): Shingle {
    const shingle = new Shingle(inputDimensions, size);
    const values = snapshot?.values;
    if (!Array.isArray(values) || values.length > shingle.dimensions || values.length % inputDimensions !== 0 || !values.every(Number.isFinite)) {
      throw new RcfError("RCF_INVALID_SNAPSHOT", `a shingle snapshot holds up to ${shingle.dimensions} finite numbers, in whole points`);
    }
    shingle.values = [...values];
    return shingle;
  }
}
