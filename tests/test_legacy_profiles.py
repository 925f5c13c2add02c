"""The old tool's profile formats converted (aether/routing/legacy.py), one odd shape at a time.

The whole files are in fixtures/profiles/ and go through ``aether profile migrate`` in
tests/test_profile_cli.py; here each shape the old files could hold is converted on its own:
nothing is dropped silently, and no secret travels.
"""

from __future__ import annotations

from typing import Any

import pytest

from aether.routing.legacy import detect_format, expand_env, from_v1
from aether.routing.profile_yaml import render_profile_yaml
from aether.routing.table import DEFAULT_ENDPOINT, DEFAULT_KEY_ENV


def v1(**parts: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": "1.0",
        "worker_models": {"builder": "m1"},
        "model_metadata": {"m1": {"provider": "p", "context_window": 1000}},
    }
    doc.update(parts)
    return doc


def test_formats_are_told_apart() -> None:
    assert detect_format({"format": 2}) == "current"
    assert detect_format({"model_slots": {}}) == "v2-slots"
    assert detect_format({"worker_models": {}}) == "v1"
    assert detect_format({"model_metadata": {}}) == "v1"
    assert detect_format({"name": "my-app"}) == "unknown"


def test_env_references_expand_as_the_old_shell_scripts_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIXTURE_HOST", "proxy.local")
    monkeypatch.delenv("FIXTURE_UNSET", raising=False)
    assert expand_env("http://${FIXTURE_HOST}:4000") == "http://proxy.local:4000"
    assert expand_env("${FIXTURE_UNSET:-http://h:1}") == "http://h:1"
    assert expand_env("${FIXTURE_UNSET}") == ""
    conv = from_v1(v1(proxy={"endpoint": "${FIXTURE_UNSET:-http://h:1/}"}))
    assert conv.data["proxy"]["endpoint"] == "http://h:1" and conv.uses_env
    conv = from_v1(v1(proxy={"endpoint": "${FIXTURE_UNSET}"}))
    assert conv.data["proxy"]["endpoint"] == DEFAULT_ENDPOINT


@pytest.mark.parametrize(
    ("meta", "speed", "cost"),
    [
        ({"speed": "Very_Fast", "cost_tier": "FREE"}, 5, 1),
        ({"speed": 2, "cost": 4}, 2, 4),
        ({}, 3, 3),  # the old defaults: medium, medium
    ],
)
def test_speed_words_and_cost_tiers_become_the_1_to_5_scales(
    meta: dict[str, Any], speed: int, cost: int
) -> None:
    conv = from_v1(v1(model_metadata={"m1": {"provider": "p", "context_window": 1, **meta}}))
    assert (conv.data["models"]["m1"]["speed"], conv.data["models"]["m1"]["cost"]) == (speed, cost)
    assert not conv.warnings


def test_what_cannot_be_converted_is_said_never_dropped_silently() -> None:
    conv = from_v1(
        v1(
            worker_models={"builder": "m1", "scout": 7},
            model_metadata={"m1": {"provider": "p", "speed": "warp", "cost_tier": 9}, "m2": 5},
            proxy={"endpoint": "http://h:1", "retries": 3},
            telemetry=True,
        )
    )
    warnings = "\n".join(conv.warnings)
    assert "model_metadata.m1: speed 'warp' is not one of" in warnings
    assert "model_metadata.m1: cost 9 is not one of" in warnings
    assert "model_metadata.m2: not a mapping; ignored" in warnings
    assert "worker_models.scout: 7 is not a model name" in warnings
    assert "proxy.retries: not understood; ignored" in warnings
    assert "telemetry: not part of the old profile format; ignored" in warnings
    assert conv.data["castes"] == {"builder": {"model": "m1"}}
    assert set(conv.data["models"]) == {"m1"}


@pytest.mark.parametrize(
    "parts",
    [
        {"worker_models": ["builder"], "model_metadata": "none", "task_routing": "off"},
        {"proxy": "http://h:1", "task_routing": {"complexity_indicators": ["a"]}},
        {"task_routing": {"complexity_indicators": {"g": "not a group"}}},
    ],
)
def test_sections_of_the_wrong_shape_become_empty_ones(parts: dict[str, Any]) -> None:
    conv = from_v1(v1(**parts))
    assert conv.data["task_routing"]["groups"] == {}
    assert isinstance(conv.data["castes"], dict) and isinstance(conv.data["models"], dict)
    assert "proxy" not in conv.data or conv.data["proxy"] == {}


def test_a_token_is_never_copied_whatever_its_form() -> None:
    literal = from_v1(v1(proxy={"auth_token": "sk-legacy-literal-0042"}))
    assert literal.data["proxy"] == {"key_env": DEFAULT_KEY_ENV}
    assert any("SECRET IN PROFILE" in w for w in literal.warnings)
    named = from_v1(v1(proxy={"auth_token": "${FIXTURE_TOKEN}"}))
    assert named.data["proxy"] == {"key_env": "FIXTURE_TOKEN"} and not named.warnings
    fallback = from_v1(v1(proxy={"auth_token": " ${FIXTURE_TOKEN:-sk-legacy-fallback-7} "}))
    assert fallback.data["proxy"] == {"key_env": "FIXTURE_TOKEN"}
    for conv in (literal, named, fallback):
        text = render_profile_yaml(conv.data, [*conv.notes, *conv.warnings])
        assert "sk-legacy" not in text and "auth_token" not in text.split("\nformat: 2")[1]


def test_slots_resolve_for_castes_groups_and_the_default_model() -> None:
    conv = from_v1(
        v1(
            model_slots={"big": "m1", "small": "m2", "inherit": None},
            worker_models={"queen": "big", "scout": "small", "keeper": "inherit", "odd": "m1"},
            model_metadata={"m1": {"provider": "p"}, "m2": {"provider": "p"}},
            task_routing={
                "default_model": "small",
                "complexity_indicators": {"deep": {"keywords": ["design"], "model": "big"}},
            },
            user_overrides={"scout": "m1", "bad": 3},
        )
    )
    assert conv.source_format == "v2-slots"
    assert conv.data["castes"] == {
        "queen": {"model": "m1"},
        "scout": {"model": "m2"},
        "odd": {"model": "m1"},  # a model named directly stays as it is
    }
    assert conv.data["default_model"] == "m2"
    assert conv.data["task_routing"]["groups"]["deep"]["model"] == "m1"
    assert conv.data["overrides"] == {"scout": "m1"}
    assert any("worker_models.keeper: slot 'inherit'" in w for w in conv.warnings)
    assert any(n.startswith("model_slots (big -> m1") for n in conv.notes)
