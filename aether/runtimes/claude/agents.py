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

import hashlib
import json
import re

from aether.records import record
from aether.routing.resolve import RouteRequest, resolve
from aether.routing.table import RoutingTable
from aether.runtimes.marker import stamp
from aether.runtimes.roles import COMMON_DUTIES, role_of

PREFIX = "aether-"
#: between a caste and a model in the names of earlier installs' variants; a carrier's name is
#: the prefix, one more hyphen and the model (``aether--claude-opus-4-5``)
CARRIER_SEPARATOR = "--"


@record(frozen=True)
class AgentDefinition:
    name: str
    model: str
    #: the caste whose definition this is; None for a carrier (any caste, on ``model``)
    caste: str | None

    @property
    def filename(self) -> str:
        return f"{self.name}.md"


def model_slugs(models: list[str]) -> dict[str, str]:
    """model -> the part of a carrier's name that names it: lower-case letters, digits and
    single hyphens. Two models that would share a slug both get a digest suffix."""
    slugs = {m: "-".join(re.findall(r"[a-z0-9]+", m.lower())) or "model" for m in models}
    counts: dict[str, int] = {}
    for slug in slugs.values():
        counts[slug] = counts.get(slug, 0) + 1
    return {
        m: s if counts[s] == 1 else f"{s}-{hashlib.sha256(m.encode()).hexdigest()[:6]}"
        for m, s in slugs.items()
    }


def agent_name(caste: str) -> str:
    return PREFIX + caste


def carrier_name(slug: str) -> str:
    return PREFIX + CARRIER_SEPARATOR[1:] + slug


def parse_agent_name(name: str) -> tuple[str | None, str | None] | None:
    """``aether-route-setter`` -> ``("route-setter", None)``; a carrier ``aether--kimi-k2-5``
    -> ``(None, "kimi-k2-5")``; a variant of an earlier install ``aether-builder--kimi-k2-5``
    -> ``("builder", "kimi-k2-5")``; None when the name is not in aether's scheme. Caste names
    never hold ``--`` (they are normalised)."""
    if not name.startswith(PREFIX) or len(name) == len(PREFIX):
        return None
    rest = name[len(PREFIX) :]
    if rest.startswith(CARRIER_SEPARATOR[1:]):
        slug = rest[1:]
        return (None, slug) if slug and not slug.startswith("-") else None
    caste, _, slug = rest.partition(CARRIER_SEPARATOR)
    return caste, slug or None


def caste_model(table: RoutingTable, caste: str) -> str:
    """The model a caste gets for a task that matches nothing: its definition's ``model:``."""
    return resolve(table, RouteRequest(caste=caste)).model


def reachable_models(table: RoutingTable, caste: str) -> list[str]:
    """Every model routing can give ``caste``, its own model first."""
    route = table.castes[caste]
    found = [caste_model(table, caste), route.model, *route.chain]
    if caste in table.overrides:
        found.append(table.overrides[caste])
    if table.task_routing_enabled:
        found += [g.model for g in table.groups if not g.castes or caste in g.castes]
    if table.scoring.enabled:
        found += list(table.models)
    return list(dict.fromkeys(m for m in found if m in table.models))


def definitions(table: RoutingTable) -> list[AgentDefinition]:
    """Every definition the profile calls for: the castes in name order, then one carrier per
    model that routing can give some caste other than its own, in the profile's order."""
    slugs = model_slugs(list(table.models))
    out = [AgentDefinition(agent_name(c), caste_model(table, c), c) for c in sorted(table.castes)]
    carried = {m for c in table.castes for m in reachable_models(table, c)[1:]}
    out += [AgentDefinition(carrier_name(slugs[m]), m, None) for m in table.models if m in carried]
    return out


def definition_for(table: RoutingTable, caste: str, model: str) -> str:
    """The definition that runs ``caste`` on ``model``: the caste's own, or the carrier."""
    if model == caste_model(table, caste):
        return agent_name(caste)
    return carrier_name(model_slugs(list(table.models))[model])


# --- the file ----------------------------------------------------------------------------------


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text)


def _description(d: AgentDefinition) -> str:
    if d.caste is None:
        return "Internal to aether's routing; never ask for it."
    return role_of(d.caste).short


def caste_brief(caste: str, model: str) -> str:
    """What a worker of ``caste`` reads about itself: the body of its caste's definition, and
    the top of a carrier's prompt."""
    role = role_of(caste)
    duties = "\n".join(f"- {line}" for line in (*role.duties, *COMMON_DUTIES))
    return (
        f"You are a {caste} worker of an aether colony, running on {model} as the colony's "
        f"model profile routes it.\n\nYour caste is for {role.when}.\n\n"
        f"What the colony expects of you:\n{duties}\n"
    )


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
