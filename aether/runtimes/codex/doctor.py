"""``aether doctor``'s checks of the Codex integration (when it is installed).

* ``codex``: the agent files, the hook launcher, aether's entries in ``.codex/hooks.json`` and
  ``$CODEX_HOME/config.toml``'s provider and project trust match the profile
  (``aether codex check``);
* ``codex hook trust``: config.toml trusts every aether hook with its current hash (Codex runs
  no untrusted project hook, unless started with ``--dangerously-bypass-hook-trust``);
* ``codex hooks``: the launcher finds an aether to run, in this environment.
"""

from __future__ import annotations

import os
import subprocess

from aether.bounded_read import read_regular
from aether.errors import AetherError
from aether.health import Check
from aether.workspace import Workspace

#: how long the launcher's ``--which`` may take
WHICH_TIMEOUT_S = 5.0


def codex_checks(ws: Workspace) -> list[Check]:
    from aether.runtimes.codex.files import owned_agent_files, read_manifest

    try:
        installed = bool(read_manifest(ws)) or bool(owned_agent_files(ws))
    except AetherError as exc:
        return [Check("codex", "fail", exc.one_line())]
    if not installed:
        return [
            Check(
                "codex",
                "info",
                "not set up for Codex (`aether codex install` makes its subagents run on their "
                "castes' models, routed and recorded by aether's hooks)",
            )
        ]
    return [*_sync_checks(ws), _launcher_check(ws)]


def _sync_checks(ws: Workspace) -> list[Check]:
    from aether.runtimes.codex.install import check

    try:
        result = check(ws)
    except AetherError as exc:
        return [Check("codex", "fail", exc.one_line())]
    trust = result.trust
    others = [d for d in result.differences if trust is None or "not trusted" not in d]
    checks = []
    if others:
        checks.append(
            Check(
                "codex",
                "fail",
                f"{len(others)} difference(s) from the profile (`aether codex check`): "
                + "; ".join(others[:5]),
                {"differences": others},
            )
        )
    else:
        checks.append(Check("codex", "ok", f"agents and hooks match profile {result.profile_hash}"))
    if trust is not None and trust.untrusted:
        checks.append(
            Check(
                "codex hook trust",
                "warning",
                f"{len(trust.untrusted)} of aether's {len(trust.entries)} hooks are not trusted "
                f"in {trust.config_path}: Codex runs none of them (no routing, no records) "
                "unless started with --dangerously-bypass-hook-trust; `aether codex install` "
                "prints the lines to add",
                {"untrusted": trust.untrusted},
            )
        )
    elif trust is not None:
        checks.append(Check("codex hook trust", "ok", f"{trust.config_path} trusts aether's hooks"))
    return checks


def _launcher_check(ws: Workspace) -> Check:
    runs = which_aether(ws)
    if runs is None:
        return Check(
            "codex hooks",
            "fail",
            ".codex/hooks/aether-hook finds no aether in this environment (or is not aether's "
            "own): hooks do nothing and aether subagents are refused (set AETHER_BIN)",
        )
    return Check("codex hooks", "ok", f"hooks run {runs}", {"aether": runs})


def which_aether(ws: Workspace) -> str | None:
    """What the launcher would run, asked of aether's own, unedited launcher (``--which``),
    with only what it looks at: PATH, HOME, AETHER_BIN — never a key."""
    from aether.runtimes.codex import launcher
    from aether.runtimes.codex.hooks import LAUNCHER

    script = ws.project / LAUNCHER
    try:
        if script.is_symlink() or read_regular(script).decode("utf-8") != launcher.render():
            return None
    except (OSError, UnicodeDecodeError):
        return None
    env = {n: os.environ[n] for n in ("PATH", "HOME", "AETHER_BIN") if os.environ.get(n)}
    try:
        done = subprocess.run(
            ["/bin/sh", str(script), "--which"],
            capture_output=True,
            text=True,
            env=env,
            timeout=WHICH_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = done.stdout.strip()
    return found if done.returncode == 0 and found else None
