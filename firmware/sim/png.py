"""PNG files from RGB pixels with the standard library (zlib), for screenshots of the display."""

import struct
import zlib


def _chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_rgb(width, height, rows):
    """`rows`: `height` bytes-like rows of `width` * 3 bytes (R, G, B). Returns the PNG bytes."""
    raw = bytearray()
    for row in rows:
        if len(row) != width * 3:
            raise ValueError("each row must hold %d bytes, got %d" % (width * 3, len(row)))
        raw.append(0)  # filter type None: the image is small, and this keeps the writer simple
        raw.extend(row)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + _chunk(b"IEND", b"")


def decode_rgb(data):
    """Reads back a PNG written by encode_rgb (8-bit RGB, filter None): (width, height, rows)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    at, width, height, idat = 8, 0, 0, b""
    while at < len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        body = data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack_from(">IIBB", body)
            if (depth, color_type) != (8, 2):
                raise ValueError("only 8-bit RGB PNGs are read here")
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    rows = []
    for y in range(height):
        if raw[y * stride] != 0:
            raise ValueError("only filter type 0 is read here")
        rows.append(raw[y * stride + 1 : (y + 1) * stride])
    return width, height, rows
