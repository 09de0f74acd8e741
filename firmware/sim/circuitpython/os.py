"""Stand-in for CircuitPython's os: paths on the CIRCUITPY drive and the mounted SD card, FAT rules
(renaming onto an existing file fails), stat() as the 10-tuple CircuitPython returns."""

import errno
import os as _host_os

from ..device import current

sep = "/"


def listdir(path="/"):
    return sorted(_host_os.listdir(current().host_path(path)))


def stat(path):
    s = _host_os.stat(current().host_path(path))
    return (s.st_mode, 0, 0, 0, 0, 0, s.st_size, int(s.st_atime), int(s.st_mtime), int(s.st_ctime))


def remove(path):
    device = current()
    device.check_writable(path)
    _host_os.remove(device.host_path(path))


def rename(old_path, new_path):
    device = current()
    device.check_writable(old_path)
    device.check_writable(new_path)
    if _host_os.path.exists(device.host_path(new_path)):
        raise OSError(errno.EEXIST, "File exists: %s" % new_path)
    _host_os.rename(device.host_path(old_path), device.host_path(new_path))


def mkdir(path):
    device = current()
    device.check_writable(path)
    _host_os.mkdir(device.host_path(path))


def getenv(key, default=None):
    """settings.toml is not used by this firmware (secrets.py holds its settings)."""
    return default


def sync():
    pass


def uname():
    return ("samd51", "samd51", "9.2.1", "9.2.1 on 2024-11-20", "Adafruit PyPortal with samd51j20")
