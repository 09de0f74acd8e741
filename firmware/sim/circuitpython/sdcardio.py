"""Stand-in for sdcardio.SDCard on the PyPortal's SPI bus."""

import errno

from ..device import current
from .busio import SPI


class SDCard:
    def __init__(self, bus, cs, baudrate=8000000):
        if not isinstance(bus, SPI):
            raise TypeError("bus must be a busio.SPI")
        device = current()
        if not device.sd_card:
            raise OSError(errno.ENODEV, "no SD card")
        device.claim(cs, "sdcardio.SDCard")
        self._cs = cs

    def deinit(self):
        current().release(self._cs)
