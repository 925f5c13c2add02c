"""The model profile (``.aether/model-profiles.yaml``): its schema, its checks, and validating it.

The Pydantic models below are the current format (``format: 2``). Unknown keys are errors with
a did-you-mean (a typo such as ``chian:`` must not be silently ignored). The old tool's formats
are converted to this shape first (``aether.routing.legacy``). Cross-references — castes naming
undeclared models, over-long chains, empty keyword groups — are checked by ``check_profile`` and
reported as ``location: message`` findings; loading a profile (``aether.routing.loader``) raises
on the first error, ``aether profile validate`` lists them all.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aether.records import record
from aether.routing.table import (
    DEFAULT_ATTEMPT_S,
    DEFAULT_BREAKER_COOLDOWN_S,
    DEFAULT_BREAKER_FAILURES,
    DEFAULT_COMPLEXITY_KEYWORDS,
    DEFAULT_CONNECT_S,
    DEFAULT_ENDPOINT,
    DEFAULT_KEY_ENV,
    DEFAULT_PROBE,
    DEFAULT_PROBE_TTL_S,
    RoutingTable,
    compile_table,
    normalise_caste,
)
from aether.text import did_you_mean

CURRENT_FORMAT = 2
#: a caste's model plus its fallback chain
MAX_CHAIN = 8


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSpec(_Strict):
    provider: str = Field(min_length=1)
    context_window: int = Field(gt=0, le=100_000_000)
    capabilities: list[str] = Field(default_factory=list)
    #: 1 (slowest) .. 5 (fastest), relative to the other models in the profile
    speed: int = Field(default=3, ge=1, le=5)
    #: 1 (cheapest) .. 5 (most expensive); also read as "how large/capable" by scoring
    cost: int = Field(default=3, ge=1, le=5)
    #: earlier names of this model (a renamed model keeps resolving)
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    best_for: list[str] = Field(default_factory=list)


class CasteSpec(_Strict):
    model: str = Field(min_length=1)
    #: models to try after ``model``, in order (``model`` + chain <= 8)
    chain: list[str] = Field(default_factory=list)


class KeywordGroupSpec(_Strict):
    keywords: list[str]
    model: str = Field(min_length=1)
    #: castes this group applies to; empty means every caste
    castes: list[str] = Field(default_factory=list)
    #: breaks ties between groups matching the same number of keywords (higher wins)
    priority: int = 0


class TaskRoutingSpec(_Strict):
    enabled: bool = True
    groups: dict[str, KeywordGroupSpec] = Field(default_factory=dict)


class ScoringSettings(_Strict):
    #: use the intent score as a routing stage (after keyword groups); always shown by `route`
    enabled: bool = False
    #: points the winner must lead the caste's own model by to replace it
    margin: int = Field(default=10, ge=0, le=100)
    complexity_keywords: list[str] = Field(
        default_factory=lambda: list(DEFAULT_COMPLEXITY_KEYWORDS)
    )
    short_prompt_words: int = Field(default=8, ge=1)
    long_prompt_words: int = Field(default=120, ge=2)
    large_context_tokens: int = Field(default=100_000, ge=1)
    tool_saturation: int = Field(default=4, ge=1, le=64)


class ProxySettings(_Strict):
    """The ``proxy:`` section (compiled into ``RoutingTable.proxy`` with the next two)."""

    endpoint: str = DEFAULT_ENDPOINT
    #: the NAME of the environment variable holding the key — never the key itself
    key_env: str = Field(default=DEFAULT_KEY_ENV, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    #: True: no proxy; spawns are recorded unverified
    standalone: bool = False
    probe: Literal["never", "first-use", "always"] = DEFAULT_PROBE
    #: seconds a passed first-use probe counts for later sessions too (0: each session probes)
    probe_ttl_s: float = Field(default=DEFAULT_PROBE_TTL_S, ge=0, le=30 * 86_400)
    open_proxy_check: bool = True


class Timeouts(_Strict):
    attempt_s: float = Field(default=DEFAULT_ATTEMPT_S, gt=0, le=3600)
    connect_s: float = Field(default=DEFAULT_CONNECT_S, gt=0, le=600)


class BreakerSettings(_Strict):
    failures: int = Field(default=DEFAULT_BREAKER_FAILURES, ge=1, le=100)
    cooldown_s: float = Field(default=DEFAULT_BREAKER_COOLDOWN_S, ge=0, le=86_400)


class Profile(_Strict):
    format: Literal[2] = 2
    name: str = ""
    description: str = ""
    #: unknown caste: an error (strict) or default_model, loudly (lenient)
    strict: bool = True
    default_model: str | None = None
    models: dict[str, ModelSpec]
    castes: dict[str, CasteSpec]
    #: caste -> model; the user's own choice, above task routing and the caste default
    overrides: dict[str, str] = Field(default_factory=dict)
    task_routing: TaskRoutingSpec = Field(default_factory=TaskRoutingSpec)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    proxy: ProxySettings = Field(default_factory=ProxySettings)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)

    @field_validator("castes", mode="before")
    @classmethod
    def _castes(cls, value: Any) -> Any:
        """Normalise caste names; accept ``builder: model`` as shorthand for ``{model: ...}``."""
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for raw, spec in value.items():
            key = normalise_caste(str(raw))
            if not key:
                raise ValueError(f"caste name {raw!r} is empty")
            if key in out:
                raise ValueError(f"castes {raw!r} and another entry both normalise to {key!r}")
            out[key] = {"model": spec} if isinstance(spec, str) else spec
        return out

    @field_validator("overrides", mode="before")
    @classmethod
    def _overrides(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {normalise_caste(str(k)): v for k, v in value.items()}

    def table(self) -> RoutingTable:
        """The compiled routing table (what ``resolve`` works on)."""
        return compile_table(self.model_dump(mode="json"))

    def model_names_and_aliases(self) -> list[str]:
        names = set(self.models)
        for spec in self.models.values():
            names.update(spec.aliases)
        return sorted(names)


# --- checks ------------------------------------------------------------------------------------


@record(frozen=True)
class Finding:
    severity: Literal["error", "warning"]
    location: str
    message: str

    def line(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity, "location": self.location, "message": self.message}


def _unknown_model(profile: Profile, name: str) -> str:
    return f"unknown model {name!r}{did_you_mean(name, profile.model_names_and_aliases())}"


def _known(profile: Profile, name: str) -> bool:
    return canonical_model(profile, name) is not None


def check_profile(profile: Profile) -> list[Finding]:
    """Cross-reference checks Pydantic cannot express. Pure; errors first, in file order."""
    found = [
        *_model_findings(profile),
        *(f for caste in profile.castes for f in _caste_findings(profile, caste)),
        *_override_findings(profile),
        *(f for group in profile.task_routing.groups for f in _group_findings(profile, group)),
        *_setting_findings(profile),
    ]
    return [f for f in found if f.severity == "error"] + [f for f in found if f.severity != "error"]


def _error(location: str, message: str) -> Finding:
    return Finding("error", location, message)


def _model_findings(profile: Profile) -> list[Finding]:
    """Models and castes declared; no alias naming two models."""
    found = [_error("models", "no models are declared")] if not profile.models else []
    if not profile.castes:
        found.append(_error("castes", "no castes are declared"))
    owners = {name.lower(): name for name in profile.models}
    for name, spec in profile.models.items():
        for i, alias in enumerate(spec.aliases):
            other = owners.get(alias.lower())
            if other is not None and other != name:
                found.append(
                    _error(
                        f"models.{name}.aliases[{i}]", f"{alias!r} already names model {other!r}"
                    )
                )
            owners[alias.lower()] = name
    return found


def _caste_findings(profile: Profile, caste: str) -> list[Finding]:
    """A caste's model and chain: known models, none twice, not too many."""
    cs, loc = profile.castes[caste], f"castes.{caste}"
    found = (
        []
        if _known(profile, cs.model)
        else [_error(f"{loc}.model", _unknown_model(profile, cs.model))]
    )
    seen = {canonical_model(profile, cs.model) or cs.model}
    for i, m in enumerate(cs.chain):
        if not _known(profile, m):
            found.append(_error(f"{loc}.chain[{i}]", _unknown_model(profile, m)))
        canon = canonical_model(profile, m) or m
        if canon in seen:
            found.append(
                _error(f"{loc}.chain[{i}]", f"{m!r} appears twice in the caste's model and chain")
            )
        seen.add(canon)
    if 1 + len(cs.chain) > MAX_CHAIN:
        message = f"{1 + len(cs.chain)} models with the caste's own (limit {MAX_CHAIN})"
        found.append(_error(f"{loc}.chain", message))
    return found


