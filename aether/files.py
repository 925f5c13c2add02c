"""File primitives: atomic writes, canonical JSON, strict JSON reads, temp-file sweeping.

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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aether.errors import AetherError, DiskFull, FilesystemError, ReadOnly, UnsafePath

#: temp files are named ``.<target>.<random>.aether-tmp`` in the target's directory
TEMP_SUFFIX = ".aether-tmp"


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


def os_error(exc: OSError, path: Path, action: str) -> AetherError:
    """Translate an OSError into the aether error a user can act on."""
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


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one.

    Temp file in the same directory, fsync, ``os.replace``, fsync the directory. The target must
    not be a symbolic link (a link could redirect the write outside the colony).
    """
    tmp = _write_temp(path, data, mode)
    try:
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise os_error(exc, path, "writing") from None


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    """``data`` written and fsynced in a temp file beside ``path``, which it is to replace."""
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
    tmp = path.parent / f".{path.name}.{os.urandom(4).hex()}{TEMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise os_error(exc, path, "writing") from None
    return tmp


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class StagedFiles:
    """Files changed together, all or none (``staged_files``).

    Each part is prepared where it will live: a new file's bytes written and fsynced in a temp
    file beside its target, an append made (its file's length before it noted), a link made,
    a missing directory created. Only when every part is prepared are the temp files moved
    over their targets, in the order they were staged, each directory fsynced. A failure
    while preparing undoes every part — temp files and links removed, appends cut back, new
    directories removed — so the files are as they were. The moves need no space; should one
    still fail, those before it stand and the rest are removed.
    """

    def __init__(self) -> None:
        self._moves: list[tuple[Path, Path]] = []
        self._appended: list[tuple[Path, int | None]] = []
        self._linked: list[Path] = []
        self._made: list[Path] = []

    def make_dirs(self, directory: Path) -> None:
        missing = [d for d in (directory, *directory.parents) if not d.exists()]
        for new in reversed(missing):
            try:
                new.mkdir()
            except OSError as exc:
                raise os_error(exc, new, "creating") from None
            self._made.append(new)

    def write(self, path: Path, data: bytes, *, mode: int = 0o644) -> None:
        self._moves.append((_write_temp(path, data, mode), path))

    def link_or_copy(self, source: Path, target: Path) -> None:
        """``target`` as a hard link to ``source`` (no bytes copied), else a copy."""
        try:
            os.link(source, target)
        except OSError:
            self.write(target, source.read_bytes())
            return
        self._linked.append(target)

    def append(self, path: Path, lines: Iterable[str]) -> None:
        try:
            size: int | None = os.lstat(path).st_size
        except FileNotFoundError:
            size = None
        except OSError as exc:
            raise os_error(exc, path, "appending to") from None
        self._appended.append((path, size))
        append_lines(path, lines)

    def commit(self) -> None:
        done, target = 0, Path()
        try:
            for made in self._made:  # new directories first: what moves into them is kept
                target = made
                fsync_dir(made.parent)
            for tmp, target in self._moves:
                os.replace(tmp, target)
                done += 1
                fsync_dir(target.parent)
        except OSError as exc:
            for left, _ in self._moves[done:]:
                _unlink_quietly(left)
            raise os_error(exc, target, "writing") from None

    def undo(self) -> None:
        for tmp, _ in self._moves:
            _unlink_quietly(tmp)
        for linked in self._linked:
            _unlink_quietly(linked)
        for path, size in reversed(self._appended):
            try:
                if size is None:
                    path.unlink()
                else:
                    os.truncate(path, size)
            except OSError:
                pass
        for made in reversed(self._made):
            try:
                made.rmdir()
            except OSError:
                pass


@contextmanager
def staged_files() -> Iterator[StagedFiles]:
    """Stage every part of a change in the block; they are committed when it ends, and all
    undone when it raises (see ``StagedFiles``)."""
    staged = StagedFiles()
    try:
        yield staged
    except BaseException:
        staged.undo()
        raise
    staged.commit()


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
