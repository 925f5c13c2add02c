"""Subagent definition files: ``.claude/agents/aether-<caste>.md`` and ``aether--<model>.md``.

A definition's ``model:`` is the only lever that chooses a Claude Code subagent's model (the
parent's environment does not reach it), and it is static. So:

* ``aether-<caste>``, one per caste: the caste's model from the profile, and the caste's role
  in its body — what the main model asks for;
* ``aether--<model>``, one *carrier* per other model routing can give some caste (keyword
  groups, scoring, overrides, fallback chains): a definition on that model whose body says the
  task comes with its caste's role. The ``pre-agent`` hook redirects a spawn whose task calls
  for another model to that model's carrier and puts the caste's role at the top of the
  prompt. (The Agent tool's own ``model`` parameter accepts only four aliases, so it cannot
  carry an arbitrary profile model.)

Claude Code lists every definition, with its description, in the main model's context on every
request; a carrier per model rather than a variant per caste and model keeps that list short
(11 castes, 4 models: 15 entries where variants made 30) and its entries short.

Every file aether writes carries a marker line with the profile hash and a digest of the rest of
the file, so aether recognises its own files and notices one a user edited.
"""

from __future__ import annotations

import json

from aether.runtimes.definitions import AgentDefinition, caste_brief
from aether.runtimes.marker import stamp
from aether.runtimes.roles import role_of


def filename(d: AgentDefinition) -> str:
    return f"{d.name}.md"


# --- the file ----------------------------------------------------------------------------------


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text)


def _description(d: AgentDefinition) -> str:
    if d.caste is None:
        return "Internal to aether's routing; never ask for it."
    return role_of(d.caste).short


def render(d: AgentDefinition, profile_hash: str) -> str:
    head = (
        "---\n"
        f"name: {_quoted(d.name)}\n"
        f"description: {_quoted(_description(d))}\n"
        f"model: {_quoted(d.model)}\n"
        "---\n"
    )
    if d.caste is not None:
        body = "\n" + caste_brief(d.caste, d.model)
    else:
        body = (
            f"\nYou are a worker of an aether colony, running on {d.model} as the colony's model "
            "profile routes your task. Your caste, and what the colony expects of you, come "
            "first in your task.\n"
        )
    return stamp(head, body, profile_hash=profile_hash, opener="<!--", closer="-->")


def front_matter_model(text: str) -> str | None:
    """The ``model:`` of a definition's front matter (quoted or plain), if any."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---", 4)
    for line in text[4 : end if end > 0 else None].splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model":
            value = value.strip()
            if value.startswith('"'):
                try:
                    parsed = json.loads(value)
                except ValueError:
                    return None
                return parsed if isinstance(parsed, str) else None
            return value.strip("'") or None
    return None
