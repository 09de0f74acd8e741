# Mars weather display for the Adafruit PyPortal, CircuitPython 9.
#
# Every cycle: call the platform's GET /v1/mars with the API key, download the latest Curiosity
# photo (a 320x240 BMP) to the SD card, and show it with the Martian weather; then sleep
# interval_minutes. Any failure (Wi-Fi, HTTP status, timeout, bad JSON, a BMP the display cannot
# read, no SD card) is shown on an error screen and retried after RETRY_SECONDS: the program never
# stops. Settings are in secrets.py (see README.md).
import errno
import gc
import os
import time

import adafruit_connection_manager
import adafruit_requests
import board
import displayio
import sdcardio
import storage
import terminalio
from adafruit_display_text import label
from adafruit_esp32spi import adafruit_esp32spi
from digitalio import DigitalInOut

try:
    from secrets import secrets
except ImportError:
    secrets = None

TIMEOUT_SECONDS = 30
RETRY_SECONDS = 60
DOWNLOAD_ATTEMPTS = 3
CHUNK_BYTES = 2048
CACHE_PATH = "/sd/cache.bmp"
DOWNLOAD_PATH = "/sd/download.bmp"
REQUIRED_SECRETS = ("ssid", "password", "mars_api_url", "mars_api_key", "interval_minutes")

WIDTH = 320
HEIGHT = 240
LINE = 14
MAX_CHARS = 52
WHITE = 0xFFFFFF
BLACK = 0x000000
ORANGE = 0xFF8C00
RUST = 0x5A1A08
PANEL_TOP = HEIGHT - 4 * LINE - 4


class DisplayError(Exception):
    """A failure to show on the screen; the message is written for the person reading it."""


def read_secrets():
    if secrets is None:
        raise DisplayError("secrets.py is missing: copy it to CIRCUITPY and fill it in")
    missing = [name for name in REQUIRED_SECRETS if not secrets.get(name)]
    if missing:
        raise DisplayError("secrets.py lacks " + ", ".join(missing))
    minutes = secrets["interval_minutes"]
    if not isinstance(minutes, (int, float)) or minutes <= 0:
        raise DisplayError("interval_minutes in secrets.py must be a number above 0")
    return secrets


def fit(text, max_chars=MAX_CHARS):
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


def wrap(text, max_chars=MAX_CHARS):
    lines = []
    line = ""
    for word in text.split():
        while len(word) > max_chars:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:max_chars])
            word = word[max_chars:]
        if line and len(line) + 1 + len(word) > max_chars:
            lines.append(line)
            line = word
        else:
            line = (line + " " + word) if line else word
    if line:
        lines.append(line)
    return lines


def text_label(text="", x=4, y=0, color=WHITE, background=None, anchor=(0, 0)):
    return label.Label(
        terminalio.FONT,
        text=text,
        color=color,
        background_color=background,
        anchor_point=anchor,
        anchored_position=(x, y),
    )


def solid(width, height, color, x=0, y=0):
    palette = displayio.Palette(1)
    palette[0] = color
    return displayio.TileGrid(displayio.Bitmap(width, height, 1), pixel_shader=palette, x=x, y=y)


def number(value, pattern):
    if value is None:
        return "--"
    if not isinstance(value, (int, float)):
        raise DisplayError("the API answered a reading that is not a number: " + fit(repr(value), 20))
    return pattern.format(value)


def utc_range(first, last):
    for stamp in (first, last):
        if not isinstance(stamp, str) or len(stamp) < 16 or stamp[10] != "T":
            raise DisplayError("the API answered a time that is not ISO 8601: " + fit(repr(stamp), 24))
    return "UTC {} {} - {} {}".format(first[:10], first[11:16], last[:10], last[11:16])


def weather_lines(insight):
    """The texts the screen shows for the API's insight object (README.md, "The screen")."""
    if not isinstance(insight, dict):
        raise DisplayError("the API answered without an insight object")
    for key in ("sol", "av_at", "av_HWS", "av_PRE", "season", "First_UTC", "Last_UTC"):
        if key not in insight:
            raise DisplayError("the API answered without insight." + key)
    return {
        "sol": fit("Sol {}".format(insight["sol"]), 24),
        "season": fit("Season {}".format(insight["season"]), 26),
        "temperature": "Air {} C".format(number(insight["av_at"], "{:.1f}")),
        "wind": "Wind {} m/s".format(number(insight["av_HWS"], "{:.1f}")),
        "pressure": "Pressure {} Pa".format(number(insight["av_PRE"], "{:.0f}")),
        "utc": utc_range(insight["First_UTC"], insight["Last_UTC"]),
    }


