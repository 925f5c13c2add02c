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


class AetherError(Exception):
    """Base of every error aether reports to a user."""

    exit_code: int = 70
    #: a short stable name, used in ``--json`` error objects
    kind: str = "internal"

    def __init__(self, what: str, *, meaning: str = "", fix: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.meaning = meaning
        self.fix = fix

    def one_line(self) -> str:
        """The single line printed on stderr."""
        parts = [self.what.rstrip(".")]
        if self.meaning:
            parts.append(self.meaning.rstrip("."))
        if self.fix:
            parts.append(self.fix.rstrip("."))
        return ". ".join(parts) + "."

    def to_json(self) -> dict[str, object]:
        return {
            "ok": False,
            "error": {
                "kind": self.kind,
                "exit_code": self.exit_code,
                "message": self.what,
                "meaning": self.meaning,
                "fix": self.fix,
            },
        }


class CheckFailed(AetherError):
    """A check command found what it looks for (e.g. a migration is needed)."""

    exit_code = 1
    kind = "check_failed"


# --- 10-19: colony state -------------------------------------------------------


class StateProblem(AetherError):
    """The colony state file: missing, unreadable, malformed, too new (exit codes 10-19)."""

    family = range(10, 20)


class NoColony(StateProblem):
    """No colony where the command looked (cwd and parents, --dir, AETHER_ROOT)."""

    exit_code = 10
    kind = "no_colony"


class ColonyExists(StateProblem):
    """`init` found a colony already; `--force` backs it up and replaces it."""

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


# --- 40-49: model profile and routing ----------------------------------------------------------


class ProfileProblem(AetherError):
    """The model profile and routing by it (40-49)."""

    family = range(40, 50)


class ProfileMissing(ProfileProblem):
    """The model profile `.aether/model-profiles.yaml` does not exist."""

    exit_code = 40
    kind = "profile_missing"


class ProfileSyntax(ProfileProblem):
    """YAML syntax error, duplicate key, not UTF-8 (too large/alias bomb/non-mapping: 47-49)."""

    exit_code = 41
    kind = "profile_syntax"


class ProfileInvalid(ProfileProblem):
    """The profile parses but fails validation (types, unknown models, chains, ...)."""

    exit_code = 42
    kind = "profile_invalid"


class UnknownModel(ProfileProblem):
    """A model name (--model, profile or environment) that the profile does not declare."""

    exit_code = 43
    kind = "unknown_model"


class UnknownCaste(ProfileProblem):
    """A caste the profile does not know (strict mode)."""

    exit_code = 44
    kind = "unknown_caste"


class ContextTooLarge(ProfileProblem):
    """No model in the chain has a context window large enough."""

    exit_code = 45
    kind = "context_too_large"


class BadModelOverride(ProfileProblem):
    """A malformed ``AETHER_MODEL_n`` environment variable."""

    exit_code = 46
    kind = "bad_model_override"


class ProfileTooLarge(ProfileProblem):
    """The profile file is over the size limit (1 MiB)."""

    exit_code = 47
    kind = "profile_too_large"


class ProfileAliasBomb(ProfileProblem):
    """YAML anchors/aliases that expand past the budget, or refer to themselves."""

    exit_code = 48
    kind = "profile_alias_bomb"


class ProfileNotMapping(ProfileProblem):
    """The YAML parses, but its top level is not a mapping (a list, a string, empty)."""

    exit_code = 49
    kind = "profile_not_mapping"


# --- 50-59: proxy and spawn --------------------------------------------------------------------


class ProxyProblem(AetherError):
    """Proving a spawn through the proxy: unreachable, key, auth, models (50-55, 59)."""

    family = (*range(50, 56), 59)


class WorkerProblem(AetherError):
    """A worker's record or its command: not found, a transition that makes no sense, a
    command that cannot start (56-58)."""

    family = range(56, 59)


class ProxyUnreachable(ProxyProblem):
    """Connection refused, timeout, or the proxy is not ready."""

    exit_code = 50
    kind = "proxy_unreachable"


class ProxyKeyMissing(ProxyProblem):
    """The environment variable the profile names for the proxy key is not set."""

    exit_code = 51
    kind = "proxy_key_missing"


class ProxyAuthFailed(ProxyProblem):
    """The proxy rejected the key (401, 400 no_db_connection) or forbade access (403)."""

    exit_code = 52
    kind = "proxy_auth_failed"


class ModelNotServed(ProxyProblem):
    """The proxy does not list the chosen model (or its alias)."""

    exit_code = 53
    kind = "model_not_served"


class ProxyError(ProxyProblem):
    """The proxy answered with a 5xx or something unexpected."""

    exit_code = 54
    kind = "proxy_error"


class AllModelsFailed(ProxyProblem):
    """Every model in the fallback chain failed; ``attempts`` lists each one."""

    exit_code = 55
    kind = "all_models_failed"

    def __init__(
        self,
        what: str,
        *,
        attempts: list[dict[str, object]] | None = None,
        meaning: str = "",
        fix: str = "",
    ) -> None:
        super().__init__(what, meaning=meaning, fix=fix)
        self.attempts = list(attempts or [])

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        error = payload["error"]
        assert isinstance(error, dict)
        error["attempts"] = self.attempts
        return payload


class WorkerNotFound(WorkerProblem):
    """No worker with that id in the colony."""

    exit_code = 56
    kind = "worker_not_found"


class WorkerStateConflict(WorkerProblem):
    """A worker transition that makes no sense (reporting on a finished worker, ...)."""

    exit_code = 57
    kind = "worker_state_conflict"


class ProxyKeyMalformed(ProxyProblem):
    """The proxy key variable holds something no HTTP header can carry (a line break, a space
    at either end, a character that is not printable ASCII): usually a copy-paste."""

    exit_code = 59
    kind = "proxy_key_malformed"


class ExecFailed(WorkerProblem):
    """``spawn --exec`` could not start the worker command."""

    exit_code = 58
    kind = "exec_failed"


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
    runtime documents; aether refuses to merge into it and leaves it untouched."""

    exit_code = 80
    kind = "runtime_settings_invalid"


class RuntimeNotInstalled(RuntimeProblem):
    """The runtime integration is not installed in this project (``aether claude install``)."""

    exit_code = 81
    kind = "runtime_not_installed"


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
