"""``.codex/hooks.json``: aether's hook entries among the user's.

Codex 0.171.0 reads ``{"hooks": {"<Event>": [{"matcher": …, "hooks": [{"type": "command",
"command": …}]}]}}`` from a trusted project's ``.codex/hooks.json`` — Claude Code's shape
(docs/codex.md). Pure functions over the parsed document; reading and writing the file is the
caller's. aether's entries are recognised exactly: a command hook whose command runs a
``.codex/hooks/aether-hook`` launcher with one of the event names below. Everything else in the
file — other keys, the user's own hooks, even in the same matcher group — is kept as it is.

The command names the launcher by its absolute path: Codex runs a hook where the session runs
(perhaps a subdirectory), and keys its hook trust by the absolute path of hooks.json anyway.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from aether.errors import RuntimeSettingsInvalid
from aether.json_text import DuplicateKeyError, loads_strict, lone_surrogate
from aether.runtimes.codex.agents import toml_string
from aether.runtimes.codex.hookio import SPAWN_MATCHER
from aether.runtimes.hookio import HookSpec, without_hooks

HOOKS_FILE = ".codex/hooks.json"
LAUNCHER = ".codex/hooks/aether-hook"
#: pre-agent may verify several models through the proxy, each bounded by the profile's
#: timeouts; the others are short
HOOKS = (
    HookSpec("SessionStart", "session-start", None, 30),
    HookSpec("PreToolUse", "pre-agent", SPAWN_MATCHER, 600),
    HookSpec("SubagentStart", "subagent-start", None, 30),
    HookSpec("SubagentStop", "subagent-stop", None, 30),
    HookSpec("Stop", "turn-end", None, 30),
    # Codex 0.171.0 gives a SessionEnd hook 3 s at most (1 s when it names no timeout)
    HookSpec("SessionEnd", "session-end", None, 3),
)
_NAMES = "|".join(re.escape(h.name) for h in HOOKS)
_MINE = re.compile(rf"(?:^|/)\.codex/hooks/aether-hook'? (?:{_NAMES})$")


def hook_command(project: str, name: str) -> str:
    return f"{shlex.quote(project.rstrip('/') + '/' + LAUNCHER)} {name}"


def is_aether_hook(hook: Any) -> bool:
    command = hook.get("command") if isinstance(hook, dict) else None
    return isinstance(command, str) and _MINE.search(command) is not None


def hook_entry(spec: HookSpec, project: str) -> dict[str, Any]:
    group: dict[str, Any] = {}
    if spec.matcher is not None:
        group["matcher"] = spec.matcher
    command = hook_command(project, spec.name)
    group["hooks"] = [{"type": "command", "command": command, "timeout": spec.timeout_s}]
    return group


def _invalid(where: str, what: str) -> RuntimeSettingsInvalid:
    return RuntimeSettingsInvalid(
        f"{where}: {what}",
        meaning="aether does not merge into a hooks file Codex would reject; nothing was written",
        fix='fix the file (a JSON object, {"hooks": {"<Event>": [matcher groups]}}), then run '
        "the command again",
    )


def parse_hooks(text: str, where: str) -> dict[str, Any]:
    """The hooks document, checked for the parts aether reads and writes."""
    try:
        data = loads_strict(text)
    except DuplicateKeyError as exc:
        raise _invalid(where, f"the key {exc.key!r} appears twice") from None
    except ValueError as exc:
        raise _invalid(where, f"not valid JSON ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise _invalid(where, "it nests arrays or objects deeper than a hooks file does") from None
    bad = lone_surrogate(text, data)
    if bad is not None:
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
    return data


def dump_hooks(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def aether_groups(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """event -> the matcher groups holding aether hooks, as in the file."""
    found: dict[str, list[dict[str, Any]]] = {}
    for event, groups in (data.get("hooks") or {}).items():
        for group in groups:
            if any(is_aether_hook(h) for h in group.get("hooks", [])):
                found.setdefault(event, []).append(group)
    return found


def hooks_match(data: dict[str, Any], project: str) -> bool:
    wanted = {spec.event: [hook_entry(spec, project)] for spec in HOOKS}
    return aether_groups(data) == wanted


def without_aether_hooks(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` minus every aether hook; a group or event left empty by that goes too."""
    return without_hooks(data, is_aether_hook)


