"""Test fixtures: BMP files of every kind OnDiskBitmap meets, and a real HTTP server on loopback
that plays the Mars API (JSON + BMP) and can answer with any status, delay or broken body."""

import json
import os
import shutil
import struct
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sim.device import Device, run_firmware

FIRMWARE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CODE_PY = os.path.join(FIRMWARE_DIR, "code.py")
API_KEY = "test-api-key"

INSIGHT = {
    "sol": "4321",
    "av_at": -43.5,
    "av_HWS": 6.25,
    "av_PRE": 745.2,
    "season": "Month 5",
    "First_UTC": "2025-03-01T08:03:59Z",
    "Last_UTC": "2025-03-02T08:43:34Z",
}


def pattern_rgb(x, y):
    """A test picture: distinct colour bands so that pixel checks mean something."""
    return ((x * 255) // 319, (y * 255) // 239, ((x + y) * 7) % 256)


def make_bmp(width=320, height=240, bits=16, header_size=108, compression=3, masks=(0xF800, 0x07E0, 0x001F), top_down=False, palette=None, truncate=0, pixel=pattern_rgb):
    """A BMP as a real encoder would write it, with knobs to break each OnDiskBitmap rule."""
    if bits == 16:
        stride = (width * 2 + 3) // 4 * 4
    elif bits in (24, 32):
        stride = (width * bits // 8 + 3) // 4 * 4
    else:
        stride = (width * bits + 31) // 32 * 4
    palette_bytes = b"".join(struct.pack("<I", c) for c in (palette or []))
    # A 40-byte header keeps BI_BITFIELDS masks after it, where the colour table would be.
    if header_size < 52 and compression == 3:
        palette_bytes = struct.pack("<III", *masks) + palette_bytes
    offset = 14 + header_size + len(palette_bytes)
    if header_size == 12:
        info = struct.pack("<IHHHH", 12, width, height, 1, bits)
    else:
        info = struct.pack("<IiiHHIIiiII", header_size, width, -height if top_down else height, 1, bits, compression, stride * height, 2835, 2835, len(palette or []), 0)
        extra = struct.pack("<III", *masks) if header_size >= 52 else b""
        info = (info + extra).ljust(header_size, b"\0")
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            r, g, b = pixel(x, y)
            if bits == 16 and masks[1] == 0x07E0:
                row += struct.pack("<H", (r >> 3) << 11 | (g >> 2) << 5 | b >> 3)
            elif bits == 16:
                row += struct.pack("<H", (r >> 3) << 10 | (g >> 3) << 5 | b >> 3)
            elif bits == 24:
                row += bytes((b, g, r))
            elif bits == 8:
                row.append((r + g + b) % len(palette))
        rows.append(bytes(row.ljust(stride, b"\0")))
    ordered = rows if top_down else rows[::-1]
    data = b"".join(ordered)
    size = offset + len(data)
    body = b"BM" + struct.pack("<IHHI", size, 0, 0, offset) + info + palette_bytes + data
    return body[: len(body) - truncate] if truncate else body


class MarsApi:
    """A loopback HTTP server: GET /mars (needs x-api-key) and GET /image.bmp. Each answer can
    be changed between cycles; `requests` records what the firmware sent."""

    def __init__(self):
        self.status = 200
        self.answer = {"insight": dict(INSIGHT), "stale": False}
        self.raw_body = None
        self.api_delay = 0.0
        self.image = make_bmp()
        self.image_status = 200
        self.image_declared_length = None
        self.requests = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                api.requests.append((self.path, dict(self.headers)))
                if self.path.startswith("/mars"):
                    self.mars()
                elif self.path.startswith("/image.bmp"):
                    self.image()
                else:
                    self.reply(404, b'{"message":"Not Found"}')

            def reply(self, status, body, content_type="application/json", length=None):
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body) if length is None else length))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def mars(self):
                if api.api_delay:
                    threading.Event().wait(api.api_delay)
                if self.headers.get("x-api-key") != API_KEY:
                    return self.reply(403, b'{"message":"Forbidden"}')
                if api.status != 200:
                    return self.reply(api.status, json.dumps({"message": "status %d" % api.status}).encode())
                if api.raw_body is not None:
                    return self.reply(200, api.raw_body)
                answer = dict(api.answer, image_url="http://127.0.0.1:%d/image.bmp?X-Amz-Signature=abc" % api.port)
                self.reply(200, json.dumps(answer).encode())

            def image(self):
                if api.image_status != 200:
                    return self.reply(api.image_status, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
                self.reply(200, api.image, "image/bmp", api.image_declared_length)
                if api.image_declared_length is not None:
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d/mars" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Drive:
    """A CIRCUITPY drive in a temporary directory."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="circuitpy-")

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)


def secrets_for(api, **overrides):
    secrets = {"ssid": "mars-lab", "password": "pw", "mars_api_url": api.url, "mars_api_key": API_KEY, "interval_minutes": 30}
    secrets.update(overrides)
    return secrets


def run(drive, secrets, cycles=1, between=None, **device_options):
    """Runs code.py; `between(cycle)` is called at each sleep, before the next cycle starts."""
    device = Device(drive.path, secrets, cycles=cycles, time_scale=device_options.pop("time_scale", 0.02), **device_options)
    if between is not None:
        original = device.sleep

        def sleep(seconds):
            between(len(device.screens))
            original(seconds)

        device.sleep = sleep
    return run_firmware(CODE_PY, device)
