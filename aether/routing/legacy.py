"""The old tool's profile formats, converted to the current one as plain dicts (pure functions).

* **v1** (``worker_models``, ``model_metadata``, ``task_routing.complexity_indicators``,
  ``proxy.auth_token``, ``user_overrides``) loads as-is through ``from_v1``; ``aether profile
  migrate`` writes the same conversion out as a current-format file.
* **v2-slots** (``model_slots`` + castes pointing at slot names) is converted too: each caste
  gets the model its slot names; ``inherit`` castes (the old tool's "use the parent's model")
  have no meaning in aether and are left to the lenient default, loudly.

Never does a secret travel into the result: a literal ``auth_token`` is dropped with a loud
warning, and ``${VAR:-default}`` becomes ``key_env: VAR``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from aether.records import field, record
from aether.routing.table import DEFAULT_ENDPOINT, DEFAULT_KEY_ENV, normalise_caste

#: v1 speed words and cost tiers -> the 1..5 scales of the current format
SPEED_WORDS = {"very-slow": 1, "slow": 2, "medium": 3, "fast": 4, "very-fast": 5}
COST_TIERS = {"free": 1, "low": 1, "medium": 3, "high": 5, "very-high": 5}
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-(.*))?\}$")
_ENV_ANY = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")

V1_KEYS = {
    "version",
    "description",
    "profile",
    "worker_models",
    "model_metadata",
    "task_routing",
    "proxy",
    "user_overrides",
    "model_slots",
}


@record
class Conversion:
    data: dict[str, Any]
    source_format: str  # "v1" | "v2-slots"
    warnings: list[str] = field(default_factory=list)
    #: notes for the comments `profile migrate` writes (what changed and why)
    notes: list[str] = field(default_factory=list)
    uses_env: bool = False


def detect_format(data: dict[str, Any]) -> str:
    """``"current"``, ``"v1"``, ``"v2-slots"`` or ``"unknown"``."""
    if "format" in data:
        return "current"
    if "model_slots" in data:
        return "v2-slots"
    if "worker_models" in data or "model_metadata" in data:
        return "v1"
    return "unknown"


def expand_env(value: str) -> str:
    """``${VAR}`` / ``${VAR:-default}`` as the old tool's shell scripts expanded them."""

    def sub(m: re.Match[str]) -> str:
        return os.environ.get(m.group(1)) or (m.group(2) or "")

    return _ENV_ANY.sub(sub, value)


def _word_scale(value: Any, table: dict[str, int], what: str, where: str, conv: Conversion) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    if isinstance(value, str) and value.strip().lower().replace("_", "-") in table:
        return table[value.strip().lower().replace("_", "-")]
    conv.warnings.append(f"{where}: {what} {value!r} is not one of {sorted(table)}; using 3")
    return 3


def _convert_proxy(proxy: Any, conv: Conversion) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(proxy, dict):
        return out
    endpoint = proxy.get("endpoint")
    if isinstance(endpoint, str):
        if "${" in endpoint:
            conv.uses_env = True
        out["endpoint"] = expand_env(endpoint).rstrip("/") or DEFAULT_ENDPOINT
    token = proxy.get("auth_token")
    if isinstance(token, str) and token:
        out["key_env"] = _key_env_of(token, conv)
    if "health_check" in proxy:
        conv.notes.append(
            "proxy.health_check was dropped: aether checks the proxy with an authenticated "
            "request, because /health answered 'healthy' while real requests failed auth"
        )
    for key in sorted(set(proxy) - {"endpoint", "auth_token", "health_check"}):
        conv.warnings.append(f"proxy.{key}: not understood; ignored")
    return out


def _key_env_of(token: str, conv: Conversion) -> str:
    """The variable an ``auth_token`` names; a literal key is never copied, loudly."""
    m = _ENV_REF.match(token.strip())
    if m:
        note = f"proxy.auth_token `${{{m.group(1)}...}}` became key_env: {m.group(1)}"
        if m.group(2):
            conv.warnings.append(
                f"proxy.auth_token: the fallback after ':-' in ${{{m.group(1)}:-...}} is a "
                f"literal secret; aether ignores it and reads the key only from "
                f"${m.group(1)} (set it in the environment)"
            )
            note += " (its literal fallback was dropped)"
        conv.notes.append(note)
        return m.group(1)
    conv.warnings.append(
        "SECRET IN PROFILE: proxy.auth_token holds a literal key. aether never reads "
        "keys from the profile and ignores it: export it as LITELLM_MASTER_KEY and "
        "write `key_env: LITELLM_MASTER_KEY` under proxy (run `aether profile migrate`)"
    )
    conv.notes.append(
        "proxy.auth_token held a literal key; it was NOT copied. Export it as "
        "LITELLM_MASTER_KEY (the variable named by key_env)"
    )
    return DEFAULT_KEY_ENV


