// One random cut tree over the points of its sampler (Guha et al., ICML 2016, section 3), in
// typed arrays: internal nodes hold a cut (dimension, value), their bounding box and their mass;
// leaves hold a point and how many copies of it the sample has. Points go left when
// point[dimension] <= value, as in the reference implementation.
//
// Node references: an internal node is its index (>= 0), a leaf is -(slot + 2), and -1 is none.
import type { SeededRandom } from "../seeded-random";
import { RcfError } from "./errors";
import type { PointStore } from "./point-store";
import { decodeFloat64, decodeInt32, encodeArray } from "./typed-arrays";

const NONE = -1;
const isLeaf = (node: number) => node <= -2;
const leafSlot = (node: number) => -node - 2;
const leafNode = (slot: number) => -slot - 2;
const LOG2 = Math.log(2);

export interface TreeSnapshot {
  root: number;
  random: number[];
  /** Internal nodes: left, right, parent, cutDimension, mass (5 int32 each). */
  nodes: string;
  cutValues: string;
  boxes: string;
  /** Leaves: point, mass, parent (3 int32 each). */
  leaves: string;
  freeNodes: string;
  freeLeaves: string;
}

export class RandomCutTree {
  private root = NONE;
  private left: Int32Array;
  private right: Int32Array;
  private parent: Int32Array;
  private cutDimension: Int32Array;
  private cutValue: Float64Array;
  private mass: Int32Array;
  /** Box of internal node n: min in [2nd .. 2nd + d), max in [2nd + d .. 2nd + 2d). */
  private box: Float64Array;
  private leafPoint: Int32Array;
  private leafMass: Int32Array;
  private leafParent: Int32Array;
  private freeNodes: number[] = [];
  private freeLeaves: number[] = [];

  // Scratch space, so that scoring and updating allocate nothing per point.
  private readonly path: Int32Array;
  private readonly mergedMin: Float64Array;
  private readonly mergedMax: Float64Array;
  private readonly inside: Uint8Array;

  constructor(
    private readonly store: PointStore,
    readonly capacity: number,
    private random: SeededRandom,
  ) {
    const d = store.dimensions;
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.parent = new Int32Array(capacity);
    this.cutDimension = new Int32Array(capacity);
    this.cutValue = new Float64Array(capacity);
    this.mass = new Int32Array(capacity);
    this.box = new Float64Array(capacity * 2 * d);
    this.leafPoint = new Int32Array(capacity);
    this.leafMass = new Int32Array(capacity);
    this.leafParent = new Int32Array(capacity);
    for (let i = capacity - 1; i >= 0; i--) {
      this.freeNodes.push(i);
      this.freeLeaves.push(i);
    }
    this.path = new Int32Array(capacity);
    this.mergedMin = new Float64Array(d);
    this.mergedMax = new Float64Array(d);
    this.inside = new Uint8Array(d);
  }

  /** Number of points in the tree, copies included. */
  get totalMass(): number {
    if (this.root === NONE) return 0;
    return isLeaf(this.root) ? this.leafMass[leafSlot(this.root)] : this.mass[this.root];
  }

