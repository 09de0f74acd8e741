// A small seeded pseudo-random generator (xoshiro128**, seeded through splitmix32) whose whole
// state is four 32-bit words: runs are reproducible from a seed, and the state fits in a
// snapshot as plain JSON. Not for anything secret.

/** splitmix32: spreads a seed so that nearby seeds give unrelated streams. */
function splitmix32(x: number): number {
  let t = (x + 0x9e3779b9) | 0;
  t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
  t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

export class SeededRandom {
  private readonly s = new Uint32Array(4);

  /** `seed`: any integer; the same seed gives the same sequence on every machine. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    let x = seed | 0;
    for (let i = 0; i < 4; i++) {
      x = splitmix32(x + i);
      this.s[i] = x;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1; // the all-zero state is a fixed point
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A double uniformly distributed in [0, 1), with 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** The generator's state, to continue the same sequence after `SeededRandom.fromState`. */
  state(): number[] {
    return Array.from(this.s);
  }

  static fromState(state: readonly number[]): SeededRandom {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new RangeError(`a SeededRandom state is four unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    }
    const random = new SeededRandom(0);
    random.s.set(state);
    return random;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
