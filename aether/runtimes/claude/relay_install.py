"""The user-level relay (aether/runtimes/claude/relay.py) that ``aether claude install`` adds to
``~/.claude/`` and ``uninstall`` takes away when no project uses it any more.

What it writes, in the home directory (``$HOME``):

* ``.claude/hooks/aether-relay``, the relay script (marked like every file aether writes);
* the relay's hook entries, merged into ``.claude/settings.json`` (everything else kept);
* ``.claude/aether-relay.json`` (mode 0600), its manifest: the projects that installed it, the
  settings file as it was before the relay's first entry (restored byte for byte when the last
  project uninstalls), and the directories it created.

The same guarantees as the project install: a malformed or symlinked settings file is refused
before anything is written, a relay script someone edited is kept without ``--force``, a second
install changes nothing. Concurrent installs from two projects take a lock on the manifest.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aether.errors import AetherError, LockTimeout
from aether.files import atomic_write_bytes, os_error, remove_file
from aether.json_text import canonical_json, loads_strict
from aether.ops.runtime_files import FileAction, file_action, read_text_file
from aether.records import record
from aether.runtimes.claude import relay
from aether.runtimes.claude import settings as cs
from aether.runtimes.claude.files import SettingsFile, installed_aether, read_settings
from aether.runtimes.claude.plan import SettingsChange, text_or_same
from aether.runtimes.marker import ownership
from aether.timeutil import iso
from aether.workspace import Workspace

SETTINGS = ".claude/settings.json"
MANIFEST = ".claude/aether-relay.json"
DIRS = (".claude", ".claude/hooks")
MANIFEST_FORMAT = 1
LOCK_TIMEOUT_S = 10.0


@record
class RelayPlan:
    home: Path
    script: FileAction
    settings: SettingsChange
    manifest: dict[str, Any] | None  # None: the manifest goes

    @property
    def changed(self) -> bool:
        return self.script.action in ("create", "update", "remove") or self.settings.changed

    def to_json(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "changed": self.changed,
            "script": self.script.to_json(),
            "settings": {"path": str(self.home / SETTINGS), "changed": self.settings.changed},
            "projects": (self.manifest or {}).get("projects", []),
        }


def user_home() -> Path | None:
    home = os.environ.get("HOME")
    return Path(home) if home and Path(home).is_dir() else None


def read_relay_manifest(home: Path) -> dict[str, Any]:
    try:
        data = loads_strict((home / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else {}


def _projects(manifest: dict[str, Any]) -> list[str]:
    """The projects the manifest lists that still have aether's Claude Code install."""
    listed = manifest.get("projects")
    return [
        p
        for p in (listed if isinstance(listed, list) else [])
        if isinstance(p, str) and (Path(p) / ".aether" / "claude-install.json").is_file()
    ]


def plan_relay_install(ws: Workspace, home: Path, *, force: bool) -> RelayPlan:
    """What installing (or refreshing) the relay for ``ws`` would change; raises before
    anything is written when the user's settings file cannot be merged into."""
    where = Workspace(home)
    manifest = read_relay_manifest(home)
    current = read_settings(where, SETTINGS)  # refuses a symlink or malformed JSON
    script_now = read_text_file(home / cs.RELAY_RELATIVE_PATH)
    script = file_action(
        cs.RELAY_RELATIVE_PATH, script_now, relay.render(installed_aether()), force
    )
    if script.action == "update" and script_now is not None and _same_relay(script_now):
        script = FileAction(cs.RELAY_RELATIVE_PATH, "unchanged", "pinned by another install")
    after = cs.with_aether_hooks(current.data, relay=True)
    change = SettingsChange(SETTINGS, current.text, text_or_same(current, after))
    first = not manifest
    new_manifest = {
        "format": MANIFEST_FORMAT,
        "projects": sorted({*_projects(manifest), str(ws.project)}),
        "original_settings": current.text if first else manifest.get("original_settings"),
        "created_settings": (not current.exists) if first else manifest.get("created_settings"),
        "created_dirs": [d for d in DIRS if not (home / d).exists()]
        if first
        else manifest.get("created_dirs", []),
        "installed_at": manifest.get("installed_at") or iso(),
    }
    return RelayPlan(home, script, change, new_manifest)


def relay_for_install(ws: Workspace, *, force: bool, wanted: bool) -> tuple[RelayPlan | None, str]:
    """The relay's part of an install, or why there is none."""
    if not wanted:
        return None, (
            "no relay (--no-relay): a Claude Code session started below the project's top "
            "directory does not load .claude/settings.json and runs aether subagents unrouted"
        )
    home = user_home()
    if home is None:
        return None, "no relay: $HOME is not set or not a directory"
    relay_plan = plan_relay_install(ws, home, force=force)
    if relay_plan.script.action == "kept":
        return relay_plan, f"~/{relay_plan.script.path} kept: {relay_plan.script.detail}"
    return relay_plan, ""


