"""The simulated PyPortal that runs the unchanged firmware/code.py on CPython.

A Device holds what the hardware would: the CIRCUITPY drive (a host directory, read-only to the
program as it is on the board) with the SD card mounted at /sd, the SPI pins and who claimed them,
the 320x240 display, the Wi-Fi link and a clock. code.py is executed with its own builtins:
``import`` resolves only CircuitPython 9 modules (stand-ins from sim.circuitpython) and the few
libraries the program uses, ``open`` and ``print`` go to the device. Every ``time.sleep`` ends a
cycle: the screen is captured then, and after the requested number of cycles the run stops.
"""

import builtins
import errno
import importlib
import os
import traceback
import types

from . import png

SCREEN_WIDTH = 320
SCREEN_HEIGHT = 240

#: What ``import`` may load in code.py: CircuitPython 9 core modules and the libraries of the
#: Adafruit bundle the program uses. Anything else fails as it would on the board.
MODULES = {
    "board": "sim.circuitpython.board",
    "busio": "sim.circuitpython.busio",
    "digitalio": "sim.circuitpython.digitalio",
    "displayio": "sim.circuitpython.displayio",
    "terminalio": "sim.circuitpython.terminalio",
    "storage": "sim.circuitpython.storage",
    "sdcardio": "sim.circuitpython.sdcardio",
    "time": "sim.circuitpython.time",
    "os": "sim.circuitpython.os",
    "gc": "sim.circuitpython.gc",
    "json": "json",
    "errno": "errno",
    "math": "math",
    "adafruit_display_text": "sim.circuitpython.adafruit_display_text",
    "adafruit_display_text.label": "sim.circuitpython.adafruit_display_text.label",
    "adafruit_esp32spi": "sim.circuitpython.adafruit_esp32spi",
    "adafruit_esp32spi.adafruit_esp32spi": "sim.circuitpython.adafruit_esp32spi.adafruit_esp32spi",
    "adafruit_connection_manager": "sim.circuitpython.adafruit_connection_manager",
    "adafruit_requests": "sim.circuitpython.adafruit_requests",
}


class SimulationEnd(BaseException):
    """Raised by time.sleep after the last cycle. A BaseException, like KeyboardInterrupt on the
    board, so that the firmware's ``except Exception`` error handling does not swallow it."""


class Pin:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "board.%s" % self.name


class Screen:
    """What the display showed when the firmware went to sleep."""

    def __init__(self, pixels, texts, sleep_seconds, clock):
        self.pixels = pixels
        #: Visible labels: dicts with text, x, y, width, height (screen pixels).
        self.texts = texts
        self.sleep_seconds = sleep_seconds
        self.clock = clock

    def text(self):
        return "\n".join(t["text"] for t in self.texts)

    def find(self, fragment):
        return [t for t in self.texts if fragment in t["text"]]

    def pixel(self, x, y):
        row = self.pixels[y]
        return row[x * 3] << 16 | row[x * 3 + 1] << 8 | row[x * 3 + 2]

    def png(self):
        return png.encode_rgb(SCREEN_WIDTH, SCREEN_HEIGHT, self.pixels)


class HttpExchange:
    def __init__(self, method, url, request_headers, timeout, status, headers, body_prefix):
        self.method = method
        self.url = url
        self.request_headers = request_headers
        #: The timeout code.py asked for, in seconds (before the device's time_scale).
        self.timeout = timeout
        self.status = status
        self.headers = headers
        #: The first bytes of the body the firmware read (whole JSON answers fit).
        self.body_prefix = body_prefix


