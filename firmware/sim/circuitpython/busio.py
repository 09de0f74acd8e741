"""Stand-in for busio.SPI: it claims its pins."""

from ..device import current


class SPI:
    def __init__(self, clock, MOSI=None, MISO=None):
        device = current()
        pins = [p for p in (clock, MOSI, MISO) if p is not None]
        for claimed, pin in enumerate(pins):
            try:
                device.claim(pin, "busio.SPI")
            except Exception:
                for earlier in pins[:claimed]:
                    device.release(earlier)
                raise
        self._pins = pins
        self._locked = False

    def try_lock(self):
        if self._locked:
            return False
        self._locked = True
        return True

    def unlock(self):
        self._locked = False

    def configure(self, *, baudrate=100000, polarity=0, phase=0, bits=8):
        pass

    def deinit(self):
        for pin in self._pins:
            current().release(pin)
