"""Stand-in for CircuitPython 9's displayio: Group, TileGrid, Bitmap, Palette, ColorConverter,
OnDiskBitmap and the board's Display, with the checks the real ones make (a layer belongs to
one group, shaders and bitmaps have their types, OnDiskBitmap refuses what it cannot show) and a
renderer that composes the displayed tree into 320x240 RGB pixels."""

import os

from .. import bmp


class Colorspace:
    RGB888 = "RGB888"
    RGB565 = "RGB565"


class Bitmap:
    def __init__(self, width, height, value_count):
        if width < 1 or height < 1:
            raise ValueError("width and height must be at least 1")
        if value_count < 1 or value_count > 1 << 32:
            raise ValueError("value_count must be 1 to 2**32")
        self.width = width
        self.height = height
        self._max = value_count - 1
        self._pixels = [0] * (width * height)

    def _index(self, key):
        if isinstance(key, tuple):
            x, y = key
            if not (0 <= x < self.width and 0 <= y < self.height):
                raise IndexError("pixel (%d, %d) is outside the %dx%d bitmap" % (x, y, self.width, self.height))
            return y * self.width + x
        if not 0 <= key < len(self._pixels):
            raise IndexError("pixel index out of range")
        return key

    def __getitem__(self, key):
        return self._pixels[self._index(key)]

    def __setitem__(self, key, value):
        if not 0 <= value <= self._max:
            raise ValueError("value %d is larger than the bitmap's value_count allows" % value)
        self._pixels[self._index(key)] = value

    def fill(self, value):
        if not 0 <= value <= self._max:
            raise ValueError("value %d is larger than the bitmap's value_count allows" % value)
        self._pixels = [value] * (self.width * self.height)

    def pixel(self, x, y):
        return self._pixels[y * self.width + x]


class Palette:
    def __init__(self, color_count, *, dither=False):
        self._colors = [0] * color_count
        self._transparent = [False] * color_count

    def __len__(self):
        return len(self._colors)

    def __setitem__(self, index, color):
        if isinstance(color, (bytes, bytearray, tuple)):
            r, g, b = color[0], color[1], color[2]
            color = r << 16 | g << 8 | b
        if not isinstance(color, int) or not 0 <= color <= 0xFFFFFF:
            raise ValueError("colour must be an int 0x000000..0xFFFFFF or an (r, g, b) tuple")
        self._colors[index] = color

    def __getitem__(self, index):
        return self._colors[index]

    def make_transparent(self, index):
        self._transparent[index] = True

    def make_opaque(self, index):
        self._transparent[index] = False

    def is_transparent(self, index):
        return self._transparent[index]

    def shade(self, value):
        """Colour of a pixel value, or None when transparent."""
        if value >= len(self._colors):
            return 0
        return None if self._transparent[value] else self._colors[value]


class ColorConverter:
    def __init__(self, *, input_colorspace=Colorspace.RGB888, dither=False):
        self.input_colorspace = input_colorspace
        self.dither = dither
        self._transparent = None

    def convert(self, color):
        return color

    def make_transparent(self, color):
        self._transparent = color

    def make_opaque(self, color):
        self._transparent = None

    def shade(self, value):
        return None if value == self._transparent else value & 0xFFFFFF


class OnDiskBitmap:
    """Reads its file at every refresh, as on the board: the file must stay open and unchanged
    while the bitmap is shown."""

    def __init__(self, file):
        from ..device import current

        device = current()
        if isinstance(file, str):
            file = device.open(file, "rb")
        if not hasattr(file, "read") or "b" not in getattr(file, "mode", "b"):
            raise TypeError("OnDiskBitmap needs a file name or a file opened in binary mode ('rb')")
        self._file = file
        self.host_path = os.path.realpath(file.name)
        file.seek(0)
        self._info = bmp.parse(file.read())
        self.width = self._info.width
        self.height = self._info.height
        if self._info.palette is not None:
            self.pixel_shader = Palette(len(self._info.palette))
            for i, color in enumerate(self._info.palette):
                self.pixel_shader[i] = color
        else:
            self.pixel_shader = ColorConverter()

    def read_pixels(self):
        """The current file contents; a closed file fails here as a refresh would on the board."""
        if self._file.closed:
            raise ValueError("the file of a displayed OnDiskBitmap was closed")
        self._file.seek(0)
        data = self._file.read()
        return lambda x, y: bmp.pixel(self._info, data, x, y)


class TileGrid:
    def __init__(self, bitmap, *, pixel_shader, width=1, height=1, tile_width=None, tile_height=None, default_tile=0, x=0, y=0):
        if not isinstance(bitmap, (Bitmap, OnDiskBitmap)):
            raise TypeError("unsupported bitmap type %s" % type(bitmap).__name__)
        if not isinstance(pixel_shader, (Palette, ColorConverter)):
            raise TypeError("unsupported pixel_shader type %s" % type(pixel_shader).__name__)
        tile_width = tile_width or bitmap.width
        tile_height = tile_height or bitmap.height
        if bitmap.width % tile_width or bitmap.height % tile_height:
            raise ValueError("Tile width and height must exactly divide bitmap width and height")
        self.bitmap = bitmap
        self.pixel_shader = pixel_shader
        self.width = width
        self.height = height
        self.tile_width = tile_width
        self.tile_height = tile_height
        self.x = x
        self.y = y
        self.hidden = False
        self._tiles = [default_tile] * (width * height)
        self._parent = None

    def __getitem__(self, index):
        if isinstance(index, tuple):
            index = index[1] * self.width + index[0]
        return self._tiles[index]

    def __setitem__(self, index, tile):
        if isinstance(index, tuple):
            index = index[1] * self.width + index[0]
        self._tiles[index] = tile


