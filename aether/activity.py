"""The audit trail: ``.aether/activity.log``, one JSON object a line, append-only.

Holds routing decisions, fallbacks, proxy failures and lifecycle events. Never holds secrets
(aether.redaction scrubs every field) nor per-request costs or token counts (those aggregate in
the state).
"""

from __future__ import annotations

import json
from typing import Any

from aether.files import append_line
from aether.redaction import redact
from aether.timeutil import iso
from aether.workspace import Workspace


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def log(ws: Workspace, event: str, **fields: Any) -> None:
    record = {"ts": iso(), "event": event, **_scrub(fields)}
    append_line(ws.activity_log, json.dumps(record, sort_keys=True, ensure_ascii=False))
