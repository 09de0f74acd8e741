"""Stand-in for CircuitPython's time: sleep() ends a simulated cycle; monotonic() is the device clock."""

import time as _host_time

from ..device import current

struct_time = _host_time.struct_time


def sleep(seconds):
    current().sleep(seconds)


def monotonic():
    return current().clock


def monotonic_ns():
    return int(current().clock * 1e9)


def time():
    return int(_host_time.time() + current().clock)


def localtime(secs=None):
    return _host_time.localtime(time() if secs is None else secs)
