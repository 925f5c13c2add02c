"""The definitions a profile calls for, whatever the runtime writes them as: their names, and
what a worker of a caste reads about itself.

One definition per caste, on the caste's model (``aether-<caste>``), and one *carrier* per
other model routing can give some caste (``aether--<model>``): a definition on that model whose
prompt begins with its caste's role, so a spawn whose task calls for another model is
redirected to that model's carrier. Each runtime writes them in its own format
(``claude.agents``: Markdown with front matter; ``codex.agents``: TOML) and reads the model of
its own files back.
"""

from __future__ import annotations

import hashlib
import re

from aether.records import record
from aether.routing.resolve import RouteRequest, resolve
from aether.routing.table import RoutingTable
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
