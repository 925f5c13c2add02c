"""The compiled routing table: what resolution needs from a profile, in plain frozen records.

Why a second representation next to the Pydantic ``Profile``: importing pydantic and building
its models costs ~100 ms a process here, which alone would put ``aether route`` far past 1.3x a
bare Typer app. ``aether.routing.cache`` keeps the validated profile as JSON, and this module
turns that JSON into a ``RoutingTable`` without importing pydantic (or yaml). ``resolve()``
accepts either form and works on the table.

This module also owns the *meaning* of a profile — the canonical form the profile hash is
computed over (see docs/routing.md, "What the profile hash covers").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from aether.records import field, record, replace

#: the words scoring counts as signs of a complex task (a profile may replace them)
DEFAULT_COMPLEXITY_KEYWORDS = (
    "analyze",
    "analyse",
    "analysis",
    "architect",
    "architecture",
    "debug",
    "design",
    "derive",
    "evaluate",
    "investigate",
    "optimize",
    "plan",
    "prove",
    "reason",
    "refactor",
    "strategize",
    "synthesize",
    "trade-off",
    "tradeoff",
)

#: a bracketed suffix a runtime adds to a model name (Claude Code: ``[1m]`` for a 1M window)
_DECORATION = re.compile(r"\[[^\]]*\]$")
#: a release date a provider appends to a model name (``-20250929``, ``@20250929``)
_DATE_SUFFIX = re.compile(r"[-@]\d{8}$")

#: how spawn reaches the proxy when the profile does not say (the profile schema,
#: aether/routing/profile.py, and the compiled table both take them from here)
DEFAULT_ENDPOINT = "http://127.0.0.1:4000"
DEFAULT_KEY_ENV = "LITELLM_MASTER_KEY"
#: points aether at a proxy for this environment, above the profile's ``proxy.endpoint``
PROXY_URL_ENV = "AETHER_PROXY_URL"
DEFAULT_PROBE: Final = "first-use"
#: how long a passed probe (one paid 1-token request) proves a model is served, for every
#: session and process of the colony (aether/ops/spawn/verify.py, ProbeProofs); 0: per session
DEFAULT_PROBE_TTL_S: float = 3600
DEFAULT_ATTEMPT_S: float = 30
DEFAULT_CONNECT_S: float = 5
#: the circuit breaker (aether/routing/breaker.py): consecutive failures that open it, and
#: how long it stays open
DEFAULT_BREAKER_FAILURES = 3
DEFAULT_BREAKER_COOLDOWN_S: float = 60

#: bump when the canonical form changes (it changes every profile hash, so never casually)
HASH_SCHEME = 1


def normalise_caste(name: str) -> str:
    """``"Route_Setter "`` -> ``"route-setter"``: case, ``_``/``-`` and whitespace folded.

    The tool we replace looked castes up exactly: ``Prime`` silently got the default model and
    ``route_setter`` missed ``route-setter``.
    """
    return "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


@record(frozen=True)
class ModelInfo:
    name: str
    provider: str
    context_window: int
    capabilities: tuple[str, ...]
    speed: int
    cost: int
    aliases: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Everything about the model except its name (the key it is listed under)."""
        return {
            "provider": self.provider,
            "context_window": self.context_window,
            "capabilities": list(self.capabilities),
            "speed": self.speed,
            "cost": self.cost,
            "aliases": list(self.aliases),
        }


@record(frozen=True)
class CasteRoute:
    model: str
    chain: tuple[str, ...] = ()


@record(frozen=True)
class KeywordGroup:
    name: str
    keywords: tuple[str, ...]
    model: str
    castes: tuple[str, ...] = ()  # empty: every caste
    priority: int = 0


@record(frozen=True)
class ScoringConfig:
    enabled: bool = False
    margin: int = 10
    complexity_keywords: tuple[str, ...] = DEFAULT_COMPLEXITY_KEYWORDS
    short_prompt_words: int = 8
    long_prompt_words: int = 120
    large_context_tokens: int = 100_000
    tool_saturation: int = 4


