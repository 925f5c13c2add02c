"""``.claude/settings.json`` (or ``settings.local.json``): aether's hooks and ``env`` entries.

Pure functions over the parsed document; reading and writing files is the caller's. aether's
hook entries are recognised exactly: a command hook whose command is one of
``hook_command(name)`` below. Everything else in the file — other keys, the user's own hooks,
even in the same matcher group — is kept as it is.

The ``env`` block aligns Claude Code with the proxy when the profile routes through one: the
endpoint, and the three alias variables pinned to models the profile names, so built-in agents
and background calls never ask the proxy for a model it does not serve. No key is ever written:
the user's own key reaches Claude Code through their environment (docs/claude-code.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aether.errors import RuntimeSettingsInvalid
from aether.json_text import DuplicateKeyError, loads_strict, lone_surrogate
from aether.routing.table import RoutingTable
from aether.runtimes.claude.launcher import RELATIVE_PATH
from aether.runtimes.hookio import HookSpec, without_hooks

#: the user-level relay script, relative to the home directory (runtimes/claude/relay.py)
RELAY_RELATIVE_PATH = ".claude/hooks/aether-relay"


#: every hook aether installs. pre-agent may verify several models through the proxy, each
#: bounded by the profile's timeouts (install warns when they could add up to more); the
#: others are short.
#:
#: ``subagent-start`` runs in the background (``"async": true``). Measured with Claude Code
#: 2.1.328: a waited-for ``SubagentStart`` hook holds the subagent back until it exits (a 1.5 s
#: hook delayed the subagent's first request by 1.5 s; in the background it did not). A
#: background hook still running when the session ends held the end back and was then stopped
#: unfinished; aether's launcher hands the hook over within milliseconds, and should it be lost
#: all the same, ``subagent-stop`` marks the worker started with its own record. The others
#: stay waited for: ``PostToolUse`` on ``Agent`` does not hold the subagent back,
#: ``SubagentStop`` comes before the main model's next turn, and a ``SessionEnd`` hook in the
#: background lets ``claude -p`` return before the colony is paused (a script's next
#: ``aether`` command would find it active). The launcher hands the four record-only hooks to
#: a background copy of itself anyway (runtimes/claude/launcher.py).
PRE_AGENT_TIMEOUT_S = 600
HOOKS = (
    HookSpec("PreToolUse", "pre-agent", "Agent", PRE_AGENT_TIMEOUT_S),
    HookSpec("PostToolUse", "agent-result", "Agent", 30),
    HookSpec("SubagentStart", "subagent-start", None, 30, runs_in_background=True),
    HookSpec("SubagentStop", "subagent-stop", None, 30),
    HookSpec("SessionStart", "session-start", None, 30),
    HookSpec("PreCompact", "pre-compact", None, 30),
    HookSpec("SessionEnd", "session-end", None, 10),
)
HOOK_NAMES = tuple(h.name for h in HOOKS)

#: Claude Code resolves the aliases opus/sonnet/haiku through these (built-in agents,
#: background calls, the Agent tool's `model` parameter)
TIER_VARIABLES = {
    "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
}
BASE_URL_VARIABLE = "ANTHROPIC_BASE_URL"
#: pins the installing aether for the launcher (written only by `install --local`)
AETHER_BIN_VARIABLE = "AETHER_BIN"
#: variables that silently override every definition's model (the second only with the first)
OVERRIDE_VARIABLES = ("CLAUDE_CODE_SUBAGENT_MODEL", "CLAUDE_CODE_SUBAGENT_MODEL_FORCE")


def hook_command(name: str) -> str:
    return f'"$CLAUDE_PROJECT_DIR"/{RELATIVE_PATH} {name}'


def relay_command(name: str) -> str:
    """The command of the user-level relay's entry for hook ``name`` (runtimes/claude/relay.py)."""
    return f'"$HOME"/{RELAY_RELATIVE_PATH} {name}'


_AETHER_COMMANDS = frozenset(hook_command(n) for n in HOOK_NAMES)
_RELAY_COMMANDS = frozenset(relay_command(n) for n in HOOK_NAMES)


def is_aether_hook(hook: Any) -> bool:
    return isinstance(hook, dict) and hook.get("command") in _AETHER_COMMANDS


def is_relay_hook(hook: Any) -> bool:
    return isinstance(hook, dict) and hook.get("command") in _RELAY_COMMANDS


def hook_entry(spec: HookSpec, command: Callable[[str], str] = hook_command) -> dict[str, Any]:
    """The matcher group aether adds for ``spec`` (its command: the project's launcher, or the
    user-level relay)."""
    group: dict[str, Any] = {}
    if spec.matcher is not None:
        group["matcher"] = spec.matcher
    handler: dict[str, Any] = {
        "type": "command",
        "command": command(spec.name),
        "timeout": spec.timeout_s,
    }
    if spec.runs_in_background:
        handler["async"] = True
    group["hooks"] = [handler]
    return group


# --- reading -----------------------------------------------------------------------------------


def _invalid(where: str, what: str) -> RuntimeSettingsInvalid:
    return RuntimeSettingsInvalid(
        f"{where}: {what}",
        meaning="aether does not merge into a settings file Claude Code would reject; "
        "nothing was written",
        fix="fix the file (it must be a JSON object; see Claude Code's settings docs), "
        "then run the command again",
    )


