"""``.codex/hooks.json`` at install and uninstall: aether's entries merged in, taken out again.

The user's own entries are kept as they are. A file that is not a hooks document Codex could
read stops install with one line and nothing written. Before aether first changes a file it did
not create, the original is backed up (``.aether/backups/codex/``), so that uninstall — when
what is left equals it — restores it byte for byte; a file aether created goes when nothing
else is left in it.
"""

from __future__ import annotations

from typing import Any

from aether.files import atomic_write_bytes, remove_file
from aether.json_text import loads_strict
from aether.ops.runtime_files import backup, read_text_file, without_empty
from aether.records import record
from aether.runtimes.codex import hooks as ch
from aether.workspace import Workspace


@record
class HooksChange:
    rel: str
    before: str | None  # None: no file
    after: str | None  # None: no file

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def to_json(self) -> dict[str, Any]:
        action = "unchanged"
        if self.changed:
            action = (
                "create" if self.before is None else "remove" if self.after is None else "update"
            )
        return {"path": self.rel, "action": action, "detail": "aether's hook entries"}


def read_hooks(ws: Workspace) -> tuple[str | None, dict[str, Any]]:
    """(the file's text, its document) — ({} when there is none); a malformed one raises."""
    path = ws.project / ch.HOOKS_FILE
    text = read_text_file(path)
    if text is None:
        return None, {}
    return text, ch.parse_hooks(text, str(path))


def plan_hooks(ws: Workspace) -> HooksChange:
    text, data = read_hooks(ws)
    merged = ch.with_aether_hooks(data, str(ws.project))
    after = text if merged is data and text is not None else ch.dump_hooks(merged)
    return HooksChange(ch.HOOKS_FILE, text, after)


def apply_hooks(ws: Workspace, change: HooksChange, manifest: dict[str, Any], backups: Any) -> None:
    """Write the merged file; the first time aether changes a file it did not create, the
    original is backed up and named in ``manifest`` (the caller writes it)."""
    if not change.changed or change.after is None:
        return
    if change.before is not None and not manifest.get("created_hooks"):
        if not manifest.get("hooks_backup"):
            manifest["hooks_backup"] = backup(ws, backups, change.rel, change.before.encode())
    path = ws.project / change.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, change.after.encode("utf-8"), mode=0o644)


def removal(ws: Workspace, manifest: dict[str, Any]) -> HooksChange | None:
    """What uninstall does to the file: its original bytes when that is what remains, nothing
    (removed) when aether created it and nothing else is left, else the rest."""
    text, data = read_hooks(ws)
    if text is None or not ch.aether_groups(data):
        return None
    left = ch.without_aether_hooks(data)
    original = _original(ws, manifest)
    if original is not None and without_empty(loads_strict(original)) == without_empty(left):
        return HooksChange(ch.HOOKS_FILE, text, original)
    if manifest.get("created_hooks") and not without_empty(left):
        return HooksChange(ch.HOOKS_FILE, text, None)
    return HooksChange(ch.HOOKS_FILE, text, ch.dump_hooks(left))


def _original(ws: Workspace, manifest: dict[str, Any]) -> str | None:
    rel = manifest.get("hooks_backup")
    if not isinstance(rel, str):
        return None
    try:
        text = read_text_file(ws.project / rel)
        if text is not None:
            loads_strict(text)
        return text
    except (OSError, ValueError):
        return None


def apply_removal(ws: Workspace, change: HooksChange) -> None:
    path = ws.project / change.rel
    if change.after is None:
        remove_file(path)
    elif change.changed:
        atomic_write_bytes(path, change.after.encode("utf-8"), mode=0o644)
