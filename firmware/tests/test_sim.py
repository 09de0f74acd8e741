"""The simulator keeps the board's rules, so that a firmware bug cannot hide in it: OnDiskBitmap
accepts and refuses what CircuitPython's does (and reads pixels as it does), only CircuitPython
modules import, CIRCUITPY is read-only, pins are claimed once, a displayed bitmap's file cannot
change, big bodies do not fit in RAM; and the screen is drawn with the real font into a PNG."""

import os
import struct
import tempfile
import textwrap
import unittest

from sim import bdf, bmp, png
from sim.device import Device, run_firmware

from .support import Drive, make_bmp, pattern_rgb


def run_program(source, drive, cycles=1, **options):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(textwrap.dedent(source))
    try:
        return run_firmware(f.name, Device(drive.path, {"ssid": "x"}, cycles=cycles, **options))
    finally:
        os.remove(f.name)


class OnDiskBitmapRulesTest(unittest.TestCase):
    def test_accepts_the_formats_circuitpython_reads(self):
        cases = {
            "565 V4 bitfields": (make_bmp(), "rgb565"),
            "565 V5 bitfields": (make_bmp(header_size=124), "rgb565"),
            "555 uncompressed": (make_bmp(header_size=40, compression=0, masks=(0x7C00, 0x03E0, 0x001F)), "rgb555"),
            "24-bit": (make_bmp(bits=24, header_size=40, compression=0), "rgb888"),
            "8-bit palette": (make_bmp(bits=8, header_size=40, compression=0, palette=[0x000000, 0xFF0000, 0x00FF00, 0x0000FF]), "indexed"),
        }
        for name, (data, pixel_format) in cases.items():
            with self.subTest(name):
                info = bmp.parse(data)
                self.assertEqual((info.width, info.height, info.pixel_format), (320, 240, pixel_format))

    def test_refuses_what_it_cannot_show_and_says_why(self):
        cases = {
            "RLE8": (make_bmp(bits=8, header_size=40, compression=1, palette=[0, 0xFFFFFF]), "RLE-compressed"),
            "top-down rows": (make_bmp(top_down=True), "top-down"),
            "core header": (make_bmp(header_size=12, compression=0), "BITMAPCOREHEADER"),
            "odd header size": (make_bmp(header_size=64), "header size is 64"),
            "masks after a 40-byte header": (make_bmp(header_size=40), "inside the header"),
            "masks not 565 or 555": (make_bmp(masks=(0x001F, 0x07E0, 0xF800)), "must be 565"),
            "pixel data cut short": (make_bmp(truncate=2), "cut short"),
            "shorter than 138 bytes": (make_bmp(width=2, height=2)[:100], "138"),
            "not BM": (b"GIF89a" + bytes(200), "'BM'"),
            "PNG inside": (make_bmp(compression=5, header_size=40), "compression 5"),
        }
        for name, (data, fragment) in cases.items():
            with self.subTest(name):
                with self.assertRaises(bmp.BmpError) as caught:
                    bmp.parse(data)
                self.assertIn(fragment, str(caught.exception))

    def test_reads_pixels_as_ondiskbitmap_does(self):
        data = make_bmp(width=4, height=3, pixel=lambda x, y: (0xF8, 0xFC, 0xF8) if (x, y) == (1, 2) else (0x08, 0x10, 0x18))
        info = bmp.parse(data + bytes(100))
        # 565 F800/07E0/001F -> RGB888 with the low bits zero, row 2 is the first row in the file.
        self.assertEqual(bmp.pixel(info, data, 1, 2), 0xF8FCF8)
        self.assertEqual(bmp.pixel(info, data, 0, 0), 0x081018)
        palette = [0x112233, 0x445566, 0x778899]
        indexed = make_bmp(width=16, height=8, bits=8, header_size=40, compression=0, palette=palette, pixel=lambda x, y: (x, 0, 0))
        info = bmp.parse(indexed)
        self.assertEqual(info.palette, palette)
        self.assertEqual([bmp.pixel(info, indexed, x, 0) for x in range(4)], [0, 1, 2, 0])

    def test_command_line_checks_files(self):
        with tempfile.TemporaryDirectory() as directory:
            good, bad = os.path.join(directory, "good.bmp"), os.path.join(directory, "bad.bmp")
            with open(good, "wb") as f:
                f.write(make_bmp())
            with open(bad, "wb") as f:
                f.write(make_bmp(top_down=True))
            reports = bmp.check_files([good, bad])
        self.assertEqual([r["ok"] for r in reports], [True, False])
        self.assertIn("top-down", reports[1]["error"])