@record(frozen=True)
class ProxyConnection:
    """How spawn reaches the proxy and how hard it tries: the profile's ``proxy``,
    ``timeouts`` and ``breaker`` sections. Not part of the profile hash: they change how a model
    is reached, not which one is chosen."""

    endpoint: str = DEFAULT_ENDPOINT
    #: where ``endpoint`` came from: None for the profile, else the variable that set it
    endpoint_from: str | None = None
    key_env: str = DEFAULT_KEY_ENV
    standalone: bool = False
    probe: str = DEFAULT_PROBE
    probe_ttl_s: float = DEFAULT_PROBE_TTL_S
    open_proxy_check: bool = True
    attempt_s: float = DEFAULT_ATTEMPT_S
    connect_s: float = DEFAULT_CONNECT_S
    breaker_failures: int = DEFAULT_BREAKER_FAILURES
    breaker_cooldown_s: float = DEFAULT_BREAKER_COOLDOWN_S

    @classmethod
    def from_dump(cls, dump: Mapping[str, Any]) -> ProxyConnection:
        p = dump.get("proxy") or {}
        t = dump.get("timeouts") or {}
        b = dump.get("breaker") or {}
        return cls(
            endpoint=str(p.get("endpoint", DEFAULT_ENDPOINT)),
            key_env=str(p.get("key_env", DEFAULT_KEY_ENV)),
            standalone=bool(p.get("standalone", False)),
            probe=str(p.get("probe", DEFAULT_PROBE)),
            probe_ttl_s=float(p.get("probe_ttl_s", DEFAULT_PROBE_TTL_S)),
            open_proxy_check=bool(p.get("open_proxy_check", True)),
            attempt_s=float(t.get("attempt_s", DEFAULT_ATTEMPT_S)),
            connect_s=float(t.get("connect_s", DEFAULT_CONNECT_S)),
            breaker_failures=int(b.get("failures", DEFAULT_BREAKER_FAILURES)),
            breaker_cooldown_s=float(b.get("cooldown_s", DEFAULT_BREAKER_COOLDOWN_S)),
        )

    def with_environment(self, env: Mapping[str, str]) -> ProxyConnection:
        """These settings with ``AETHER_PROXY_URL`` (set and not empty) as the endpoint. The
        value is checked where the proxy is used (``proxy_http.parse_endpoint``), so a bad one
        stops only the commands that need the proxy."""
        url = env.get(PROXY_URL_ENV, "").strip()
        if not url:
            return self
        return replace(self, endpoint=url, endpoint_from=PROXY_URL_ENV)

    @property
    def endpoint_source(self) -> str:
        """Where the endpoint came from, in words a message can quote."""
        return self.endpoint_from or "proxy.endpoint in the profile"


@record(frozen=True)
class RoutingTable:
    models: Mapping[str, ModelInfo]
    castes: Mapping[str, CasteRoute]
    overrides: Mapping[str, str]
    groups: tuple[KeywordGroup, ...]
    task_routing_enabled: bool
    scoring: ScoringConfig
    strict: bool
    default_model: str | None
    profile_hash: str = ""
    #: lower-cased name or alias -> canonical model name
    lookup: Mapping[str, str] = field(default_factory=dict)
    proxy: ProxyConnection = field(default_factory=ProxyConnection)

    def canonical_model(self, name: str) -> str | None:
        """The canonical name of a model or alias (exact first, then case-insensitive)."""
        if name in self.models:
            return name
        return self.lookup.get(name.strip().lower())

    def reported_model(self, name: str) -> str:
        """The profile model a runtime's report names, or the cleaned name when none.

        Runtimes decorate names: Claude Code appends a context marker (``cc-opus[1m]``), a
        proxy may answer with a provider prefix (``anthropic/...``) or a dated release
        (``claude-sonnet-4-5-20250929``). Each is mapped back to the model it stands for, so a
        decorated name is neither a false mismatch nor a row of its own in ``aether costs``.
        """
        cleaned = _DECORATION.sub("", name.strip())
        for candidate in (cleaned, cleaned.rsplit("/", 1)[-1]):
            for undated in (candidate, _DATE_SUFFIX.sub("", candidate)):
                found = self.canonical_model(undated)
                if found is not None:
                    return found
        return cleaned

    def model_names_and_aliases(self) -> list[str]:
        names = set(self.models)
        for info in self.models.values():
            names.update(info.aliases)
        return sorted(names)


def _canon(lookup: Mapping[str, str], name: str) -> str:
    return lookup.get(name.strip().lower(), name)