class Screen:
    """Two screens: the weather (photo, text panel, stale marker) and the error screen."""

    LAYOUT = {
        "sol": (4, PANEL_TOP + 4),
        "season": (164, PANEL_TOP + 4),
        "temperature": (4, PANEL_TOP + 4 + LINE),
        "wind": (164, PANEL_TOP + 4 + LINE),
        "pressure": (4, PANEL_TOP + 4 + 2 * LINE),
        "utc": (4, PANEL_TOP + 4 + 3 * LINE),
    }

    def __init__(self, display):
        self.display = display
        self.photo = displayio.Group()
        self.photo_file = None
        self.weather = displayio.Group()
        self.weather.append(self.photo)
        self.weather.append(solid(WIDTH, HEIGHT - PANEL_TOP, BLACK, y=PANEL_TOP))
        self.labels = {}
        for name, (x, y) in self.LAYOUT.items():
            self.labels[name] = text_label(x=x, y=y)
            self.weather.append(self.labels[name])
        self.stale = text_label(" STALE DATA ", x=WIDTH - 4, y=4, color=BLACK, background=ORANGE, anchor=(1, 0))
        self.stale.hidden = True
        self.weather.append(self.stale)

        self.error = displayio.Group()
        self.error.append(solid(WIDTH, HEIGHT, RUST))
        self.error.append(text_label("ERROR: Mars weather unavailable", y=8, color=ORANGE))
        self.error_lines = []
        for row in range(9):
            line = text_label(y=36 + row * LINE)
            self.error_lines.append(line)
            self.error.append(line)
        self.retry = text_label(y=HEIGHT - 20, color=ORANGE)
        self.error.append(self.retry)

    def release_photo(self):
        """Takes the photo off the screen and closes its file, so the file may be replaced."""
        while len(self.photo):
            self.photo.pop()
        if self.photo_file is not None:
            self.photo_file.close()
            self.photo_file = None

    def show_weather(self, path, lines, stale):
        photo_file = open(path, "rb")
        try:
            bitmap = displayio.OnDiskBitmap(photo_file)
        except Exception as error:
            photo_file.close()
            raise DisplayError("the image cannot be shown: {}".format(error))
        if bitmap.width != WIDTH or bitmap.height != HEIGHT:
            photo_file.close()
            raise DisplayError("the image is {}x{}, the screen {}x{}".format(bitmap.width, bitmap.height, WIDTH, HEIGHT))
        self.photo.append(displayio.TileGrid(bitmap, pixel_shader=bitmap.pixel_shader))
        self.photo_file = photo_file
        for name, text in lines.items():
            self.labels[name].text = text
        self.stale.hidden = not stale
        self.display.root_group = self.weather

    def show_error(self, message, retry_seconds):
        lines = wrap(message)[: len(self.error_lines)]
        for index, line in enumerate(self.error_lines):
            line.text = lines[index] if index < len(lines) else ""
        self.retry.text = "Retrying in {} s".format(retry_seconds)
        self.display.root_group = self.error


class Hardware:
    """The ESP32 Wi-Fi co-processor and the SD card, both on the board's SPI bus. The pins are
    claimed once; what can fail (joining Wi-Fi, mounting the card) is retried each cycle."""

    def __init__(self):
        self.spi = board.SPI()
        self.esp_pins = (DigitalInOut(board.ESP_CS), DigitalInOut(board.ESP_BUSY), DigitalInOut(board.ESP_RESET))
        self.esp = None
        self.requests = None
        self.sd_mounted = False

    def session(self, settings):
        if self.esp is None:
            self.esp = adafruit_esp32spi.ESP_SPIcontrol(self.spi, *self.esp_pins)
            pool = adafruit_connection_manager.get_radio_socketpool(self.esp)
            ssl_context = adafruit_connection_manager.get_radio_ssl_context(self.esp)
            self.requests = adafruit_requests.Session(pool, ssl_context)
        if not self.esp.is_connected:
            print("Joining Wi-Fi", settings["ssid"])
            try:
                self.esp.connect_AP(settings["ssid"], settings["password"])
            except (ConnectionError, OSError, RuntimeError) as error:
                raise DisplayError("cannot join Wi-Fi '{}': {}".format(settings["ssid"], error))
        return self.requests

    def mount_sd(self):
        if not self.sd_mounted:
            try:
                storage.mount(storage.VfsFat(sdcardio.SDCard(self.spi, board.SD_CS)), "/sd")
            except OSError as error:
                raise DisplayError("insert a microSD card (FAT): {}".format(error))
            self.sd_mounted = True


