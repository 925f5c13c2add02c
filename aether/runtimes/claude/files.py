"""The project's Claude Code files as they are, and as the profile calls for them.

Reading only (plus running aether's own launcher to ask which aether it finds): the settings
files, aether's install manifest (``.aether/claude-install.json``), the definitions aether
wrote, and ``desired`` — every file and ``env`` value ``aether claude install`` would write for
the profile. ``aether.runtimes.claude.plan`` compares the two;
``aether.runtimes.claude.install`` writes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from aether.bounded_read import read_regular
from aether.errors import RuntimeNotInstalled, RuntimeProblem
from aether.json_text import loads_strict
from aether.ops.runtime_files import read_text_file, refuse_credentials_in
from aether.records import record
from aether.routing.table import RoutingTable
from aether.runtimes import definitions
from aether.runtimes.claude import agents, launcher
from aether.runtimes.claude import settings as cs
from aether.runtimes.marker import ownership
from aether.workspace import Workspace

SHARED_SETTINGS = ".claude/settings.json"
#: the directories aether writes into, deepest last; uninstall removes those it created
CLAUDE_DIRS = (".claude", ".claude/agents", ".claude/hooks")
LOCAL_SETTINGS = ".claude/settings.local.json"
AGENTS_DIR = ".claude/agents"
MANIFEST_FORMAT = 1


def manifest_path(ws: Workspace) -> Path:
    return ws.root / "claude-install.json"


def backups_dir(ws: Workspace) -> Path:
    return ws.backups_dir / "claude"


def directories(ws: Workspace) -> tuple[Path, ...]:
    """Every directory install and uninstall write into: none may be a link (a linked
    ``.claude`` is often the user's own ``~/.claude``), and a killed run's temp files are
    swept from them."""
    return (*(ws.project / rel for rel in CLAUDE_DIRS), backups_dir(ws))


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
    from aether.routing.loader import load_profile_file

    loaded = load_profile_file(ws.profile_file, ws.cache_dir)
    table = loaded.table
    proxy = loaded.table.proxy
    files = {
        f"{AGENTS_DIR}/{agents.filename(d)}": agents.render(d, table.profile_hash)
        for d in definitions.definitions(table)
    }
    files[launcher.RELATIVE_PATH] = launcher.render()
    if not proxy.standalone:
        where = "into .claude/settings*.json as ANTHROPIC_BASE_URL"
        refuse_credentials_in(proxy.endpoint, proxy.endpoint_source, where=where)
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


@record
class SettingsFile:
    rel: str
    text: str | None
    data: dict[str, Any]

    @property
    def exists(self) -> bool:
        return self.text is not None


def read_settings(ws: Workspace, rel: str) -> SettingsFile:
    text = read_text_file(ws.project / rel)
    if text is None:
        return SettingsFile(rel, None, {})
    return SettingsFile(rel, text, cs.parse_settings(text, rel))


def read_manifest(ws: Workspace) -> dict[str, Any]:
    try:
        data = loads_strict(read_regular(manifest_path(ws)).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else {}


def owned_agent_files(ws: Workspace) -> dict[str, str]:
    """Every ``aether-*.md`` under .claude/agents that carries aether's marker -> its text."""
    directory = ws.project / AGENTS_DIR
    found: dict[str, str] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob(f"{definitions.PREFIX}*.md")):
        text = read_text_file(path)
        if text is not None and ownership(text).owner != "user":
            found[f"{AGENTS_DIR}/{path.name}"] = text
    return found


def which_aether(ws: Workspace) -> str | None:
    """What the launcher would run, asked of the launcher itself (``--which``).

    Only aether's own, unedited launcher is run (a project's script is not run just because
    it is there), with only what it looks at: PATH, HOME, AETHER_BIN (the settings' value
    first, as Claude Code would pass it) and the project directory — never a key."""
    import subprocess

    script = ws.project / launcher.RELATIVE_PATH
    try:
        if script.is_symlink() or read_regular(script).decode("utf-8") != launcher.render():
            return None
    except (OSError, UnicodeDecodeError):
        return None
    from_settings = settings_env(ws)
    env = {"CLAUDE_PROJECT_DIR": str(ws.project)}
    for name in ("PATH", "HOME", cs.AETHER_BIN_VARIABLE):
        value = from_settings.get(name) or os.environ.get(name)
        if value:
            env[name] = value
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


def settings_env(ws: Workspace) -> dict[str, str]:
    """The ``env`` blocks Claude Code would apply (shared, then local), for ``--which``."""
    env: dict[str, str] = {}
    for rel in (SHARED_SETTINGS, LOCAL_SETTINGS):
        try:
            env.update(read_settings(ws, rel).data.get("env") or {})
        except RuntimeProblem:
            continue
    return env


def installed_settings_file(ws: Workspace) -> str | None:
    """Where aether's hooks live: the manifest's word, else the file that holds them."""
    manifest = read_manifest(ws)
    if manifest.get("settings") in (SHARED_SETTINGS, LOCAL_SETTINGS):
        return str(manifest["settings"])
    for rel in (SHARED_SETTINGS, LOCAL_SETTINGS):
        try:
            if cs.aether_groups(read_settings(ws, rel).data):
                return rel
        except RuntimeProblem:
            continue
    return None


def require_installed(ws: Workspace) -> None:
    if installed_settings_file(ws) is None and not owned_agent_files(ws):
        raise RuntimeNotInstalled(
            f"aether's Claude Code integration is not installed in {ws.project}",
            fix="run `aether claude install`",
        )


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
        except RuntimeProblem:
            env = {}
        models.update(v for k, v in env.items() if k in cs.TIER_VARIABLES.values())
    return models
