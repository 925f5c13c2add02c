"""Subagent definition files: ``.claude/agents/aether-<caste>[--<model>].md``.

A definition's ``model:`` is the only lever that chooses a Claude Code subagent's model (the
parent's environment does not reach it), and it is static. So each caste gets:

* ``aether-<caste>``: the caste's model from the profile — what the main model asks for;
* ``aether-<caste>--<model>``: one *variant* per other model the profile can route that caste
  to (keyword groups, scoring, overrides, the fallback chain). The ``pre-agent`` hook redirects
  a spawn to the variant its task calls for; the Agent tool's own ``model`` parameter accepts
  only four aliases, so it cannot carry an arbitrary profile model.

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
VARIANT_SEPARATOR = "--"


@record(frozen=True)
class AgentDefinition:
    name: str
    caste: str
    model: str
    #: the caste's own definition for a variant; None for the caste's own
    variant_of: str | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.md"


def model_slugs(models: list[str]) -> dict[str, str]:
    """model -> the part of a variant's name that names it: lower-case letters, digits and
    single hyphens. Two models that would share a slug both get a digest suffix."""
    slugs = {m: "-".join(re.findall(r"[a-z0-9]+", m.lower())) or "model" for m in models}
    counts: dict[str, int] = {}
    for slug in slugs.values():
        counts[slug] = counts.get(slug, 0) + 1
    return {
        m: s if counts[s] == 1 else f"{s}-{hashlib.sha256(m.encode()).hexdigest()[:6]}"
        for m, s in slugs.items()
    }


def agent_name(caste: str, slug: str | None = None) -> str:
    return PREFIX + caste + (VARIANT_SEPARATOR + slug if slug else "")


def parse_agent_name(name: str) -> tuple[str, str | None] | None:
    """``aether-route-setter--kimi-k2-5`` -> ``("route-setter", "kimi-k2-5")``; None when the
    name is not in aether's scheme. Caste names never hold ``--`` (they are normalised)."""
    if not name.startswith(PREFIX) or len(name) == len(PREFIX):
        return None
    caste, _, slug = name[len(PREFIX) :].partition(VARIANT_SEPARATOR)
    if not caste:
        return None
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
    """Every definition the profile calls for, castes in name order, each caste's own first."""
    slugs = model_slugs(list(table.models))
    out: list[AgentDefinition] = []
    for caste in sorted(table.castes):
        own, *others = reachable_models(table, caste)
        base = agent_name(caste)
        out.append(AgentDefinition(base, caste, own))
        out += [AgentDefinition(agent_name(caste, slugs[m]), caste, m, base) for m in others]
    return out


def variant_for(table: RoutingTable, caste: str, model: str) -> str:
    """The definition name that runs ``caste`` on ``model``."""
    if model == caste_model(table, caste):
        return agent_name(caste)
    return agent_name(caste, model_slugs(list(table.models))[model])


# --- the file ----------------------------------------------------------------------------------


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text)


def _description(d: AgentDefinition) -> str:
    role = role_of(d.caste)
    if d.variant_of is None:
        return (
            f"aether colony {d.caste} worker: use it for {role.when}. aether routes each spawn "
            "to the model its task calls for and records it in the colony."
        )
    return (
        f"aether's routed variant of {d.variant_of} on {d.model}. Do not choose it directly: "
        f"ask for {d.variant_of}; aether redirects here when the task calls for {d.model}."
    )


def render(d: AgentDefinition, profile_hash: str) -> str:
    role = role_of(d.caste)
    duties = "\n".join(f"- {line}" for line in (*role.duties, *COMMON_DUTIES))
    head = (
        "---\n"
        f"name: {_quoted(d.name)}\n"
        f"description: {_quoted(_description(d))}\n"
        f"model: {_quoted(d.model)}\n"
        "---\n"
    )
    body = (
        f"\nYou are a {d.caste} worker of an aether colony, running on {d.model} as the "
        "colony's model profile assigns.\n\n"
        f"Your caste is for {role.when}.\n\n"
        f"What the colony expects of you:\n{duties}\n"
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
