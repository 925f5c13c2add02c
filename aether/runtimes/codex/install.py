"""``aether codex install | check | uninstall``: a project set up for the Codex CLI.

What install writes (docs/codex.md):

* ``.codex/agents/aether-<caste>.toml``, one per caste on the caste's model, and one carrier
  ``aether--<model>.toml`` per other model routing can give some caste
  (``aether.runtimes.codex.agents``);
* aether's hooks merged into ``.codex/hooks.json`` (the user's entries kept;
  ``aether.runtimes.codex.hooks_file``) and their launcher ``.codex/hooks/aether-hook``
  (``aether.runtimes.codex.launcher``);
* ``.aether/codex-install.json``, the manifest: the profile installed, the directories
  aether created (what ``uninstall`` removes again when they are empty), whether it created
  hooks.json or backed the user's up.

It writes nothing outside the project: the provider block for ``$CODEX_HOME/config.toml`` is
printed for the user to add, and ``check`` reads that file (read-only) to say whether it points
Codex at the profile's proxy and trusts the project. Every write is atomic; a file aether did
not write, or one it wrote and someone edited, is never replaced or removed without ``--force``
(and then backed up first).
"""

from __future__ import annotations

import os
from typing import Any

from aether import activity
from aether.files import atomic_write_json, remove_file
from aether.ops.runtime_files import (
    FileAction,
    apply_file,
    file_action,
    file_differences,
    refuse_read_only,
    ws_exists,
)
from aether.records import field, record
from aether.runtimes.codex.config import ConfigReport, codex_home, compare, provider_block
from aether.runtimes.codex.files import (
    CODEX_DIRS,
    Plan,
    backups_dir,
    directories,
    manifest_path,
    owned_agent_files,
    plan_install,
    read_manifest,
    refuse_malformed,
    require_installed,
)
from aether.runtimes.codex.hooks import HOOKS_FILE, LAUNCHER, trust_block, untrusted
from aether.runtimes.codex.hooks_file import HooksChange, apply_hooks, apply_removal, removal
from aether.workspace import Workspace


def _refuse_read_only(ws: Workspace, files: list[FileAction], *, hooks: bool = False) -> None:
    """Before anything is written, every directory a write lands in must take it."""
    targets = [ws.project / f.path for f in files if f.action in ("create", "update", "remove")]
    if hooks:
        targets.append(ws.project / HOOKS_FILE)
    if targets:
        targets += [manifest_path(ws), backups_dir(ws) / "backup"]
    refuse_read_only(targets)


@record
class HookTrust:
    """Which of aether's hooks ``$CODEX_HOME/config.toml`` trusts (Codex runs no untrusted
    project hook unless started with ``--dangerously-bypass-hook-trust``)."""

    config_path: str
    entries: list[tuple[str, str]]
    untrusted: list[str]

    @property
    def block(self) -> str:
        """The lines to add to config.toml for the hooks not trusted yet."""
        return trust_block([e for e in self.entries if e[0] in self.untrusted])

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config_path,
            "hooks": len(self.entries),
            "untrusted": self.untrusted,
        }


def hook_trust(ws: Workspace, hooks_text: str | None) -> HookTrust:
    """How config.toml trusts the aether hooks of ``hooks_text`` (hooks.json as it is, or as
    install writes it)."""
    from aether.runtimes.codex.config import read_config
    from aether.runtimes.codex.hooks import parse_hooks, trust_entries

    path = codex_home(os.environ) / "config.toml"
    hooks_path = str(ws.project / HOOKS_FILE)
    data = parse_hooks(hooks_text, hooks_path) if hooks_text is not None else {}
    entries = trust_entries(hooks_path, data)
    config, _problem = read_config(path)  # a config that cannot be read: said by compare()
    return HookTrust(str(path), entries, untrusted(config, entries))


def _config_report(plan: Plan) -> ConfigReport | None:
    want = plan.desired.provider
    if want is None:
        return None
    return compare(codex_home(os.environ) / "config.toml", want)


# --- install -----------------------------------------------------------------------------------


@record
class InstallResult:
    ws: Workspace
    plan: Plan
    dry_run: bool
    config: ConfigReport | None = None
    warnings: list[str] = field(default_factory=list)
    trust: HookTrust | None = None

    @property
    def changed(self) -> bool:
        return self.plan.changed

    @property
    def provider_block(self) -> str | None:
        want = self.plan.desired.provider
        return provider_block(want) if want is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "profile_hash": self.plan.desired.profile_hash,
            "files": [f.to_json() for f in self.plan.files] + [self.plan.hooks.to_json()],
            "kept": [f.path for f in self.plan.files if f.action == "kept"],
            "provider_block": self.provider_block,
            "codex_config": self.config.to_json() if self.config is not None else None,
            "hook_trust": self.trust.to_json() if self.trust is not None else None,
            "trust_block": self.trust.block if self.trust and self.trust.untrusted else None,
            "warnings": self.warnings,
        }


