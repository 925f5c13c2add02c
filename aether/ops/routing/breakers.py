"""``aether breaker status | reset``: the per-model circuit breakers (aether/routing/breaker.py)
with the thresholds the profile sets."""

from __future__ import annotations

from typing import Any

from aether.records import record
from aether.routing.breaker import Breaker
from aether.workspace import Workspace


@record
class BreakerReport:
    """Each model's breaker; after a reset, which model and whether it had any state."""

    rows: list[dict[str, Any]]
    reset: str | None = None
    was_open: bool | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": True, "models": self.rows}
        if self.reset is not None:
            out.update(reset=self.reset, had_state=self.was_open)
        return out


def _breaker(ws: Workspace, lock_timeout: float | None) -> Breaker:
    from aether.routing.loader import load_profile_file

    settings = load_profile_file(ws.profile_file, ws.cache_dir).table.proxy
    return Breaker(
        ws,
        failures=settings.breaker_failures,
        cooldown_s=settings.breaker_cooldown_s,
        lock_timeout=lock_timeout,
    )


def breaker_status(ws: Workspace, *, lock_timeout: float | None = None) -> BreakerReport:
    return BreakerReport(_breaker(ws, lock_timeout).status())


def reset_breaker(ws: Workspace, model: str, *, lock_timeout: float | None = None) -> BreakerReport:
    """Close ``model``'s breaker now (its failures are forgotten)."""
    breaker = _breaker(ws, lock_timeout)
    had = breaker.reset(model)
    return BreakerReport(breaker.status(), reset=model, was_open=had)