  /**
   * Inserts stored point `point` (Guha et al., algorithm 3): from the root down, draw a random
   * cut of the node's box grown by the point; if it separates the point from the box, the point
   * becomes a new leaf beside the node, otherwise it descends along the node's own cut. A point
   * equal to a leaf's point adds to that leaf's mass.
   */
  insert(point: number): void {
    if (this.root === NONE) {
      this.root = this.newLeaf(point, NONE);
      return;
    }
    const d = this.store.dimensions;
    const values = this.store.values;
    const p = point * d;
    let node = this.root;
    for (;;) {
      if (isLeaf(node)) {
        const slot = leafSlot(node);
        const q = this.leafPoint[slot];
        if (this.store.equal(q, point)) {
          this.leafMass[slot]++;
          return;
        }
        for (let i = 0; i < d; i++) {
          const a = values[p + i];
          const b = values[q * d + i];
          this.mergedMin[i] = a < b ? a : b;
          this.mergedMax[i] = a < b ? b : a;
        }
        this.splitAbove(node, point, this.leafParent[slot], this.leafMass[slot]);
        return;
      }
      const b = node * 2 * d;
      let outside = false;
      for (let i = 0; i < d; i++) {
        const v = values[p + i];
        const min = this.box[b + i];
        const max = this.box[b + d + i];
        this.mergedMin[i] = v < min ? v : min;
        this.mergedMax[i] = v > max ? v : max;
        if (v < min || v > max) outside = true;
      }
      // A point inside the box cannot be cut away from it: skip the draw.
      if (outside && this.splitAbove(node, point, this.parent[node], this.mass[node])) return;
      for (let i = 0; i < d; i++) {
        this.box[b + i] = this.mergedMin[i];
        this.box[b + d + i] = this.mergedMax[i];
      }
      this.mass[node]++;
      node = values[p + this.cutDimension[node]] <= this.cutValue[node] ? this.left[node] : this.right[node];
    }
  }

  /**
   * Removes one copy of stored point `point`: found by following the cuts with its coordinates;
   * a leaf that reaches mass 0 goes, its sibling takes its parent's place, and the boxes above
   * shrink to their children.
   */
  delete(point: number): void {
    const d = this.store.dimensions;
    const values = this.store.values;
    const p = point * d;
    let node = this.root;
    if (node === NONE) throw new Error(`cannot delete point ${point} from an empty tree`);
    while (!isLeaf(node)) {
      this.mass[node]--;
      node = values[p + this.cutDimension[node]] <= this.cutValue[node] ? this.left[node] : this.right[node];
    }
    const slot = leafSlot(node);
    if (!this.store.equal(this.leafPoint[slot], point)) {
      throw new Error(`point ${point} is not in the tree: the sampler and the tree disagree`);
    }
    if (--this.leafMass[slot] > 0) return;

    const parent = this.leafParent[slot];
    this.store.removeReference(this.leafPoint[slot]);
    this.freeLeaves.push(slot);
    if (parent === NONE) {
      this.root = NONE;
      return;
    }
    const sibling = this.left[parent] === node ? this.right[parent] : this.left[parent];
    const grandparent = this.parent[parent];
    this.setParent(sibling, grandparent);
    this.replaceChild(grandparent, parent, sibling);
    this.freeNodes.push(parent);
    // Masses were lowered on the way down; a box that does not shrink leaves those above it as they are.
    for (let n = grandparent; n !== NONE && this.recomputeBox(n); n = this.parent[n]);
  }

  /**
   * The tree's anomaly score for `point` (the reference's AnomalyScoreVisitor): from the leaf
   * the point reaches up to the root, each node mixes in 1 / (depth + 1) with the probability
   * that a random cut separates the point from the node's box, and the result is scaled by
   * log2(mass + 1). A point equal to the leaf's scores as a seen point, damped by its copies.
   */
  score(point: Float64Array): number {
    if (this.root === NONE) return 0;
    const d = this.store.dimensions;
    let depth = 0;
    let node = this.root;
    while (!isLeaf(node)) {
      this.path[depth++] = node;
      node = point[this.cutDimension[node]] <= this.cutValue[node] ? this.left[node] : this.right[node];
    }
    const slot = leafSlot(node);
    const treeMass = this.totalMass;
    const normalizer = Math.log(treeMass + 1) / LOG2;
    if (this.store.equalTo(this.leafPoint[slot], point)) {
      const leafMass = this.leafMass[slot];
      const damp = 1 - leafMass / (2 * treeMass);
      return (damp / (depth + Math.log(leafMass + 1) / LOG2)) * normalizer;
    }

    let score = 1 / (depth + 1);
    this.inside.fill(0);
    for (let k = depth - 1; k >= 0; k--) {
      const b = this.path[k] * 2 * d;
      let newRange = 0;
      let growth = 0;
      for (let i = 0; i < d; i++) {
        const min = this.box[b + i];
        const max = this.box[b + d + i];
        if (this.inside[i] === 0) {
          const v = point[i];
          if (v > max) {
            newRange += v - min;
            growth += v - max;
            continue;
          }
          if (v < min) {
            newRange += max - v;
            growth += min - v;
            continue;
          }
          this.inside[i] = 1; // inside this box, so inside every box above it too
        }
        newRange += max - min;
      }
      // Inside the box: no cut separates it here or above, the score stays.
      if (growth <= 0) break;
      const separation = growth / newRange;
      score = separation / (k + 1) + (1 - separation) * score;
    }
    return score * normalizer;
  }

