"""The routing in force at a moment: the profile's hash and the model each caste gets. pause
records it; resume compares it with now (docs/lifecycle.md).
"""

from __future__ import annotations

from aether.errors import ProfileProblem
from aether.records import record
from aether.workspace import Workspace


@record(frozen=True)
class ProfileSnapshot:
    hash: str | None
    caste_models: dict[str, str]
    error: str | None = None


def profile_snapshot(ws: Workspace) -> ProfileSnapshot:
    """The profile hash and the model each caste gets now (an unreadable profile is data)."""
    from aether.routing.loader import load_profile_file
    from aether.routing.resolve import RouteRequest, resolve

    try:
        # the cached routing table: no YAML and no profile models on a warm cache
        table = load_profile_file(ws.profile_file, ws.cache_dir).table
    except ProfileProblem as exc:
        return ProfileSnapshot(None, {}, exc.one_line())
    models: dict[str, str] = {}
    for caste in sorted(table.castes):
        try:
            models[caste] = resolve(table, RouteRequest(caste=caste)).model
        except ProfileProblem:
            models[caste] = table.castes[caste].model
    return ProfileSnapshot(table.profile_hash, models)


@record(frozen=True)
class CasteDrift:
    caste: str
    at_pause: str | None
    now: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"caste": self.caste, "at_pause": self.at_pause, "now": self.now}


def caste_drift(before: dict[str, str], after: dict[str, str]) -> list[CasteDrift]:
    return [
        CasteDrift(c, before.get(c), after.get(c))
        for c in sorted(set(before) | set(after))
        if before.get(c) != after.get(c)
    ]
