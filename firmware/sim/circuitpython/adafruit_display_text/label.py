"""Stand-in for adafruit_display_text.label.Label (library 3.x): a Group holding one TileGrid of
rendered glyphs. Positioning follows the library: (x, y) is the left end of the vertical middle
of the first line; ``anchor_point`` + ``anchored_position`` place a point of the text's bounding
box. Characters the font lacks are skipped, as the library does, and noted on the device."""

from .. import displayio

_KNOWN = {
    "text", "color", "background_color", "line_spacing", "background_tight", "padding_top",
    "padding_bottom", "padding_left", "padding_right", "anchor_point", "anchored_position",
    "scale", "base_alignment", "tab_replacement", "label_direction", "verbose", "x", "y",
}


class Label(displayio.Group):
    def __init__(self, font, **kwargs):
        unknown = set(kwargs) - _KNOWN
        if unknown:
            raise TypeError("Label() got unexpected keyword argument(s): %s" % ", ".join(sorted(unknown)))
        super().__init__(scale=kwargs.get("scale", 1), x=kwargs.get("x", 0), y=kwargs.get("y", 0))
        self._font = font
        self._color = kwargs.get("color", 0xFFFFFF)
        self._background_color = kwargs.get("background_color")
        self._line_spacing = kwargs.get("line_spacing", 1.25)
        self._padding = tuple(kwargs.get("padding_" + side, 0) for side in ("top", "bottom", "left", "right"))
        tab_count, tab_text = kwargs.get("tab_replacement", (4, " "))
        self._tab = tab_text * tab_count
        self._anchor_point = kwargs.get("anchor_point")
        self._text = ""
        self._box = (0, 0, 0, 0)
        self._render(str(kwargs.get("text", "")))
        if self._anchor_point is not None and kwargs.get("anchored_position") is not None:
            self.anchored_position = kwargs["anchored_position"]

    def _render(self, text):
        from ...device import current

        text = text.replace("\t", self._tab)
        self._text = text
        while len(self):
            self.pop()
        cell_width, line_height = self._font.get_bounding_box()[:2]
        step = int(round(line_height * self._line_spacing))
        lines = text.split("\n")
        width = max(sum(self._advance(c) for c in line) for line in lines) if text else 0
        height = line_height + step * (len(lines) - 1)
        top, bottom, left, right = self._padding
        # The first line's vertical middle is the label's y.
        self._box = (0, -(line_height // 2), width, height)
        if not text:
            return
        bitmap = displayio.Bitmap(width + left + right, height + top + bottom, 2)
        ascent = self._font.ascent
        for row, line in enumerate(lines):
            x = left
            baseline = top + row * step + ascent
            for char in line:
                glyph = self._font.get_glyph(ord(char))
                if glyph is None:
                    current().missing_glyphs.add(char)
                    continue
                for gy, bits in enumerate(glyph.rows):
                    for gx, bit in enumerate(bits):
                        px, py = x + glyph.dx + gx, baseline - glyph.dy - glyph.height + gy
                        if bit and 0 <= px < bitmap.width and 0 <= py < bitmap.height:
                            bitmap[px, py] = 1
                x += glyph.shift_x
        palette = displayio.Palette(2)
        palette[1] = self._color
        if self._background_color is None:
            palette.make_transparent(0)
        else:
            palette[0] = self._background_color
        self.append(displayio.TileGrid(bitmap, pixel_shader=palette, x=-left, y=-(line_height // 2) - top))

    def _advance(self, char):
        glyph = self._font.get_glyph(ord(char))
        return glyph.shift_x if glyph is not None else 0

    @property
    def text(self):
        return self._text

    @text.setter
    def text(self, value):
        position = self.anchored_position
        self._render(str(value))
        if position is not None:
            self.anchored_position = position

    @property
    def color(self):
        return self._color

    @color.setter
    def color(self, value):
        self._color = value
        self.text = self._text

    @property
    def background_color(self):
        return self._background_color

    @background_color.setter
    def background_color(self, value):
        self._background_color = value
        self.text = self._text

    @property
    def bounding_box(self):
        return self._box

    @property
    def width(self):
        return self._box[2]

    @property
    def height(self):
        return self._box[3]

    @property
    def anchor_point(self):
        return self._anchor_point

    @anchor_point.setter
    def anchor_point(self, value):
        position = self.anchored_position
        self._anchor_point = value
        if position is not None:
            self.anchored_position = position

    @property
    def anchored_position(self):
        if self._anchor_point is None:
            return None
        bx, by, bw, bh = self._box
        return (
            int(self.x + bx * self.scale + round(self._anchor_point[0] * bw * self.scale)),
            int(self.y + by * self.scale + round(self._anchor_point[1] * bh * self.scale)),
        )

    @anchored_position.setter
    def anchored_position(self, position):
        if self._anchor_point is None:
            return
        bx, by, bw, bh = self._box
        self.x = int(position[0] - bx * self.scale - round(self._anchor_point[0] * bw * self.scale))
        self.y = int(position[1] - by * self.scale - round(self._anchor_point[1] * bh * self.scale))
