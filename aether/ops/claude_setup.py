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

import difflib
import os
import sys
from pathlib import Path
from typing import Any

from aether import activity
from aether.errors import AetherError, RuntimeNotInstalled
from aether.files import atomic_write_bytes, atomic_write_json, loads_strict, os_error
from aether.records import field, record
from aether.routing.table import RoutingTable
from aether.runtimes.claude import agents, launcher
from aether.runtimes.claude import settings as cs
from aether.runtimes.marker import ownership
from aether.timeutil import iso
from aether.workspace import Workspace

SHARED_SETTINGS = ".claude/settings.json"
LOCAL_SETTINGS = ".claude/settings.local.json"
AGENTS_DIR = ".claude/agents"
MANIFEST_FORMAT = 1
#: the launcher must be executable; agent files and settings are plain files
EXECUTABLE = 0o755


def manifest_path(ws: Workspace) -> Path:
    return ws.root / "claude-install.json"


def backups_dir(ws: Workspace) -> Path:
    return ws.backups_dir / "claude"


# --- what the profile calls for ----------------------------------------------------------------


@record
class Desired:
    profile_hash: str
    table: RoutingTable
    files: dict[str, str]  # project-relative path -> content
    env: dict[str, str]
    settings_file: str
    endpoint: str | None


def installed_aether() -> str | None:
    """The aether command running now (what ``--local`` pins as AETHER_BIN)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "aether" and argv0.is_file():
        return str(argv0.absolute())
    beside = Path(sys.executable).parent / "aether"
    return str(beside) if beside.is_file() else None


def desired(ws: Workspace, *, local: bool) -> Desired:
    from aether.ops.proxy_settings import ProxySettings
    from aether.routing.loader import load_profile_file

    loaded = load_profile_file(ws.profile_file, ws.cache_dir)
    table = loaded.table
    proxy = ProxySettings.from_dump(loaded.dump)
    files = {
        f"{AGENTS_DIR}/{d.filename}": agents.render(d, table.profile_hash)
        for d in agents.definitions(table)
    }
    files[launcher.RELATIVE_PATH] = launcher.render()
    env = {} if proxy.standalone else cs.proxy_env(table, proxy.endpoint)
    if local:
        pinned = installed_aether()
        if pinned:
            env[cs.AETHER_BIN_VARIABLE] = pinned
    return Desired(
        profile_hash=table.profile_hash,
        table=table,
        files=files,
        env=env,
        settings_file=LOCAL_SETTINGS if local else SHARED_SETTINGS,
        endpoint=None if proxy.standalone else proxy.endpoint,
    )


# --- reading what is there ---------------------------------------------------------------------


def _read_text(path: Path) -> str | None:
    if path.is_symlink():
        from aether.errors import UnsafePath

        raise UnsafePath(
            f"{path} is a symbolic link",
            meaning="aether does not read or write through links; nothing was changed",
            fix="replace the link with a regular file",
        )
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return "\0not utf-8"  # never equal to anything aether writes; ownership is "user"
    except OSError as exc:
        raise os_error(exc, path, "reading") from None


@record
class SettingsFile:
    rel: str
    text: str | None
    data: dict[str, Any]

    @property
    def exists(self) -> bool:
        return self.text is not None


def read_settings(ws: Workspace, rel: str) -> SettingsFile:
    text = _read_text(ws.project / rel)
    if text is None:
        return SettingsFile(rel, None, {})
    return SettingsFile(rel, text, cs.parse_settings(text, rel))


def read_manifest(ws: Workspace) -> dict[str, Any]:
    try:
        data = loads_strict(manifest_path(ws).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else {}


def owned_agent_files(ws: Workspace) -> dict[str, str]:
    """Every ``aether-*.md`` under .claude/agents that carries aether's marker -> its text."""
    directory = ws.project / AGENTS_DIR
    found: dict[str, str] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob(f"{agents.PREFIX}*.md")):
        text = _read_text(path)
        if text is not None and ownership(text).owner != "user":
            found[f"{AGENTS_DIR}/{path.name}"] = text
    return found


# --- the plan ----------------------------------------------------------------------------------


@record
class FileAction:
    path: str
    action: str  # create | update | unchanged | remove | kept
    detail: str = ""
    content: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "action": self.action, "detail": self.detail}


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


