"""Stand-in for gc: collect() is CPython's; mem_free() reports the PyPortal's typical free heap."""

import gc as _host_gc

_FREE_BYTES = 110_000


def collect():
    _host_gc.collect()


def mem_free():
    return _FREE_BYTES


def mem_alloc():
    return 192 * 1024 - _FREE_BYTES


def enable():
    pass


def disable():
    pass
