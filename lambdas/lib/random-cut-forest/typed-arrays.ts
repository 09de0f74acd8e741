// Typed arrays in snapshots: base64 of their bytes, exact to the bit (doubles included) and far
// smaller than a JSON array of numbers. Every platform Lambda and Node run on is little-endian.
import { RcfError } from "./errors";

type TypedArray = Float64Array | Int32Array;

export function encodeArray(array: TypedArray): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");
}

export function decodeFloat64(text: unknown, length: number, field: string): Float64Array {
  return new Float64Array(decodeBytes(text, length * 8, field).buffer);
}

export function decodeInt32(text: unknown, length: number, field: string): Int32Array {
  return new Int32Array(decodeBytes(text, length * 4, field).buffer);
}

function decodeBytes(text: unknown, byteLength: number, field: string): Uint8Array {
  if (typeof text !== "string") throw new RcfError("RCF_INVALID_SNAPSHOT", `snapshot field ${field} must be a base64 string`);
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== byteLength) {
    throw new RcfError("RCF_INVALID_SNAPSHOT", `snapshot field ${field} holds ${bytes.length} bytes, expected ${byteLength}`);
  }
  // A copy: the decoded array must own an aligned buffer of its own.
  const copy = new Uint8Array(byteLength);
  copy.set(bytes);
  return copy;
}
