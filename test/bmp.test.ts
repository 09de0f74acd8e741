// The RGB565 BMP encoder and the image pipeline: header fields where OnDiskBitmap reads them,
// bottom-up padded rows, exact primaries and unbiased dithering, letterboxing and area
// resampling, clear errors for bad JPEGs; every encoded variant passes the simulator's
// OnDiskBitmap rules (firmware/sim/bmp.py).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { BMP_PIXEL_OFFSET, bmpRowStride, encodeBmp565, type RgbaImage } from "../lambdas/lib/bmp";
import { decodeJpeg, letterbox, photoToDisplayBmp, resizeArea } from "../lambdas/fetch-mars-data/image";
import { CAMERAS, photoJpeg } from "../local/standins/nasa/fixtures";

const FIRMWARE = join(__dirname, "..", "firmware");

function image(width: number, height: number, rgb: (x: number, y: number) => [number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set([...rgb(x, y), 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** The 16-bit value of pixel (x, y), counting rows from the top as the screen does. */
function pixel565(bmp: Buffer, width: number, height: number, x: number, y: number): number {
  return bmp.readUInt16LE(BMP_PIXEL_OFFSET + (height - 1 - y) * bmpRowStride(width) + x * 2);
}

function checkWithSimulator(files: Record<string, Buffer>): Record<string, unknown>[] {
  const dir = mkdtempSync(join(tmpdir(), "bmp-check-"));
  try {
    const paths = Object.entries(files).map(([name, bytes]) => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    });
    return JSON.parse(execFileSync("python3", ["-m", "sim.bmp", ...paths], { cwd: FIRMWARE, encoding: "utf8" }));
  } catch (error) {
    const e = error as { stdout?: string };
    if (e.stdout) return JSON.parse(e.stdout);
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("encodeBmp565", () => {
  it("writes the header OnDiskBitmap reads: BM, V4 header, 16 bpp BI_BITFIELDS, 565 masks inside the header", () => {
    const bmp = encodeBmp565(image(320, 240, () => [0, 0, 0]));
    expect(bmp.subarray(0, 2).toString("latin1")).toBe("BM");
    expect(bmp.readUInt32LE(2)).toBe(bmp.length);
    expect(bmp.readUInt32LE(10)).toBe(122);
    expect(bmp.readUInt32LE(14)).toBe(108);
    expect([bmp.readInt32LE(18), bmp.readInt32LE(22)]).toEqual([320, 240]);
    expect([bmp.readUInt16LE(26), bmp.readUInt16LE(28), bmp.readUInt32LE(30)]).toEqual([1, 16, 3]);
    expect(bmp.readUInt32LE(34)).toBe(320 * 2 * 240);
    expect(bmp.readUInt32LE(46)).toBe(0);
    expect([bmp.readUInt32LE(54), bmp.readUInt32LE(58), bmp.readUInt32LE(62), bmp.readUInt32LE(66)]).toEqual([0xf800, 0x07e0, 0x001f, 0]);
    expect(bmp.length).toBe(122 + 153_600);
  });

  it("stores rows bottom-up, padded to 4 bytes, with primaries exact", () => {
    const colours: [number, number, number][] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]];
    const bmp = encodeBmp565(image(5, 3, (x, y) => (y === 0 ? colours[x] : [0, 0, 0])));
    expect(bmpRowStride(5)).toBe(12);
    expect(bmp.length).toBe(122 + 12 * 3);
    // The top row is the last one in the file.
    expect([0, 1, 2, 3, 4].map((x) => pixel565(bmp, 5, 3, x, 0))).toEqual([0xf800, 0x07e0, 0x001f, 0xffff, 0]);
    expect(bmp.readUInt16LE(122 + 2 * 12 + 10)).toBe(0); // padding
  });

  it("dithers without bias: a flat colour between two 565 levels keeps its mean", () => {
    const bmp = encodeBmp565(image(64, 64, () => [100, 130, 37]));
    let [r, g, b] = [0, 0, 0];
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        const v = pixel565(bmp, 64, 64, x, y);
        r += (v >> 11) * 8;
        g += ((v >> 5) & 63) * 4;
        b += (v & 31) * 8;
      }
    }
    const n = 64 * 64;
    expect([r / n, g / n, b / n]).toEqual([100, 130, 37]);
  });

  it("gives the same bytes for the same image", () => {
    const source = image(97, 61, (x, y) => [(x * 7) % 256, (y * 13) % 256, (x * y) % 256]);
    expect(encodeBmp565(source).equals(encodeBmp565(source))).toBe(true);
  });

  it("pads a tiny image to the 138 bytes CircuitPython 9 reads as header", () => {
    const bmp = encodeBmp565(image(1, 1, () => [255, 255, 255]));
    expect(bmp.length).toBe(138);
    expect(bmp.readUInt32LE(2)).toBe(138);
    expect(pixel565(bmp, 1, 1, 0, 0)).toBe(0xffff);
  });

  it("refuses dimensions and data that do not make a bitmap", () => {
    expect(() => encodeBmp565({ width: 0, height: 1, data: new Uint8Array(0) })).toThrow(/1 to 65535, got 0x1/);
    expect(() => encodeBmp565({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(/must be 16 bytes, got 15/);
  });

  it("produces files the simulator's OnDiskBitmap accepts, for odd and even widths", () => {
    const files = Object.fromEntries(
      [[320, 240], [1, 1], [3, 5], [319, 241], [161, 7]].map(([w, h]) => [`${w}x${h}.bmp`, encodeBmp565(image(w, h, (x, y) => [x % 256, y % 256, 128]))]),
    );
    for (const report of checkWithSimulator(files)) {
      expect(report).toMatchObject({ ok: true, bits_per_pixel: 16, pixel_format: "rgb565", header: "BITMAPV4HEADER" });
    }
  });
});

describe("letterbox and area resampling", () => {
  it("fits a square photo in the middle with black bars left and right", () => {
    const out = letterbox(image(1024, 1024, () => [200, 100, 50]));
    expect([out.width, out.height]).toEqual([320, 240]);
    const at = (x: number, y: number) => Array.from(out.data.subarray((y * 320 + x) * 4, (y * 320 + x) * 4 + 3));
    expect(at(39, 120)).toEqual([0, 0, 0]);
    expect(at(40, 0)).toEqual([200, 100, 50]);
    expect(at(279, 239)).toEqual([200, 100, 50]);
    expect(at(280, 120)).toEqual([0, 0, 0]);
  });

  it("fits a wide photo with bars above and below", () => {
    const out = letterbox(image(1600, 600, () => [10, 20, 30]));
    const at = (x: number, y: number) => Array.from(out.data.subarray((y * 320 + x) * 4, (y * 320 + x) * 4 + 3));
    expect(at(0, 59)).toEqual([0, 0, 0]);
    expect(at(0, 60)).toEqual([10, 20, 30]);
    expect(at(319, 179)).toEqual([10, 20, 30]);
    expect(at(0, 180)).toEqual([0, 0, 0]);
  });

  it("averages what each pixel covers: a fine checkerboard becomes grey, not aliased", () => {
    const out = resizeArea(image(640, 480, (x, y) => ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0])), 320, 240);
    for (const i of [0, 1000, 50_000, 76_799]) expect(Array.from(out.data.subarray(i * 4, i * 4 + 3))).toEqual([128, 128, 128]);
    const third = resizeArea(image(3, 1, (x) => [x * 90, 0, 0]), 2, 1);
    // Source 0, 90, 180 over 1.5 pixels each: (0 + 45) / 1.5 = 30, (45 + 180) / 1.5 = 150.
    expect([third.data[0], third.data[4]]).toEqual([30, 150]);
  });
});

describe("decodeJpeg", () => {
  it("decodes every fixture camera's frame", () => {
    for (const [index, camera] of CAMERAS.entries()) {
      const decoded = decodeJpeg(photoJpeg(10 + index));
      expect([decoded.width, decoded.height]).toEqual([camera.width, camera.height]);
    }
  });

  it("refuses what is not a whole JPEG, naming the problem", () => {
    const good = photoJpeg(12);
    expect(() => decodeJpeg(Buffer.from("<html>404</html>"))).toThrow(/not a JPEG \(it starts with 3c68746d\)/);
    expect(() => decodeJpeg(good.subarray(0, good.length / 2))).toThrow(/not a decodable JPEG/);
    expect(() => decodeJpeg(new Uint8Array(0))).toThrow(expect.objectContaining({ code: "UPSTREAM_BAD_IMAGE" }));
  });

  it("refuses a JPEG larger than any rover frame instead of exhausting memory", () => {
    const huge = Buffer.from(jpeg.encode({ width: 8000, height: 4000, data: Buffer.alloc(8000 * 4000 * 4) }, 10).data);
    expect(() => decodeJpeg(huge)).toThrow(/maxResolutionInMP/);
  });

  it("turns every fixture photo into a display BMP the simulator accepts", () => {
    const files = Object.fromEntries(CAMERAS.map((_, i) => [`camera-${i}.bmp`, photoToDisplayBmp(photoJpeg(20 + i))]));
    for (const report of checkWithSimulator(files)) expect(report).toMatchObject({ ok: true, width: 320, height: 240 });
  });
});
