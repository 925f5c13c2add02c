"""Codex subagent files: ``.codex/agents/aether-<caste>.toml`` and ``aether--<model>.toml``.

Codex 0.171.0 runs a spawned agent (``spawn_agent`` with ``agent_type: <name>``) on the
``model`` of the project's ``.codex/agents/<name>.toml`` — any name the proxy serves — with the
file's ``developer_instructions``; ``spawn_agent``'s own ``model`` argument accepts only Codex's
built-in catalog (docs/codex.md, measured). So, as for Claude Code, the file is the lever: the
same definitions (``aether.runtimes.definitions.definitions``: one per caste on the caste's
model, one *carrier* per other model routing can give some caste), written as TOML.

Every file carries aether's marker as a TOML comment on its first line, so aether recognises its
own files and notices one a user edited (``aether.runtimes.marker``).
"""

from __future__ import annotations

import tomllib

from aether.runtimes.definitions import AgentDefinition, caste_brief
from aether.runtimes.marker import stamp
from aether.runtimes.roles import role_of

#: the project directory Codex reads agent files from
AGENTS_DIR = ".codex/agents"
SUFFIX = ".toml"
INSTALL_COMMAND = "aether codex install"
CARRIER_DESCRIPTION = "Internal to aether's routing; never ask for it."

#: characters a TOML basic string must escape: the control characters but tab (and newline,
#: which a multi-line string keeps), the quote and the backslash
_SHORT = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _escaped(text: str, *, keep_newlines: bool) -> str:
    out = []
    for ch in text:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif ch in _SHORT:
            out.append(_SHORT[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\\uFFFD")  # a lone surrogate is no Unicode scalar value: TOML refuses it
        else:
            out.append(ch)
    return "".join(out)


def toml_string(text: str) -> str:
    """``text`` as a one-line TOML basic string."""
    return '"' + _escaped(text, keep_newlines=False) + '"'


def toml_multiline(text: str) -> str:
    """``text`` as a multi-line TOML basic string (the newline after the opening quotes is not
    part of the value; every quote is escaped, so no run of three can close it early)."""
    return '"""\n' + _escaped(text, keep_newlines=True) + '"""'


def filename(d: AgentDefinition) -> str:
    return d.name + SUFFIX


def instructions(d: AgentDefinition) -> str:
    """What the agent reads about itself: its caste's brief, or a carrier's note that the
    caste comes with the task."""
    if d.caste is not None:
        return caste_brief(d.caste, d.model)
    return (
        f"You are a worker of an aether colony, running on {d.model} as the colony's model "
        "profile routes your task. Your caste, and what the colony expects of you, come first "
        "in your task.\n"
    )


def render(d: AgentDefinition, profile_hash: str) -> str:
    description = role_of(d.caste).short if d.caste is not None else CARRIER_DESCRIPTION
    body = (
        f"name = {toml_string(d.name)}\n"
        f"description = {toml_string(description)}\n"
        f"model = {toml_string(d.model)}\n"
        f"developer_instructions = {toml_multiline(instructions(d))}\n"
    )
    return stamp("", body, profile_hash=profile_hash, opener="#", command=INSTALL_COMMAND)


def toml_problem(text: str) -> str | None:
    """Why ``text`` is not a TOML document Codex could read (one line), or None."""
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"not valid TOML ({exc})"
    return None


def file_model(text: str) -> str | None:
    """The ``model`` an agent file names, if it is valid TOML and names one."""
    try:
        value = tomllib.loads(text).get("model")
    except tomllib.TOMLDecodeError:
        return None
    return value if isinstance(value, str) else None
