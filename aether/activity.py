"""The audit trail: ``.aether/activity.log``, one JSON object a line, append-only.

Holds routing decisions, fallbacks, proxy failures and lifecycle events. Never holds secrets
(``redact`` scrubs anything that looks like a key or bearer token) nor per-request costs or
token counts (those aggregate in the state).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from aether.files import append_line
from aether.timeutil import iso
from aether.workspace import Workspace

_SECRET_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{3,}"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._\-~+/]+=*"),
    re.compile(r"(?i)(api[_-]?key|token|authorization|password)(\"?\s*[:=]\s*\"?)[^\s\",}]+"),
)


def redact(text: str) -> str:
    """Replace anything that looks like a credential with ``[redacted]``."""
    out = _SECRET_PATTERNS[0].sub("sk-[redacted]", text)
    out = _SECRET_PATTERNS[1].sub("Bearer [redacted]", out)
    out = _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", out)
    for name, value in os.environ.items():
        # also scrub the literal values of variables that hold secrets, whatever their shape
        if value and len(value) >= 8 and re.search(r"(?i)(key|token|secret|password)", name):
            out = out.replace(value, "[redacted]")
    return out


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
