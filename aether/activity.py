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
    # a token that *starts* with sk- (never "task-…", "risk-…": not inside a word)
    re.compile(r"(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{3,}"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._\-~+/]+=*"),
    re.compile(r"(?i)(api[_-]?key|token|authorization|password)(\"?\s*[:=]\s*\"?)[^\s\",}]+"),
)


#: names of environment variables whose values are secrets, whatever their shape
_SECRET_NAME = re.compile(r"(?i)(key|token|secret|passw|auth|credential)")


def secret_values() -> list[str]:
    """The values of this process's secret-named variables, in every form they may be printed
    in: as set, stripped of the line break a copy-paste adds, and escaped as ``repr`` shows
    them in a traceback. Longest first, so no shorter form leaves a piece of a longer one."""
    forms: set[str] = set()
    for name, value in os.environ.items():
        if value and len(value.strip()) >= 8 and _SECRET_NAME.search(name):
            forms.update({value, value.strip(), repr(value)[1:-1], repr(value.strip())[1:-1]})
    return sorted(forms, key=len, reverse=True)


def redact(text: str) -> str:
    """Replace anything that looks like a credential with ``[redacted]``."""
    out = _SECRET_PATTERNS[0].sub("sk-[redacted]", text)
    out = _SECRET_PATTERNS[1].sub("Bearer [redacted]", out)
    out = _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", out)
    for value in secret_values():
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
