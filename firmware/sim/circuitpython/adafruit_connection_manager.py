"""Stand-in for adafruit_connection_manager: the socket pool and SSL context of a radio."""

from .adafruit_esp32spi.adafruit_esp32spi import ESP_SPIcontrol


class SocketPool:
    def __init__(self, radio):
        self.radio = radio


class SSLContext:
    def __init__(self, radio):
        self.radio = radio


_pools = {}


def get_radio_socketpool(radio):
    if not isinstance(radio, ESP_SPIcontrol):
        raise ValueError("Unsupported radio class: %s" % type(radio).__name__)
    return _pools.setdefault(id(radio), SocketPool(radio))


def get_radio_ssl_context(radio):
    if not isinstance(radio, ESP_SPIcontrol):
        raise ValueError("Unsupported radio class: %s" % type(radio).__name__)
    return SSLContext(radio)
