"""Intent scoring: labelled prompts, determinism, range, ties, no hard-coded model list."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from aether.routing.loader import load_profile_file
from aether.routing.scoring import ScoringContext, keyword_pattern, score
from aether.routing.table import ModelInfo, RoutingTable, ScoringConfig
from tests.helpers import REPO

DEFAULT = REPO / "aether" / "routing" / "default-profile.yaml"

LONG_COMPLEX = (
    "Analyze the failure modes of our distributed scheduler, reason about the trade-off between "
    "consistency and availability, and design a migration plan. "
    + "Consider every service, its owners, its deployment cadence and the data it keeps. "
    * 8
)
FIVE_TOOLS = ("git", "grep", "edit", "pytest", "http")

# (prompt, context tokens, tools, expected winner, why)
LABELLED: list[tuple[str, int, tuple[str, ...], str, str]] = [
    ("fix typo", 0, (), "claude-haiku-4-5", "tiny and simple: the fastest model"),
    ("rename the variable foo to bar", 0, (), "claude-haiku-4-5", "short, no reasoning words"),
    ("list the files in src", 0, (), "claude-haiku-4-5", "short lookup"),
    ("bump the version", 0, ("git",), "claude-haiku-4-5", "one tool is no multi-tool need"),
    ("write a hello world script in python please and keep it short " * 4, 0, (),
     "claude-haiku-4-5", "a longer prompt that is still simple"),
    (LONG_COMPLEX, 0, (), "claude-opus-4-5", "long and full of reasoning words: the largest"),
    ("Analyze why the cache misses, then plan and design a fix", 0, (), "claude-opus-4-5",
     "three complexity keywords outweigh a short prompt"),
    ("Investigate the flaky test, reason about the race, and derive a proof that the fix is "
     "correct", 0, (), "claude-opus-4-5", "reasoning-heavy"),
    ("Architect a plugin system: evaluate three designs, synthesize the trade-offs, and plan the "
     "rollout across teams over two quarters with clear milestones and owners for each step",
     120_000, ("git", "grep", "edit"), "claude-opus-4-5", "complex, large context, tools"),
    ("summarise this repository", 230_000, (), "kimi-k2.5",
     "only the 256k window holds 230k tokens"),
    ("update the changelog", 0, FIVE_TOOLS, "kimi-k2.5",
     "five distinct tools: the fast multi-tool model"),
    ("update the changelog", 0, ("git", "git", "GIT", "git "), "claude-haiku-4-5",
     "repeated tools count once"),
]  # fmt: skip


@pytest.fixture(scope="module")
def table() -> RoutingTable:
    return load_profile_file(DEFAULT, None).table


@pytest.mark.parametrize(("prompt", "tokens", "tools", "expected", "why"), LABELLED)
def test_labelled_prompts(
    table: RoutingTable,
    prompt: str,
    tokens: int,
    tools: tuple[str, ...],
    expected: str,
    why: str,
) -> None:
    result = score(prompt, ScoringContext(table.models, table.scoring, tokens, tools))
    assert result.winner == expected, (why, result.scores)


def test_at_least_ten_labelled_samples() -> None:
    assert len(LABELLED) >= 10
    assert len({w for *_, w, _ in LABELLED} - {"x"}) >= 1
    assert len({row[3] for row in LABELLED}) >= 3  # the samples exercise several winners


def test_scores_are_integers_in_range_and_factors_add_up(table: RoutingTable) -> None:
    rng = random.Random(4)
    words = ["analyze", "plan", "fix", "the", "bug", "design", "a", "reason", "file", "x" * 40]
    for _ in range(300):
        prompt = " ".join(rng.choice(words) for _ in range(rng.randint(0, 400)))
        tokens = rng.choice([0, 10, 50_000, 199_999, 200_001, 10**9])
        tools = tuple(rng.choice(["a", "b", "c", "d", "e", "f"]) for _ in range(rng.randint(0, 9)))
        r = score(prompt, ScoringContext(table.models, table.scoring, tokens, tools))
        assert set(r.scores) == set(table.models)
        for name, value in r.scores.items():
            assert isinstance(value, int) and 0 <= value <= 100
            assert sum(r.factors[name].values()) == value
        assert r.scores[r.winner] == max(r.scores.values())


def test_deterministic(table: RoutingTable) -> None:
    ctx = ScoringContext(table.models, table.scoring, 5_000, ("a", "b"))
    first = score(LONG_COMPLEX, ctx)
    for _ in range(20):
        again = score(LONG_COMPLEX, ctx)
        assert again.scores == first.scores and again.winner == first.winner


def _model(name: str, **kw: object) -> ModelInfo:
    base: dict[str, object] = dict(
        name=name, provider="p", context_window=100_000, capabilities=("tools",), speed=3, cost=3
    )
    base.update(kw)
    return ModelInfo(**base)  # type: ignore[arg-type]


def test_ties_break_alphabetically() -> None:
    models = {n: _model(n) for n in ("zeta", "alpha", "mid")}
    r = score("do the thing", ScoringContext(models))
    assert len(set(r.scores.values())) == 1
    assert r.winner == "alpha"
    # and the dict order of the input does not matter
    r2 = score("do the thing", ScoringContext(dict(reversed(list(models.items())))))
    assert r2.winner == "alpha"


def test_scores_the_profiles_models_not_a_hard_coded_list() -> None:
    models = {
        "tiny-local": _model("tiny-local", speed=5, cost=1, capabilities=()),
        "big-thinker": _model("big-thinker", speed=1, cost=5, capabilities=("reasoning",)),
    }
    assert set(score("x", ScoringContext(models)).scores) == {"tiny-local", "big-thinker"}
    assert score("fix typo", ScoringContext(models)).winner == "tiny-local"
    assert score(LONG_COMPLEX, ScoringContext(models)).winner == "big-thinker"


def test_model_too_small_for_context_gets_no_context_points() -> None:
    models = {"small": _model("small", context_window=1000), "large": _model("large")}
    r = score("x", ScoringContext(models, ScoringConfig(), context_tokens=5000))
    assert r.factors["small"]["context"] == 0 and r.factors["large"]["context"] > 0


def test_complexity_keywords_are_whole_words_and_case_insensitive(table: RoutingTable) -> None:
    ctx = ScoringContext(table.models, table.scoring)
    assert score("ANALYZE this", ctx).complexity_hits == ("analyze",)
    assert score("psychoanalyzed replanning", ctx).complexity_hits == ()
    assert keyword_pattern("test").search("latest news") is None
    assert keyword_pattern("test").search("Write TESTS") is not None


def test_no_models_is_an_error() -> None:
    with pytest.raises(ValueError):
        score("x", ScoringContext({}))


def test_default_profile_path_exists() -> None:
    assert Path(DEFAULT).is_file()
