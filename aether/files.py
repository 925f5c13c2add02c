"""File primitives: atomic and staged writes, appends, linked directories, temp-file sweeping.

Reading files aether does not own is aether/bounded_read.py; JSON text is aether/json_text.py.

Correctness of the data on disk comes from the atomic replace, not from the lock: a reader
that never takes the lock still sees either the old file or the new one, never a torn one.
Measured by killing writers (docs/reliability.md has the crash suite that keeps checking it):
truncate-and-rewrite tore a file 40 times in 40 kills; temp + fsync + os.replace + directory
fsync tore it 0 times but left temp files behind, which ``sweep_temp_files`` removes.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aether.bounded_read import FileTooLarge, NotRegularFile, ReadTooSlow, fd_holds
from aether.errors import AetherError, DiskFull, FilesystemError, ReadOnly, UnsafePath
from aether.json_text import canonical_json

#: temp files are named ``.<target>.<random>.aether-tmp`` in the target's directory
TEMP_SUFFIX = ".aether-tmp"


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
            meaning="aether does not write through links; nothing was changed",
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


def atomic_write_bytes(
    path: Path, data: bytes, *, mode: int = 0o644, umask: bool = True, durable: bool = True
) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one.

    Temp file in the same directory, fsync, ``os.replace``, fsync the directory. The target must
    not be a symbolic link (a link could redirect the write outside the colony). The new file
    has ``mode`` less the process umask, or exactly ``mode`` with ``umask=False`` (to keep the
    mode of a file that is not aether's). ``durable=False`` leaves out both fsyncs: only for a
    cache, whose reader takes a file a crash left empty or cut as no cache at all (each fsync
    costs 1-3 ms here, and a spawn's answer writes caches).
    """
    tmp = _write_temp(path, data, mode, umask=umask, durable=durable)
    try:
        os.replace(tmp, path)
        if durable:
            fsync_dir(path.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise os_error(exc, path, "writing") from None


def _write_temp(
    path: Path, data: bytes, mode: int, *, umask: bool = True, durable: bool = True
) -> Path:
    """``data`` written and fsynced in a temp file beside ``path``, which it is to replace
    (its mode: ``mode`` less the umask, or exactly ``mode`` with ``umask=False``)."""
    # os.replace would put the new file in place of a link or fail on a directory: refused first
    in_the_way = errno.ELOOP if path.is_symlink() else errno.EISDIR if path.is_dir() else 0
    if in_the_way:
        raise os_error(OSError(in_the_way, os.strerror(in_the_way)), path, "writing")
    tmp = path.parent / f".{path.name}.{os.urandom(4).hex()}{TEMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            if not umask:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if durable:
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
        #: (source, link) of ``preserve``: a link is a copy only once its source is replaced
        self._preserved: list[tuple[Path, Path]] = []

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

    def preserve(self, source: Path, target: Path, content: bytes) -> None:
        """``target`` as a lasting copy of ``source``, which holds ``content`` and which a
        ``write`` of this same change replaces: a hard link to ``source`` where the file
        system allows one, else a new file with ``content``.

        The link costs no bytes written: the replace (``os.replace`` of a new file) leaves the
        old file, byte for byte, to the link alone, and aether never writes a file in place.
        It is kept only when it holds exactly ``content`` (a file changed since it was read
        gets the copy instead), synced (the writer before aether may never have synced it).
        Its directory is synced before any move; should the move replacing ``source`` not
        happen, it is removed (it would share the live file, not keep a copy of it).
        """
        try:
            os.link(source, target, follow_symlinks=False)
        except OSError:  # EXDEV, EPERM (no hard links there), EMLINK, ...: copy
            self.write(target, content)
            return
        try:  # the link is kept if it holds ``content``, then synced
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                kept = fd_holds(fd, content)
                if kept:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            kept = False
        if not kept:
            _unlink_quietly(target)
            self.write(target, content)
            return
        self._linked.append(target)
        self._preserved.append((source, target))

    def append(self, path: Path, lines: Iterable[str]) -> None:
        self.append_bytes(path, _lines_payload(lines))

    def append_bytes(self, path: Path, payload: bytes) -> None:
        """``append`` of lines already encoded, each ending with a newline."""
        try:
            size: int | None = os.lstat(path).st_size
        except FileNotFoundError:
            size = None
        except OSError as exc:
            raise os_error(exc, path, "appending to") from None
        self._appended.append((path, size))
        _append_payload(path, payload)

    def commit(self) -> None:
        replaced = {moved for _, moved in self._moves}
        if any(source not in replaced for source, _ in self._preserved):
            self.undo()
            raise ValueError("preserve() of a file this change does not replace")
        done, target = 0, Path()
        try:
            for made in self._made:  # new directories first: what moves into them is kept
                target = made
                fsync_dir(made.parent)
            for target in dict.fromkeys(link.parent for _, link in self._preserved):
                fsync_dir(target)  # the preserved links, before the moves that make them copies
            for tmp, target in self._moves:
                os.replace(tmp, target)
                done += 1
                fsync_dir(target.parent)
        except OSError as exc:
            for left, _ in self._moves[done:]:
                _unlink_quietly(left)
            replaced = {moved for _, moved in self._moves[:done]}
            for source, link in self._preserved:
                if source not in replaced:
                    _unlink_quietly(link)
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


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_json(path: Path, data: Any, *, durable: bool = True) -> None:
    atomic_write_text(path, canonical_json(data), durable=durable)


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
    _append_payload(path, _lines_payload(lines))


def _lines_payload(lines: Iterable[str]) -> bytes:
    return "".join(line.rstrip("\n") + "\n" for line in lines).encode("utf-8")


def _append_payload(path: Path, payload: bytes) -> None:
    """Append ``payload`` (whole lines) and fsync; nothing at all when it is empty."""
    if not payload:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, payload)
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