class Group:
    def __init__(self, *, scale=1, x=0, y=0):
        if scale < 1:
            raise ValueError("scale must be >= 1")
        self.scale = scale
        self.x = x
        self.y = y
        self.hidden = False
        self._layers = []
        self._parent = None

    def _adopt(self, layer):
        if not isinstance(layer, (Group, TileGrid)):
            raise TypeError("Layer must be a Group or TileGrid subclass, not %s" % type(layer).__name__)
        if layer._parent is not None or getattr(layer, "_is_root", False):
            raise ValueError("Layer already in a group")
        layer._parent = self

    def append(self, layer):
        self._adopt(layer)
        self._layers.append(layer)

    def insert(self, index, layer):
        self._adopt(layer)
        self._layers.insert(index, layer)

    def index(self, layer):
        return self._layers.index(layer)

    def pop(self, index=-1):
        layer = self._layers.pop(index)
        layer._parent = None
        return layer

    def remove(self, layer):
        self.pop(self._layers.index(layer))

    def __len__(self):
        return len(self._layers)

    def __getitem__(self, index):
        return self._layers[index]

    def __setitem__(self, index, layer):
        self._adopt(layer)
        self._layers[index]._parent = None
        self._layers[index] = layer

    def __delitem__(self, index):
        self.pop(index)


class Display:
    """board.DISPLAY of the PyPortal. CircuitPython 9 shows a group through ``root_group``;
    ``show()`` was removed in 9.0, so it does not exist here either."""

    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.rotation = 0
        self.auto_refresh = True
        self.brightness = 1.0
        self._root = None

    @property
    def root_group(self):
        return self._root

    @root_group.setter
    def root_group(self, group):
        if group is not None and not isinstance(group, Group):
            raise TypeError("root_group must be a Group or None")
        if group is not None and group._parent is not None:
            raise ValueError("Group already used")
        if self._root is not None:
            self._root._is_root = False
        self._root = group
        if group is not None:
            group._is_root = True

    def refresh(self, *, target_frames_per_second=None, minimum_frames_per_second=0):
        return True

    def shown_on_disk_bitmaps(self):
        found = []

        def walk(layer):
            if isinstance(layer, Group):
                for child in layer._layers:
                    walk(child)
            elif isinstance(layer.bitmap, OnDiskBitmap):
                found.append(layer.bitmap)

        if self._root is not None:
            walk(self._root)
        return found

    def render(self, device):
        """RGB rows of the screen, and the labels that can be seen on it."""
        from .adafruit_display_text.label import Label

        pixels = [bytearray(self.width * 3) for _ in range(self.height)]
        texts = []

        def draw_tile_grid(grid, ox, oy, scale):
            bitmap = grid.bitmap
            read = bitmap.read_pixels() if isinstance(bitmap, OnDiskBitmap) else bitmap.pixel
            per_row = bitmap.width // grid.tile_width
            for ty in range(grid.height):
                for tx in range(grid.width):
                    tile = grid[tx, ty]
                    sx0 = (tile % per_row) * grid.tile_width
                    sy0 = (tile // per_row) * grid.tile_height
                    for py in range(grid.tile_height):
                        for px in range(grid.tile_width):
                            color = grid.pixel_shader.shade(read(sx0 + px, sy0 + py))
                            if color is None:
                                continue
                            x0 = ox + (grid.x + tx * grid.tile_width + px) * scale
                            y0 = oy + (grid.y + ty * grid.tile_height + py) * scale
                            for dy in range(scale):
                                y = y0 + dy
                                if not 0 <= y < self.height:
                                    continue
                                row = pixels[y]
                                for dx in range(scale):
                                    x = x0 + dx
                                    if 0 <= x < self.width:
                                        row[x * 3 : x * 3 + 3] = bytes((color >> 16, (color >> 8) & 0xFF, color & 0xFF))

        def draw(layer, ox, oy, scale):
            if layer.hidden:
                return
            if isinstance(layer, TileGrid):
                draw_tile_grid(layer, ox, oy, scale)
                return
            inner_scale = scale * layer.scale
            gx, gy = ox + layer.x * scale, oy + layer.y * scale
            if isinstance(layer, Label) and layer.text:
                bx, by, bw, bh = layer.bounding_box
                texts.append(
                    dict(text=layer.text, x=gx + bx * inner_scale, y=gy + by * inner_scale, width=bw * inner_scale, height=bh * inner_scale, color=layer.color)
                )
            for child in layer._layers:
                draw(child, gx, gy, inner_scale)

        if self._root is not None:
            draw(self._root, 0, 0, 1)
        return pixels, texts


def release_displays():
    """The PyPortal's built-in display stays: nothing to release in the simulator."""