def _file_action(rel: str, current: str | None, wanted: str | None, force: bool) -> FileAction:
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
        return FileAction(rel, verb, detail, content=wanted)
    why = f"{_whose(owner)}; --force {'removes' if wanted is None else 'replaces'} it"
    return FileAction(rel, "kept", why)


def _whose(owner: str) -> str:
    return "aether wrote and someone edited" if owner == "edited" else "aether did not write"


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


def plan_install(ws: Workspace, *, local: bool, force: bool) -> Plan:
    want = desired(ws, local=local)
    manifest = read_manifest(ws)
    target = read_settings(ws, want.settings_file)
    other_rel = SHARED_SETTINGS if local else LOCAL_SETTINGS
    other = read_settings(ws, other_rel)
    files = [
        _file_action(rel, _read_text(ws.project / rel), text, force)
        for rel, text in want.files.items()
    ]
    files += [
        _file_action(rel, text, None, force)
        for rel, text in owned_agent_files(ws).items()
        if rel not in want.files
    ]
    to_set, previous, conflicts = _env_plan(target.data, want.env, manifest, force)
    after = cs.with_aether_hooks(cs.with_env(target.data, to_set))
    if manifest.get("settings") == target.rel:
        # values aether set earlier that the profile no longer calls for go back
        stale = {k: v for k, v in (manifest.get("env") or {}).items() if k not in want.env}
        after = _restore_env(after, {**manifest, "env": stale})
    changes = [SettingsChange(target.rel, target.text, _text_or_same(target, after))]
    if other.exists and (cs.aether_groups(other.data) or manifest.get("settings") == other_rel):
        # aether's entries move to the target file
        moved = cs.without_aether_hooks(other.data)
        if manifest.get("settings") == other_rel:
            moved = _restore_env(moved, manifest)
        left = _leftover_text(ws, other, moved, manifest, [])
        changes.append(SettingsChange(other_rel, other.text, left))
    new_manifest = _manifest(ws, manifest, want, target, to_set, previous)
    return Plan(want, files, changes, new_manifest, conflicts)


def _text_or_same(current: SettingsFile, data: dict[str, Any]) -> str | None:
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
        "created_claude_dir": old.get("created_claude_dir", not (ws.project / ".claude").exists()),
        "original_backup": kept.get("original_backup"),
        "installed_at": kept.get("installed_at") or iso(),
    }


# --- writing -----------------------------------------------------------------------------------


def _backup(ws: Workspace, rel: str, text: str) -> str:
    directory = backups_dir(ws)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = iso().replace(":", "").replace("-", "")
    target = directory / f"{Path(rel).name}.{stamp}.{os.urandom(2).hex()}"
    atomic_write_bytes(target, text.encode("utf-8"), mode=0o600)
    return str(target.relative_to(ws.project))


def _apply_file(ws: Workspace, action: FileAction) -> None:
    path = ws.project / action.path
    if action.action == "remove":
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise os_error(exc, path, "removing") from None
        return
    assert action.content is not None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, path.parent, "creating") from None
    mode = EXECUTABLE if action.path == launcher.RELATIVE_PATH else 0o644
    atomic_write_bytes(path, action.content.encode("utf-8"), mode=mode)


def _apply_settings(ws: Workspace, change: SettingsChange, manifest: dict[str, Any]) -> None:
    if not change.changed:
        return
    path = ws.project / change.rel
    if change.before is not None:
        backup = _backup(ws, change.rel, change.before)
        pristine = not cs.aether_groups(cs.parse_settings(change.before, change.rel))
        if (
            change.rel == manifest.get("settings")
            and pristine
            and not manifest.get("original_backup")
        ):
            manifest["original_backup"] = backup
    if change.after is None:
        try:
            path.unlink()
        except OSError as exc:
            raise os_error(exc, path, "removing") from None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, change.after.encode("utf-8"))


# --- install -----------------------------------------------------------------------------------


@record
class InstallResult:
    ws: Workspace
    plan: Plan
    dry_run: bool
    warnings: list[str] = field(default_factory=list)
    hook_runs: str | None = None

    @property
    def changed(self) -> bool:
        return any(f.action not in ("unchanged", "kept") for f in self.plan.files) or any(
            c.changed for c in self.plan.settings
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
            "warnings": self.warnings,
        }


