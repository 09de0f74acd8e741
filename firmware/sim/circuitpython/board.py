"""Stand-in for the PyPortal's board module: its pins, board.SPI() and board.DISPLAY."""

from ..device import Pin, current

SCK = Pin("SCK")
MOSI = Pin("MOSI")
MISO = Pin("MISO")
SD_CS = Pin("SD_CS")
ESP_CS = Pin("ESP_CS")
ESP_BUSY = Pin("ESP_BUSY")
ESP_RESET = Pin("ESP_RESET")
ESP_GPIO0 = Pin("ESP_GPIO0")
ESP_TX = Pin("ESP_TX")
ESP_RX = Pin("ESP_RX")
TFT_BACKLIGHT = Pin("TFT_BACKLIGHT")
SPEAKER = Pin("SPEAKER")
NEOPIXEL = Pin("NEOPIXEL")
LIGHT = Pin("LIGHT")


def SPI():
    """The board's SPI bus (SCK, MOSI, MISO): the same object on every call."""
    device = current()
    if device.spi is None:
        from .busio import SPI as Bus

        device.spi = Bus(SCK, MOSI=MOSI, MISO=MISO)
    return device.spi


def __getattr__(name):
    if name == "DISPLAY":
        return current().display
    raise AttributeError("module 'board' has no attribute '%s' on the PyPortal" % name)