def compile_table(dump: Mapping[str, Any]) -> RoutingTable:
    """Build the table from a validated profile dump (``Profile.model_dump(mode="json")``).

    Model references are canonicalised through aliases, caste names normalised, unordered lists
    sorted and de-duplicated — so the table, and the hash over it, is the profile's meaning.
    """
    lookup = _model_lookup(dump["models"])
    castes = {
        normalise_caste(c): CasteRoute(
            model=_canon(lookup, spec["model"]),
            chain=tuple(_canon(lookup, m) for m in spec.get("chain", ())),
        )
        for c, spec in sorted(dump["castes"].items())
    }
    overrides = {
        normalise_caste(c): _canon(lookup, m) for c, m in sorted(dump.get("overrides", {}).items())
    }
    tr = dump.get("task_routing", {}) or {}
    default = dump.get("default_model")
    table = RoutingTable(
        models={name: _model_info(name, dump["models"][name]) for name in sorted(dump["models"])},
        castes=castes,
        overrides=overrides,
        groups=_keyword_groups(lookup, tr.get("groups") or {}),
        task_routing_enabled=bool(tr.get("enabled", True)),
        scoring=_scoring_config(dump.get("scoring", {}) or {}),
        strict=bool(dump.get("strict", True)),
        default_model=_canon(lookup, default) if default else None,
        lookup=lookup,
        proxy=ProxyConnection.from_dump(dump),
    )
    return RoutingTable(**{**table.__dict__, "profile_hash": hash_of(table)})


def _model_lookup(models: Mapping[str, Any]) -> dict[str, str]:
    """Lower-cased name or alias -> model (a name wins over another model's alias)."""
    lookup: dict[str, str] = {}
    for name in sorted(models):
        lookup[name.lower()] = name
        for alias in models[name].get("aliases", ()):
            lookup.setdefault(alias.lower(), name)
    return lookup


def _model_info(name: str, spec: Mapping[str, Any]) -> ModelInfo:
    return ModelInfo(
        name=name,
        provider=str(spec["provider"]),
        context_window=int(spec["context_window"]),
        capabilities=tuple(sorted({c.lower() for c in spec.get("capabilities", ())})),
        speed=int(spec.get("speed", 3)),
        cost=int(spec.get("cost", 3)),
        aliases=tuple(sorted(set(spec.get("aliases", ())))),
    )


def _words(keywords: Any) -> tuple[str, ...]:
    return tuple(sorted({" ".join(k.lower().split()) for k in keywords}))


def _keyword_groups(
    lookup: Mapping[str, str], groups: Mapping[str, Any]
) -> tuple[KeywordGroup, ...]:
    return tuple(
        KeywordGroup(
            name=name,
            keywords=_words(g["keywords"]),
            model=_canon(lookup, g["model"]),
            castes=tuple(sorted({normalise_caste(c) for c in g.get("castes", ())})),
            priority=int(g.get("priority", 0)),
        )
        for name, g in sorted(groups.items())
    )


def _scoring_config(sc: Mapping[str, Any]) -> ScoringConfig:
    return ScoringConfig(
        enabled=bool(sc.get("enabled", False)),
        margin=int(sc.get("margin", 10)),
        complexity_keywords=_words(sc.get("complexity_keywords", ())),
        short_prompt_words=int(sc.get("short_prompt_words", 8)),
        long_prompt_words=int(sc.get("long_prompt_words", 120)),
        large_context_tokens=int(sc.get("large_context_tokens", 100_000)),
        tool_saturation=int(sc.get("tool_saturation", 4)),
    )


def meaning(table: RoutingTable) -> dict[str, Any]:
    """The canonical form the profile hash covers (documented in docs/routing.md).

    Covered: every model's provider, context window, capabilities, speed, cost and aliases;
    every caste's model and chain (chain order matters); overrides; keyword groups (keywords,
    model, castes, priority — the order of groups in the file does not matter, resolution never
    depends on it); the task-routing switch; scoring settings; strict; default_model.
    Not covered: comments, formatting, key order, descriptions, ``best_for`` notes, proxy,
    timeouts and breaker settings (they change how a model is reached, not which one is chosen).
    """
    return {
        "scheme": HASH_SCHEME,
        "models": {n: m.to_json() for n, m in table.models.items()},
        "castes": {c: {"model": r.model, "chain": list(r.chain)} for c, r in table.castes.items()},
        "overrides": dict(table.overrides),
        "task_routing": {
            "enabled": table.task_routing_enabled,
            "groups": {
                g.name: {
                    "keywords": list(g.keywords),
                    "model": g.model,
                    "castes": list(g.castes),
                    "priority": g.priority,
                }
                for g in table.groups
            },
        },
        "scoring": {
            "enabled": table.scoring.enabled,
            "margin": table.scoring.margin,
            "complexity_keywords": list(table.scoring.complexity_keywords),
            "short_prompt_words": table.scoring.short_prompt_words,
            "long_prompt_words": table.scoring.long_prompt_words,
            "large_context_tokens": table.scoring.large_context_tokens,
            "tool_saturation": table.scoring.tool_saturation,
        },
        "strict": table.strict,
        "default_model": table.default_model,
    }


def hash_of(table: RoutingTable) -> str:
    data = json.dumps(meaning(table), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "p-" + hashlib.sha256(data.encode("ascii")).hexdigest()[:16]
