"""Errors 40-59: the model profile and routing, the proxy, workers."""

from __future__ import annotations

from aether.errors.base import AetherError

# --- 40-49: model profile and routing ----------------------------------------------------------


class ProfileProblem(AetherError):
    """The model profile and routing by it (40-49)."""

    family = range(40, 50)


class ProfileMissing(ProfileProblem):
    """The model profile `.aether/model-profiles.yaml` does not exist or cannot be read (a
    FIFO or device in its place is not read)."""

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
