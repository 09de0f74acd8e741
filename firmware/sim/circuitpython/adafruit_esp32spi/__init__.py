"""Stand-in for the adafruit_esp32spi package (the PyPortal's ESP32 Wi-Fi co-processor)."""

from . import adafruit_esp32spi  # noqa: F401  (``from adafruit_esp32spi import adafruit_esp32spi``)