  snapshot(): TreeSnapshot {
    const n = this.capacity;
    const nodes = new Int32Array(5 * n);
    nodes.set(this.left, 0);
    nodes.set(this.right, n);
    nodes.set(this.parent, 2 * n);
    nodes.set(this.cutDimension, 3 * n);
    nodes.set(this.mass, 4 * n);
    const leaves = new Int32Array(3 * n);
    leaves.set(this.leafPoint, 0);
    leaves.set(this.leafMass, n);
    leaves.set(this.leafParent, 2 * n);
    return {
      root: this.root,
      random: this.random.state(),
      nodes: encodeArray(nodes),
      cutValues: encodeArray(this.cutValue),
      boxes: encodeArray(this.box),
      leaves: encodeArray(leaves),
      freeNodes: encodeArray(Int32Array.from(this.freeNodes)),
      freeLeaves: encodeArray(Int32Array.from(this.freeLeaves)),
    };
  }

  static restore(store: PointStore, capacity: number, random: SeededRandom, snapshot: TreeSnapshot): RandomCutTree {
    const tree = new RandomCutTree(store, capacity, random);
    const n = capacity;
    const nodes = decodeInt32(snapshot.nodes, 5 * n, "tree.nodes");
    tree.left = nodes.slice(0, n);
    tree.right = nodes.slice(n, 2 * n);
    tree.parent = nodes.slice(2 * n, 3 * n);
    tree.cutDimension = nodes.slice(3 * n, 4 * n);
    tree.mass = nodes.slice(4 * n, 5 * n);
    tree.cutValue = decodeFloat64(snapshot.cutValues, n, "tree.cutValues");
    tree.box = decodeFloat64(snapshot.boxes, n * 2 * store.dimensions, "tree.boxes");
    const leaves = decodeInt32(snapshot.leaves, 3 * n, "tree.leaves");
    tree.leafPoint = leaves.slice(0, n);
    tree.leafMass = leaves.slice(n, 2 * n);
    tree.leafParent = leaves.slice(2 * n, 3 * n);
    tree.freeNodes = Array.from(decodeSlots(snapshot.freeNodes, n, "tree.freeNodes"));
    tree.freeLeaves = Array.from(decodeSlots(snapshot.freeLeaves, n, "tree.freeLeaves"));
    const root = snapshot.root;
    if (!Number.isInteger(root) || root >= n || (isLeaf(root) && leafSlot(root) >= n)) {
      throw new RcfError("RCF_INVALID_SNAPSHOT", `tree root ${root} is not a node of a tree of capacity ${n}`);
    }
    tree.root = root;
    return tree;
  }

