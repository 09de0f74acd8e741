// Rover JPEG -> the 320x240 RGB565 BMP the PyPortal shows. The whole photo is kept: it is scaled
// to fit and centred on black (letterbox), because cropping a square navigation frame to 4:3
// would cut a quarter of what the rover saw. Downscaling averages every source pixel a
// destination pixel covers (area resampling), so fine terrain detail does not alias.
import jpeg from "jpeg-js";
import { encodeBmp565, type RgbaImage } from "../lib/bmp";

export const SCREEN = { width: 320, height: 240 } as const;
/** Larger than any rover camera frame (MAHLI and Mastcam are under 2 MP). */
const MAX_RESOLUTION_MP = 30;
const MAX_DECODE_MEMORY_MB = 256;

export class ImageError extends Error {
  readonly code = "UPSTREAM_BAD_IMAGE";
}

export function decodeJpeg(bytes: Uint8Array): RgbaImage {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) {
    throw new ImageError(`the photo is not a JPEG (it starts with ${Buffer.from(bytes.subarray(0, 4)).toString("hex") || "nothing"})`);
  }
  try {
    return jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxResolutionInMP: MAX_RESOLUTION_MP,
      maxMemoryUsageInMB: MAX_DECODE_MEMORY_MB,
    });
  } catch (error) {
    throw new ImageError(`the photo is not a decodable JPEG: ${(error as Error).message}`);
  }
}

interface Span {
  first: number;
  /** Weight of each source index from `first` on; they add up to 1. */
  weights: number[];
}

/** For each destination index, the source indexes it covers and how much of each. */
function spans(sourceSize: number, destinationSize: number): Span[] {
  const scale = sourceSize / destinationSize;
  return Array.from({ length: destinationSize }, (_, d) => {
    const start = d * scale;
    const end = start + scale;
    const first = Math.floor(start);
    const weights: number[] = [];
    for (let s = first; s < end && s < sourceSize; s++) {
      weights.push((Math.min(end, s + 1) - Math.max(start, s)) / scale);
    }
    return { first, weights };
  });
}

/** Area resampling of an RGBA image to `width` x `height` (two separable passes). */
export function resizeArea(image: RgbaImage, width: number, height: number): RgbaImage {
  const columns = spans(image.width, width);
  const rows = spans(image.height, height);
  const horizontal = new Float32Array(image.height * width * 3);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      const { first, weights } = columns[x];
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < weights.length; k++) {
        const at = (y * image.width + first + k) * 4;
        r += image.data[at] * weights[k];
        g += image.data[at + 1] * weights[k];
        b += image.data[at + 2] * weights[k];
      }
      const out = (y * width + x) * 3;
      horizontal[out] = r;
      horizontal[out + 1] = g;
      horizontal[out + 2] = b;
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const { first, weights } = rows[y];
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < weights.length; k++) {
        const at = ((first + k) * width + x) * 3;
        r += horizontal[at] * weights[k];
        g += horizontal[at + 1] * weights[k];
        b += horizontal[at + 2] * weights[k];
      }
      const out = (y * width + x) * 4;
      data[out] = Math.round(r);
      data[out + 1] = Math.round(g);
      data[out + 2] = Math.round(b);
      data[out + 3] = 255;
    }
  }
  return { width, height, data };
}

/** Scales to fit the screen, keeping the aspect ratio, centred on black. */
export function letterbox(image: RgbaImage, screen: { width: number; height: number } = SCREEN): RgbaImage {
  const scale = Math.min(screen.width / image.width, screen.height / image.height);
  const width = Math.max(1, Math.min(screen.width, Math.round(image.width * scale)));
  const height = Math.max(1, Math.min(screen.height, Math.round(image.height * scale)));
  const fitted = resizeArea(image, width, height);
  const left = Math.floor((screen.width - width) / 2);
  const top = Math.floor((screen.height - height) / 2);
  const data = new Uint8Array(screen.width * screen.height * 4);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  for (let y = 0; y < height; y++) {
    const from = y * width * 4;
    data.set(fitted.data.subarray(from, from + width * 4), ((top + y) * screen.width + left) * 4);
  }
  return { width: screen.width, height: screen.height, data };
}

/** JPEG bytes -> BMP bytes for the display. */
export function photoToDisplayBmp(jpegBytes: Uint8Array): Buffer {
  return encodeBmp565(letterbox(decodeJpeg(jpegBytes)));
}
