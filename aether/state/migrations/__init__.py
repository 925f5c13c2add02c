"""The migration chain: frozen, pure ``dict -> dict`` steps from every format ever written.

The store calls :func:`upgrade` for any document whose version is not the current one. Each
step converts one version to the next and is never edited once released; the current version
is derived from the last step, so the chain and the schema cannot disagree.
"""

from __future__ import annotations

from aether.state.migrations.base import MEMORY_KEY, MigrationContext, MigrationStep
from aether.state.migrations.chain import (
    CURRENT_VERSION,
    STEPS,
    UpgradeResult,
    detect_version,
    known_versions,
    plan_for,
    upgrade,
)

__all__ = [
    "CURRENT_VERSION",
    "MEMORY_KEY",
    "STEPS",
    "MigrationContext",
    "MigrationStep",
    "UpgradeResult",
    "detect_version",
    "known_versions",
    "plan_for",
    "upgrade",
]
