"""The version ranges of the tools aether depends on most are the ones CI has proved.

A range's lower bound is a release that was installed and tested; its upper bound stops before
the next release allowed to break us, so a new release can never turn an unchanged tree red:

* typer: the next minor — the code relies on names Typer does not promise (the Click it
  vendors, ``typer.main.get_command``, the class name of its no-arguments help error);
* ruff: the next minor — a 0.x release whose minors are where rules and formatting change;
* mypy and filelock: the next major.
"""

from __future__ import annotations

import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.version import Version

from tests.helpers import REPO

#: package -> which part of the lower bound the upper bound increments
PINNED = {"typer": "minor", "ruff": "minor", "mypy": "major", "filelock": "major"}


def _declared() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return {req.name: req for req in map(Requirement, lines)}


def _next(version: Version, part: str) -> Version:
    major, minor = version.release[0], version.release[1]
    return Version(f"{major}.{minor + 1}") if part == "minor" else Version(f"{major + 1}")


def test_pinned_tools_have_a_range_the_installed_release_satisfies() -> None:
    declared = _declared()
    for name, part in PINNED.items():
        spec = declared[name].specifier
        lower = [s for s in spec if s.operator == ">="]
        upper = [s for s in spec if s.operator == "<"]
        assert len(lower) == 1 and len(upper) == 1, f"{name}: {spec} is not >=LOW,<HIGH"
        low, high = Version(lower[0].version), Version(upper[0].version)
        assert high == _next(low, part), f"{name}: {spec} should stop at {_next(low, part)}"
        installed = metadata.version(name)
        assert spec.contains(installed), f"{name} {installed} is installed, outside {spec}"
