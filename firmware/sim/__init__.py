"""Runs firmware/code.py on the host: stand-ins for the CircuitPython 9 modules it uses, a
320x240 screen rendered with the board's own font, and checks of what the screen shows."""

from .device import Device, RunResult, Screen, run_firmware  # noqa: F401
