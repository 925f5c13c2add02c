"""Errors 10-39: the colony state, the workspace (options, locking, the file system, the
server) and migration."""

from __future__ import annotations

from aether.errors.base import AetherError

# --- 10-19: colony state -------------------------------------------------------


class StateProblem(AetherError):
    """The colony state file: missing, unreadable, malformed, too new (exit codes 10-19)."""

    family = range(10, 20)


class NoColony(StateProblem):
    """No colony where the command looked (cwd and parents, --dir, AETHER_ROOT)."""

    exit_code = 10
    kind = "no_colony"


class ColonyExists(StateProblem):
    """`init` found a colony already (here, or around this directory), or `profile init` a
    profile; `--force` backs it up and replaces it."""

    exit_code = 11
    kind = "colony_exists"


class StateCorrupt(StateProblem):
    """The state file cannot be parsed (truncated, garbage, not UTF-8, duplicate keys)."""

    exit_code = 12
    kind = "state_corrupt"


class StateTooNew(StateProblem):
    """The state was written by a newer format than this aether understands."""

    exit_code = 17
    kind = "state_too_new"


class NotColonyState(StateProblem):
    """Valid JSON, but not an aether colony state (foreign file, array, string, ...)."""

    exit_code = 16
    kind = "not_colony_state"


class StateInvalid(StateProblem):
    """The state parses but does not validate against the current schema."""

    exit_code = 19
    kind = "state_invalid"


class UnknownStateVersion(StateProblem):
    """A ``version`` that is neither known nor newer (``"2.5"``, ``7``, ``null``)."""

    exit_code = 18
    kind = "unknown_state_version"


class StateNotUtf8(StateProblem):
    """The state file is not UTF-8 text."""

    exit_code = 13
    kind = "state_not_utf8"


class StateDuplicateKeys(StateProblem):
    """The same key twice in one JSON object: which value is meant cannot be known."""

    exit_code = 14
    kind = "state_duplicate_keys"


class StateTooLarge(StateProblem):
    """The state file is over the size limit (AETHER_MAX_STATE_BYTES; default 16 MiB)."""

    exit_code = 15
    kind = "state_too_large"


# --- 20-29: workspace, option values, locking and the file system ------------------------


class WorkspaceProblem(AetherError):
    """Where aether works: the workspace, option values, the lock, the file system and the
    server (20-29)."""

    family = range(20, 30)


class BadWorkspace(WorkspaceProblem):
    """``--dir``/``AETHER_ROOT`` points at something unusable, or a path has the wrong type."""

    exit_code = 20
    kind = "bad_workspace"


class InvalidInput(WorkspaceProblem):
    """An option value that parses but makes no sense (negative counts, absurd sizes)."""

    exit_code = 21
    kind = "invalid_input"


class LockTimeout(WorkspaceProblem):
    """Another live command held the colony lock past the lock timeout (the message names it)."""

    exit_code = 22
    kind = "lock_timeout"


class FilesystemError(WorkspaceProblem):
    """An OS-level failure while reading or writing (permissions, I/O)."""

    exit_code = 23
    kind = "filesystem"


class DiskFull(WorkspaceProblem):
    """No space left on the device while writing; the previous file is intact."""

    exit_code = 24
    kind = "disk_full"


class ReadOnly(WorkspaceProblem):
    """A file or directory aether must write is read-only or not permitted."""

    exit_code = 25
    kind = "read_only"


class UnsafePath(WorkspaceProblem):
    """A symlink or special file where aether expects a regular file or directory."""

    exit_code = 26
    kind = "unsafe_path"


class ServerLost(WorkspaceProblem):
    """The ``aether serve`` process a command was handed to stopped before answering; whether
    the command took effect is unknown (the client never runs it a second time)."""

    exit_code = 27
    kind = "server_lost"


class ServerUnavailable(WorkspaceProblem):
    """``aether serve`` cannot serve this colony: another server already does, or its socket
    directory is not private to this user."""

    exit_code = 28
    kind = "server_unavailable"


# --- 30-39: migration --------------------------------------------------------------------------


class MigrationProblem(AetherError):
    """Upgrading an old state format (30-39)."""

    family = range(30, 40)


class MigrationError(MigrationProblem):
    """A migration step could not convert the document."""

    exit_code = 30
    kind = "migration_failed"


class SiblingFileError(MigrationProblem):
    """A legacy sibling file (PROJECT_PLAN.json, memory.json, ...) is unreadable."""

    exit_code = 31
    kind = "sibling_file"
