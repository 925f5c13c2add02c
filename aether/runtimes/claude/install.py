"""``aether claude install | check | uninstall``: a project set up for Claude Code.

What install writes (docs/claude-code.md):

* ``.claude/agents/aether-<caste>.md`` and its routed variants (``aether.runtimes.claude.agents``);
* ``.claude/hooks/aether-hook``, the launcher every hook entry runs (``...claude.launcher``);
* aether's hook entries, and the proxy alignment ``env`` block when the profile routes through a
  proxy, merged into ``.claude/settings.json`` (``settings.local.json`` with ``--local``);
* ``.aether/claude-install.json``, the manifest: which settings file holds aether's entries,
  which ``env`` values aether set (and what they were before), and the backup of the settings
  file as it was before aether first touched it — what ``uninstall`` restores byte for byte.

Every write is atomic; a settings file is copied to ``.aether/data/backups/claude/`` before it
is changed. Nothing is written when a settings file is not valid JSON. A file aether did not
write, or one it wrote and someone edited, is never replaced or removed without ``--force``.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from aether import activity
from aether.files import atomic_write_bytes, atomic_write_json, os_error, remove_file
from aether.ops.runtime_files import (
    FileAction,
    apply_file,
    backup,
    file_action,
    read_text_file,
    refuse_read_only,
    ws_exists,
)
from aether.records import field, record
from aether.runtimes.claude import launcher
from aether.runtimes.claude import settings as cs
from aether.runtimes.claude.files import (
    CLAUDE_DIRS,
    LOCAL_SETTINGS,
    SHARED_SETTINGS,
    backups_dir,
    directories,
    installed_aether,
    manifest_path,
    owned_agent_files,
    read_manifest,
    require_installed,
    which_aether,
)
from aether.runtimes.claude.plan import Plan, SettingsChange, plan_install, settings_removal
from aether.runtimes.claude.relay_install import (
    RelayPlan,
    apply_relay,
    plan_relay_removal,
    read_relay_manifest,
    relay_for_install,
    user_home,
)
from aether.runtimes.marker import ownership
from aether.workspace import Workspace

#: the launcher must be executable; agent files and settings are plain files
EXECUTABLE = 0o755

# --- writing -----------------------------------------------------------------------------------


def _mode_of(action: FileAction) -> int:
    """The launcher is a program; the definitions and settings are plain files."""
    return EXECUTABLE if action.path == launcher.RELATIVE_PATH else 0o644


def _back_up_settings(
    ws: Workspace, changes: list[SettingsChange], manifest: dict[str, Any]
) -> None:
    """Copy every settings file about to change; the first copy of the manifest's file taken
    before aether's entries were in it is what ``uninstall`` can restore byte for byte."""
    for change in changes:
        if not change.changed or change.before is None:
            continue
        copy = backup(ws, backups_dir(ws), change.rel, change.before.encode("utf-8"))
        pristine = not cs.aether_groups(cs.parse_settings(change.before, change.rel))
        if change.rel == manifest.get("settings") and pristine:
            manifest.setdefault("original_backup", None)
            manifest["original_backup"] = manifest["original_backup"] or copy


def _write_settings(ws: Workspace, change: SettingsChange) -> None:
    if not change.changed:
        return
    path = ws.project / change.rel
    if change.after is None:
        remove_file(path)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode)  # the user's file keeps its mode (0444 too)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise os_error(exc, path.parent, "creating") from None
    data = change.after.encode("utf-8")
    if mode is None:
        atomic_write_bytes(path, data)
    else:
        atomic_write_bytes(path, data, mode=mode, umask=False)


def _refuse_read_only(
    ws: Workspace, files: list[FileAction], settings: list[SettingsChange]
) -> None:
    """Before anything is written, every directory a write lands in must take it: a read-only
    ``.claude/`` used to fail after the manifest and the backups were written."""
    targets = [ws.project / f.path for f in files if f.action in ("create", "update", "remove")]
    targets += [ws.project / c.rel for c in settings if c.changed]
    if targets:
        targets += [manifest_path(ws), backups_dir(ws) / "backup"]
    refuse_read_only(targets)


# --- install -----------------------------------------------------------------------------------


@record
class InstallResult:
    ws: Workspace
    plan: Plan
    dry_run: bool
    warnings: list[str] = field(default_factory=list)
    hook_runs: str | None = None
    #: the user-level relay for sessions started below the project's top (None: not asked)
    relay: RelayPlan | None = None

    @property
    def changed(self) -> bool:
        return (
            any(f.action not in ("unchanged", "kept") for f in self.plan.files)
            or any(c.changed for c in self.plan.settings)
            or (self.relay is not None and self.relay.changed)
        )

    def to_json(self) -> dict[str, Any]:
        want = self.plan.desired
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "profile_hash": want.profile_hash,
            "settings_file": want.settings_file,
            "files": [f.to_json() for f in self.plan.files],
            "kept": [f.path for f in self.plan.files if f.action == "kept"],
            "settings": [
                {"path": c.rel, "changed": c.changed, "diff": c.diff()} for c in self.plan.settings
            ],
            "env": want.env,
            "hook_runs": self.hook_runs,
            "relay": self.relay.to_json() if self.relay is not None else None,
            "warnings": self.warnings,
        }


