"""What displayio.OnDiskBitmap accepts, and how it reads pixels.

This module is the one statement of those rules in the project: the simulator's OnDiskBitmap
uses it, and the backend's tests run every BMP FetchMarsData produces through it
(``python3 -m sim.bmp FILE...`` from ``firmware/``).

The rules follow CircuitPython's shared-module/displayio/OnDiskBitmap.c (the 9.x reader, which
reads 138 header bytes at once, and the newer one, which reads only the declared header and
refuses RLE). A file is refused when the real reader would refuse it, and also when it would
accept it but show it wrong (top-down rows, BI_BITFIELDS masks outside the header, other masks,
pixel data past the end of the file): on the device those bugs would only show as a garbled
picture, so the simulator makes them errors.
"""

import json
import struct
import sys

#: OnDiskBitmap 9.x reads this many bytes before looking at the header.
MIN_FILE_BYTES = 138
HEADER_SIZES = {40: "BITMAPINFOHEADER", 108: "BITMAPV4HEADER", 124: "BITMAPV5HEADER"}
BI_RGB, BI_RLE8, BI_RLE4, BI_BITFIELDS = 0, 1, 2, 3
MASKS_565 = (0xF800, 0x07E0, 0x001F)
MASKS_555 = (0x7C00, 0x03E0, 0x001F)
MASKS_8888 = (0x00FF0000, 0x0000FF00, 0x000000FF)


class BmpError(ValueError):
    """The file breaks a rule of OnDiskBitmap; the message names the rule."""


class BmpInfo:
    def __init__(self, **fields):
        self.__dict__.update(fields)

    def as_dict(self):
        return dict(self.__dict__)


