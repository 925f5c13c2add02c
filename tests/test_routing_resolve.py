"""resolve(): precedence, caste normalisation, keyword matching, context windows — and a test for
every routing bug of the tool we replace (docs/routing.md)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from aether.errors import ContextTooLarge, UnknownCaste, UnknownModel
from aether.routing.loader import load_profile, load_profile_file
from aether.routing.profile import Profile, canonical_model, profile_hash
from aether.routing.resolve import RouteRequest, normalise_caste, resolve
from aether.routing.table import RoutingTable
from aether.workspace import Workspace
from tests.helpers import REPO, SHARED

DEFAULT = REPO / "aether" / "routing" / "default-profile.yaml"
V1 = SHARED / "anchor-profiles" / "model-profiles.v1.49f46408.yaml"


def base() -> dict[str, Any]:
    return {
        "format": 2,
        "strict": True,
        "models": {
            "big": {"provider": "p", "context_window": 200_000, "capabilities": ["reasoning"],
                    "speed": 1, "cost": 5, "aliases": ["old-big"]},
            "mid": {"provider": "p", "context_window": 100_000, "speed": 3, "cost": 3},
            "small": {"provider": "p", "context_window": 8_000, "speed": 5, "cost": 1},
            "huge": {"provider": "q", "context_window": 1_000_000},
        },
        "castes": {
            "builder": {"model": "mid", "chain": ["big", "small"]},
            "scout": {"model": "small", "chain": ["mid"]},
            "prime": {"model": "big"},
            "route-setter": "big",
        },
        "overrides": {},
        "task_routing": {"groups": {
            "validate": {"keywords": ["test", "verify"], "model": "small"},
            "complex": {"keywords": ["design", "architecture"], "model": "big"},
        }},
    }  # fmt: skip


def table_of(data: dict[str, Any]) -> RoutingTable:
    return Profile.model_validate(data).table()


def decide(data: dict[str, Any], **kw: Any) -> Any:
    return resolve(table_of(data), RouteRequest(**kw))


# --- caste names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Route_Setter ", "route-setter"), ("PRIME", "prime"), ("route setter", "route-setter"),
     ("  builder\t", "builder"), ("route--setter", "route-setter")],
)  # fmt: skip
def test_normalise_caste(raw: str, expected: str) -> None:
    assert normalise_caste(raw) == expected


def test_anchor_bug_capitalised_caste_gets_its_own_model() -> None:
    # the old tool: `Prime` silently fell through to the default model, labelled "from profile"
    d = decide(base(), caste="Prime")
    assert (d.caste, d.model, d.source) == ("prime", "big", "caste-default")


def test_anchor_bug_route_setter_underscore_and_hyphen_agree() -> None:
    assert decide(base(), caste="route_setter").model == decide(base(), caste="route-setter").model
    data = base()
    data["castes"]["route_setter"] = data["castes"].pop("route-setter")  # declared with _
    assert decide(data, caste="route-setter").model == "big"


def test_anchor_bug_caste_is_data_not_a_pattern() -> None:
    # the old tool spliced the caste into an awk program: `pr.*` matched `prime`
    with pytest.raises(UnknownCaste):
        decide(base(), caste="pr.*")


def test_unknown_caste_strict_is_an_error_with_did_you_mean() -> None:
    with pytest.raises(UnknownCaste, match="did you mean 'builder'"):
        decide(base(), caste="bilder")


def test_unknown_caste_lenient_is_a_loud_recorded_fallback() -> None:
    data = base() | {"strict": False, "default_model": "mid"}
    d = decide(data, caste="gardener")
    assert (d.model, d.source) == ("mid", "lenient-default")
    assert d.warnings and "gardener" in d.warnings[0]


# --- explicit / pinned / override / task routing / caste default ---------------------------------


def test_anchor_bug_invalid_model_is_an_error_never_ignored() -> None:
    with pytest.raises(UnknownModel, match="did you mean 'big'"):
        decide(base(), caste="builder", model="bigg")


def test_explicit_model_resolves_aliases_and_has_no_silent_fallback() -> None:
    d = decide(base(), caste="builder", model="old-big", task="run the test suite")
    assert (d.model, d.source, d.chain) == ("big", "explicit", ())


def test_precedence_explicit_pinned_override_task_caste() -> None:
    data = base()
    data["overrides"] = {"builder": "huge"}
    task = "verify the design"  # matches both groups, one keyword each
    assert decide(data, caste="builder", task=task, model="small", pinned_model="mid").source == (
        "explicit"
    )
    d = decide(data, caste="builder", task=task, pinned_model="small")
    assert (d.model, d.source) == ("small", "pinned")
    d = decide(data, caste="builder", task=task)
    assert (d.model, d.source) == ("huge", "override")
    data["overrides"] = {}
    d = decide(data, caste="builder", task="design it")
    assert (d.model, d.source, d.matched_keywords) == ("big", "task-routing", ("design",))
    d = decide(data, caste="builder", task="make it nicer")
    assert (d.model, d.source) == ("mid", "caste-default")


def test_pinned_model_no_longer_in_profile_is_rerouted_with_a_warning() -> None:
    d = decide(base(), caste="builder", pinned_model="retired-model")
    assert d.source == "caste-default" and "retired-model" in d.warnings[0]


def test_anchor_bug_latest_does_not_match_test() -> None:
    d = decide(base(), caste="builder", task="summarise the latest release notes")
    assert (d.model, d.source) == ("mid", "caste-default")
    assert decide(base(), caste="builder", task="Write TESTS for it").source == "task-routing"


def test_anchor_bug_caste_default_reachable_when_a_task_has_text() -> None:
    # the old keyword router returned its own default_model when nothing matched
    data = base() | {"strict": False, "default_model": "huge"}
    for caste, own in (("prime", "big"), ("scout", "small"), ("builder", "mid")):
        d = decide(data, caste=caste, task="tidy the imports")
        assert (d.model, d.source) == (own, "caste-default")


def test_anchor_bug_group_order_in_the_file_does_not_decide() -> None:
    data = base()
    reordered = copy.deepcopy(data)
    reordered["task_routing"]["groups"] = dict(reversed(data["task_routing"]["groups"].items()))
    task = "verify the design of the architecture"  # complex: 2 keywords, validate: 1
    assert decide(data, caste="builder", task=task).model == "big"
    assert decide(reordered, caste="builder", task=task).model == "big"
    tie = "verify the design"  # one each: higher priority, then the alphabetically first name
    assert decide(data, caste="builder", task=tie).matched_group == "complex"
    data["task_routing"]["groups"]["validate"]["priority"] = 5
    assert decide(data, caste="builder", task=tie).matched_group == "validate"


def test_groups_limited_to_castes() -> None:
    data = base()
    data["task_routing"]["groups"]["complex"]["castes"] = ["prime"]
    assert decide(data, caste="builder", task="design").source == "caste-default"


def test_scoring_stage_only_when_enabled_and_past_the_margin() -> None:
    data = base()
    task = "Analyze, reason and plan: " + "consider every module and its owners carefully " * 20
    assert decide(data, caste="scout", task=task).source == "caste-default"
    data["scoring"] = {"enabled": True, "margin": 10}
    d = decide(data, caste="scout", task=task)
    assert (d.source, d.model) == ("scoring", "big")
    assert d.scores is not None and d.scores["big"] - d.scores["small"] >= 10
    data["scoring"]["margin"] = 100
    assert decide(data, caste="scout", task=task).source == "caste-default"


# --- context window ------------------------------------------------------------------------------


def test_too_small_models_are_skipped_with_reasons() -> None:
    d = decide(base(), caste="scout", task="x", context_tokens=50_000)
    assert d.model == "mid"
    assert d.skipped == (("small", "context window 8000 < 50000 tokens"),)
    assert "skipped" in d.reason


def test_none_fits_is_a_clear_error() -> None:
    with pytest.raises(ContextTooLarge, match="150000 tokens"):
        decide(base(), caste="scout", context_tokens=150_000)
    with pytest.raises(ContextTooLarge):  # an explicit model is never swapped for another
        decide(base(), caste="builder", model="small", context_tokens=9_000)


def test_context_estimated_from_task_text() -> None:
    d = decide(base(), caste="scout", task="word " * 10_000)
    assert d.context_estimated and d.context_tokens == 12_500
    assert d.model == "mid"


def test_chain_is_at_most_seven_after_the_model() -> None:
    data = base()
    for i in range(8):
        data["models"][f"m{i}"] = {"provider": "p", "context_window": 10}
    data["castes"]["builder"] = {"model": "m0", "chain": [f"m{i}" for i in range(1, 8)]}
    data["overrides"] = {"builder": "big"}
    d = decide(data, caste="builder")
    assert d.model == "big" and len(d.chain) == 7


# --- hash and helpers ----------------------------------------------------------------------------


def test_profile_hash_ignores_format_and_covers_routing(tmp_path: Path) -> None:
    text = DEFAULT.read_text(encoding="utf-8")
    h = load_profile_file(DEFAULT, None).table.profile_hash
    assert h.startswith("p-") and len(h) == 18
    stripped = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    (tmp_path / "a.yaml").write_text("# a comment\n" + stripped.replace("  ", "    "))
    assert load_profile_file(tmp_path / "a.yaml", None).table.profile_hash == h
    proxy_changed = text.replace("http://127.0.0.1:4000", "http://127.0.0.1:4999")
    (tmp_path / "b.yaml").write_text(proxy_changed)
    assert load_profile_file(tmp_path / "b.yaml", None).table.profile_hash == h
    routed = text.replace("watcher:       {model: claude-sonnet-4-5", "watcher: {model: kimi-k2.5")
    assert routed != text
    (tmp_path / "c.yaml").write_text(routed)
    assert load_profile_file(tmp_path / "c.yaml", None).table.profile_hash != h


def test_profile_hash_same_for_profile_and_table() -> None:
    p = Profile.model_validate(base())
    assert profile_hash(p) == profile_hash(p.table())
    assert canonical_model(p, "OLD-BIG") == "big" == canonical_model(p.table(), "old-big")
    assert canonical_model(p, "nope") is None


def test_load_profile_from_a_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.root.mkdir()
    ws.profile_file.write_text(DEFAULT.read_text(encoding="utf-8"))
    p = load_profile(ws)
    assert p.castes["route-setter"].model == "claude-opus-4-5"
    assert p.proxy.key_env == "LITELLM_MASTER_KEY"
    assert (ws.cache_dir / "profile.json").exists()
    assert profile_hash(load_profile(ws)) == profile_hash(p)


def test_default_profile_covers_the_issue_castes() -> None:
    t = load_profile_file(DEFAULT, None).table
    wanted = {"builder", "watcher", "scout", "colonizer", "architect", "route-setter", "prime",
              "oracle", "archaeologist", "chaos", "queen"}  # fmt: skip
    assert wanted <= set(t.castes)
    assert t.strict


def test_a_v1_profile_routes_like_the_old_table_minus_its_bugs() -> None:
    """The project's own v1 fixture (fixtures/profiles/): castes matched whatever their
    spelling, a keyword group only when its keyword is in the task, overrides first."""
    t = load_profile_file(REPO / "fixtures" / "profiles" / "v1-literal-key.yaml", None).table
    assert resolve(t, RouteRequest("Route_Setter")).model == "swiftcoder-3"
    assert resolve(t, RouteRequest("CHAOS")).model == "swiftcoder-3"  # written "Chaos"
    d = resolve(t, RouteRequest("prime", task="verify the latest numbers"))
    assert (d.model, d.source, d.matched_keywords) == ("scholar-2", "task-routing", ("verify",))
    d = resolve(t, RouteRequest("prime", task="summarise the latest numbers"))
    assert (d.model, d.source) == ("deepthink-9", "caste-default")
    assert (resolve(t, RouteRequest("scout", task="fix it")).source) == "override"
    d = resolve(t, RouteRequest("nobody"))
    assert (d.model, d.source) == ("swiftcoder-3", "lenient-default")


@pytest.mark.skipif(not V1.exists(), reason="anchor profiles not present (../shared)")
def test_v1_anchor_routes_like_the_old_table_minus_its_bugs() -> None:
    t = load_profile_file(V1, None).table
    assert resolve(t, RouteRequest("Route_Setter")).model == "kimi-k2.5"
    d = resolve(t, RouteRequest("prime", task="check the latest numbers"))
    assert (d.model, d.source, d.matched_keywords) == ("minimax-2.5", "task-routing", ("check",))
    d = resolve(t, RouteRequest("prime", task="summarise the latest numbers"))
    assert (d.model, d.source) == ("glm-5", "caste-default")
