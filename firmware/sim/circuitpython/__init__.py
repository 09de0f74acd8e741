"""Stand-ins for the CircuitPython 9 modules and Adafruit libraries firmware/code.py imports."""
