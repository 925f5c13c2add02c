"""The chamber format: a verified copy of a colony in ``.aether/chambers/<slug>-<UTC stamp>/``.

A chamber holds the state (and its compacted events/workers and breaker file), the memory, the
handoff and its history, the activity log and the profile, plus ``manifest.json`` with the
sha256 of every file (the tool we replace checksummed the state only, later nothing).

Building is crash- and disk-full-safe: files are copied into ``chambers/.tmp-<name>-<rand>/``,
fsynced, re-read and checked against the hashes computed while copying, and only then renamed
to the final name. A failure removes the temp directory; no half chamber ever carries a name
that ``archive list`` would show as good. The caller holds the colony lock while building so
state and memory are copied as one consistent snapshot.

This module is the format and its file IO only (no lock, no store, no activity log): the use
cases are ``aether archive`` with ``list`` and ``verify`` (aether/ops/colony/archive.py) and
``archive restore`` (aether/ops/colony/restore.py).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aether import __version__
from aether.bounded_read import read_regular
from aether.errors import (
    AetherError,
    ArchiveCorrupt,
    ArchiveNotFound,
    BadArchiveName,
    DiskFull,
    MemoryFileError,
)
from aether.files import TEMP_SUFFIX, atomic_write_json, fsync_dir
from aether.files import os_error as _os_error
from aether.json_text import loads_strict
from aether.memory import count_items
from aether.records import field, record
from aether.state.model import ColonyState
from aether.timeutil import iso, now
from aether.workspace import Workspace

CHAMBER_FORMAT = 1
MANIFEST = "manifest.json"
CHUNK = 1 << 20
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
#: single files copied when present, relative to .aether/
ARCHIVED_FILES = (
    "data/COLONY_STATE.json",
    "data/events.archive.jsonl",
    "data/workers.history.jsonl",
    "data/breaker.json",
    "HANDOFF.md",
    "activity.log",
    "model-profiles.yaml",
)
#: directories copied recursively (regular files only), relative to .aether/
ARCHIVED_DIRS = ("memory", "handoff-history")

#: progress(done_bytes, total_bytes)
Progress = Callable[[int, int], None]


def os_error(exc: OSError, path: Path, action: str) -> AetherError:
    if exc.errno == errno.EFBIG:  # a file-size limit is a full disk for our purposes
        return DiskFull(
            f"no space left while {action} {path} (file too large)",
            meaning="the colony is intact and no chamber was created",
            fix="free some space (or raise the file size limit) and archive again",
        )
    return _os_error(exc, path, action)


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return slug[:limit].strip("-") or "colony"


def check_name(name: str) -> str:
    """A chamber name given by a user: a plain name inside chambers/, nothing else."""
    if (
        not name
        or "/" in name
        or "\\" in name
        or name.startswith(".")
        or ".." in name
        or os.path.isabs(name)
        or not NAME_RE.match(name)
    ):
        raise BadArchiveName(
            f"{name!r} is not a chamber name",
            meaning="names are letters, digits, '.', '_' and '-' inside .aether/chambers/; "
            "paths and '..' are refused",
            fix="see the names with `aether archive list`",
        )
    return name


def label_slug(label: str) -> str:
    """Slug for ``archive --name``: refuses path-like input instead of silently mangling it."""
    if "/" in label or "\\" in label or ".." in label or os.path.isabs(label):
        raise BadArchiveName(
            f"--name {label!r} looks like a path",
            meaning="a chamber always lives directly in .aether/chambers/",
            fix="use a plain name such as 'before-refactor'",
        )
    return slugify(label)


def chamber_dir(ws: Workspace, name: str) -> Path:
    path = ws.chambers_dir / check_name(name)
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise BadArchiveName(f"{path} is not a chamber directory", fix="see `aether archive list`")
    if not path.is_dir():
        raise ArchiveNotFound(
            f"no chamber named {name!r} in {ws.chambers_dir}",
            fix="see the names with `aether archive list`",
        )
    return path


def archived_sources(ws: Workspace) -> list[tuple[Path, str]]:
    """(source, path relative to .aether/) of every file a chamber holds, in a stable order."""
    found: list[tuple[Path, str]] = []
    for rel in ARCHIVED_FILES:
        src = ws.root / rel
        if src.is_file() and not src.is_symlink():
            found.append((src, rel))
    for rel_dir in ARCHIVED_DIRS:
        base = ws.root / rel_dir
        if not base.is_dir() or base.is_symlink():
            continue
        for src in sorted(base.rglob("*")):
            if (
                src.is_file()
                and not src.is_symlink()
                and not (src.name.startswith(".") and src.name.endswith(TEMP_SUFFIX))
            ):
                found.append((src, src.relative_to(ws.root).as_posix()))
    return found


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(
    src: Path, dst: Path, done: int, total: int, progress: Progress | None
) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin, dst.open("xb") as fout:
        for chunk in iter(lambda: fin.read(CHUNK), b""):
            fout.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            if progress is not None:
                progress(done + size, total)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest(), size


@record
class Chamber:
    name: str
    path: Path
    manifest: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "name": self.name,
            "path": str(self.path),
            "created_at": m.get("created_at"),
            "colony_id": m.get("colony_id"),
            "goal": m.get("goal"),
            "label": m.get("label"),
            "counts": m.get("counts"),
            "files": len(m.get("files") or {}),
            "bytes": sum(f.get("bytes", 0) for f in (m.get("files") or {}).values()),
        }


def _counts(ws: Workspace, state: ColonyState) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "phases": len(state.plan.phases),
        "workers": len(state.workers),
        "workers_compacted": sum(c.total for c in state.worker_counts.values()),
        "events": len(state.events) + state.events_archived,
    }
    try:
        for kind, n in count_items(ws.memory_dir).items():
            counts[f"{kind}s"] = n
    except MemoryFileError:
        counts["memory_unreadable"] = True  # the file itself is still archived byte for byte
    return counts


def build_chamber(
    ws: Workspace, state: ColonyState, *, label: str | None, progress: Progress | None = None
) -> Chamber:
    """Copy, verify and name a chamber. The caller holds the colony lock."""
    sources = archived_sources(ws)
    total = sum(src.stat().st_size for src, _ in sources)
    name = _unused_name(ws, label_slug(label) if label else slugify(state.name or state.goal))
    tmp = ws.chambers_dir / f".tmp-{name}-{secrets.token_hex(4)}"
    final = ws.chambers_dir / name
    try:
        ws.chambers_dir.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        files = _copy_sources(sources, tmp, total, progress)
        _check_copies(tmp, files)
        manifest = _manifest(ws, state, label, files)
        atomic_write_json(tmp / MANIFEST, manifest)
        for directory in sorted({(tmp / rel).parent for rel in files} | {tmp}, reverse=True):
            fsync_dir(directory)
        os.rename(tmp, final)
        fsync_dir(ws.chambers_dir)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise os_error(exc, tmp, "archiving into") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Chamber(name, final, manifest)


def _unused_name(ws: Workspace, slug: str) -> str:
    """``<slug>-<UTC stamp>``, then ``-2``, ``-3``, ... while a chamber has that name."""
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    name = f"{slug}-{stamp}"
    n = 2
    while (ws.chambers_dir / name).exists():
        name = f"{slug}-{stamp}-{n}"
        n += 1
    return check_name(name)


def _copy_sources(
    sources: list[tuple[Path, str]], tmp: Path, total: int, progress: Progress | None
) -> dict[str, dict[str, Any]]:
    """Copy every source under ``tmp``: the manifest's ``files`` (sha256 and size of each)."""
    files: dict[str, dict[str, Any]] = {}
    done = 0
    for src, rel in sources:
        digest, size = _copy(src, tmp / rel, done, total, progress)
        done += size
        files[rel] = {"sha256": digest, "bytes": size}
    return files


