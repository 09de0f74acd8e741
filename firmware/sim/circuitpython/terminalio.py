"""Stand-in for terminalio: FONT is CircuitPython's built-in font, Terminus 12 px (6x12 cells),
limited here to printable ASCII, the characters every CircuitPython build has."""

from .. import bdf


class BuiltinFont:
    def __init__(self, font):
        self._font = font
        self.ascent = font.ascent
        self.descent = font.descent

    def get_bounding_box(self):
        return self._font.bounding_box[:2]

    def get_glyph(self, codepoint):
        if not 0x20 <= codepoint <= 0x7E:
            return None
        return self._font.glyphs.get(codepoint)


FONT = BuiltinFont(bdf.load("ter-u12n.bdf"))
