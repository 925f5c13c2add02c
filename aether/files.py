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
import math
import os
from collections.abc import Iterable
from json.encoder import encode_basestring
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
    result = dict(pairs)  # built in C; only a repeated key makes it shorter than the pairs
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return result


def loads_strict(text: str) -> Any:
    """Parse JSON, rejecting duplicate object keys (``json`` silently keeps the last)."""
    return json.loads(text, object_pairs_hook=_reject_duplicates)


def canonical_json(data: Any) -> str:
    """Sorted keys, 2-space indent, trailing newline: stable bytes for stable diffs.

    For files read by people (manifests, memory, docs). The state file uses ``state_json``:
    ``indent`` forces Python's pure-Python encoder, which was half the cost of a write at 200
    workers. The bytes are exactly ``json.dumps(data, sort_keys=True, indent=2,
    ensure_ascii=False)`` plus a newline (tests/test_files.py compares them on many inputs),
    written by a plain recursion that takes ~60 % of that encoder's time (a migrated colony's
    1,000 learnings are one such file).
    """
    out: list[str] = []
    try:
        _indented(data, "\n", out)
    except TypeError:  # a non-text key or a value JSON has no form for: json's own words
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    out.append("\n")
    return "".join(out)


def _indented(value: Any, newline: str, out: list[str]) -> None:
    """``value`` as ``json.dumps(indent=2, sort_keys=True)`` writes it, onto ``out``; the same
    type tests in the same order as json's encoder, so every subclass is written alike."""
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float_text(value))
    elif isinstance(value, list | tuple | dict):
        _indented_container(value, newline, out)
    else:
        raise TypeError(type(value).__name__)


def _float_text(value: float) -> str:
    """json's spelling of a float, the ones without a JSON number included."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _indented_container(value: Any, newline: str, out: list[str]) -> None:
    if not value:
        out.append("{}" if isinstance(value, dict) else "[]")
        return
    inner = newline + "  "
    if isinstance(value, dict):
        separator = "{" + inner
        for key, item in sorted(value.items()):
            if not isinstance(key, str):
                raise TypeError(type(key).__name__)
            out.append(separator + encode_basestring(key) + ": ")
            separator = "," + inner
            _indented(item, inner, out)
        out.append(newline + "}")
        return
    separator = "[" + inner
    for item in value:
        out.append(separator)
        separator = "," + inner
        _indented(item, inner, out)
    out.append(newline + "]")


def compact_json(data: Any) -> str:
    """Sorted keys, no whitespace, one line (C encoder): for JSON-lines files and each line of
    the state file. Exactly ``json.dumps(data, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))``, through one encoder built once: ``json.dumps`` builds two
    objects a call, half the time of a small line (the 10,000 events of a migrated colony)."""
    return "".join(_COMPACT(data, 0))


def _compact_encoder() -> Any:
    """json's C encoder with ``compact_json``'s settings (json's own Python one without it)."""
    settings = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return lambda data, _level: [settings.encode(data)]
    # no circular-reference markers: aether never writes a structure that contains itself
    return make(None, settings.default, encode_basestring, None, ":", ",", True, False, True)


_COMPACT = _compact_encoder()


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