def _models(metadata: Any, conv: Conversion) -> dict[str, Any]:
    models: dict[str, Any] = {}
    if not isinstance(metadata, dict):
        return models
    for name, meta in metadata.items():
        where = f"model_metadata.{name}"
        if not isinstance(meta, dict):
            conv.warnings.append(f"{where}: not a mapping; ignored")
            continue
        spec: dict[str, Any] = {
            "provider": str(meta.get("provider", "unknown")),
            "context_window": meta.get("context_window", 0),
            "capabilities": [str(c) for c in meta.get("capabilities") or []],
            "speed": _word_scale(meta.get("speed", "medium"), SPEED_WORDS, "speed", where, conv),
            "cost": _word_scale(
                meta.get("cost_tier", meta.get("cost", "medium")), COST_TIERS, "cost", where, conv
            ),
        }
        if meta.get("description"):
            spec["description"] = str(meta["description"])
        if meta.get("best_for"):
            spec["best_for"] = [str(b) for b in meta["best_for"]]
        models[str(name)] = spec
    return models


def _task_routing(tr: Any, conv: Conversion) -> tuple[dict[str, Any], Any]:
    if not isinstance(tr, dict):
        return {"enabled": True, "groups": {}}, None
    groups: dict[str, Any] = {}
    indicators = tr.get("complexity_indicators") or {}
    if isinstance(indicators, dict):
        for name, group in indicators.items():
            if isinstance(group, dict):
                groups[str(name)] = {
                    "keywords": [str(k) for k in group.get("keywords") or []],
                    "model": str(group.get("model", "")),
                }
    default = tr.get("default_model")
    if default:
        conv.notes.append(
            "task_routing.default_model became default_model, used only for unknown castes "
            "in lenient mode: when no keyword matches, the caste's own model wins (the old tool "
            "returned default_model, so caste models were unreachable once a task had text)"
        )
    return {"enabled": True, "groups": groups}, default


def from_v1(data: dict[str, Any]) -> Conversion:
    """The v1 (or v2-slots) dict as a current-format dict; nothing is lost silently."""
    slots = data.get("model_slots")
    conv = Conversion(data={}, source_format="v2-slots" if slots is not None else "v1")
    out = conv.data
    out["format"] = 2
    if data.get("profile"):
        out["name"] = str(data["profile"])
    if data.get("description"):
        out["description"] = str(data["description"])
    # the old tool fell back to a default model for anything it did not know: lenient
    out["strict"] = False
    out["models"] = _models(data.get("model_metadata"), conv)
    out["castes"] = _castes(data.get("worker_models") or {}, slots, conv)
    overrides = data.get("user_overrides")
    if isinstance(overrides, dict) and overrides:
        out["overrides"] = {str(k): str(v) for k, v in overrides.items() if isinstance(v, str)}
    task_routing, default = _task_routing(data.get("task_routing"), conv)
    out["task_routing"] = task_routing
    if isinstance(default, str):
        out["default_model"] = slots.get(default, default) if isinstance(slots, dict) else default
    proxy = _convert_proxy(data.get("proxy"), conv)
    if proxy:
        out["proxy"] = proxy
    if isinstance(slots, dict):
        _resolve_group_slots(slots, task_routing["groups"], conv)
    for key in sorted(set(data) - V1_KEYS):
        conv.warnings.append(f"{key}: not part of the old profile format; ignored")
    return conv


def _castes(worker_models: Any, slots: Any, conv: Conversion) -> dict[str, Any]:
    """``worker_models`` as castes, each naming its model directly (a slot name resolved)."""
    castes: dict[str, Any] = {}
    if not isinstance(worker_models, dict):
        return castes
    for caste, model in worker_models.items():
        target = model
        if isinstance(slots, dict):
            if model in slots:
                target = slots[model]
                if target is None:
                    conv.warnings.append(
                        f"worker_models.{caste}: slot {model!r} means 'use the parent's "
                        f"model', which aether does not have; the caste is left out and "
                        f"gets default_model in lenient mode"
                    )
                    continue
        if not isinstance(target, str):
            conv.warnings.append(f"worker_models.{caste}: {target!r} is not a model name")
            continue
        castes[normalise_caste(str(caste))] = {"model": target}
    return castes


def _resolve_group_slots(slots: dict[Any, Any], groups: dict[str, Any], conv: Conversion) -> None:
    """Keyword groups naming a slot name its model instead (and the note saying so)."""
    conv.notes.append(
        "model_slots (" + ", ".join(f"{k} -> {v}" for k, v in slots.items()) + ") were "
        "resolved: each caste names its model directly"
    )
    for group in groups.values():
        group["model"] = slots.get(group["model"], group["model"])
