"""A reader for BDF bitmap fonts (Glyph Bitmap Distribution Format 2.1), enough for the
fixed-cell fonts CircuitPython ships: terminalio.FONT is Terminus 12 px (ter-u12n), and
fonts/ter-u12n.bdf is that font (SIL Open Font License, fonts/OFL.txt)."""

import os

FONT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fonts")


class Glyph:
    """One character: its bitmap rows (lists of 0/1), bounding box and advance."""

    def __init__(self, codepoint, width, height, dx, dy, shift_x, rows):
        self.codepoint = codepoint
        self.width = width
        self.height = height
        self.dx = dx
        self.dy = dy
        self.shift_x = shift_x
        self.rows = rows


class BdfFont:
    def __init__(self, path):
        self.path = path
        self.glyphs = {}
        self.bounding_box = None
        self.ascent = None
        self.descent = None
        self._read(path)

    def _read(self, path):
        with open(path, encoding="latin-1") as f:
            lines = iter(f.read().splitlines())
        glyph = None
        for line in lines:
            key, _, rest = line.partition(" ")
            if key == "FONTBOUNDINGBOX":
                self.bounding_box = tuple(int(v) for v in rest.split())
            elif key == "FONT_ASCENT":
                self.ascent = int(rest)
            elif key == "FONT_DESCENT":
                self.descent = int(rest)
            elif key == "STARTCHAR":
                glyph = {}
            elif key == "ENCODING" and glyph is not None:
                glyph["codepoint"] = int(rest.split()[0])
            elif key == "DWIDTH" and glyph is not None:
                glyph["shift_x"] = int(rest.split()[0])
            elif key == "BBX" and glyph is not None:
                glyph["bbx"] = [int(v) for v in rest.split()]
            elif key == "BITMAP" and glyph is not None:
                width, height, dx, dy = glyph["bbx"]
                rows = []
                for _ in range(height):
                    bits = int(next(lines), 16)
                    row_bits = (width + 7) // 8 * 8
                    rows.append([(bits >> (row_bits - 1 - x)) & 1 for x in range(width)])
                if glyph.get("codepoint", -1) >= 0:
                    self.glyphs[glyph["codepoint"]] = Glyph(glyph["codepoint"], width, height, dx, dy, glyph.get("shift_x", width), rows)
                glyph = None
        if self.bounding_box is None or self.ascent is None or self.descent is None:
            raise ValueError("%s is not a complete BDF font: FONTBOUNDINGBOX, FONT_ASCENT and FONT_DESCENT are required" % path)


_loaded = {}


def load(name="ter-u12n.bdf"):
    """Fonts are parsed once per process."""
    if name not in _loaded:
        _loaded[name] = BdfFont(os.path.join(FONT_DIR, name))
    return _loaded[name]