def _same_relay(text: str) -> bool:
    """A relay aether wrote and nobody edited (perhaps pinning another aether): in sync."""
    return ownership(text).owner == "aether"


def plan_relay_removal(ws: Workspace, home: Path, *, force: bool) -> RelayPlan | None:
    """What uninstalling ``ws`` does to the relay: nothing while another project still uses
    it (only the manifest's list changes); otherwise everything goes."""
    manifest = read_relay_manifest(home)
    if not manifest:
        return None
    where = Workspace(home)
    current = read_settings(where, SETTINGS)
    remaining = [p for p in _projects(manifest) if p != str(ws.project)]
    script_now = read_text_file(home / cs.RELAY_RELATIVE_PATH)
    if remaining:
        same = SettingsChange(SETTINGS, current.text, current.text)
        keep = FileAction(cs.RELAY_RELATIVE_PATH, "unchanged", "used by other projects")
        return RelayPlan(home, keep, same, {**manifest, "projects": remaining})
    script = file_action(cs.RELAY_RELATIVE_PATH, script_now, None, force)
    left = cs.without_aether_hooks(current.data, relay=True)
    return RelayPlan(home, script, _leftover(current, left, manifest), None)


def _leftover(
    current: SettingsFile, data: dict[str, Any], manifest: dict[str, Any]
) -> SettingsChange:
    """The settings file with the relay's entries out: its original bytes when that is what
    remains, deleted when aether created it and nothing else is in it."""
    from aether.ops.runtime_files import without_empty

    if not current.exists:
        return SettingsChange(SETTINGS, None, None)
    original = manifest.get("original_settings")
    if isinstance(original, str):
        try:
            if without_empty(loads_strict(original)) == without_empty(data):
                return SettingsChange(SETTINGS, current.text, original)
        except ValueError:
            pass
    if manifest.get("created_settings") and not without_empty(data):
        return SettingsChange(SETTINGS, current.text, None)
    return SettingsChange(SETTINGS, current.text, text_or_same(current, data))


def apply_relay(plan: RelayPlan) -> None:
    """Carry the plan out under the relay's lock: manifest first (what uninstall needs), then
    the script, then the settings; a removal last takes the directories it created."""
    from filelock import FileLock
    from filelock import Timeout as FileLockTimeout

    home = plan.home
    try:
        (home / ".claude").mkdir(exist_ok=True)
        lock = FileLock(str(home / (MANIFEST + ".lock")), timeout=LOCK_TIMEOUT_S)
        lock.acquire()
    except FileLockTimeout:
        raise LockTimeout(
            f"{home / MANIFEST} is locked by another aether install",
            fix="wait for it to finish, then run the command again",
        ) from None
    except OSError as exc:
        raise os_error(exc, home / ".claude", "creating") from None
    created = read_relay_manifest(home).get("created_dirs") or []
    try:
        _write(plan)
    finally:
        lock.release()
    if plan.manifest is None:
        remove_file(home / (MANIFEST + ".lock"))
        for rel in reversed(DIRS):
            if rel in created:
                try:
                    (home / rel).rmdir()  # only when empty
                except OSError:
                    pass


def _write(plan: RelayPlan) -> None:
    home = plan.home
    old_manifest = read_relay_manifest(home)
    if plan.manifest is not None and plan.manifest != old_manifest:
        atomic_write_bytes(home / MANIFEST, canonical_json(plan.manifest).encode(), mode=0o600)
    script = home / cs.RELAY_RELATIVE_PATH
    if plan.script.action in ("create", "update"):
        assert plan.script.content is not None
        try:
            script.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, script.parent, "creating") from None
        atomic_write_bytes(script, plan.script.content.encode("utf-8"), mode=0o755)
    elif plan.script.action == "remove":
        remove_file(script)
    change = plan.settings
    if change.changed:
        if change.after is None:
            remove_file(home / SETTINGS)
        else:
            atomic_write_bytes(home / SETTINGS, change.after.encode("utf-8"))
    if plan.manifest is None:
        remove_file(home / MANIFEST)


def relay_differences(home: Path) -> list[str]:
    """What ``aether claude check`` and doctor say about the relay ([] when in sync)."""
    try:
        current = read_settings(Workspace(home), SETTINGS)
        script = read_text_file(home / cs.RELAY_RELATIVE_PATH)
    except AetherError as exc:  # a settings file aether cannot read is reported, not raised
        return [f"~/{SETTINGS}: {exc.what}"]
    out: list[str] = []
    if script is None:
        out.append(f"~/{cs.RELAY_RELATIVE_PATH}: missing")
    elif not _same_relay(script):
        out.append(f"~/{cs.RELAY_RELATIVE_PATH}: not aether's (edited or foreign)")
    elif not os.access(home / cs.RELAY_RELATIVE_PATH, os.X_OK):
        out.append(f"~/{cs.RELAY_RELATIVE_PATH}: not executable")
    if not cs.hooks_match(current.data, relay=True):
        out.append(f"~/{SETTINGS}: the relay's hook entries are missing or differ")
    return out
