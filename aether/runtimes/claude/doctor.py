"""``aether doctor``'s checks of the Claude Code integration (when it is installed).

* ``claude``: the agent files, the launcher and the settings entries match the profile
  (``aether claude check``);
* ``claude hooks``: the launcher finds an aether to run, in this environment;
* ``claude models``: the proxy serves every model the definitions and the env block name;
* ``claude overrides``: nothing silently moves a caste to another model —
  ``CLAUDE_CODE_SUBAGENT_MODEL`` (and ``..._FORCE``) in the environment or a settings file, or
  an ``availableModels`` list that leaves out a caste's model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from aether.bounded_read import read_regular
from aether.errors import AetherError, ProfileProblem
from aether.health import Check
from aether.runtimes.claude import check as claude_check
from aether.runtimes.claude import files as claude_files
from aether.runtimes.claude import settings as cs
from aether.workspace import Workspace


def claude_checks(ws: Workspace, *, check_proxy: bool) -> list[Check]:
    try:
        installed = claude_files.installed_settings_file(ws) is not None or bool(
            claude_files.owned_agent_files(ws)
        )
    except AetherError as exc:
        return [Check("claude", "fail", exc.one_line())]
    if not installed:
        return [
            Check(
                "claude",
                "info",
                "not set up for Claude Code (`aether claude install` makes its subagents run "
                "on their castes' models)",
            )
        ]
    models = claude_files.integration_models(ws)
    return [
        _sync_check(ws),
        _launcher_check(ws),
        _relay_check(ws),
        _models_check(ws, models, check_proxy),
        _overrides_check(ws, models),
    ]


def _relay_check(ws: Workspace) -> Check:
    """The user-level relay that covers sessions started below the project's top."""
    from aether.runtimes.claude.relay_install import (
        read_relay_manifest,
        relay_differences,
        user_home,
    )

    home = user_home()
    if home is None:
        return Check("claude relay", "warning", "$HOME is not set: no relay can be checked")
    if str(ws.project) not in read_relay_manifest(home).get("projects", []):
        return Check(
            "claude relay",
            "warning",
            "no relay in ~/.claude for this project: a session started in a subdirectory runs "
            "aether subagents without aether's hooks (`aether claude install` adds it)",
        )
    problems = relay_differences(home)
    if problems:
        return Check("claude relay", "fail", "; ".join(problems))
    return Check("claude relay", "ok", "sessions started in a subdirectory are covered")


def _sync_check(ws: Workspace) -> Check:
    try:
        result = claude_check.check(ws)
    except AetherError as exc:
        return Check("claude", "fail", exc.one_line())
    if result.ok:
        return Check("claude", "ok", f"agents and hooks match profile {result.profile_hash}")
    return Check(
        "claude",
        "fail",
        f"{len(result.differences)} difference(s) from the profile; run `aether claude "
        "install`: " + "; ".join(result.differences[:5]),
        {"differences": result.differences},
    )


def _launcher_check(ws: Workspace) -> Check:
    runs = claude_files.which_aether(ws)
    if runs is None:
        return Check(
            "claude hooks",
            "fail",
            ".claude/hooks/aether-hook finds no aether in this environment: hooks do nothing "
            "and aether subagents are refused (set AETHER_BIN or run `aether claude install "
            "--local`)",
        )
    return Check("claude hooks", "ok", f"hooks run {runs}", {"aether": runs})


def _models_check(ws: Workspace, models: set[str], check_proxy: bool) -> Check:
    from aether import proxy, proxy_http
    from aether.routing.loader import load_profile_file

    if not check_proxy:
        return Check("claude models", "skipped", "--no-proxy")
    try:
        settings = load_profile_file(ws.profile_file, ws.cache_dir).table.proxy
    except ProfileProblem as exc:
        return Check("claude models", "skipped", f"no profile: {exc.what}")
    if settings.standalone:
        return Check("claude models", "skipped", "the profile does not route through a proxy")
    key = os.environ.get(settings.key_env, "")
    if not key.strip():
        return Check(
            "claude models",
            "warning",
            f"${settings.key_env} is not set: cannot ask the proxy which models it serves",
        )
    try:
        proxy.check_key(settings.key_env, key)
        endpoint = proxy_http.parse_endpoint(settings.endpoint, settings.endpoint_from)
        listed = proxy.list_models(endpoint, key, timeout=3)
    except AetherError as exc:
        return Check("claude models", "fail", exc.one_line())
    if not listed.ok:
        return Check("claude models", "fail", f"the proxy's model list: {listed.case}")
    missing = sorted(models - set(listed.served))
    if missing:
        return Check(
            "claude models",
            "fail",
            f"the proxy does not serve {', '.join(missing)}, named by the Claude Code set-up",
            {"missing": missing},
        )
    return Check("claude models", "ok", f"the proxy serves all {len(models)} models named")


def _settings_documents(ws: Workspace) -> list[tuple[str, dict[str, object]]]:
    """Every settings file Claude Code reads for this project that aether can see."""
    places = [
        (claude_files.SHARED_SETTINGS, ws.project / claude_files.SHARED_SETTINGS),
        (claude_files.LOCAL_SETTINGS, ws.project / claude_files.LOCAL_SETTINGS),
        ("~/.claude/settings.json", Path.home() / ".claude" / "settings.json"),
    ]
    found: list[tuple[str, dict[str, object]]] = []
    for label, path in places:
        try:
            data = json.loads(read_regular(path).decode("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            found.append((label, data))
    return found


def _overrides_check(ws: Workspace, models: set[str]) -> Check:
    findings = [
        f"the environment sets {name}={os.environ[name]!r}"
        for name in cs.OVERRIDE_VARIABLES
        if os.environ.get(name)
    ]
    for label, data in _settings_documents(ws):
        findings += cs.override_findings(data, label, models)
    if findings:
        return Check(
            "claude overrides",
            "fail",
            "castes may not run on their models: " + "; ".join(findings),
            {"findings": findings},
        )
    return Check("claude overrides", "ok", "nothing overrides the castes' models")
