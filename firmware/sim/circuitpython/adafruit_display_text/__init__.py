"""Stand-in for the adafruit_display_text package of the Adafruit CircuitPython bundle."""

from . import label  # noqa: F401  (``from adafruit_display_text import label``)
