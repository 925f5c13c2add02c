"""The environment a spawned worker runs with: it names the worker's model explicitly and
drops what could send it elsewhere (docs/spawn.md). The tool we replace exported variables in
one shell that never reached the worker; ``spawn --exec`` passes this environment to the
worker's process and ``spawn --print-env`` prints it for ``eval``. The proxy token is passed by
reference (its variable), never printed.
"""

from __future__ import annotations

import os
import shlex

from aether.state.model import Worker

#: set in every worker's environment: the worker knows its record (and an agent runtime's
#: session hooks know they run inside a worker, not the colony's own session)
WORKER_ID_VARIABLE = "AETHER_WORKER_ID"
#: variables that could send a worker to another model than the one assigned; the worker's
#: environment drops them (``--print-env`` unsets them). A proxied worker also loses
#: ``ANTHROPIC_API_KEY`` (it would take it straight to the provider, around the proxy).
CONFLICTING_VARS = (
    "ANTHROPIC_SMALL_FAST_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "CLAUDE_CODE_SUBAGENT_MODEL",
    *(f"AETHER_MODEL_{n}" for n in range(1, 9)),
)


def worker_env_public(w: Worker, endpoint: str) -> dict[str, str]:
    """The variables a worker gets, without the token (which is passed by reference)."""
    env = {
        "ANTHROPIC_MODEL": w.model,
        WORKER_ID_VARIABLE: w.id,
        "AETHER_CASTE": w.caste,
        "AETHER_MODEL": w.model,
        "AETHER_PROFILE_HASH": w.profile_hash,
        "AETHER_VERIFIED": "1" if w.verified else "0",
    }
    if w.verified:
        env["ANTHROPIC_BASE_URL"] = endpoint
    return env


def shell_exports(w: Worker, endpoint: str, key_env: str) -> str:
    """``--print-env``: POSIX-shell lines for ``eval "$(aether spawn ... --print-env)"``."""
    drop = [*CONFLICTING_VARS, *(["ANTHROPIC_API_KEY"] if w.verified else [])]
    lines = [f"unset {' '.join(drop)}"]
    for name, value in sorted(worker_env_public(w, endpoint).items()):
        lines.append(f"export {name}={shlex.quote(value)}")
    if w.verified:
        # by reference: the token never appears in aether's output (key_env is validated as
        # an identifier by the profile schema)
        lines.append(f'export ANTHROPIC_AUTH_TOKEN="${key_env}"')
    return "\n".join(lines) + "\n"


def worker_env(
    w: Worker, endpoint: str, key_env: str, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The complete environment ``--exec`` runs the worker with: aether's own environment
    minus the variables that could redirect the model (``CONFLICTING_VARS``), plus the
    worker's variables and the token."""
    env = dict(os.environ if base is None else base)
    for name in CONFLICTING_VARS:
        env.pop(name, None)
    env.update(worker_env_public(w, endpoint))
    if w.verified:
        env.pop("ANTHROPIC_API_KEY", None)
        token = env.get(key_env, "")
        if token:
            env["ANTHROPIC_AUTH_TOKEN"] = token
    return env