  /**
   * Draws a random cut of the merged box (mergedMin/mergedMax): a dimension with probability
   * proportional to its range, a value uniform in it. If the cut separates `point` from the
   * subtree at `node` (whose mass is `nodeMass`), a new internal node with that cut takes the
   * subtree's place under `parent`, with the point as a new leaf on its side; returns whether it did.
   */
  private splitAbove(node: number, point: number, parent: number, nodeMass: number): boolean {
    const d = this.store.dimensions;
    const p = point * d;
    const values = this.store.values;
    let rangeSum = 0;
    for (let i = 0; i < d; i++) rangeSum += this.mergedMax[i] - this.mergedMin[i];
    let r = this.random.next() * rangeSum;
    let dimension = -1;
    for (let i = 0; i < d; i++) {
      const range = this.mergedMax[i] - this.mergedMin[i];
      if (range <= 0) continue;
      dimension = i;
      if (r < range) break;
      r -= range;
    }
    let cut = this.mergedMin[dimension] + r;
    // Rounding can land the cut on the upper end, where it separates nothing: use the lower end.
    if (!(cut < this.mergedMax[dimension])) cut = this.mergedMin[dimension];

    const pointGoesLeft = values[p + dimension] <= cut;
    const separates = pointGoesLeft ? this.lower(node, dimension) > cut : this.upper(node, dimension) <= cut;
    if (!separates) return false;

    const created = this.freeNodes.pop();
    if (created === undefined) throw new Error("random cut tree is full: more points than its sampler holds");
    const leaf = this.newLeaf(point, created);
    this.cutDimension[created] = dimension;
    this.cutValue[created] = cut;
    this.left[created] = pointGoesLeft ? leaf : node;
    this.right[created] = pointGoesLeft ? node : leaf;
    this.mass[created] = nodeMass + 1;
    const b = created * 2 * d;
    for (let i = 0; i < d; i++) {
      this.box[b + i] = this.mergedMin[i];
      this.box[b + d + i] = this.mergedMax[i];
    }
    this.parent[created] = parent;
    this.setParent(node, created);
    this.replaceChild(parent, node, created);
    return true;
  }

  /** Lower end of a node's box in one dimension (a leaf's box is its point). */
  private lower(node: number, dimension: number): number {
    const d = this.store.dimensions;
    if (isLeaf(node)) return this.store.values[this.leafPoint[leafSlot(node)] * d + dimension];
    return this.box[node * 2 * d + dimension];
  }

  /** Upper end of a node's box in one dimension. */
  private upper(node: number, dimension: number): number {
    const d = this.store.dimensions;
    if (isLeaf(node)) return this.store.values[this.leafPoint[leafSlot(node)] * d + dimension];
    return this.box[node * 2 * d + d + dimension];
  }

  private newLeaf(point: number, parent: number): number {
    const slot = this.freeLeaves.pop();
    if (slot === undefined) throw new Error("random cut tree is full: more points than its sampler holds");
    this.leafPoint[slot] = point;
    this.leafMass[slot] = 1;
    this.leafParent[slot] = parent;
    this.store.addReference(point);
    return leafNode(slot);
  }

  private setParent(node: number, parent: number): void {
    if (isLeaf(node)) this.leafParent[leafSlot(node)] = parent;
    else this.parent[node] = parent;
  }

  private replaceChild(parent: number, oldChild: number, newChild: number): void {
    if (parent === NONE) this.root = newChild;
    else if (this.left[parent] === oldChild) this.left[parent] = newChild;
    else this.right[parent] = newChild;
  }

  /** Sets a node's box to the union of its children's; returns whether it changed. */
  private recomputeBox(node: number): boolean {
    const d = this.store.dimensions;
    const b = node * 2 * d;
    const left = this.left[node];
    const right = this.right[node];
    let changed = false;
    for (let i = 0; i < d; i++) {
      const min = Math.min(this.lower(left, i), this.lower(right, i));
      const max = Math.max(this.upper(left, i), this.upper(right, i));
      if (min !== this.box[b + i] || max !== this.box[b + d + i]) changed = true;
      this.box[b + i] = min;
      this.box[b + d + i] = max;
    }
    return changed;
  }
}

function decodeSlots(text: unknown, capacity: number, field: string): Int32Array {
  const count = typeof text === "string" ? Buffer.byteLength(text, "base64") / 4 : -1;
  const slots = decodeInt32(text, count, field);
  if (slots.length > capacity || !slots.every((s) => s >= 0 && s < capacity)) {
    throw new RcfError("RCF_INVALID_SNAPSHOT", `${field} holds slots outside a tree of capacity ${capacity}`);
  }
  return slots;
}