def install(
    ws: Workspace,
    *,
    local: bool = False,
    force: bool = False,
    dry_run: bool = False,
    lock_timeout: float | None = None,
) -> InstallResult:
    from aether.state.lock import colony_lock

    ws_exists(ws)
    with colony_lock(ws, lock_timeout=lock_timeout):
        plan = plan_install(ws, local=local, force=force)
        result = InstallResult(ws, plan, dry_run, warnings=list(plan.env_conflicts))
        result.warnings += [f"{f.path} kept: {f.detail}" for f in plan.files if f.action == "kept"]
        if dry_run:
            return result
        for action in plan.files:
            if action.action in ("create", "update", "remove"):
                _apply_file(ws, action)
        for change in plan.settings:
            _apply_settings(ws, change, plan.manifest)
        atomic_write_json(manifest_path(ws), plan.manifest)
    result.hook_runs = which_aether(ws)
    result.warnings += _resolution_warnings(result.hook_runs, local)
    activity.log(
        ws,
        "claude_install",
        settings=plan.desired.settings_file,
        profile_hash=plan.desired.profile_hash,
        changed=result.changed,
        kept=[f.path for f in plan.files if f.action == "kept"],
    )
    return result


def ws_exists(ws: Workspace) -> None:
    if not ws.exists():
        from aether.errors import NoColony

        raise NoColony(
            f"no colony in {ws.project}", fix='create one with `aether init "GOAL"` first'
        )


def which_aether(ws: Workspace) -> str | None:
    """What the launcher would run, asked of the launcher itself (``--which``)."""
    import subprocess

    script = ws.project / launcher.RELATIVE_PATH
    if not script.is_file():
        return None
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(ws.project)}
    env.update(_settings_env(ws))
    try:
        done = subprocess.run(
            ["/bin/sh", str(script), "--which"],
            capture_output=True,
            text=True,
            env=env,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = done.stdout.strip()
    return found if done.returncode == 0 and found else None


def _settings_env(ws: Workspace) -> dict[str, str]:
    """The ``env`` blocks Claude Code would apply (shared, then local), for ``--which``."""
    env: dict[str, str] = {}
    for rel in (SHARED_SETTINGS, LOCAL_SETTINGS):
        try:
            env.update(read_settings(ws, rel).data.get("env") or {})
        except AetherError:
            continue
    return env


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


# --- check -------------------------------------------------------------------------------------


@record
class CheckResult:
    ws: Workspace
    differences: list[str]
    settings_file: str
    profile_hash: str

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "settings_file": self.settings_file,
            "profile_hash": self.profile_hash,
            "differences": self.differences,
        }


def installed_settings_file(ws: Workspace) -> str | None:
    """Where aether's hooks live: the manifest's word, else the file that holds them."""
    manifest = read_manifest(ws)
    if manifest.get("settings") in (SHARED_SETTINGS, LOCAL_SETTINGS):
        return str(manifest["settings"])
    for rel in (SHARED_SETTINGS, LOCAL_SETTINGS):
        try:
            if cs.aether_groups(read_settings(ws, rel).data):
                return rel
        except AetherError:
            continue
    return None


def check(ws: Workspace) -> CheckResult:
    ws_exists(ws)
    rel = installed_settings_file(ws)
    local = rel == LOCAL_SETTINGS
    plan = plan_install(ws, local=local, force=False)
    diffs: list[str] = []
    if rel is None and not owned_agent_files(ws):
        diffs.append("not installed: run `aether claude install`")
    for f in plan.files:
        if f.action == "create":
            diffs.append(f"{f.path}: missing")
        elif f.action == "update":
            diffs.append(f"{f.path}: differs from what the profile calls for")
        elif f.action == "remove":
            diffs.append(f"{f.path}: no longer called for by the profile")
        elif f.action == "kept":
            diffs.append(f"{f.path}: {f.detail.split(';')[0]}")
    script = ws.project / launcher.RELATIVE_PATH
    if script.is_file() and not os.access(script, os.X_OK):
        diffs.append(f"{launcher.RELATIVE_PATH}: not executable")
    for change in plan.settings:
        if change.changed:
            diffs.append(f"{change.rel}: aether's hooks or env entries differ")
    diffs += [f"{plan.desired.settings_file}: {c}" for c in plan.env_conflicts]
    return CheckResult(ws, diffs, plan.desired.settings_file, plan.desired.profile_hash)


