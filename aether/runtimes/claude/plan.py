"""What ``aether claude install`` and ``uninstall`` would change, computed without writing.

Each aether file gets a ``FileAction`` (create, update, remove, unchanged, or kept because it is
not aether's to change); each settings file a ``SettingsChange`` (its text before and after);
the manifest records which ``env`` values aether set and what they were before. ``--dry-run``
and ``check`` show the plan; ``aether.runtimes.claude.install`` carries it out.
"""

from __future__ import annotations

import difflib
import os
from typing import Any

from aether.bounded_read import read_regular
from aether.errors import ProfileProblem
from aether.json_text import loads_strict
from aether.ops.runtime_files import FileAction, file_action, read_text_file, without_empty
from aether.records import field, record
from aether.runtimes.claude import settings as cs
from aether.runtimes.claude.files import (
    CLAUDE_DIRS,
    LOCAL_SETTINGS,
    MANIFEST_FORMAT,
    SHARED_SETTINGS,
    Desired,
    SettingsFile,
    desired,
    owned_agent_files,
    read_manifest,
    read_settings,
)
from aether.timeutil import iso
from aether.workspace import Workspace


@record
class SettingsChange:
    rel: str
    before: str | None
    after: str | None  # None: delete the file

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        lines = difflib.unified_diff(
            (self.before or "").splitlines(keepends=True),
            (self.after or "").splitlines(keepends=True),
            fromfile=f"a/{self.rel}",
            tofile=f"b/{self.rel}",
        )
        return "".join(lines)


@record
class Plan:
    desired: Desired
    files: list[FileAction]
    settings: list[SettingsChange]
    manifest: dict[str, Any]
    env_conflicts: list[str] = field(default_factory=list)


def _env_plan(
    data: dict[str, Any], wanted: dict[str, str], manifest: dict[str, Any], force: bool
) -> tuple[dict[str, str], dict[str, str | None], list[str]]:
    """(values aether sets, the value each had before aether set it, conflicts kept).

    A key aether set earlier (the manifest says so, and it still holds that value) is aether's
    to change. A key the user set is taken over only when it already holds aether's value or
    with ``--force``; either way its value is remembered so ``uninstall`` puts it back."""
    env = data.get("env") or {}
    mine = manifest.get("env") or {}
    earlier = manifest.get("env_previous") or {}
    to_set: dict[str, str] = {}
    previous: dict[str, str | None] = {}
    conflicts: list[str] = []
    for key, value in wanted.items():
        current = env.get(key)
        if current is None:
            prev = None
        elif mine.get(key) == current:
            prev = earlier.get(key)
        elif current == value or force:
            prev = current
        else:
            conflicts.append(
                f"{key} is {current!r} in the settings, aether would set {value!r} (kept; "
                "--force replaces it and uninstall restores it)"
            )
            continue
        to_set[key] = value
        previous[key] = prev
    return to_set, previous, conflicts


def plan_install(ws: Workspace, *, local: bool, force: bool, checking: bool = False) -> Plan:
    """What install would change. ``checking``: for ``check`` — an AETHER_BIN pinned by
    another aether install that still exists counts as in sync."""
    want = desired(ws, local=local)
    manifest = read_manifest(ws)
    target = read_settings(ws, want.settings_file)
    pinned = (target.data.get("env") or {}).get(cs.AETHER_BIN_VARIABLE)
    if checking and local and pinned and os.access(pinned, os.X_OK):
        want.env[cs.AETHER_BIN_VARIABLE] = pinned
    other_rel = SHARED_SETTINGS if local else LOCAL_SETTINGS
    other = read_settings(ws, other_rel)
    files = [
        file_action(rel, read_text_file(ws.project / rel), text, force)
        for rel, text in want.files.items()
    ]
    files += [
        file_action(rel, text, None, force)
        for rel, text in owned_agent_files(ws).items()
        if rel not in want.files
    ]
    to_set, previous, conflicts = _env_plan(
        target.data, want.env, _env_owner(manifest, target, want), force
    )
    after = cs.with_aether_hooks(cs.with_env(target.data, to_set))
    if manifest.get("settings") == target.rel:
        # values aether set earlier that the profile no longer calls for go back
        stale = {k: v for k, v in (manifest.get("env") or {}).items() if k not in want.env}
        after = _restore_env(after, {**manifest, "env": stale})
    changes = [SettingsChange(target.rel, target.text, text_or_same(target, after))]
    if other.exists and (cs.aether_groups(other.data) or manifest.get("settings") == other_rel):
        # aether's entries move to the target file
        moved = cs.without_aether_hooks(other.data)
        if manifest.get("settings") == other_rel:
            moved = _restore_env(moved, manifest)
        left = _leftover_text(ws, other, moved, manifest, [])
        changes.append(SettingsChange(other_rel, other.text, left))
    new_manifest = _manifest(ws, manifest, want, target, to_set, previous)
    return Plan(want, files, changes, new_manifest, conflicts)