class Device:
    def __init__(self, root, secrets, cycles=1, time_scale=1.0, wifi_ok=True, sd_card=True, echo=False, memory_limit=48 * 1024):
        """
        root: host directory that plays the CIRCUITPY drive (an ``sd`` folder is created in it).
        secrets: the dict secrets.py would hold, or None when there is no secrets.py.
        time_scale: network timeouts are multiplied by it (a test need not wait 30 s).
        memory_limit: the largest body adafruit_requests may hold in RAM (.content/.text/.json):
            the PyPortal has about 100 KB free, so a 150 KB BMP must be streamed to the SD card.
        """
        self.root = os.path.abspath(root)
        os.makedirs(os.path.join(self.root, "sd"), exist_ok=True)
        self.secrets = secrets
        self.cycles = cycles
        self.time_scale = time_scale
        self.wifi_ok = wifi_ok
        self.sd_card = sd_card
        self.echo = echo
        self.memory_limit = memory_limit
        self.clock = 0.0
        self.mounts = set()
        self.claimed = {}
        self.spi = None
        self.wifi_connected = False
        self.console = []
        self.http = []
        self.screens = []
        self.missing_glyphs = set()
        from .circuitpython.displayio import Display

        self.display = Display(SCREEN_WIDTH, SCREEN_HEIGHT)

    # Pins ------------------------------------------------------------------------------
    def claim(self, pin, owner):
        if not isinstance(pin, Pin):
            raise TypeError("%s must be a board pin, not %s" % (owner, type(pin).__name__))
        if pin.name in self.claimed:
            raise ValueError("%s in use" % pin.name)
        self.claimed[pin.name] = owner

    def release(self, pin):
        self.claimed.pop(pin.name, None)

    # Files -----------------------------------------------------------------------------
    def host_path(self, path):
        if not isinstance(path, str):
            raise TypeError("paths are strings on CircuitPython, got %s" % type(path).__name__)
        if not path.startswith("/"):
            path = "/" + path
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise OSError(errno.EINVAL, "'..' is not handled by the simulator: %s" % path)
        return os.path.join(self.root, *parts)

    def check_writable(self, path):
        absolute = path if path.startswith("/") else "/" + path
        if not any(absolute == m or absolute.startswith(m + "/") for m in self.mounts):
            raise OSError(errno.EROFS, "Read-only filesystem: %s (CIRCUITPY is read-only to code.py; write to a mounted SD card)" % path)
        self.guard_displayed_file(absolute)

    def guard_displayed_file(self, path):
        """On the board the display reads an OnDiskBitmap's file at every refresh: changing it
        while it is shown garbles the picture. The simulator makes that an error."""
        target = os.path.realpath(self.host_path(path))
        for bitmap in self.display.shown_on_disk_bitmaps():
            if bitmap.host_path == target:
                raise RuntimeError(
                    "%s is being shown by an OnDiskBitmap: changing it now would garble the display. "
                    "Take its TileGrid off the display (and close the file) first." % path
                )

    def open(self, path, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            self.check_writable(path)
        return builtins.open(self.host_path(path), mode, *args, **kwargs)

    # Time ------------------------------------------------------------------------------
    def sleep(self, seconds):
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.screens.append(self.capture(seconds))
        self.clock += seconds
        if len(self.screens) >= self.cycles:
            raise SimulationEnd()

    def capture(self, sleep_seconds=0):
        pixels, texts = self.display.render(self)
        return Screen(pixels, texts, sleep_seconds, self.clock)

    def print(self, *values, sep=" ", end="\n", **_ignored):
        line = sep.join(str(v) for v in values) + end
        self.console.append(line)
        if self.echo:
            builtins.print(line, end="")


_current = None


def current():
    if _current is None:
        raise RuntimeError("no simulated device is running")
    return _current


class RunResult:
    def __init__(self, device, ended, crash):
        self.device = device
        #: True when the run stopped after its cycles (the firmware was still looping).
        self.ended = ended
        #: The traceback when code.py raised out of its loop or returned: a crash on the board.
        self.crash = crash
        self.screens = device.screens
        self.console = device.console
        self.http = device.http


def _import_for(device):
    def sim_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level != 0:
            raise ImportError("relative imports are not used on the board")
        if name == "secrets":
            if device.secrets is None:
                raise ImportError("no module named 'secrets'")
            module = types.ModuleType("secrets")
            module.secrets = dict(device.secrets)
            return module
        if name not in MODULES:
            raise ImportError("no module named '%s' (not a CircuitPython 9 module or a library the simulator provides)" % name)
        module = importlib.import_module(MODULES[name])
        if fromlist or "." not in name:
            return module
        return importlib.import_module(MODULES[name.split(".")[0]])

    return sim_import


def run_firmware(code_path, device):
    """Runs code.py on `device` until its cycles are over or it crashes."""
    global _current
    with builtins.open(code_path, encoding="utf-8") as f:
        source = f.read()
    sim_builtins = dict(vars(builtins))
    sim_builtins.update(__import__=_import_for(device), open=device.open, print=device.print)
    _current = device
    try:
        exec(compile(source, code_path, "exec"), {"__name__": "__main__", "__file__": "/code.py", "__builtins__": sim_builtins})
        return RunResult(device, ended=False, crash="code.py returned: the board would stop with 'Code done running'")
    except SimulationEnd:
        return RunResult(device, ended=True, crash=None)
    except BaseException:
        return RunResult(device, ended=False, crash=traceback.format_exc())
    finally:
        _current = None
