"""Reading files aether does not own: regular files only, bounded in size and in time.

A FIFO in place of a settings file, a device, a socket or a directory is refused at once (the
open itself never blocks); a read stops at a size and a deadline, so a huge or trickling file
can never hold a command or a hook (docs/robustness.md).
"""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path
from typing import BinaryIO

#: what ``read_regular`` reads at most unless told otherwise
MAX_READ_BYTES = 16 * 1024 * 1024
#: how long ``read_regular`` may take (a regular file of a few MiB takes milliseconds; a
#: stuck network mount or a trickling special file must not hold a command or a hook)
READ_WAIT_S = 5.0
_CHUNK = 1 << 20


class NotRegularFile(OSError):
    """A FIFO, device, socket or directory where a regular file is read: opening a FIFO for
    reading waits for a writer, reading a device may never end, so neither is read."""


class FileTooLarge(OSError):
    """A file over the size its reader accepts."""


class ReadTooSlow(OSError):
    """A file whose reading took longer than its reader waits."""


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (links followed); anything else is
    ``NotRegularFile``. Opened non-blocking, so even the open of a FIFO never waits."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "a special file")
            raise NotRegularFile(errno.EINVAL, f"{kind}, not a regular file", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, *, limit: int = MAX_READ_BYTES, wait_s: float = READ_WAIT_S) -> bytes:
    """The bytes of the regular file ``path``, bounded in size (``FileTooLarge`` past
    ``limit``) and in time (``ReadTooSlow`` past ``wait_s``). Every failure is an ``OSError``
    (``FileNotFoundError`` when it is absent); ``os_error`` turns it into one line."""
    deadline = time.monotonic() + wait_s
    chunks: list[bytes] = []
    size = 0
    with open_regular(path) as fh:
        fd = fh.fileno()
        while True:
            wanted = min(_CHUNK, limit + 1 - size)
            chunk = os.read(fd, wanted)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise FileTooLarge(
                    errno.EFBIG,
                    f"it is larger than the {limit / 1048576:g} MiB aether reads",
                    str(path),
                )
            # a short read is the end of the file: the time bound matters only for more
            if len(chunk) == wanted and time.monotonic() > deadline:
                raise ReadTooSlow(errno.ETIMEDOUT, f"it took longer than {wait_s:g} s", str(path))
