"""One finding of ``aether doctor``: a check's name, its level and what it found.

The colony's own checks (aether/ops/doctor/checks.py) and each runtime's (its ``doctor``
module, which ``aether doctor`` reaches through aether.runtimes.registry) end in one of these,
so the finding lives below both.
"""

from __future__ import annotations

from typing import Any

from aether.records import field, record


@record(frozen=True)
class Check:
    name: str
    level: str  # ok | info | warning | fail | skipped
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "level": self.level, "message": self.message, **self.data}