def parse_settings(text: str, where: str) -> dict[str, Any]:
    """The settings document, checked for the parts aether reads and writes."""
    try:
        data = loads_strict(text)
    except DuplicateKeyError as exc:
        raise _invalid(where, f"the key {exc.key!r} appears twice") from None
    except ValueError as exc:
        raise _invalid(where, f"not valid JSON ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise _invalid(
            where, "it nests arrays or objects deeper than a settings file does"
        ) from None
    bad = lone_surrogate(text, data)
    if bad is not None:
        # it would be read back fine, and fail only when aether wrote it, half-way
        raise _invalid(
            where, f"a lone surrogate escape in {bad or 'the document'} is not valid Unicode"
        )
    if not isinstance(data, dict):
        raise _invalid(where, f"the top level is a JSON {type(data).__name__}, not an object")
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise _invalid(where, "'hooks' is not an object")
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            raise _invalid(where, f"'hooks.{event}' is not a list")
        for i, group in enumerate(groups):
            if not isinstance(group, dict) or not isinstance(group.get("hooks", []), list):
                raise _invalid(where, f"'hooks.{event}[{i}]' is not a matcher group")
    env = data.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise _invalid(where, "'env' is not an object of strings")
    return data


def dump_settings(data: dict[str, Any]) -> str:
    """Claude Code's own layout: two-space indent, key order kept, a final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def aether_groups(
    data: dict[str, Any], mine: Callable[[Any], bool] = is_aether_hook
) -> dict[str, list[dict[str, Any]]]:
    """event -> the matcher groups holding aether hooks (or relay hooks), as in the file."""
    found: dict[str, list[dict[str, Any]]] = {}
    for event, groups in (data.get("hooks") or {}).items():
        for group in groups:
            if any(mine(h) for h in group.get("hooks", [])):
                found.setdefault(event, []).append(group)
    return found


def hooks_match(data: dict[str, Any], *, relay: bool = False) -> bool:
    """Are aether's hooks in ``data`` exactly the ones ``with_aether_hooks`` writes?"""
    command, mine = (relay_command, is_relay_hook) if relay else (hook_command, is_aether_hook)
    wanted = {spec.event: [hook_entry(spec, command)] for spec in HOOKS}
    return aether_groups(data, mine) == wanted


# --- changing ----------------------------------------------------------------------------------


def without_aether_hooks(data: dict[str, Any], *, relay: bool = False) -> dict[str, Any]:
    """``data`` minus every aether hook (or relay hook); a group or event left empty by that
    goes too."""
    return without_hooks(data, is_relay_hook if relay else is_aether_hook)


def with_aether_hooks(data: dict[str, Any], *, relay: bool = False) -> dict[str, Any]:
    """``data`` with exactly aether's hooks (or the relay's); unchanged (the same object) when
    they are there."""
    if hooks_match(data, relay=relay):
        return data
    out = without_aether_hooks(data, relay=relay)
    hooks = dict(out.get("hooks") or {})
    command = relay_command if relay else hook_command
    for spec in HOOKS:
        hooks[spec.event] = [*hooks.get(spec.event, []), hook_entry(spec, command)]
    out["hooks"] = hooks
    return out


def with_env(data: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    if all((data.get("env") or {}).get(k) == v for k, v in values.items()):
        return data
    return {**data, "env": {**(data.get("env") or {}), **values}}


# --- the proxy alignment -----------------------------------------------------------------------


def tier_models(table: RoutingTable) -> dict[str, str]:
    """Which profile model each alias (opus/sonnet/haiku) stands for: the model that carries
    the alias, else one whose name contains it, else by the profile's cost scale (opus the
    largest, haiku the smallest, sonnet the default model or the middle one)."""
    by_cost = sorted(table.models.values(), key=lambda m: (m.cost, -m.speed, m.name))
    out: dict[str, str] = {}
    for tier in TIER_VARIABLES:
        named = [m.name for m in by_cost if tier in (a.lower() for a in m.aliases)]
        named = named or [m.name for m in by_cost if tier in m.name.lower()]
        if named:
            out[tier] = named[0]
        elif tier == "opus":
            out[tier] = by_cost[-1].name
        elif tier == "haiku":
            out[tier] = by_cost[0].name
        else:
            out[tier] = table.default_model or by_cost[len(by_cost) // 2].name
    return out


def proxy_env(table: RoutingTable, endpoint: str) -> dict[str, str]:
    env = {BASE_URL_VARIABLE: endpoint.rstrip("/")}
    for tier, model in tier_models(table).items():
        env[TIER_VARIABLES[tier]] = model
    return env


def override_findings(data: dict[str, Any], where: str, needed: set[str]) -> list[str]:
    """What in a settings document silently changes a caste's model."""
    found: list[str] = []
    env = data.get("env") or {}
    for name in OVERRIDE_VARIABLES:
        if isinstance(env, dict) and env.get(name):
            found.append(f"{where} sets {name}={env[name]!r}")
    allowed = data.get("availableModels")
    if isinstance(allowed, list):
        missing = sorted(m for m in needed if m not in allowed)
        if missing:
            found.append(
                f"{where} has an availableModels list without {', '.join(missing)}: Claude "
                "Code swaps those castes onto other models"
            )
    return found
