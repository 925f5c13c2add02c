"""Clock and identifiers. ``AETHER_NOW`` (ISO 8601) freezes the clock for golden-file tests."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime


def now() -> datetime:
    frozen = os.environ.get("AETHER_NOW")
    if frozen:
        return parse_iso(frozen)
    return datetime.now(UTC)


def epoch() -> float:
    """The same clock as ``now()``, in seconds since the epoch (``AETHER_NOW`` sets it too)."""
    frozen = os.environ.get("AETHER_NOW")
    if frozen:
        return parse_iso(frozen).timestamp()
    return time.time()


def iso(moment: datetime | None = None) -> str:
    """UTC, second precision, ``Z`` suffix: ``2026-11-21T15:04:11Z``."""
    value = (moment or now()).astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def age_seconds(text: str | None, reference: datetime | None = None) -> float | None:
    if not text:
        return None
    try:
        then = parse_iso(text)
    except ValueError:
        return None
    return ((reference or now()) - then).total_seconds()


def new_id(prefix: str) -> str:
    """A readable, unique id: ``prefix-YYYYmmdd-HHMMSS-xxxx`` (time-sortable, random tail)."""
    stamp = now().strftime("%Y%m%d-%H%M%S")
    return f"{prefix}-{stamp}-{os.urandom(3).hex()}"
