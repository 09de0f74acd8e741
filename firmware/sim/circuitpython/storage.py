"""Stand-in for storage: a FAT file system on the SD card, mounted at a folder of CIRCUITPY."""

import errno
import os as _host_os

from ..device import current
from .sdcardio import SDCard


class VfsFat:
    def __init__(self, block_device):
        if not isinstance(block_device, SDCard):
            raise TypeError("VfsFat needs a block device such as sdcardio.SDCard")


def mount(filesystem, mount_path, *, readonly=False):
    if not isinstance(filesystem, VfsFat):
        raise TypeError("mount needs a file system such as storage.VfsFat")
    device = current()
    if not _host_os.path.isdir(device.host_path(mount_path)):
        raise OSError(errno.ENOENT, "No such file/directory: %s" % mount_path)
    if mount_path in device.mounts:
        raise OSError(errno.EPERM, "%s is already mounted" % mount_path)
    if not readonly:
        device.mounts.add(mount_path.rstrip("/"))


def umount(mount):
    current().mounts.discard(mount.rstrip("/"))