def install(
    ws: Workspace, *, force: bool = False, dry_run: bool = False, lock_timeout: float | None = None
) -> InstallResult:
    from aether.state.lock import colony_lock

    ws_exists(ws)
    with colony_lock(ws, lock_timeout=lock_timeout, writes_into=directories(ws)):
        plan = plan_install(ws, force=force)
        if not force:
            refuse_malformed(plan)
        result = InstallResult(ws, plan, dry_run, config=_config_report(plan))
        result.trust = hook_trust(ws, plan.hooks.after)
        result.warnings += [f"{f.path} kept: {f.detail}" for f in plan.files if f.action == "kept"]
        if plan.desired.provider is None:
            result.warnings.append(
                "the profile runs without a proxy (standalone): the agent files name the "
                "profile's models, which Codex's own provider must then know"
            )
        if dry_run:
            return result
        _refuse_read_only(ws, plan.files, hooks=plan.hooks.changed)
        if plan.hooks.changed:  # the original's backup is named in the manifest
            apply_hooks(ws, plan.hooks, plan.manifest, backups_dir(ws))
        if plan.manifest != read_manifest(ws):  # before the other files: what uninstall needs
            atomic_write_json(manifest_path(ws), plan.manifest)
        for action in plan.files:
            if action.action in ("create", "update", "remove"):
                mode = 0o755 if action.path == LAUNCHER else 0o644
                apply_file(ws, action, backups_dir(ws), mode)
    if result.changed:
        activity.log(
            ws,
            "codex_install",
            profile_hash=plan.desired.profile_hash,
            kept=[f.path for f in plan.files if f.action == "kept"],
        )
    return result


# --- check -------------------------------------------------------------------------------------


@record
class CheckResult:
    ws: Workspace
    differences: list[str]
    profile_hash: str
    config: ConfigReport | None
    trust: HookTrust | None = None

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "profile_hash": self.profile_hash,
            "differences": self.differences,
            "codex_config": self.config.to_json() if self.config is not None else None,
            "hook_trust": self.trust.to_json() if self.trust is not None else None,
        }


def check(ws: Workspace) -> CheckResult:
    """How the project's agent files and ``$CODEX_HOME/config.toml`` differ from what the
    profile calls for. Writes nothing."""
    ws_exists(ws)
    plan = plan_install(ws, force=False)
    diffs: list[str] = []
    if not read_manifest(ws) and not owned_agent_files(ws):
        diffs.append("not installed: run `aether codex install`")
    diffs += file_differences(plan.files)
    diffs += plan.malformed
    if plan.hooks.changed:
        diffs.append(f"{HOOKS_FILE}: aether's hooks are missing or not as install writes them")
    config = _config_report(plan)
    if config is not None:
        diffs += config.differences
    trust = hook_trust(ws, plan.hooks.before)
    if trust.untrusted:
        diffs.append(
            f"{trust.config_path}: {len(trust.untrusted)} of aether's {len(trust.entries)} "
            "hooks not trusted (Codex runs none of them without "
            "--dangerously-bypass-hook-trust); `aether codex install` prints the lines to add"
        )
    return CheckResult(ws, diffs, plan.desired.profile_hash, config, trust)


# --- uninstall ---------------------------------------------------------------------------------


@record
class UninstallResult:
    ws: Workspace
    files: list[FileAction]
    dry_run: bool
    hooks: HooksChange | None = None

    def to_json(self) -> dict[str, Any]:
        hooks = [self.hooks.to_json()] if self.hooks is not None else []
        return {
            "ok": True,
            "dry_run": self.dry_run,
            "files": [f.to_json() for f in self.files] + hooks,
            "kept": [f.path for f in self.files if f.action == "kept"],
        }


def uninstall(
    ws: Workspace, *, force: bool = False, dry_run: bool = False, lock_timeout: float | None = None
) -> UninstallResult:
    """Remove what install wrote: aether's agent files (an edited one only with ``--force``),
    the directories it created when nothing else is in them, and its manifest."""
    from aether.state.lock import colony_lock

    ws_exists(ws)
    with colony_lock(ws, lock_timeout=lock_timeout, writes_into=directories(ws)):
        require_installed(ws)
        manifest = read_manifest(ws)
        files = [file_action(rel, text, None, force) for rel, text in owned_agent_files(ws).items()]
        hooks = removal(ws, manifest)
        result = UninstallResult(ws, files, dry_run, hooks)
        if dry_run:
            return result
        _refuse_read_only(ws, files, hooks=hooks is not None)
        if hooks is not None:
            apply_removal(ws, hooks)
        for action in files:
            if action.action == "remove":
                apply_file(ws, action, backups_dir(ws))
        created = manifest.get("created_dirs")
        for rel in reversed(CODEX_DIRS):
            if isinstance(created, list) and rel in created:
                try:
                    (ws.project / rel).rmdir()  # only when empty
                except OSError:
                    pass
        remove_file(manifest_path(ws))
    activity.log(ws, "codex_uninstall", kept=[f.path for f in files if f.action == "kept"])
    return result
