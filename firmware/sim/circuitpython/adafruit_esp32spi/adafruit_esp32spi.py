"""Stand-in for adafruit_esp32spi.ESP_SPIcontrol (library 8.x, CircuitPython 9): joining a Wi-Fi
network succeeds or fails as the simulated device says."""

from ...device import current
from ..busio import SPI
from ..digitalio import DigitalInOut

WL_IDLE_STATUS = 0
WL_CONNECTED = 3


class ESP_SPIcontrol:
    def __init__(self, spi, cs_dio, ready_dio, reset_dio, gpio0_dio=None, *, service_function=None, debug=False):
        if not isinstance(spi, SPI):
            raise TypeError("spi must be a busio.SPI")
        for name, pin in (("cs_dio", cs_dio), ("ready_dio", ready_dio), ("reset_dio", reset_dio)):
            if not isinstance(pin, DigitalInOut):
                raise TypeError("%s must be a digitalio.DigitalInOut" % name)
        self._device = current()
        self.firmware_version = "1.7.7"

    @property
    def is_connected(self):
        return self._device.wifi_connected

    @property
    def status(self):
        return WL_CONNECTED if self._device.wifi_connected else WL_IDLE_STATUS

    @property
    def ipv4_address(self):
        return "192.0.2.10" if self._device.wifi_connected else "0.0.0.0"

    def connect_AP(self, ssid, password, timeout_s=10):
        if not isinstance(ssid, (str, bytes)) or not ssid:
            raise TypeError("ssid must be a non-empty str or bytes")
        if not isinstance(password, (str, bytes)):
            raise TypeError("password must be str or bytes")
        if not self._device.wifi_ok:
            self._device.wifi_connected = False
            raise ConnectionError("Failed to connect to ssid %s" % ssid)
        self._device.wifi_connected = True
        return WL_CONNECTED

    def disconnect(self):
        self._device.wifi_connected = False

    def reset(self):
        self._device.wifi_connected = False
