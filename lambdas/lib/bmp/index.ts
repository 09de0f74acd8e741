// Uncompressed 16-bit RGB565 BMP, the layout CircuitPython's displayio.OnDiskBitmap reads and the
// PyPortal's display shows without conversion:
//  - BITMAPV4HEADER (108 bytes) with compression BI_BITFIELDS and the masks F800/07E0/001F inside
//    the header. OnDiskBitmap reads the masks at file offset 54; with a 40-byte header they
//    would sit after it, where newer CircuitPython versions no longer read.
//  - Positive height (rows bottom-up): OnDiskBitmap reads the height unsigned and always
//    addresses rows from the bottom, so a top-down (negative height) file is shown garbled.
//  - Rows padded to a multiple of 4 bytes; no palette, no colour-space conversion.
//  - At least 138 bytes: CircuitPython 9's OnDiskBitmap reads that much header at once and
//    refuses a shorter file, so a tiny image is padded with zeros after its pixels.
// Colours are reduced to 5/6/5 bits with a 4x4 ordered (Bayer) dither, which keeps gradients
// such as the Martian sky free of bands and gives the same bytes for the same input every time.

export interface RgbaImage {
  width: number;
  height: number;
  /** 4 bytes per pixel, row by row from the top. */
  data: Uint8Array;
}

export const BMP_FILE_HEADER_BYTES = 14;
export const BMP_V4_HEADER_BYTES = 108;
export const BMP_PIXEL_OFFSET = BMP_FILE_HEADER_BYTES + BMP_V4_HEADER_BYTES;
const BI_BITFIELDS = 3;
const LCS_SRGB = 0x73524742; // 'sRGB'
const PIXELS_PER_METRE = 2835; // 72 dpi
const MASKS = { red: 0xf800, green: 0x07e0, blue: 0x001f, alpha: 0 } as const;
const MIN_FILE_BYTES = 138;

/** Offsets 0..15 of a 4x4 Bayer matrix. */
const BAYER_4X4 = [
  [0, 8, 2, 10],
  [12, 4, 14, 6],
  [3, 11, 1, 9],
  [15, 7, 13, 5],
];

export class BmpEncodeError extends Error {
  readonly code = "BMP_INVALID_IMAGE";
}

/** Bytes of one pixel row in the file, padded to a multiple of 4. */
export function bmpRowStride(width: number): number {
  return Math.ceil((width * 2) / 4) * 4;
}

export function encodeBmp565(image: RgbaImage): Buffer {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0xffff || height > 0xffff) {
    throw new BmpEncodeError(`BMP dimensions must be whole numbers from 1 to 65535, got ${width}x${height}`);
  }
  if (data.length !== width * height * 4) {
    throw new BmpEncodeError(`RGBA data for ${width}x${height} must be ${width * height * 4} bytes, got ${data.length}`);
  }
  const stride = bmpRowStride(width);
  const imageBytes = stride * height;
  const file = Buffer.alloc(Math.max(MIN_FILE_BYTES, BMP_PIXEL_OFFSET + imageBytes));

  file.write("BM", 0, "latin1");
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(BMP_PIXEL_OFFSET, 10);

  let o = BMP_FILE_HEADER_BYTES;
  o = file.writeUInt32LE(BMP_V4_HEADER_BYTES, o);
  o = file.writeInt32LE(width, o);
  o = file.writeInt32LE(height, o);
  o = file.writeUInt16LE(1, o); // planes
  o = file.writeUInt16LE(16, o); // bits per pixel
  o = file.writeUInt32LE(BI_BITFIELDS, o);
  o = file.writeUInt32LE(imageBytes, o);
  o = file.writeInt32LE(PIXELS_PER_METRE, o);
  o = file.writeInt32LE(PIXELS_PER_METRE, o);
  o = file.writeUInt32LE(0, o); // colours used: no palette
  o = file.writeUInt32LE(0, o); // important colours
  o = file.writeUInt32LE(MASKS.red, o);
  o = file.writeUInt32LE(MASKS.green, o);
  o = file.writeUInt32LE(MASKS.blue, o);
  o = file.writeUInt32LE(MASKS.alpha, o);
  file.writeUInt32LE(LCS_SRGB, o); // the 36 bytes of endpoints and 3 gammas after it stay 0

  for (let y = 0; y < height; y++) {
    const bayer = BAYER_4X4[y & 3];
    let out = BMP_PIXEL_OFFSET + (height - 1 - y) * stride;
    let at = y * width * 4;
    for (let x = 0; x < width; x++, at += 4, out += 2) {
      const threshold = bayer[x & 3];
      const r = Math.min(31, (data[at] + (threshold >> 1)) >> 3);
      const g = Math.min(63, (data[at + 1] + (threshold >> 2)) >> 2);
      const b = Math.min(31, (data[at + 2] + (threshold >> 1)) >> 3);
      file.writeUInt16LE((r << 11) | (g << 5) | b, out);
    }
  }
  return file;
}
