"""The documented default profile that ``aether init`` writes."""

from __future__ import annotations

from importlib.resources import files


def default_profile_text() -> str:
    return files("aether.routing").joinpath("default-profile.yaml").read_text(encoding="utf-8")