def api_failure(response):
    status = response.status_code
    if status == 403:
        return DisplayError("The Mars API refused the API key (HTTP 403): check mars_api_key in secrets.py")
    if status == 429:
        return DisplayError("The Mars API key is over its quota or rate (HTTP 429)")
    return DisplayError("The Mars API answered HTTP {}".format(status))


def network_failure(what, error):
    # ETIMEDOUT: 110 in CircuitPython's errno, 116 from the ESP-IDF network stack.
    if isinstance(error, OSError) and error.args and error.args[0] in (errno.ETIMEDOUT, 116):
        return DisplayError("{} did not answer within {} s".format(what, TIMEOUT_SECONDS))
    return DisplayError("{} could not be reached: {}".format(what, error))


def fetch_data(requests, settings):
    try:
        with requests.get(settings["mars_api_url"], headers={"x-api-key": settings["mars_api_key"]}, timeout=TIMEOUT_SECONDS) as response:
            if response.status_code != 200:
                raise api_failure(response)
            data = response.json()
    except (OSError, RuntimeError) as error:
        raise network_failure("The Mars API", error)
    except ValueError:
        raise DisplayError("the Mars API did not answer JSON")
    if not isinstance(data, dict) or not isinstance(data.get("image_url"), str):
        raise DisplayError("the API answered without image_url")
    return data


def check_bitmap(path):
    """The BMP's own size field must match the file: a cut-off download shows garbage."""
    size = os.stat(path)[6]
    with open(path, "rb") as f:
        header = f.read(6)
    if len(header) < 6 or header[:2] != b"BM":
        raise DisplayError("the image is not a BMP file")
    declared = header[2] | header[3] << 8 | header[4] << 16 | header[5] << 24
    if declared != size:
        raise DisplayError("the image is damaged: its header says {} bytes, the file has {}".format(declared, size))


def download(requests, url, path):
    """Streams the image to the SD card (it does not fit in RAM), retrying cut-off downloads."""
    problem = None
    for _ in range(DOWNLOAD_ATTEMPTS):
        written = 0
        try:
            with requests.get(url, timeout=TIMEOUT_SECONDS, stream=True) as response:
                if response.status_code != 200:
                    # 403 here is S3 refusing the presigned link, e.g. once it expired.
                    raise DisplayError("The image download answered HTTP {}".format(response.status_code))
                expected = int(response.headers.get("content-length", "-1"))
                with open(path, "wb") as f:
                    for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
                        f.write(chunk)
                        written += len(chunk)
        except (OSError, RuntimeError) as error:
            problem = network_failure("The image download", error)
            continue
        if expected < 0 or written == expected:
            return
        problem = DisplayError("the image download stopped at {} of {} bytes".format(written, expected))
    raise problem


def replace_cached_photo(screen):
    screen.release_photo()
    if "cache.bmp" in os.listdir("/sd"):
        os.remove(CACHE_PATH)
    os.rename(DOWNLOAD_PATH, CACHE_PATH)


def run_cycle(hardware, screen):
    settings = read_secrets()
    hardware.mount_sd()
    requests = hardware.session(settings)
    data = fetch_data(requests, settings)
    lines = weather_lines(data.get("insight"))
    stale = data.get("stale") is True
    download(requests, data["image_url"], DOWNLOAD_PATH)
    check_bitmap(DOWNLOAD_PATH)
    replace_cached_photo(screen)
    screen.show_weather(CACHE_PATH, lines, stale)
    print("Sol", data["insight"]["sol"], "shown", "(stale)" if stale else "")
    return int(settings["interval_minutes"] * 60)


def main():
    screen = Screen(board.DISPLAY)
    hardware = Hardware()
    while True:
        try:
            delay = run_cycle(hardware, screen)
        except Exception as error:  # every failure is shown and retried: the display never stops
            message = str(error) if isinstance(error, DisplayError) else "{}: {}".format(type(error).__name__, error)
            print("Error:", message)
            screen.show_error(message, RETRY_SECONDS)
            delay = RETRY_SECONDS
        gc.collect()
        time.sleep(delay)


main()
