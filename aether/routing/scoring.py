"""Deterministic intent scoring (docs/routing.md): which of the profile's models fits a prompt.

``score(prompt, context)`` gives every model in the profile (never a hard-coded list) an integer
0..100 from four factors, each rounded half-up to an integer so the parts add up to the total:

=====================  ======  ===================================================================
factor                 points  favours
=====================  ======  ===================================================================
prompt length          0-25    short prompts: fast models (``speed``); long prompts: large ones
                               (``cost`` is read as size/capability). Linear between
                               ``short_prompt_words`` and ``long_prompt_words``.
complexity keywords    0-30    with keywords (analyze, reason, plan, synthesize, ...; whole
                               words, case-insensitive; saturates at 3 distinct): models with the
                               ``reasoning`` capability and high cost; without: the others.
context size           0-25    large contexts (up to ``large_context_tokens``): large windows. A
                               model whose window is smaller than the context gets 0.
unique tools           0-20    many distinct tools (saturating at ``tool_saturation``):
                               ``multi-tool`` models (``tools`` counts a quarter).
=====================  ======  ===================================================================

A pure function: no I/O, no clock, no randomness. Ties go to the alphabetically first model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aether.records import field, record
from aether.routing.table import ModelInfo, ScoringConfig

WEIGHTS = {"length": 25, "complexity": 30, "context": 25, "tools": 20}
COMPLEXITY_SATURATION = 3
_WORD = re.compile(r"[\w'-]+")


@record(frozen=True)
class ScoringContext:
    models: Mapping[str, ModelInfo]
    config: ScoringConfig = field(default_factory=ScoringConfig)
    context_tokens: int = 0
    tools: tuple[str, ...] = ()


@record(frozen=True)
class ScoreResult:
    scores: dict[str, int]
    winner: str
    #: model -> factor -> points (they sum to the model's score before clamping)
    factors: dict[str, dict[str, int]]
    complexity_hits: tuple[str, ...]
    unique_tools: int

    def to_json(self) -> dict[str, object]:
        return {
            "scores": self.scores,
            "winner": self.winner,
            "factors": self.factors,
            "complexity_keywords": list(self.complexity_hits),
            "unique_tools": self.unique_tools,
        }


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Whole words, case-insensitive, an optional plural ``s``/``es``; spaces match any run of
    whitespace. "latest" never matches "test" (the tool we replace matched substrings)."""
    words = [re.escape(w) for w in keyword.lower().split()]
    return re.compile(r"(?<![\w])" + r"\s+".join(words) + r"(?:s|es)?(?![\w])", re.IGNORECASE)


def matched_keywords(text: str, keywords: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The distinct keywords found in ``text``, in sorted order."""
    return tuple(sorted({k for k in keywords if k.strip() and keyword_pattern(k).search(text)}))


def _half_up(x: float) -> int:
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def _clamp01(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


@record(frozen=True)
class _PromptNeeds:
    """What a prompt asks of a model, each 0..1 (the four factors before weighting)."""

    length: float
    complexity: float
    pressure: float
    tool_need: float
    tokens: int
    largest_window: int


def score(prompt: str, context: ScoringContext) -> ScoreResult:
    if not context.models:
        raise ValueError("scoring needs at least one model")
    cfg = context.config
    words = len(_WORD.findall(prompt))
    span = max(1, cfg.long_prompt_words - cfg.short_prompt_words)
    hits = matched_keywords(prompt, cfg.complexity_keywords)
    tokens = max(0, context.context_tokens)
    unique_tools = len({t.strip().lower() for t in context.tools if t.strip()})
    needs = _PromptNeeds(
        length=_clamp01((words - cfg.short_prompt_words) / span),
        complexity=min(len(hits), COMPLEXITY_SATURATION) / COMPLEXITY_SATURATION,
        pressure=_clamp01(tokens / max(1, cfg.large_context_tokens)),
        tool_need=_clamp01(unique_tools / cfg.tool_saturation),
        tokens=tokens,
        largest_window=max(m.context_window for m in context.models.values()),
    )
    factors = {name: _factors(context.models[name], needs) for name in sorted(context.models)}
    scores = {name: max(0, min(100, sum(parts.values()))) for name, parts in factors.items()}
    winner = min(scores, key=lambda n: (-scores[n], n))
    return ScoreResult(scores, winner, factors, hits, unique_tools)


def _factors(m: ModelInfo, needs: _PromptNeeds) -> dict[str, int]:
    """One model's points for each factor."""
    size = (m.cost - 1) / 4
    fast = (m.speed - 1) / 4
    caps = set(m.capabilities)
    reasoning = 0.5 * (1.0 if "reasoning" in caps else 0.0) + 0.5 * size
    tool_fit = 1.0 if "multi-tool" in caps else 0.25 if "tools" in caps else 0.0
    length, complexity, pressure = needs.length, needs.complexity, needs.pressure
    return {
        "length": _half_up(WEIGHTS["length"] * (length * size + (1 - length) * fast)),
        "complexity": _half_up(
            WEIGHTS["complexity"] * (complexity * reasoning + (1 - complexity) * (1 - reasoning))
        ),
        "context": 0
        if needs.tokens > m.context_window
        else _half_up(
            WEIGHTS["context"]
            * (pressure * (m.context_window / needs.largest_window) + (1 - pressure) * 0.5)
        ),
        "tools": _half_up(
            WEIGHTS["tools"] * (needs.tool_need * tool_fit + (1 - needs.tool_need) * 0.5)
        ),
    }
