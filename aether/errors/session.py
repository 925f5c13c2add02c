"""Errors 60-89: session boundaries (handoff, resume, archive, reset, memory) and agent
runtimes (Claude Code)."""

from __future__ import annotations

from aether.errors.base import AetherError

# --- 60-69: session boundaries -----------------------------------------------------------------


class SessionProblem(AetherError):
    """Session boundaries: handoff, resume, archive, reset, memory (60-69)."""

    family = range(60, 70)


class HandoffError(SessionProblem):
    """HANDOFF.md is unreadable or belongs to another colony."""

    exit_code = 60
    kind = "handoff"


class ColonyStateConflict(SessionProblem):
    """The command does not fit the colony's lifecycle status (resume when not paused, ...)."""

    exit_code = 61
    kind = "lifecycle_conflict"


class ArchiveNotFound(SessionProblem):
    """No chamber with that name under `.aether/chambers/`."""

    exit_code = 62
    kind = "archive_not_found"


class ArchiveCorrupt(SessionProblem):
    """A chamber whose files do not match its manifest."""

    exit_code = 63
    kind = "archive_corrupt"


class BadArchiveName(SessionProblem):
    """An archive name with a path separator, `..`, or an absolute path."""

    exit_code = 64
    kind = "bad_archive_name"


class ConfirmationRequired(SessionProblem):
    """A destructive command needs ``--yes`` (or a terminal to ask on)."""

    exit_code = 65
    kind = "confirmation_required"


class MemoryFileError(SessionProblem):
    """A memory file or an import/export file is unreadable or malformed."""

    exit_code = 66
    kind = "memory_file"


class Aborted(SessionProblem):
    """The user answered no."""

    exit_code = 67
    kind = "aborted"


# --- 80-89: agent runtimes ----------------------------------------------------------------------


class RuntimeProblem(AetherError):
    """An agent runtime's files and settings (80-89)."""

    family = range(80, 90)


class RuntimeSettingsInvalid(RuntimeProblem):
    """A runtime's settings file (``.claude/settings.json``) is not valid JSON of the shape the
    runtime documents, or an agent file in aether's way (``.codex/agents/aether-*.toml``) is not
    valid TOML; aether refuses to merge into it or replace it and leaves it untouched."""

    exit_code = 80
    kind = "runtime_settings_invalid"


class RuntimeNotInstalled(RuntimeProblem):
    """The runtime integration is not installed in this project (``aether claude install``)."""

    exit_code = 81
    kind = "runtime_not_installed"
