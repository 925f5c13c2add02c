"""2.0 -> 3.0: what the old tool's own upgrade should have done.

3.0 dropped the per-caste ``workers`` status map, the ``spawn_outcomes`` statistics and the
``mode`` fields, and added ``build_started_at``, ``plan.confidence``, ``memory.instincts`` and
``graveyards``. Dropped is not lost here: those values go verbatim to ``legacy["2.0"]``. The
new fields are not invented empty: the next step treats a missing section as empty (it must,
for real 3.0 files lack some), and an invented value would read as data. Every other key is
handed on unchanged (the old tool wrote its later additions into files of any version stamp,
so the next step treats them alike). Frozen: never edit.
"""

from __future__ import annotations

from typing import Any

from aether.state.migrations.base import LEGACY_KEY, MigrationContext, with_legacy

_DROPPED_IN_3 = ("workers", "spawn_outcomes", "mode", "mode_set_at", "mode_indicators")


def migrate(doc: dict[str, Any], ctx: MigrationContext) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in _DROPPED_IN_3 and k != LEGACY_KEY}
    kept = {k: doc[k] for k in _DROPPED_IN_3 if k in doc}
    out["version"] = "3.0"
    return with_legacy(out, doc, "2.0", kept)
