"""Resolution: (profile, caste, task, options) -> which model, from where, and why. Pure.

Precedence, first that applies wins (docs/routing.md):

1. ``explicit``      ``--model`` — validated; an unknown model is an error, never ignored
2. ``pinned``        the model a task already ran on (resume/respawn keeps it)
3. ``override``      the profile's ``overrides:`` entry for the caste
4. ``task-routing``  a keyword group matching the task text (whole words, case-insensitive)
5. ``scoring``       the intent score, when ``scoring.enabled`` and the winner leads the caste's
                     own model by at least ``scoring.margin`` points
6. ``caste-default`` the caste's model — always reachable: no match means the caste wins
   (``lenient-default`` instead, for an unknown caste in lenient mode)

Then the context-window check walks the candidates (the chosen model, then the caste's chain)
and skips every model whose window is smaller than the context, recording why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aether.errors import ContextTooLarge, InvalidInput, UnknownCaste, UnknownModel
from aether.records import record
from aether.routing.scoring import ScoreResult, ScoringContext, matched_keywords, score
from aether.routing.table import KeywordGroup, RoutingTable, normalise_caste
from aether.text import did_you_mean

if TYPE_CHECKING:
    from aether.routing.profile import Profile

__all__ = ["RouteRequest", "RoutingDecision", "estimate_tokens", "normalise_caste", "resolve"]

MAX_CANDIDATES = 8
#: the largest context a request may name (no model's window comes near it)
MAX_CONTEXT_TOKENS = 100_000_000


def check_context_tokens(tokens: int | None) -> None:
    """A context size given by hand (``route``, ``spawn``) is 1 to ``MAX_CONTEXT_TOKENS``."""
    if tokens is not None and not 0 < tokens <= MAX_CONTEXT_TOKENS:
        raise InvalidInput(
            f"--context-tokens {tokens} is out of range (1..{MAX_CONTEXT_TOKENS})",
            fix="pass the expected context size in tokens",
        )


@record(frozen=True)
class RouteRequest:
    caste: str
    task: str | None = None
    model: str | None = None  # explicit --model (unknown -> UnknownModel error)
    pinned_model: str | None = None  # a task that already ran keeps its model
    context_tokens: int | None = None
    tools: tuple[str, ...] = ()


@record(frozen=True)
class RoutingDecision:
    caste: str
    model: str
    source: str
    reason: str
    chain: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    profile_hash: str
    matched_keywords: tuple[str, ...] = ()
    scores: dict[str, int] | None = None
    warnings: tuple[str, ...] = ()
    #: the context size the window check used (given, or estimated from the task text)
    context_tokens: int | None = None
    context_estimated: bool = False
    matched_group: str | None = None
    score_detail: ScoreResult | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "caste": self.caste,
            "model": self.model,
            "source": self.source,
            "reason": self.reason,
            "chain": list(self.chain),
            "skipped": [{"model": m, "why": why} for m, why in self.skipped],
            "profile_hash": self.profile_hash,
            "matched_keywords": list(self.matched_keywords),
            "matched_group": self.matched_group,
            "scores": self.scores,
            "score_factors": self.score_detail.factors if self.score_detail else None,
            "warnings": list(self.warnings),
            "context_tokens": self.context_tokens,
            "context_estimated": self.context_estimated,
        }


def estimate_tokens(text: str) -> int:
    """A deliberately simple estimate: ~4 characters a token (English prose and code)."""
    return (len(text.encode("utf-8")) + 3) // 4


def _table(profile: Profile | RoutingTable) -> RoutingTable:
    if isinstance(profile, RoutingTable):
        return profile
    return profile.table()


def _best_group(
    table: RoutingTable, caste: str, task: str
) -> tuple[KeywordGroup, tuple[str, ...], list[str]] | None:
    """The keyword group that wins for this task: most distinct keywords matched, then higher
    ``priority``, then the alphabetically first name — never the order of groups in the file."""
    found: list[tuple[KeywordGroup, tuple[str, ...]]] = []
    for group in table.groups:
        if group.castes and caste not in group.castes:
            continue
        hits = matched_keywords(task, group.keywords)
        if hits:
            found.append((group, hits))
    if not found:
        return None
    found.sort(key=lambda gh: (-len(gh[1]), -gh[0].priority, gh[0].name))
    others = [f"{g.name} ({', '.join(h)})" for g, h in found[1:]]
    return found[0][0], found[0][1], others


@record(frozen=True)
class _Choice:
    """Where the first candidate came from, and the candidates in order."""

    source: str
    reason: str
    candidates: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    group_name: str | None = None


def resolve(profile: Profile | RoutingTable, request: RouteRequest) -> RoutingDecision:
    table = _table(profile)
    warnings: list[str] = []
    caste = normalise_caste(request.caste)
    caste_models = _caste_models(table, request, caste, warnings)
    task = (request.task or "").strip()
    tokens, estimated = request.context_tokens, False
    if tokens is None and task:
        tokens, estimated = estimate_tokens(task), True
    scored: ScoreResult | None = None
    if task or request.tools or request.context_tokens:
        context = ScoringContext(table.models, table.scoring, tokens or 0, tuple(request.tools))
        scored = score(task, context)
    if request.model is not None:
        choice = _explicit(table, request.model)
    else:
        choice = _routed(table, request, caste, caste_models, task, scored, warnings)
    fitting, skipped = _fit_windows(table, caste, choice.candidates, tokens, estimated)
    reason = choice.reason
    if skipped and fitting[0] != choice.candidates[0]:
        reason += f"; {choice.candidates[0]} skipped (context window too small), using {fitting[0]}"
    return RoutingDecision(
        caste=caste,
        model=fitting[0],
        source=choice.source,
        reason=reason,
        chain=tuple(fitting[1:MAX_CANDIDATES]),
        skipped=tuple(skipped),
        profile_hash=table.profile_hash,
        matched_keywords=choice.keywords,
        scores=dict(scored.scores) if scored else None,
        warnings=tuple(warnings),
        context_tokens=tokens,
        context_estimated=estimated,
        matched_group=choice.group_name,
        score_detail=scored,
    )


def _caste_models(
    table: RoutingTable, request: RouteRequest, caste: str, warnings: list[str]
) -> list[str]:
    """The caste's model and its chain; an unknown caste is an error, or (lenient profile)
    gets the default model with a warning."""
    route = table.castes.get(caste)
    if route is not None:
        return [route.model, *route.chain]
    hint = did_you_mean(request.caste, list(table.castes))
    if table.strict or table.default_model is None:
        raise UnknownCaste(
            f"unknown caste {request.caste!r}{hint}",
            meaning="the profile does not say which model this caste runs on",
            fix="use one of: "
            + ", ".join(sorted(table.castes))
            + " — or add the caste to .aether/model-profiles.yaml",
        )
    warnings.append(
        f"unknown caste {request.caste!r}{hint}: lenient profile, so it gets default_model "
        f"{table.default_model!r}"
    )
    return [table.default_model]


def _explicit(table: RoutingTable, model: str) -> _Choice:
    """1. ``--model``: exactly that model (no silent substitution), or an error."""
    chosen = table.canonical_model(model)
    if chosen is None:
        raise UnknownModel(
            f"unknown model {model!r}" + did_you_mean(model, table.model_names_and_aliases()),
            meaning="aether never ignores an explicit --model",
            fix="use one of: " + ", ".join(sorted(table.models)),
        )
    reason = f"--model {model}" + (f" (alias of {chosen})" if chosen != model else "")
    return _Choice("explicit", reason, (chosen,))


def _routed(
    table: RoutingTable,
    request: RouteRequest,
    caste: str,
    caste_models: list[str],
    task: str,
    scored: ScoreResult | None,
    warnings: list[str],
) -> _Choice:
    """2-6: the first rule that applies picks the first candidate; the caste's own models
    follow it (no duplicates, at most ``MAX_CANDIDATES``)."""
    first = (
        _pinned(table, request.pinned_model, warnings)
        or _override(table, caste)
        or _task_group(table, caste, task)
        or _scoring(table, caste_models[0], task, scored)
        or _caste_default(table, caste, caste_models[0], task)
    )
    candidates = list(first.candidates)
    candidates += [m for m in caste_models if m not in candidates]
    return _Choice(
        first.source,
        first.reason,
        tuple(candidates[:MAX_CANDIDATES]),
        first.keywords,
        first.group_name,
    )


def _pinned(table: RoutingTable, pinned_model: str | None, warnings: list[str]) -> _Choice | None:
    if pinned_model is None:
        return None
    pinned = table.canonical_model(pinned_model)
    if pinned is None:
        warnings.append(f"pinned model {pinned_model!r} is no longer in the profile; routed afresh")
        return None
    return _Choice("pinned", f"this task already ran on {pinned}; it keeps it", (pinned,))


def _override(table: RoutingTable, caste: str) -> _Choice | None:
    if caste not in table.overrides:
        return None
    return _Choice("override", f"overrides.{caste} in the profile", (table.overrides[caste],))


def _task_group(table: RoutingTable, caste: str, task: str) -> _Choice | None:
    if not (task and table.task_routing_enabled):
        return None
    best = _best_group(table, caste, task)
    if best is None:
        return None
    group, keywords, others = best
    reason = f"task_routing group {group.name!r} matched " + ", ".join(repr(k) for k in keywords)
    if others:
        reason += "; also matched: " + "; ".join(others)
    return _Choice("task-routing", reason, (group.model,), keywords, group.name)


def _scoring(
    table: RoutingTable, own_model: str, task: str, scored: ScoreResult | None
) -> _Choice | None:
    if not (task and table.scoring.enabled and scored is not None):
        return None
    own = scored.scores.get(own_model, 0)
    top = scored.scores[scored.winner]
    if scored.winner == own_model or top - own < table.scoring.margin:
        return None
    reason = (
        f"intent score: {scored.winner} {top} vs the caste's {own_model} {own} "
        f"(margin {table.scoring.margin})"
    )
    return _Choice("scoring", reason, (scored.winner,))


def _caste_default(table: RoutingTable, caste: str, own_model: str, task: str) -> _Choice:
    if caste not in table.castes:
        return _Choice("lenient-default", f"unknown caste; default_model {own_model}", ())
    reason = f"the {caste} caste's model"
    if task and table.task_routing_enabled and table.groups:
        reason += " (no task-routing keyword matched)"
    return _Choice("caste-default", reason, ())


def _fit_windows(
    table: RoutingTable,
    caste: str,
    candidates: tuple[str, ...],
    tokens: int | None,
    estimated: bool,
) -> tuple[list[str], list[tuple[str, str]]]:
    """The candidates whose context window holds ``tokens`` (in order), and those skipped."""
    skipped: list[tuple[str, str]] = []
    fitting: list[str] = []
    for m in candidates:
        info = table.models.get(m)
        if info is not None and tokens is not None and tokens > info.context_window:
            what = "estimated " if estimated else ""
            skipped.append((m, f"context window {info.context_window} < {what}{tokens} tokens"))
        else:
            fitting.append(m)
    if fitting:
        return fitting, skipped
    windows = ", ".join(
        f"{m} {table.models[m].context_window}" for m in candidates if m in table.models
    )
    raise ContextTooLarge(
        f"no model for caste {caste} fits {tokens} tokens (windows: {windows})",
        meaning="every candidate's context window is too small; nothing was spawned",
        fix="shrink the context, or add a model with a larger window to the caste's chain",
    )
