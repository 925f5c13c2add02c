"""Property tests: scoring is deterministic and in range for any prompt; the breaker
never lets a request through while it is open. (The migration properties — every generated
legacy document migrates or fails with a typed error, and every string leaf survives — are in
tests/test_migration_property.py.)"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aether.routing.breaker import Breaker
from aether.routing.loader import load_profile_file
from aether.routing.scoring import ScoringContext, score
from aether.workspace import Workspace
from tests.helpers import REPO

TABLE = load_profile_file(REPO / "aether" / "routing" / "default-profile.yaml", None).table
tools = st.lists(
    st.sampled_from(["git", "grep", "edit", "pytest", "http", "Git", "sql"]), max_size=8
).map(tuple)


@given(prompt=st.text(max_size=4000), tokens=st.integers(0, 2_000_000), tools=tools)
@settings(max_examples=300, deadline=None)
def test_scoring_is_deterministic_and_in_range(
    prompt: str, tokens: int, tools: tuple[str, ...]
) -> None:
    ctx = ScoringContext(TABLE.models, TABLE.scoring, tokens, tools)
    first = score(prompt, ctx)
    assert score(prompt, ctx) == first
    assert set(first.scores) == set(TABLE.models)
    assert all(isinstance(v, int) and 0 <= v <= 100 for v in first.scores.values())
    best = max(first.scores.values())
    assert first.winner == min(m for m, v in first.scores.items() if v == best)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


# an operation: ("fail"|"ok"|"gate"|"tick", seconds to advance for "tick")
operations = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["fail", "ok", "gate", "release"]), st.just(0.0)),
        st.tuples(st.just("tick"), st.floats(0, 90)),
    ),
    max_size=40,
)


@given(ops=operations)
@settings(max_examples=150, deadline=None)
def test_the_breaker_never_allows_a_request_while_open(ops: list[tuple[str, float]]) -> None:
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp))
        ws.data_dir.mkdir(parents=True)
        breaker = Breaker(ws, failures=3, cooldown_s=60, clock=clock, lock_timeout=2)
        opened_at: float | None = None  # the model's own view of when it opened
        for op, seconds in ops:
            if op == "tick":
                clock.now += seconds
            elif op == "fail":
                if breaker.record_failure("m", "HTTP 503"):
                    opened_at = clock.now
            elif op == "ok":
                breaker.record_success("m")
                opened_at = None
            elif op == "release":
                breaker.release_probe("m")
            else:
                gate = breaker.gate("m")
                if opened_at is not None and clock.now < opened_at + 60:
                    assert not gate.allowed, "a request was allowed while the breaker was open"
                if gate.allowed and gate.state == "half-open":
                    assert gate.probe
                    # a second caller during the same probe is refused
                    assert not breaker.gate("m").allowed
