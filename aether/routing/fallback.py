"""The ordered list of models a spawn tries (docs/spawn.md explains how a spawn walks it).

Normally: the decision's model, then its chain (``RoutingDecision.chain``: from the profile,
already filtered for context window by ``resolve``). At most ``MAX_MODELS`` (8) in all.

Environment override: when any of ``AETHER_MODEL_1`` … ``AETHER_MODEL_8`` is set, those models,
in slot order, *replace* the list - unless the decision's model was named explicitly
(``--model``) or pinned (a task that already ran keeps its model), in which case that model
stays first and the environment list replaces only the chain behind it. Rules for the values:

* an empty value counts as unset;
* slots must be contiguous from 1 (``AETHER_MODEL_3`` without ``AETHER_MODEL_2`` is an error,
  because a typo in a slot number would otherwise silently drop a model);
* each value must name a model or alias of the profile (it is canonicalised);
* duplicates are dropped after the first.

Anything else raises ``BadModelOverride`` (exit 46) before any network call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aether.errors import BadModelOverride
from aether.records import record

if TYPE_CHECKING:
    from aether.routing.profile import Profile
    from aether.routing.resolve import RoutingDecision
    from aether.routing.table import RoutingTable

MAX_MODELS = 8
ENV_PREFIX = "AETHER_MODEL_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+\-]{0,199}$")
_SLOT = re.compile(r"^AETHER_MODEL_(\d+)$")


@record(frozen=True)
class Candidates:
    models: tuple[str, ...]
    #: "profile" or "environment"
    source: str
    #: (model, why) for models dropped before trying (context window too small, ...)
    skipped: tuple[tuple[str, str], ...] = ()


def _canonical(profile: Profile | RoutingTable, name: str) -> str | None:
    from aether.routing.table import RoutingTable

    if isinstance(profile, RoutingTable):
        return profile.canonical_model(name)
    from aether.routing.profile import canonical_model

    return canonical_model(profile, name)


def env_override(
    profile: Profile | RoutingTable, env: Mapping[str, str] | None = None
) -> list[str] | None:
    """The models named by ``AETHER_MODEL_1..8``, canonicalised; None when none is set."""
    slots = _env_slots(os.environ if env is None else env)
    if not slots:
        return None
    missing = [n for n in range(1, max(slots) + 1) if n not in slots]
    if missing:
        raise BadModelOverride(
            f"AETHER_MODEL_{max(slots)} is set but AETHER_MODEL_{missing[0]} is not",
            meaning="the override slots must be filled in order from 1",
            fix=f"set AETHER_MODEL_{missing[0]} or renumber the variables",
        )
    models: list[str] = []
    for n in sorted(slots):
        canonical = _slot_model(profile, n, slots[n])
        if canonical not in models:
            models.append(canonical)
    return models


def _env_slots(env: Mapping[str, str]) -> dict[int, str]:
    """Slot number -> the value of each non-empty ``AETHER_MODEL_n`` (n in 1..8)."""
    slots: dict[int, str] = {}
    for name, value in env.items():
        match = _SLOT.match(name)
        if not match or not value.strip():
            continue
        n = int(match.group(1))
        if not 1 <= n <= MAX_MODELS:
            raise BadModelOverride(
                f"{name} is set, but only AETHER_MODEL_1 … AETHER_MODEL_{MAX_MODELS} exist",
                meaning="a fallback chain holds at most 8 models",
                fix=f"unset {name}",
            )
        slots[n] = value.strip()
    return slots


def _slot_model(profile: Profile | RoutingTable, n: int, raw: str) -> str:
    """The canonical model ``AETHER_MODEL_n=raw`` names, or why it names none."""
    if not _NAME.match(raw):
        raise BadModelOverride(
            f"AETHER_MODEL_{n}={raw[:60]!r} is not a model name",
            fix="use a model name or alias from .aether/model-profiles.yaml",
        )
    canonical = _canonical(profile, raw)
    if canonical is None:
        raise BadModelOverride(
            f"AETHER_MODEL_{n}={raw!r} names no model or alias of the profile",
            meaning="aether only routes to models the profile describes",
            fix="add the model to .aether/model-profiles.yaml or fix the variable",
        )
    return canonical


def candidates(
    profile: Profile | RoutingTable,
    decision: RoutingDecision,
    *,
    context_tokens: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Candidates:
    override = env_override(profile, env)
    if override is None:
        models = [decision.model, *decision.chain]
        return Candidates(tuple(dict.fromkeys(models))[:MAX_MODELS], "profile")
    keep_first = decision.source in ("explicit", "pinned")
    models = [decision.model] if keep_first else []
    skipped: list[tuple[str, str]] = []
    for model in override:
        if model in models:
            continue
        spec = profile.models.get(model)
        if context_tokens and spec is not None and spec.context_window < context_tokens:
            skipped.append(
                (model, f"context window {spec.context_window} < {context_tokens} tokens")
            )
            continue
        models.append(model)
    return Candidates(tuple(models[:MAX_MODELS]), "environment", tuple(skipped))