def parse(data):
    """Checks a whole BMP file (bytes) and returns its layout, or raises BmpError."""
    size = len(data)
    if size < MIN_FILE_BYTES:
        raise BmpError("Invalid file: OnDiskBitmap reads %d header bytes, the file has %d" % (MIN_FILE_BYTES, size))
    if data[0:2] != b"BM":
        raise BmpError("Invalid file: a BMP starts with 'BM', this one with %r" % data[0:2])
    data_offset, header_size = struct.unpack_from("<II", data, 10)
    if header_size == 12:
        raise BmpError("BITMAPCOREHEADER (12 bytes) is read as if it were 40 bytes long: use BITMAPINFOHEADER or newer")
    if header_size not in HEADER_SIZES:
        raise BmpError("Only Windows format, uncompressed BMP supported: given header size is %d" % header_size)
    width, height, planes, bits_per_pixel, compression = struct.unpack_from("<iiHHI", data, 18)
    colors_used = struct.unpack_from("<I", data, 46)[0]
    if compression in (BI_RLE8, BI_RLE4):
        raise BmpError("RLE-compressed BMP not supported")
    if compression not in (BI_RGB, BI_BITFIELDS):
        raise BmpError("compression %d (JPEG/PNG inside BMP) is not supported" % compression)
    if bits_per_pixel not in (1, 2, 4, 8, 16, 24, 32):
        raise BmpError("%d bits per pixel is not supported" % bits_per_pixel)
    if width <= 0 or width > 0xFFFF:
        raise BmpError("width must be 1 to 65535, got %d" % width)
    if height < 0:
        raise BmpError("height %d means top-down rows: OnDiskBitmap reads rows bottom-up only (use a positive height)" % height)
    if height == 0 or height > 0xFFFF:
        raise BmpError("height must be 1 to 65535, got %d" % height)

    masks = None
    palette = None
    pixel_format = None
    header_end = 14 + header_size
    if bits_per_pixel == 16:
        if compression == BI_BITFIELDS:
            if header_size < 56:
                raise BmpError(
                    "16-bit BI_BITFIELDS needs the colour masks inside the header (BITMAPV4HEADER or V5): "
                    "with a %d-byte header newer CircuitPython reads no masks" % header_size
                )
            masks = struct.unpack_from("<III", data, 54)
        else:
            masks = MASKS_555
        if masks == MASKS_565:
            pixel_format = "rgb565"
        elif masks == MASKS_555:
            pixel_format = "rgb555"
        else:
            raise BmpError("16-bit masks must be 565 (F800/07E0/001F) or 555 (7C00/03E0/001F), got %s" % "/".join("%04X" % m for m in masks))
    elif bits_per_pixel == 24:
        if compression != BI_RGB:
            raise BmpError("24-bit BMPs must be uncompressed (BI_RGB)")
        pixel_format = "rgb888"
    elif bits_per_pixel == 32:
        if compression == BI_BITFIELDS:
            masks = struct.unpack_from("<III", data, 54) if header_size >= 56 else None
            if masks != MASKS_8888:
                raise BmpError("32-bit BI_BITFIELDS must use masks 00FF0000/0000FF00/000000FF inside the header")
        pixel_format = "xrgb8888"
    else:
        count = colors_used or (1 << bits_per_pixel)
        if count > (1 << bits_per_pixel):
            raise BmpError("%d palette colours for %d bits per pixel" % (count, bits_per_pixel))
        # OnDiskBitmap reads the palette right after the header, wherever bfOffBits points.
        if header_end + 4 * count > size:
            raise BmpError("the palette of %d colours does not fit in the file" % count)
        palette = [struct.unpack_from("<I", data, header_end + 4 * i)[0] & 0xFFFFFF for i in range(count)]
        pixel_format = "indexed"

    if bits_per_pixel >= 8:
        stride = width * (bits_per_pixel // 8)
        stride += (4 - stride % 4) % 4
    else:
        bit_stride = width * bits_per_pixel
        stride = (bit_stride + 31) // 32 * 4
    min_offset = header_end + (4 * len(palette) if palette else 0)
    if data_offset < min_offset:
        raise BmpError("pixel data offset %d overlaps the header and palette (which end at %d)" % (data_offset, min_offset))
    needed = data_offset + stride * height
    if needed > size:
        raise BmpError(
            "the pixel data is cut short: %d rows of %d bytes from offset %d need %d bytes, the file has %d"
            % (height, stride, data_offset, needed, size)
        )
    return BmpInfo(
        width=width,
        height=height,
        bits_per_pixel=bits_per_pixel,
        compression=compression,
        header_size=header_size,
        header=HEADER_SIZES[header_size],
        data_offset=data_offset,
        stride=stride,
        pixel_format=pixel_format,
        masks=masks,
        palette=palette,
        planes=planes,
    )


def pixel(info, data, x, y):
    """The value OnDiskBitmap.get_pixel returns: RGB888 for direct colour, the palette index otherwise."""
    bytes_per_pixel = max(1, info.bits_per_pixel // 8)
    row = info.data_offset + (info.height - y - 1) * info.stride
    if info.bits_per_pixel < 8:
        per_byte = 8 // info.bits_per_pixel
        value = data[row + x // per_byte]
        offset = (x % per_byte) * info.bits_per_pixel
        return (value >> (8 - info.bits_per_pixel - offset)) & ((1 << info.bits_per_pixel) - 1)
    at = row + x * bytes_per_pixel
    value = int.from_bytes(data[at : at + bytes_per_pixel], "little")
    if bytes_per_pixel == 1:
        return value
    if bytes_per_pixel == 2:
        if info.masks[1] == 0x07E0:
            red, green, blue = (value & 0xF800) >> 11, (value & 0x07E0) >> 5, value & 0x1F
        else:
            # As in OnDiskBitmap: the 5-bit green is shifted by 4, i.e. doubled into 6 bits.
            red, green, blue = (value & 0x7C00) >> 10, (value & 0x03E0) >> 4, value & 0x1F
        return red << 19 | green << 10 | blue << 3
    # 24-bit: B, G, R little-endian is 0xRRGGBB; 32-bit: the top (alpha or unused) byte is dropped.
    return value & 0xFFFFFF


def check_files(paths):
    """Checks each file; returns one report per file."""
    reports = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        try:
            info = parse(data)
            reports.append(dict(file=path, ok=True, size=len(data), **{k: v for k, v in info.as_dict().items() if k != "palette"}))
        except BmpError as error:
            reports.append(dict(file=path, ok=False, size=len(data), error=str(error)))
    return reports


def main(argv):
    if not argv:
        print("usage: python3 -m sim.bmp FILE.bmp...", file=sys.stderr)
        return 2
    reports = check_files(argv)
    print(json.dumps(reports, indent=1))
    return 0 if all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