def _override_findings(profile: Profile) -> list[Finding]:
    found: list[Finding] = []
    for caste, model in profile.overrides.items():
        if not _known(profile, model):
            found.append(_error(f"overrides.{caste}", _unknown_model(profile, model)))
        if caste not in profile.castes:
            message = "overrides a caste the profile does not declare" + did_you_mean(
                caste, list(profile.castes)
            )
            found.append(Finding("warning", f"overrides.{caste}", message))
    return found


def _group_findings(profile: Profile, name: str) -> list[Finding]:
    """A task-routing keyword group: keywords that can match, a known model and castes."""
    group, loc = profile.task_routing.groups[name], f"task_routing.groups.{name}"
    found: list[Finding] = []
    if not group.keywords:
        found.append(_error(f"{loc}.keywords", "the keyword group is empty (it could never match)"))
    for i, kw in enumerate(group.keywords):
        if not kw.strip():
            found.append(_error(f"{loc}.keywords[{i}]", "an empty keyword"))
    if not _known(profile, group.model):
        found.append(_error(f"{loc}.model", _unknown_model(profile, group.model)))
    for i, c in enumerate(group.castes):
        if normalise_caste(c) not in profile.castes:
            hint = did_you_mean(c, list(profile.castes))
            found.append(_error(f"{loc}.castes[{i}]", f"unknown caste {c!r}{hint}"))
    return found