def _env_owner(manifest: dict[str, Any], target: SettingsFile, want: Desired) -> dict[str, Any]:
    """Who set the target file's env values: the manifest, when it describes that file; with
    no manifest at all (a clone without .aether/) but aether's hooks in the file, the values
    equal to aether's are aether's."""
    if manifest.get("settings") == target.rel:
        return manifest
    if not manifest and cs.aether_groups(target.data):
        env = target.data.get("env") or {}
        return {"env": {k: v for k, v in want.env.items() if env.get(k) == v}}
    return {}


def text_or_same(current: SettingsFile, data: dict[str, Any]) -> str | None:
    if current.exists and data == current.data:
        return current.text
    return cs.dump_settings(data)


def _manifest(
    ws: Workspace,
    old: dict[str, Any],
    want: Desired,
    target: SettingsFile,
    env: dict[str, str],
    previous: dict[str, str | None],
) -> dict[str, Any]:
    kept = old if old.get("settings") == target.rel else {}
    return {
        "format": MANIFEST_FORMAT,
        "profile_hash": want.profile_hash,
        "settings": target.rel,
        "env": env,
        "env_previous": previous,
        "created_settings": kept.get("created_settings", not target.exists),
        "created_dirs": old.get(
            "created_dirs", [d for d in CLAUDE_DIRS if not (ws.project / d).exists()]
        ),
        "original_backup": kept.get("original_backup"),
        "installed_at": kept.get("installed_at") or iso(),
    }


def _restore_env(data: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """Take back the env values aether set, restoring what was there before."""
    env = dict(data.get("env") or {})
    previous = manifest.get("env_previous") or {}
    for key, value in (manifest.get("env") or {}).items():
        if env.get(key) != value:
            continue  # changed since: the user's value now
        if previous.get(key) is not None:
            env[key] = previous[key]
        else:
            del env[key]
    out = dict(data)
    if env:
        out["env"] = env
    elif "env" in out:
        del out["env"]
    return out


def _guess_manifest(ws: Workspace, rel: str) -> dict[str, Any]:
    """Without a manifest (a clone without .aether/): aether's env values are the ones it would
    write now."""
    try:
        want = desired(ws, local=rel == LOCAL_SETTINGS)
    except ProfileProblem:
        return {}
    return {"env": want.env, "env_previous": {}}


def _pristine_text(ws: Workspace, manifest: dict[str, Any], data: dict[str, Any]) -> str | None:
    """The original file's bytes, when what is left equals it (so uninstall restores it
    byte for byte); None otherwise."""
    backup = manifest.get("original_backup")
    if not isinstance(backup, str):
        return None
    try:
        text = read_regular(ws.project / backup).decode("utf-8")
        original = loads_strict(text)
    except (OSError, ValueError):
        return None
    return text if without_empty(original) == without_empty(data) else None


def settings_removal(
    ws: Workspace, rel: str, manifest: dict[str, Any], restored: list[str]
) -> SettingsChange | None:
    current = read_settings(ws, rel)
    if not current.exists:
        return None
    owns_file = manifest.get("settings") == rel
    mine = manifest if owns_file else _guess_manifest(ws, rel)
    if not cs.aether_groups(current.data) and not owns_file:
        return None
    data = _restore_env(cs.without_aether_hooks(current.data), mine)
    return SettingsChange(rel, current.text, _leftover_text(ws, current, data, manifest, restored))


def _leftover_text(
    ws: Workspace,
    current: SettingsFile,
    data: dict[str, Any],
    manifest: dict[str, Any],
    restored: list[str],
) -> str | None:
    """What remains of a settings file once aether's entries are out: the file's original
    bytes when that is what remains, nothing (delete it) when aether created it and nothing
    else is left, else the rest in Claude Code's layout."""
    if manifest.get("settings") == current.rel:
        original = _pristine_text(ws, manifest, data)
        if original is not None:
            restored.append(current.rel)
            return original
        if manifest.get("created_settings") and not without_empty(data):
            return None
    return text_or_same(current, data)