def with_aether_hooks(data: dict[str, Any], project: str) -> dict[str, Any]:
    """``data`` with exactly aether's hooks; the same object when they are there."""
    if hooks_match(data, project):
        return data
    out = without_aether_hooks(data)
    hooks = dict(out.get("hooks") or {})
    for spec in HOOKS:
        hooks[spec.event] = [*hooks.get(spec.event, []), hook_entry(spec, project)]
    out["hooks"] = hooks
    return out


#: Codex's default hook timeout, part of the trust hash when a handler names none
DEFAULT_TIMEOUT_S = 600
#: events whose timeout Codex 0.171.0 bounds: (default, most), as its hooks/list reports them
_BOUNDED_TIMEOUTS = {"session_end": (1, 3)}


def trust_hash(event: str, matcher: str | None, handler: dict[str, Any]) -> str:
    """The hash Codex 0.171.0 trusts a command hook by (its ``hooks/list`` ``currentHash``,
    matched by tests/proxy/test_codex_hooks.py): SHA-256 of the compact, key-sorted JSON of
    ``{"event_name": <snake_case event>, "matcher"?: …, "hooks": [{"async": false, "command":
    …, "timeout": <s, as Codex bounds it>, "type": "command"}]}``."""
    import hashlib

    event_name = snake_case(event)
    timeout = handler.get("timeout")
    default, most = _BOUNDED_TIMEOUTS.get(event_name, (DEFAULT_TIMEOUT_S, None))
    if not isinstance(timeout, int) or isinstance(timeout, bool):
        timeout = default
    elif most is not None:
        timeout = min(timeout, most)
    identity: dict[str, Any] = {
        "event_name": event_name,
        "hooks": [
            {
                "async": bool(handler.get("async", False)),
                "command": handler.get("command"),
                "timeout": timeout,
                "type": "command",
            }
        ],
    }
    if matcher is not None:
        identity["matcher"] = matcher
    text = json.dumps(identity, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def snake_case(event: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event).lower()


def trust_entries(hooks_path: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(Codex's hook-trust key, the hash to trust) for each aether hook in ``data``: Codex
    keeps ``[hooks.state."<abs hooks.json>:<snake_case event>:<group index>:<handler
    index>"] trusted_hash = "sha256:…"`` in ``$CODEX_HOME/config.toml``."""
    out = []
    for event, groups in (data.get("hooks") or {}).items():
        for g, group in enumerate(groups):
            matcher = group.get("matcher") if isinstance(group.get("matcher"), str) else None
            for h, handler in enumerate(group.get("hooks", [])):
                if is_aether_hook(handler):
                    key = f"{hooks_path}:{snake_case(event)}:{g}:{h}"
                    out.append((key, trust_hash(event, matcher, handler)))
    return out


def trust_block(entries: list[tuple[str, str]]) -> str:
    """The config.toml lines that trust ``entries``."""
    lines: list[str] = []
    for key, digest in entries:
        lines += [f"[hooks.state.{toml_string(key)}]", f"trusted_hash = {toml_string(digest)}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def untrusted(config: dict[str, Any] | None, entries: list[tuple[str, str]]) -> list[str]:
    """The keys of ``entries`` that config.toml does not trust with their current hash."""
    hooks = (config or {}).get("hooks")
    state = hooks.get("state") if isinstance(hooks, dict) else None
    state = state if isinstance(state, dict) else {}
    out = []
    for key, digest in entries:
        entry = state.get(key)
        if not (isinstance(entry, dict) and entry.get("trusted_hash") == digest):
            out.append(key)
    return out
