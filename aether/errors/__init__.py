"""One exception tree for aether.

Every error a user can cause is an ``AetherError`` subclass that knows its exit code and says
three things: what is wrong, what it means, and what to do. ``aether.cli.main`` is the only
place that turns them into exit codes; ``docs/exit-codes.md`` is generated from this tree
(``tools/gendocs.py``) and a test fails when the two disagree.

Exit code ranges (each class has its own code; a test enforces uniqueness):

* 1       a check that found something (``migrate --check``, ``archive verify``)
* 2       command-line usage (Typer's own)
* 10-19   colony state
* 20-29   workspace, option values, locking and the file system
* 30-39   migration
* 40-49   model profile and routing
* 50-59   proxy and spawn
* 60-69   session boundaries: handoff, resume, archive, reset, memory
* 70      an internal bug (never expected; reported with a hint to file an issue)
* 80-89   agent runtimes (Claude Code): their settings and definition files

Each range has a middle class (``StateProblem``, ``WorkspaceProblem``, ``MigrationProblem``,
``ProfileProblem``, ``ProxyProblem`` (50-55, 59), ``WorkerProblem`` (56-58), ``SessionProblem``,
``RuntimeProblem``): code that means "the profile could not be read" catches
``ProfileProblem``, never ``AetherError``, so a lock timeout or a full disk is never reported as
something it is not. Middle classes are caught, never raised; they have no exit code of their
own (``is_family``).
"""

from __future__ import annotations

from aether.errors.base import (
    AetherError,
    CheckFailed,
)
from aether.errors.colony import (
    BadWorkspace,
    ColonyExists,
    DiskFull,
    FilesystemError,
    InvalidInput,
    LockTimeout,
    MigrationError,
    MigrationProblem,
    NoColony,
    NotColonyState,
    ReadOnly,
    ServerLost,
    ServerUnavailable,
    SiblingFileError,
    StateCorrupt,
    StateDuplicateKeys,
    StateInvalid,
    StateNotUtf8,
    StateProblem,
    StateTooLarge,
    StateTooNew,
    UnknownStateVersion,
    UnsafePath,
    WorkspaceProblem,
)
from aether.errors.routing import (
    AllModelsFailed,
    BadModelOverride,
    ContextTooLarge,
    ExecFailed,
    ModelNotServed,
    ProfileAliasBomb,
    ProfileInvalid,
    ProfileMissing,
    ProfileNotMapping,
    ProfileProblem,
    ProfileSyntax,
    ProfileTooLarge,
    ProxyAuthFailed,
    ProxyError,
    ProxyKeyMalformed,
    ProxyKeyMissing,
    ProxyProblem,
    ProxyUnreachable,
    UnknownCaste,
    UnknownModel,
    WorkerNotFound,
    WorkerProblem,
    WorkerStateConflict,
)
from aether.errors.session import (
    Aborted,
    ArchiveCorrupt,
    ArchiveNotFound,
    BadArchiveName,
    ColonyStateConflict,
    ConfirmationRequired,
    HandoffError,
    MemoryFileError,
    RuntimeNotInstalled,
    RuntimeProblem,
    RuntimeSettingsInvalid,
    SessionProblem,
)

__all__ = [
    "Aborted",
    "AetherError",
    "AllModelsFailed",
    "ArchiveCorrupt",
    "ArchiveNotFound",
    "BadArchiveName",
    "BadModelOverride",
    "BadWorkspace",
    "CheckFailed",
    "ColonyExists",
    "ColonyStateConflict",
    "ConfirmationRequired",
    "ContextTooLarge",
    "DiskFull",
    "ExecFailed",
    "FilesystemError",
    "HandoffError",
    "InvalidInput",
    "LockTimeout",
    "MemoryFileError",
    "MigrationError",
    "MigrationProblem",
    "ModelNotServed",
    "NoColony",
    "NotColonyState",
    "ProfileAliasBomb",
    "ProfileInvalid",
    "ProfileMissing",
    "ProfileNotMapping",
    "ProfileProblem",
    "ProfileSyntax",
    "ProfileTooLarge",
    "ProxyAuthFailed",
    "ProxyError",
    "ProxyKeyMalformed",
    "ProxyKeyMissing",
    "ProxyProblem",
    "ProxyUnreachable",
    "ReadOnly",
    "RuntimeNotInstalled",
    "RuntimeProblem",
    "RuntimeSettingsInvalid",
    "ServerLost",
    "ServerUnavailable",
    "SessionProblem",
    "SiblingFileError",
    "StateCorrupt",
    "StateDuplicateKeys",
    "StateInvalid",
    "StateNotUtf8",
    "StateProblem",
    "StateTooLarge",
    "StateTooNew",
    "UnknownCaste",
    "UnknownModel",
    "UnknownStateVersion",
    "UnsafePath",
    "WorkerNotFound",
    "WorkerProblem",
    "WorkerStateConflict",
    "WorkspaceProblem",
    "all_error_classes",
    "error_families",
    "is_family",
]


def is_family(cls: type[AetherError]) -> bool:
    """A middle class of the tree: what a caller catches, never what is raised."""
    return "family" in cls.__dict__


def error_families() -> list[type[AetherError]]:
    return [c for c in _subclasses() if is_family(c)]


def _subclasses() -> list[type[AetherError]]:
    seen: list[type[AetherError]] = []
    stack: list[type[AetherError]] = [AetherError]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen


def all_error_classes() -> list[type[AetherError]]:
    """Every concrete error class, in exit-code order (used by the docs generator and tests)."""
    return sorted((c for c in _subclasses() if not is_family(c)), key=lambda c: c.exit_code)