def install(
    ws: Workspace,
    *,
    local: bool = False,
    force: bool = False,
    dry_run: bool = False,
    relay: bool = True,
    lock_timeout: float | None = None,
) -> InstallResult:
    from aether.state.lock import colony_lock

    ws_exists(ws)
    with colony_lock(ws, lock_timeout=lock_timeout, writes_into=directories(ws)):
        plan = plan_install(ws, local=local, force=force)
        # planned before anything is written: a user settings file that cannot be merged
        # into refuses the whole install
        relay_plan, relay_warning = relay_for_install(ws, force=force, wanted=relay)
        result = InstallResult(ws, plan, dry_run, warnings=list(plan.env_conflicts))
        result.relay = relay_plan
        result.warnings += [relay_warning] if relay_warning else []
        result.warnings += [f"{f.path} kept: {f.detail}" for f in plan.files if f.action == "kept"]
        result.warnings += _timeout_warnings(ws)
        if dry_run:
            return result
        _refuse_read_only(ws, plan.files, plan.settings)
        # backups and the manifest first: a failure part-way leaves what uninstall needs
        _back_up_settings(ws, plan.settings, plan.manifest)
        if plan.manifest != read_manifest(ws):
            atomic_write_json(manifest_path(ws), plan.manifest)
        for action in plan.files:
            if action.action in ("create", "update", "remove"):
                apply_file(ws, action, backups_dir(ws), _mode_of(action))
        for change in plan.settings:
            _write_settings(ws, change)
        if relay_plan is not None and (
            relay_plan.changed or relay_plan.manifest != read_relay_manifest(relay_plan.home)
        ):
            apply_relay(relay_plan)
    result.hook_runs = which_aether(ws)
    result.warnings += _resolution_warnings(result.hook_runs, local)
    if result.changed:
        activity.log(
            ws,
            "claude_install",
            settings=plan.desired.settings_file,
            profile_hash=plan.desired.profile_hash,
            kept=[f.path for f in plan.files if f.action == "kept"],
        )
    return result


def _timeout_warnings(ws: Workspace) -> list[str]:
    """pre-agent's settings timeout against the longest verification the profile allows."""
    from aether.routing.fallback import MAX_MODELS
    from aether.routing.loader import load_profile_file

    proxy = load_profile_file(ws.profile_file, ws.cache_dir).table.proxy
    worst = 3 * proxy.connect_s + MAX_MODELS * proxy.attempt_s
    if proxy.standalone or worst < cs.PRE_AGENT_TIMEOUT_S - 10:
        return []
    return [
        f"verifying a spawn can take up to {worst:g} s with this profile's timeouts "
        f"(3 × connect_s + {MAX_MODELS} × attempt_s), longer than the pre-agent hook's "
        f"{cs.PRE_AGENT_TIMEOUT_S} s: lower timeouts.attempt_s"
    ]


def _resolution_warnings(runs: str | None, local: bool) -> list[str]:
    mine = installed_aether()
    if runs is None:
        return [
            "the hooks will not find aether from Claude Code with this environment: export "
            "AETHER_BIN=/path/to/aether, or run `aether claude install --local` to pin this "
            "one in .claude/settings.local.json"
        ]
    if mine and os.path.realpath(runs) != os.path.realpath(mine) and not local:
        return [
            f"the hooks will run {runs}, not this aether ({mine}): run `aether claude "
            "install --local` to pin this one, or export AETHER_BIN"
        ]
    return []


# --- uninstall ---------------------------------------------------------------------------------


@record
class UninstallResult:
    ws: Workspace
    files: list[FileAction]
    settings: list[SettingsChange]
    dry_run: bool
    restored: list[str] = field(default_factory=list)
    relay: RelayPlan | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "relay": self.relay.to_json() if self.relay is not None else None,
            "files": [f.to_json() for f in self.files],
            "kept": [f.path for f in self.files if f.action == "kept"],
            "settings": [
                {"path": c.rel, "changed": c.changed, "deleted": c.after is None}
                for c in self.settings
            ],
            "restored_from_backup": self.restored,
        }


def uninstall(
    ws: Workspace,
    *,
    force: bool = False,
    dry_run: bool = False,
    lock_timeout: float | None = None,
) -> UninstallResult:
    from aether.state.lock import colony_lock

    ws_exists(ws)
    with colony_lock(ws, lock_timeout=lock_timeout, writes_into=directories(ws)):
        require_installed(ws)
        manifest = read_manifest(ws)
        restored: list[str] = []
        changes = [
            c
            for rel in (SHARED_SETTINGS, LOCAL_SETTINGS)
            if (c := settings_removal(ws, rel, manifest, restored)) is not None
        ]
        owned = owned_agent_files(ws)
        script = read_text_file(ws.project / launcher.RELATIVE_PATH)
        if script is not None and ownership(script).owner != "user":
            owned[launcher.RELATIVE_PATH] = script
        files = [file_action(rel, text, None, force) for rel, text in owned.items()]
        home = user_home()
        relay_plan = plan_relay_removal(ws, home, force=force) if home is not None else None
        result = UninstallResult(ws, files, changes, dry_run, restored, relay_plan)
        if dry_run:
            return result
        _refuse_read_only(ws, files, changes)
        # the settings first: hooks without their definitions would refuse every spawn
        _back_up_settings(ws, changes, {})
        for change in changes:
            _write_settings(ws, change)
        for action in files:
            if action.action == "remove":
                apply_file(ws, action, backups_dir(ws), _mode_of(action))
        _remove_empty_dirs(ws, manifest)
        remove_file(manifest_path(ws))
        if relay_plan is not None:
            apply_relay(relay_plan)
    activity.log(ws, "claude_uninstall", kept=[f.path for f in files if f.action == "kept"])
    return result


def _remove_empty_dirs(ws: Workspace, manifest: dict[str, Any]) -> None:
    """The directories aether created go again, when nothing else is in them."""
    created = manifest.get("created_dirs")
    for rel in reversed(CLAUDE_DIRS):
        if isinstance(created, list) and rel in created:
            try:
                (ws.project / rel).rmdir()  # only when empty
            except OSError:
                pass
