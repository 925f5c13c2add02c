"""What every runtime's install does with the files it owns (Claude Code's ``.claude/``,
Codex's ``.codex/``): read one safely, decide what to do with it, back it up and write it,
say how it differs from what the profile calls for, refuse to work without a colony or with an
endpoint that carries credentials. Runtime-neutral; both runtimes' installs use these.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aether.bounded_read import read_regular
from aether.files import atomic_write_bytes, os_error, remove_file
from aether.records import record
from aether.runtimes.marker import ownership
from aether.timeutil import iso
from aether.workspace import Workspace


@record
class FileAction:
    path: str
    action: str  # create | update | unchanged | remove | kept
    detail: str = ""
    content: str | None = None
    #: the file is not aether's (``--force``): copied to the backups before it goes
    backup: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "action": self.action, "detail": self.detail}


def file_action(rel: str, current: str | None, wanted: str | None, force: bool) -> FileAction:
    """What to do with one aether file (``wanted`` None: remove it)."""
    if current is None:
        if wanted is None:
            return FileAction(rel, "unchanged", "absent")
        return FileAction(rel, "create", content=wanted)
    if current == wanted:
        return FileAction(rel, "unchanged")
    owner = ownership(current).owner
    verb = "remove" if wanted is None else "update"
    if owner == "aether" or force:
        detail = "" if owner == "aether" else f"--force: replaces a file {_whose(owner)}"
        return FileAction(rel, verb, detail, content=wanted, backup=owner != "aether")
    why = f"{_whose(owner)}; --force {'removes' if wanted is None else 'replaces'} it"
    return FileAction(rel, "kept", why)


def _whose(owner: str) -> str:
    return "aether wrote and someone edited" if owner == "edited" else "aether did not write"


def read_text_file(path: Path) -> str | None:
    if path.is_symlink():
        from aether.errors import UnsafePath

        raise UnsafePath(
            f"{path} is a symbolic link",
            meaning="aether does not read or write through links; nothing was changed",
            fix="replace the link with a regular file",
        )
    try:
        raw = read_regular(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise os_error(exc, path, "reading") from None
    try:
        return raw.decode("utf-8")  # no newline translation: a CRLF file stays CRLF
    except UnicodeDecodeError:
        return "\0not utf-8"  # never equal to anything aether writes; ownership is "user"


def ws_exists(ws: Workspace) -> None:
    if not ws.exists():
        from aether.errors import NoColony

        raise NoColony(
            f"no colony in {ws.project}", fix='create one with `aether init "GOAL"` first'
        )


def backup(ws: Workspace, directory: Path, rel: str, data: bytes) -> str:
    """A copy (in ``directory``) of a file aether is about to change or remove, mode 0600 (a
    settings file may hold values the user keeps private); its path in the project."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, directory, "creating") from None
    stamp = iso().replace(":", "").replace("-", "")
    target = directory / f"{Path(rel).name}.{stamp}.{os.urandom(2).hex()}"
    atomic_write_bytes(target, data, mode=0o600)
    return str(target.relative_to(ws.project))


def apply_file(ws: Workspace, action: FileAction, backups: Path, mode: int = 0o644) -> None:
    """Carry out one planned action (a file not aether's is backed up into ``backups``
    first)."""
    path = ws.project / action.path
    if action.backup and path.exists():
        try:
            backup(ws, backups, action.path, read_regular(path))
        except OSError as exc:
            raise os_error(exc, path, "backing up") from None
    if action.action == "remove":
        remove_file(path)
        return
    assert action.content is not None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, path.parent, "creating") from None
    atomic_write_bytes(path, action.content.encode("utf-8"), mode=mode)


def file_differences(files: list[FileAction]) -> list[str]:
    """How the files on disk differ from what the profile calls for, a line each."""
    said = {
        "create": "missing",
        "update": "differs from what the profile calls for",
        "remove": "no longer called for by the profile",
    }
    out = []
    for f in files:
        if f.action in said:
            out.append(f"{f.path}: {said[f.action]}")
        elif f.action == "kept":
            out.append(f"{f.path}: {f.detail.split(';')[0]}")
    return out


def refuse_credentials_in(endpoint: str, source: str, *, where: str) -> None:
    """An endpoint aether writes or prints for the user (``where``) never carries a
    ``user:password@`` or a query string: the key's place is the environment."""
    from urllib.parse import urlsplit

    from aether.errors import InvalidInput

    parts = urlsplit(endpoint)
    if parts.username or parts.password or parts.query:
        raise InvalidInput(
            f"{source} ({parts.scheme}://{parts.hostname}…) carries credentials or a query string",
            meaning=f"aether would put it {where}; nothing was written",
            fix="use a plain URL and keep the key in the environment (proxy.key_env)",
        )


def refuse_read_only(targets: list[Path]) -> None:
    """Before anything is written, every directory a write lands in must take it (a read-only
    ``.claude/`` once failed after the manifest and the backups were written)."""
    from aether.errors import ReadOnly

    for directory in dict.fromkeys(path.parent for path in targets):
        existing = directory
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not os.access(existing, os.W_OK):
            raise ReadOnly(
                f"cannot write {existing} (read-only, or not this user's to write)",
                meaning="nothing was changed",
                fix=f"make {existing} writable, then run the command again",
            )


def without_empty(value: Any) -> Any:
    """``value`` with empty objects and lists left out: equal settings compare equal."""
    if isinstance(value, dict):
        kept = {k: without_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [without_empty(v) for v in value]
    return value