class BoardRulesTest(unittest.TestCase):
    def setUp(self):
        self.drive = Drive()
        self.addCleanup(self.drive.close)

    def assertCrashes(self, source, fragment, **options):
        result = run_program(source, self.drive, **options)
        self.assertIsNotNone(result.crash)
        self.assertIn(fragment, result.crash)

    def test_only_circuitpython_modules_import(self):
        self.assertCrashes("import socket", "no module named 'socket'")
        self.assertCrashes("import requests", "no module named 'requests'")
        self.assertCrashes("from urllib import request", "no module named 'urllib'")

    def test_display_show_is_gone_in_circuitpython_9(self):
        self.assertCrashes("import board, displayio\nboard.DISPLAY.show(displayio.Group())", "has no attribute 'show'")

    def test_circuitpy_is_read_only_until_the_sd_card_is_mounted(self):
        self.assertCrashes("open('/cache.bmp', 'wb')", "Read-only filesystem")
        self.assertCrashes("open('/sd/cache.bmp', 'wb')", "Read-only filesystem")
        result = run_program(
            """
            import board, sdcardio, storage, time
            storage.mount(storage.VfsFat(sdcardio.SDCard(board.SPI(), board.SD_CS)), "/sd")
            with open("/sd/x.txt", "w") as f:
                f.write("ok")
            time.sleep(1)
            """,
            self.drive,
        )
        self.assertIsNone(result.crash)
        with open(os.path.join(self.drive.path, "sd", "x.txt")) as f:
            self.assertEqual(f.read(), "ok")

    def test_a_pin_is_claimed_once(self):
        self.assertCrashes("import board\nfrom digitalio import DigitalInOut\nDigitalInOut(board.ESP_CS)\nDigitalInOut(board.ESP_CS)", "ESP_CS in use")
        self.assertCrashes("import board, busio\nboard.SPI()\nbusio.SPI(board.SCK, board.MOSI, board.MISO)", "SCK in use")

    def test_a_layer_belongs_to_one_group(self):
        self.assertCrashes("import displayio\na, b, c = displayio.Group(), displayio.Group(), displayio.Group()\na.append(c)\nb.append(c)", "already in a group")

    def test_the_file_of_a_shown_bitmap_cannot_change(self):
        os.makedirs(os.path.join(self.drive.path, "sd"))
        with open(os.path.join(self.drive.path, "sd", "photo.bmp"), "wb") as f:
            f.write(make_bmp())
        self.assertCrashes(
            """
            import board, displayio, os, sdcardio, storage
            storage.mount(storage.VfsFat(sdcardio.SDCard(board.SPI(), board.SD_CS)), "/sd")
            bitmap = displayio.OnDiskBitmap(open("/sd/photo.bmp", "rb"))
            group = displayio.Group()
            group.append(displayio.TileGrid(bitmap, pixel_shader=bitmap.pixel_shader))
            board.DISPLAY.root_group = group
            os.remove("/sd/photo.bmp")
            """,
            "would garble the display",
        )

    def test_a_big_body_does_not_fit_in_ram(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Big(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("content-length", str(150_000))
                self.end_headers()
                self.wfile.write(bytes(150_000))

        server = ThreadingHTTPServer(("127.0.0.1", 0), Big)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        source = """
            import adafruit_connection_manager, adafruit_requests, board
            from adafruit_esp32spi import adafruit_esp32spi
            from digitalio import DigitalInOut
            esp = adafruit_esp32spi.ESP_SPIcontrol(board.SPI(), DigitalInOut(board.ESP_CS), DigitalInOut(board.ESP_BUSY), DigitalInOut(board.ESP_RESET))
            esp.connect_AP("net", "pw")
            session = adafruit_requests.Session(adafruit_connection_manager.get_radio_socketpool(esp), adafruit_connection_manager.get_radio_ssl_context(esp))
            session.get("http://127.0.0.1:%d/big", timeout=5).content
        """ % server.server_address[1]
        self.assertCrashes(source, "MemoryError")


class RenderingTest(unittest.TestCase):
    def setUp(self):
        self.drive = Drive()
        self.addCleanup(self.drive.close)

    def test_labels_are_drawn_with_the_terminus_glyphs(self):
        result = run_program(
            """
            import board, displayio, terminalio, time
            from adafruit_display_text import label
            group = displayio.Group()
            group.append(label.Label(terminalio.FONT, text="Ag", color=0xFFFFFF, anchor_point=(0, 0), anchored_position=(10, 20)))
            board.DISPLAY.root_group = group
            time.sleep(1)
            """,
            self.drive,
        )
        self.assertIsNone(result.crash)
        screen = result.screens[0]
        font = bdf.load()
        for index, char in enumerate("Ag"):
            glyph = font.glyphs[ord(char)]
            for gy, row in enumerate(glyph.rows):
                for gx, bit in enumerate(row):
                    expected = 0xFFFFFF if bit else 0x000000
                    self.assertEqual(screen.pixel(10 + index * 6 + gx, 20 + gy), expected, "%r at (%d, %d)" % (char, gx, gy))
        (text,) = screen.texts
        self.assertEqual((text["text"], text["x"], text["y"], text["width"], text["height"]), ("Ag", 10, 20, 12, 12))

    def test_characters_the_board_font_lacks_are_noted(self):
        device = Device(self.drive.path, {}, cycles=1)
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write("import terminalio, time\nfrom adafruit_display_text import label\nlabel.Label(terminalio.FONT, text='-63\u00b0C')\ntime.sleep(1)\n")
        try:
            run_firmware(f.name, device)
        finally:
            os.remove(f.name)
        self.assertEqual(device.missing_glyphs, {"\u00b0"})

    def test_the_screen_is_a_320x240_png_of_what_is_shown(self):
        with open(os.path.join(self.drive.path, "photo.bmp"), "wb") as f:
            f.write(make_bmp())
        result = run_program(
            """
            import board, displayio, time
            bitmap = displayio.OnDiskBitmap("/photo.bmp")
            group = displayio.Group()
            group.append(displayio.TileGrid(bitmap, pixel_shader=bitmap.pixel_shader))
            board.DISPLAY.root_group = group
            time.sleep(1)
            """,
            self.drive,
        )
        self.assertIsNone(result.crash)
        data = result.screens[0].png()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(struct.unpack(">II", data[16:24]), (320, 240))
        width, height, rows = png.decode_rgb(data)
        for x, y in ((0, 0), (319, 239), (160, 120), (33, 201)):
            r, g, b = pattern_rgb(x, y)
            self.assertEqual(tuple(rows[y][x * 3 : x * 3 + 3]), (r & 0xF8, g & 0xFC, b & 0xF8))


if __name__ == "__main__":
    unittest.main()
