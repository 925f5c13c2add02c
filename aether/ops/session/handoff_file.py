"""HANDOFF.md on disk: written at pause (and checkpoints), read at resume, then moved into
``.aether/handoff-history/`` — never deleted (docs/lifecycle.md). The document itself is
rendered and parsed by :mod:`aether.handoff`, which never touches the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from aether import __version__
from aether.bounded_read import read_regular
from aether.errors import HandoffError, MemoryFileError
from aether.files import atomic_write_text, fsync_dir, os_error
from aether.handoff import GitInfo, HandoffDocument, parse_handoff
from aether.handoff_render import render_handoff
from aether.memory import MemoryItem, load_all
from aether.state.model import ColonyState
from aether.timeutil import iso
from aether.workspace import Workspace


def write_handoff_file(
    ws: Workspace, state: ColonyState, git: GitInfo | None, warnings: list[str]
) -> None:
    """HANDOFF.md from ``state`` as committed. Call it from ``tx.then``: still under the lock,
    so the handoff and the state can never disagree about the serial."""
    memory = _memory_or_empty(ws, warnings)
    text = render_handoff(state, memory=memory, git=git, aether_version=__version__)
    atomic_write_text(ws.handoff_file, text)


def _memory_or_empty(ws: Workspace, warnings: list[str]) -> dict[str, list[MemoryItem]]:
    try:
        return load_all(ws.memory_dir)
    except MemoryFileError as exc:
        warnings.append(f"memory not shown in the handoff: {exc.one_line()}")
        return {}


def read_handoff(ws: Workspace) -> tuple[bytes | None, HandoffDocument | None, str | None]:
    """(the file's bytes, its machine block, why it is unreadable); all None without a file."""
    try:
        raw = read_regular(ws.handoff_file)
    except FileNotFoundError:
        return None, None, None
    except OSError as exc:
        return None, None, f"HANDOFF.md cannot be read ({exc.strerror})"
    try:
        return raw, parse_handoff(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return raw, None, "HANDOFF.md is unreadable: it is not UTF-8 text"
    except HandoffError as exc:
        return raw, None, exc.what


def move_handoff_to_history(ws: Workspace, session_id: str, expected: bytes | None) -> Path | None:
    """Move HANDOFF.md into handoff-history/ if it is still the one ``expected`` (caller locks)."""
    try:
        current = read_regular(ws.handoff_file)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise os_error(exc, ws.handoff_file, "reading") from None
    if expected is not None and current != expected:
        return None  # a newer pause wrote it meanwhile: it is not ours to move
    target = _history_target(ws, session_id)
    try:
        ws.handoff_history_dir.mkdir(parents=True, exist_ok=True)
        os.replace(ws.handoff_file, target)
        fsync_dir(ws.handoff_history_dir)
        fsync_dir(ws.root)
    except OSError as exc:
        raise os_error(exc, target, "moving the handoff to") from None
    return target


def _history_target(ws: Workspace, session_id: str) -> Path:
    stamp = iso().replace(":", "").replace("-", "")
    base = ws.handoff_history_dir / f"HANDOFF-{session_id}-{stamp}"
    target = base.with_suffix(".md")
    n = 2
    while target.exists():
        target = Path(f"{base}-{n}.md")
        n += 1
    return target
