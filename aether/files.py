"""File primitives: atomic writes, bounded reads, canonical JSON, strict JSON, temp-file sweeping.

Correctness of the data on disk comes from the atomic replace, not from the lock: a reader
that never takes the lock still sees either the old file or the new one, never a torn one.
Measured by killing writers (docs/reliability.md has the crash suite that keeps checking it):
truncate-and-rewrite tore a file 40 times in 40 kills; temp + fsync + os.replace + directory
fsync tore it 0 times but left temp files behind, which ``sweep_temp_files`` removes.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from aether.errors import AetherError, DiskFull, FilesystemError, ReadOnly, UnsafePath

#: temp files are named ``.<target>.<random>.aether-tmp`` in the target's directory
TEMP_SUFFIX = ".aether-tmp"
#: what ``read_regular`` reads at most unless told otherwise
MAX_READ_BYTES = 16 * 1024 * 1024
#: how long ``read_regular`` may take (a regular file of a few MiB takes milliseconds; a
#: stuck network mount or a trickling special file must not hold a command or a hook)
READ_WAIT_S = 5.0
_CHUNK = 1 << 20


class DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result


def loads_strict(text: str) -> Any:
    """Parse JSON, rejecting duplicate object keys (``json`` silently keeps the last)."""
    return json.loads(text, object_pairs_hook=_reject_duplicates)


#: a JSON escape of a UTF-16 surrogate; only a lone one (not half of a pair) is refused
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def lone_surrogate(text: str, doc: Any) -> str | None:
    """Where the JSON document ``doc`` (parsed from ``text``) holds a lone surrogate escape
    (``"\\ud800"``): a string no UTF-8 writer can encode, so every command that printed or
    wrote it would fail. The place as ``a.b[3]`` ("" for the top level); None when there is
    none. The text scan is cheap; the document is walked only when an escape is there at all."""
    if not _SURROGATE_ESCAPE.search(text):
        return None
    return _lone_surrogate_path(doc, "")


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lone_surrogate_path(value: Any, path: str) -> str | None:
    """Where in ``value`` a string (or a key) holds a lone surrogate, as ``a.b[3]``; None."""
    if isinstance(value, str):
        return path if _has_lone_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _has_lone_surrogate(key):
                return path or "a key"
            found = _lone_surrogate_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def canonical_json(data: Any) -> str:
    """Sorted keys, 2-space indent, trailing newline: stable bytes for stable diffs.

    For small files (manifests, memory, docs). The state file uses ``state_json``: ``indent``
    forces Python's pure-Python encoder, which was half the cost of a write at 200 workers.
    """
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def compact_json(data: Any) -> str:
    """Sorted keys, no whitespace, one line (C encoder): for JSON-lines files."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def state_json(data: dict[str, Any]) -> str:
    """The state file's canonical form: sorted keys, one top-level field per line and one list
    item (a worker, an event) per line, so diffs stay readable — all encoded by the C encoder.
    The same data always gives the same bytes.
    """
    keys = sorted(data)
    lines = ["{"]
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        name = json.dumps(key, ensure_ascii=False)
        value = data[key]
        if isinstance(value, list) and value:
            lines.append(f"  {name}: [")
            last = len(value) - 1
            lines.extend(
                f"    {compact_json(item)}{',' if j < last else ''}" for j, item in enumerate(value)
            )
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {name}: {compact_json(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


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


def os_error(exc: OSError, path: Path, action: str) -> AetherError:
    """Translate an OSError into the aether error a user can act on."""
    if isinstance(exc, NotRegularFile):
        return UnsafePath(
            f"{path} is {exc.strerror}",
            meaning="aether reads only regular files there: a FIFO or a device could make it "
            "wait forever; nothing was changed",
            fix="replace it with a regular file",
        )
    if isinstance(exc, FileTooLarge | ReadTooSlow):
        return FilesystemError(
            f"{path} was not read: {exc.strerror}",
            meaning="nothing was changed",
            fix="check the file (its size, the file system it is on)",
        )
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(
            f"no space left while {action} {path}",
            meaning="nothing was changed: the previous file is intact",
            fix="free some disk space and run the command again",
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return ReadOnly(
            f"cannot write {path} ({os.strerror(exc.errno or 0).lower()})",
            meaning="nothing was changed",
            fix="check the permissions of the .aether directory",
        )
    if exc.errno == errno.ELOOP:
        return UnsafePath(
            f"{path} is a symbolic link",
            meaning="aether does not follow links for files it writes",
            fix="replace the link with a regular file",
        )
    if exc.errno == errno.EISDIR:
        return UnsafePath(
            f"{path} is a directory where aether expects a file",
            meaning="nothing was changed",
            fix="move the directory out of the way",
        )
    return FilesystemError(
        f"cannot complete {action} {path}: {exc.strerror or exc}",
        meaning="nothing was changed",
        fix="check the file system and permissions",
    )


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644, umask: bool = True) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one.

    Temp file in the same directory, fsync, ``os.replace``, fsync the directory. The target must
    not be a symbolic link (a link could redirect the write outside the colony). The new file
    has ``mode`` less the process umask, or exactly ``mode`` with ``umask=False`` (to keep the
    mode of a file that is not aether's).
    """
    directory = path.parent
    if path.is_symlink():
        raise UnsafePath(
            f"{path} is a symbolic link",
            meaning="aether does not write through links; nothing was changed",
            fix="replace the link with a regular file",
        )
    if path.is_dir():
        raise UnsafePath(
            f"{path} is a directory where aether expects a file",
            meaning="nothing was changed",
            fix="move the directory out of the way",
        )
    tmp = directory / f".{path.name}.{os.urandom(4).hex()}{TEMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            if not umask:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(directory)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise os_error(exc, path, "writing") from None


def linked_directory(directory: Path, below: Path) -> Path | None:
    """The first path from ``below`` (exclusive) down to ``directory`` that is a symbolic link
    or not a directory; None when there is none (a missing one is fine: aether creates it)."""
    current = below
    for part in directory.relative_to(below).parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise os_error(exc, current, "checking") from None
        if not stat.S_ISDIR(mode):
            return current
    return None


def refuse_linked_directory(directory: Path, below: Path) -> None:
    """Refuse to write into ``directory`` when the way to it from ``below`` passes a link: a
    linked directory would take aether's writes outside the project."""
    found = linked_directory(directory, below)
    if found is None:
        return
    what = "a symbolic link" if found.is_symlink() else "not a directory"
    raise UnsafePath(
        f"{found} is {what}",
        meaning="aether writes nothing through a linked directory (it could lead outside the "
        "project); nothing was changed",
        fix="replace it with a real directory",
    )


def remove_file(path: Path) -> None:
    """Delete ``path`` if it is there; any other failure is the aether error for it."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise os_error(exc, path, "removing") from None


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, canonical_json(data))


def append_line(path: Path, line: str) -> None:
    """Append one line (a JSON line, usually) and fsync. Used for logs, never for state."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, (line.rstrip("\n") + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise os_error(exc, path, "appending to") from None


def append_lines(path: Path, lines: Iterable[str]) -> None:
    payload = "".join(line.rstrip("\n") + "\n" for line in lines)
    if not payload:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, payload.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise os_error(exc, path, "appending to") from None


def sweep_temp_files(directory: Path) -> list[Path]:
    """Remove temp files a crashed writer left behind. Call only while holding the lock."""
    removed: list[Path] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
            try:
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed


def list_temp_files(directory: Path) -> list[Path]:
    try:
        return sorted(
            p
            for p in directory.iterdir()
            if p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX)
        )
    except OSError:
        return []
