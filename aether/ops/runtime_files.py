"""What every runtime's install does with the files it owns (Claude Code's ``.claude/``,
Codex's ``.codex/``): read one safely, decide what to do with it, refuse to work without a
colony. Runtime-neutral; the runtimes' plans (claude_plan.py, codex_files.py) use these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aether.bounded_read import read_regular
from aether.files import os_error
from aether.records import record
from aether.runtimes.marker import ownership
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