def _setting_findings(profile: Profile) -> list[Finding]:
    found: list[Finding] = []
    if profile.default_model is not None and not _known(profile, profile.default_model):
        found.append(_error("default_model", _unknown_model(profile, profile.default_model)))
    if not profile.strict and profile.default_model is None:
        found.append(
            _error(
                "default_model", "lenient mode (strict: false) needs a default_model for unknowns"
            )
        )
    if profile.scoring.long_prompt_words <= profile.scoring.short_prompt_words:
        found.append(_error("scoring.long_prompt_words", "must be larger than short_prompt_words"))
    return found


def canonical_model(profile: Profile | RoutingTable, name: str) -> str | None:
    """The canonical model for a name or alias (exact, then case-insensitive); None if unknown."""
    if isinstance(profile, RoutingTable):
        return profile.canonical_model(name)
    if name in profile.models:
        return name
    folded = name.strip().lower()
    for model in profile.models:
        if model.lower() == folded:
            return model
    for model, spec in sorted(profile.models.items()):
        if any(a.lower() == folded for a in spec.aliases):
            return model
    return None


def profile_hash(profile: Profile | RoutingTable) -> str:
    """``p-<16 hex>``: sha256 over the profile's canonical meaning (``table.meaning``)."""
    if isinstance(profile, RoutingTable):
        return profile.profile_hash
    return profile.table().profile_hash


# --- validation errors as `location: message` lines ----------------------------------------------

_FIELD_NAMES = sorted(
    {
        f
        for cls in (
            Profile,
            ModelSpec,
            CasteSpec,
            KeywordGroupSpec,
            TaskRoutingSpec,
            ScoringSettings,
            ProxySettings,
            Timeouts,
            BreakerSettings,
        )
        for f in cls.model_fields
    }
)


def location(parts: tuple[int | str, ...]) -> str:
    """A validation error's location as findings write it: ``castes.builder.chain[2]``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def validation_findings(exc: ValidationError) -> list[Finding]:
    findings = []
    for e in exc.errors(include_url=False):
        loc = location(tuple(e["loc"]))
        if e["type"] == "extra_forbidden":
            key = str(e["loc"][-1]) if e["loc"] else ""
            msg = "unknown key" + did_you_mean(key, _FIELD_NAMES)
        elif e["type"] == "missing":
            msg = "required, but missing"
        elif e["type"] == "literal_error" and loc == "format":
            msg = f"format {e.get('input')!r} is not one this aether reads (it reads 2)"
        else:
            msg = str(e["msg"])
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
        findings.append(Finding("error", loc, msg))
    return findings


def parse_profile(data: dict[str, Any]) -> Profile:
    """Validate a current-format dict (raises ``ValidationError``)."""
    return Profile.model_validate(data)