def require_installed(ws: Workspace) -> None:
    if installed_settings_file(ws) is None and not owned_agent_files(ws):
        raise RuntimeNotInstalled(
            f"aether's Claude Code integration is not installed in {ws.project}",
            fix="run `aether claude install`",
        )


# --- uninstall ---------------------------------------------------------------------------------


@record
class UninstallResult:
    ws: Workspace
    files: list[FileAction]
    settings: list[SettingsChange]
    dry_run: bool
    restored: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "files": [f.to_json() for f in self.files],
            "kept": [f.path for f in self.files if f.action == "kept"],
            "settings": [
                {"path": c.rel, "changed": c.changed, "deleted": c.after is None}
                for c in self.settings
            ],
            "restored_from_backup": self.restored,
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
    except AetherError:
        return {}
    return {"env": want.env, "env_previous": {}}


def _pristine_text(ws: Workspace, manifest: dict[str, Any], data: dict[str, Any]) -> str | None:
    """The original file's bytes, when what is left equals it (so uninstall restores it
    byte for byte); None otherwise."""
    backup = manifest.get("original_backup")
    if not isinstance(backup, str):
        return None
    try:
        text = (ws.project / backup).read_text(encoding="utf-8")
        original = loads_strict(text)
    except (OSError, ValueError):
        return None
    return text if _without_empty(original) == _without_empty(data) else None


def _without_empty(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ({}, [])}
    if isinstance(value, list):
        return [_without_empty(v) for v in value]
    return value


def _settings_removal(
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
        if manifest.get("created_settings") and not _without_empty(data):
            return None
    return _text_or_same(current, data)


def uninstall(
    ws: Workspace,
    *,
    force: bool = False,
    dry_run: bool = False,
    lock_timeout: float | None = None,
) -> UninstallResult:
    from aether.state.lock import colony_lock

    ws_exists(ws)
    with colony_lock(ws, lock_timeout=lock_timeout):
        require_installed(ws)
        manifest = read_manifest(ws)
        restored: list[str] = []
        changes = [
            c
            for rel in (SHARED_SETTINGS, LOCAL_SETTINGS)
            if (c := _settings_removal(ws, rel, manifest, restored)) is not None
        ]
        owned = owned_agent_files(ws)
        script = _read_text(ws.project / launcher.RELATIVE_PATH)
        if script is not None and ownership(script).owner != "user":
            owned[launcher.RELATIVE_PATH] = script
        files = [_file_action(rel, text, None, force) for rel, text in owned.items()]
        result = UninstallResult(ws, files, changes, dry_run, restored)
        if dry_run:
            return result
        for action in files:
            if action.action == "remove":
                _apply_file(ws, action)
        for change in changes:
            _apply_settings(ws, change, {})
        _remove_empty_dirs(ws, manifest)
        try:
            manifest_path(ws).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise os_error(exc, manifest_path(ws), "removing") from None
    activity.log(ws, "claude_uninstall", kept=[f.path for f in files if f.action == "kept"])
    return result


def _remove_empty_dirs(ws: Workspace, manifest: dict[str, Any]) -> None:
    """aether's own directories go when empty; .claude/ too when aether created it."""
    for rel in (
        ".claude/hooks",
        AGENTS_DIR,
        *([".claude"] if manifest.get("created_claude_dir") else []),
    ):
        try:
            (ws.project / rel).rmdir()  # only when empty
        except OSError:
            pass


def integration_models(ws: Workspace) -> set[str]:
    """Every model the installed definitions and env block name (for doctor)."""
    models: set[str] = set()
    for text in owned_agent_files(ws).values():
        model = agents.front_matter_model(text)
        if model:
            models.add(model)
    rel = installed_settings_file(ws)
    if rel is not None:
        try:
            env = read_settings(ws, rel).data.get("env") or {}
        except AetherError:
            env = {}
        models.update(v for k, v in env.items() if k in cs.TIER_VARIABLES.values())
    return models
