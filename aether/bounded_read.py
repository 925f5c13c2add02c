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


#: how much of a file ``fd_holds`` compares at a time
_COMPARE_CHUNK = 256 * 1024


def holds(path: Path, content: bytes) -> bool:
    """Does the regular file ``path`` (not followed if it is a link) hold exactly ``content``?
    False also when it cannot be read: the caller then reads it as usual, and meets the
    error there. See ``fd_holds``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        return fd_holds(fd, content)
    except OSError:
        return False
    finally:
        os.close(fd)


def fd_holds(fd: int, content: bytes) -> bool:
    """Does the open file ``fd``, a regular file, hold exactly ``content`` from where it is
    read to its end? Compared a chunk at a time through one small buffer: a large file is
    never copied whole into memory (reading the 2.9 MB state again to compare it touched
    ~1,400 fresh pages of memory, ~3 ms). ``OSError`` when it cannot be read."""
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return False
    view = memoryview(content)
    buffer = bytearray(min(_COMPARE_CHUNK, len(content) + 1))
    offset = 0
    while True:
        count = os.readv(fd, [buffer])
        if count == 0:
            return offset == len(content)
        if offset + count > len(content):
            return False
        chunk = buffer if count == len(buffer) else buffer[:count]
        if chunk != view[offset : offset + count]:
            return False
        offset += count
