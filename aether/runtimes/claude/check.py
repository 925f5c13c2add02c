"""``aether claude check``: how the installed Claude Code files, hooks and relay differ from
what the profile calls for (exit 1 with the list; doctor reports the same)."""

from __future__ import annotations

import os
from typing import Any

from aether.ops.runtime_files import file_differences, ws_exists
from aether.records import record
from aether.runtimes.claude import launcher
from aether.runtimes.claude.files import LOCAL_SETTINGS, installed_settings_file, owned_agent_files
from aether.runtimes.claude.plan import plan_install
from aether.runtimes.claude.relay_install import read_relay_manifest, relay_differences, user_home
from aether.workspace import Workspace


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


def check(ws: Workspace) -> CheckResult:
    ws_exists(ws)
    rel = installed_settings_file(ws)
    local = rel == LOCAL_SETTINGS
    plan = plan_install(ws, local=local, force=False, checking=True)
    diffs: list[str] = []
    if rel is None and not owned_agent_files(ws):
        diffs.append("not installed: run `aether claude install`")
    diffs += file_differences(plan.files)
    script = ws.project / launcher.RELATIVE_PATH
    if script.is_file() and not os.access(script, os.X_OK):
        diffs.append(f"{launcher.RELATIVE_PATH}: not executable")
    for change in plan.settings:
        if change.changed:
            diffs.append(f"{change.rel}: aether's hooks or env entries differ")
    diffs += [f"{plan.desired.settings_file}: {c}" for c in plan.env_conflicts]
    home = user_home()
    if home is not None and str(ws.project) in read_relay_manifest(home).get("projects", []):
        diffs += relay_differences(home)
    return CheckResult(ws, diffs, plan.desired.settings_file, plan.desired.profile_hash)