def _check_copies(tmp: Path, files: dict[str, dict[str, Any]]) -> None:
    """Re-read every copy before the chamber gets a name: verified before it counts as made."""
    for rel, meta in files.items():
        if sha256_file(tmp / rel) != meta["sha256"]:
            raise ArchiveCorrupt(
                f"the copy of {rel} does not match what was read",
                meaning="the disk returned different bytes; no chamber was created",
                fix="check the disk and archive again",
            )


def _manifest(
    ws: Workspace, state: ColonyState, label: str | None, files: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    return {
        "kind": "aether-chamber",
        "format": CHAMBER_FORMAT,
        "aether_version": __version__,
        "state_format": state.version,
        "colony_id": state.colony_id,
        "colony_name": state.name,
        "goal": state.goal,
        "label": label,
        "created_at": iso(),
        "state_serial": state.serial,
        "counts": _counts(ws, state),
        "files": files,
    }


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        doc = loads_strict(read_regular(path / MANIFEST).decode("utf-8"))
    except FileNotFoundError:
        raise ArchiveCorrupt(
            f"chamber {path.name} has no {MANIFEST}",
            meaning="it cannot be verified, so it is not trusted",
            fix="restore from another chamber",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ArchiveCorrupt(
            f"the manifest of chamber {path.name} is unreadable ({str(exc).splitlines()[0]})",
            fix="restore from another chamber",
        ) from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("kind") != "aether-chamber"
        or not isinstance(files, dict)
    ):
        raise ArchiveCorrupt(
            f"the manifest of chamber {path.name} is not an aether manifest",
            fix="restore from another chamber",
        )
    fmt = doc.get("format")
    if not isinstance(fmt, int) or fmt > CHAMBER_FORMAT:
        raise ArchiveCorrupt(
            f"chamber {path.name} has manifest format {fmt!r}; this aether reads {CHAMBER_FORMAT}",
            fix="use a newer aether",
        )
    return doc


def _safe_rel(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


@record
class VerifyResult:
    chamber: Chamber
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.chamber.to_json(), "problems": self.problems}


def verify_chamber(ws: Workspace, name: str) -> VerifyResult:
    """Check every file against the manifest; list what is missing, changed or unexpected."""
    path = chamber_dir(ws, name)
    manifest = read_manifest(path)
    result = VerifyResult(Chamber(path.name, path, manifest))
    listed: set[str] = set()
    for rel, meta in sorted(manifest["files"].items()):
        listed.add(rel)
        if not isinstance(meta, dict) or not _safe_rel(rel):
            result.problems.append(f"{rel}: unsafe or malformed manifest entry")
            continue
        target = path / rel
        if not target.is_file() or target.is_symlink():
            result.problems.append(f"{rel}: missing")
        elif sha256_file(target) != meta.get("sha256"):
            result.problems.append(f"{rel}: checksum mismatch")
    for extra in sorted(path.rglob("*")):
        rel = extra.relative_to(path).as_posix()
        if extra.is_file() and rel != MANIFEST and rel not in listed:
            result.problems.append(f"{rel}: not in the manifest")
    return result
