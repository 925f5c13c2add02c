"""A per-model circuit breaker that persists across processes (docs/spawn.md).

Every CLI call is a new process, so the breaker lives in ``.aether/data/breaker.json``:

* *closed*: requests go through. Only **availability** failures count (connection error,
  timeout, 408, 429, 5xx); a 400 or a context-window error is the request's fault and a
  ``429 all_deployments_in_cooldown`` means "unavailable now" - neither is counted.
* ``failures`` *consecutive* availability failures (default 3) open it; a success resets the
  count (unlike LiteLLM's own cooldown, which counts failures in a window).
* *open*: the model is skipped without a request until ``cooldown_s`` (default 60) has passed,
  whatever other models do meanwhile.
* *half-open*: after the cooldown exactly one process claims the single probe it allows (the
  claim is written under the lock); a success closes the breaker, a failure re-opens it for
  another cooldown. A claim older than ``claim_ttl_s`` is considered abandoned (its process
  died mid-probe).

Writes happen under the colony lock, held only for the read-modify-write of this small file,
never across a network call. A corrupt file is moved aside (``breaker.json.corrupt-<time>``)
and reported in the activity log, never silently overwritten. The clock is injectable so the
unit tests need no sleeping; by default it is aether's clock (``aether.timeutil.epoch``), which
``AETHER_NOW`` sets, so a test of whole processes steps past a cooldown without waiting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aether.bounded_read import read_regular
from aether.files import atomic_write_json
from aether.records import record
from aether.redaction import redact
from aether.routing.table import DEFAULT_BREAKER_COOLDOWN_S, DEFAULT_BREAKER_FAILURES
from aether.timeutil import epoch
from aether.workspace import Workspace

FORMAT = 1

Clock = Callable[[], float]


@record(frozen=True)
class Gate:
    """Whether a model may be tried now."""

    allowed: bool
    state: str  # "closed", "open", "half-open"
    #: True when this caller holds the single half-open probe
    probe: bool = False
    retry_at: float | None = None
    reason: str = ""


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Breaker:
    def __init__(
        self,
        ws: Workspace,
        *,
        failures: int = DEFAULT_BREAKER_FAILURES,
        cooldown_s: float = DEFAULT_BREAKER_COOLDOWN_S,
        clock: Clock = epoch,
        lock_timeout: float | None = None,
        claim_ttl_s: float = 120.0,
    ) -> None:
        self.ws = ws
        self.failures = max(1, int(failures))
        self.cooldown_s = float(cooldown_s)
        self.clock = clock
        self.lock_timeout = lock_timeout
        self.claim_ttl_s = claim_ttl_s
        #: set when a corrupt file was moved aside (the caller logs it)
        self.quarantined: str | None = None

    # --- file ----------------------------------------------------------------------------------

    def _read(self) -> dict[str, dict[str, Any]]:
        path = self.ws.breaker_file
        try:
            raw = read_regular(path).decode("utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(raw)
            models = data["models"]
            if not isinstance(models, dict) or not all(
                isinstance(v, dict) for v in models.values()
            ):
                raise ValueError("models is not a mapping of objects")
            return models
        except (ValueError, KeyError, TypeError):
            return self._corrupt(raw)

    def _corrupt(self, raw: str) -> dict[str, dict[str, Any]]:
        # never overwrite what we cannot read: move it aside (Home Assistant's Store habit)
        path = self.ws.breaker_file
        target = path.with_name(f"{path.name}.corrupt-{int(self.clock())}")
        try:
            os.replace(path, target)
            self.quarantined = str(target)
        except OSError:
            pass
        return {}

    @contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        from aether.state.store import Store

        with Store(self.ws, lock_timeout=self.lock_timeout).lock():
            models = self._read()
            before = json.dumps(models, sort_keys=True)
            yield models
            if json.dumps(models, sort_keys=True) != before:
                atomic_write_json(self.ws.breaker_file, {"format": FORMAT, "models": models})

    # --- queries -------------------------------------------------------------------------------

    def _state_of(self, entry: dict[str, Any] | None, now: float) -> str:
        if not entry or entry.get("opened_at") is None:
            return "closed"
        if now < float(entry["opened_at"]) + self.cooldown_s:
            return "open"
        return "half-open"

    def gate(self, model: str) -> Gate:
        """May ``model`` be tried now? Claims the half-open probe when it is free."""
        now = self.clock()
        entry = self._read().get(model)
        state = self._state_of(entry, now)
        if state == "closed":
            return Gate(True, "closed")
        assert entry is not None
        retry_at = float(entry["opened_at"]) + self.cooldown_s
        if state == "open":
            return Gate(
                False, "open", retry_at=retry_at, reason=f"breaker open until {_iso(retry_at)}"
            )
        with self._locked() as models:  # half-open: claim the one probe under the lock
            entry = models.get(model)
            now = self.clock()
            state = self._state_of(entry, now)
            if state == "closed" or entry is None:
                return Gate(True, "closed")
            retry_at = float(entry["opened_at"]) + self.cooldown_s
            if state == "open":
                return Gate(
                    False, "open", retry_at=retry_at, reason=f"breaker open until {_iso(retry_at)}"
                )
            claimed = entry.get("probe_claimed_at")
            if claimed is not None and now - float(claimed) < self.claim_ttl_s:
                return Gate(
                    False,
                    "half-open",
                    retry_at=retry_at,
                    reason="breaker half-open; another process holds its one probe",
                )
            entry["probe_claimed_at"] = now
            return Gate(True, "half-open", probe=True)

    # --- updates -------------------------------------------------------------------------------

    def record_success(self, model: str) -> None:
        if model not in self._read():
            return  # nothing to reset: no lock taken (the common, fast case)
        with self._locked() as models:
            entry = models.get(model)
            if entry is None:
                return
            models[model] = {
                "consecutive_failures": 0,
                "opened_at": None,
                "last_error": entry.get("last_error"),
                "last_failure_at": entry.get("last_failure_at"),
                "last_success_at": self.clock(),
            }

    def record_failure(self, model: str, error: str) -> bool:
        """Count one availability failure; True when this failure opened the breaker."""
        with self._locked() as models:
            now = self.clock()
            entry = models.setdefault(model, {"consecutive_failures": 0, "opened_at": None})
            was_half_open = self._state_of(entry, now) == "half-open"
            count = int(entry.get("consecutive_failures", 0)) + 1
            entry["consecutive_failures"] = count
            entry["last_error"] = redact(error)[:300]
            entry["last_failure_at"] = now
            entry.pop("probe_claimed_at", None)
            if was_half_open or (entry.get("opened_at") is None and count >= self.failures):
                entry["opened_at"] = now
                return True
            return False

    def release_probe(self, model: str) -> None:
        """Give the half-open probe back unused (e.g. the attempt ended in a 400)."""
        with self._locked() as models:
            entry = models.get(model)
            if entry is not None:
                entry.pop("probe_claimed_at", None)

    def reset(self, model: str) -> bool:
        """Close the breaker of ``model``; False when there was nothing to reset."""
        with self._locked() as models:
            return models.pop(model, None) is not None

    def status(self) -> list[dict[str, Any]]:
        now = self.clock()
        rows = []
        for model, entry in sorted(self._read().items()):
            state = self._state_of(entry, now)
            opened = entry.get("opened_at")
            rows.append(
                {
                    "model": model,
                    "state": state,
                    "consecutive_failures": int(entry.get("consecutive_failures", 0)),
                    "threshold": self.failures,
                    "opened_at": _iso(opened),
                    "retry_at": _iso(float(opened) + self.cooldown_s)
                    if opened is not None
                    else None,
                    "retry_in_s": round(max(0.0, float(opened) + self.cooldown_s - now), 1)
                    if opened is not None
                    else None,
                    "last_error": entry.get("last_error"),
                    "last_failure_at": _iso(entry.get("last_failure_at")),
                }
            )
        return rows
