"""Round-trip fixtures (Terraform's ``vN.in`` -> ``vN.out``): fixtures/legacy-states/.

Each ``<name>.in.json`` (or ``<name>.in/`` for the v1 six-file layout) migrates to exactly
``<name>.out.json``: ``{"state": <validated 4.0 state>, "memory": [<items>]}``, the clock
frozen at ``NOW``. On a mismatch the actual output is written beside the gold file as
``<name>.actual.json`` so a reviewer can diff it and, if right, promote it
(``AETHER_UPDATE_FIXTURES=1`` rewrites every gold file).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aether.json_text import canonical_json
from aether.memory import MemoryItem
from aether.state.model import ColonyState
from tests.helpers import (
    NOW,
    REPO,
    SIBLINGS,
    anchor_inputs,
    clean_env,
    missing_strings,
    upgrade_doc,
)

FIXTURES = REPO / "fixtures" / "legacy-states"
INPUTS = sorted(
    p for p in FIXTURES.iterdir() if p.name.endswith(".in.json") or p.name.endswith(".in")
)


def _stem(path: Path) -> str:
    return path.name.removesuffix(".json").removesuffix(".in")


def migrated(path: Path) -> tuple[dict[str, Any], list[Any]]:
    doc, siblings, duplicates = anchor_inputs(path)
    result = upgrade_doc(doc, siblings, duplicate_keys=duplicates)
    state = ColonyState.model_validate(result.state).model_dump(mode="json")
    memory = [MemoryItem.model_validate(m).model_dump(mode="json") for m in result.memory]
    assert missing_strings([doc, siblings, [d["shadowed"] for d in duplicates]], result) == []
    return state, memory


def test_there_is_a_fixture_for_every_version_and_drift() -> None:
    names = {_stem(p) for p in INPUTS}
    for needed in ("v0-design", "v1-single-file", "v1-six-file", "v2.0-full",
                   "v3.0-object-events", "v3.0-drift", "v3.0-unknown-state",
                   "v3.0-duplicate-keys", "v3.0-stamped-empty"):  # fmt: skip
        assert needed in names
    six = FIXTURES / "v1-six-file.in"
    assert sorted(p.name for p in six.iterdir()) == sorted((*SIBLINGS, "COLONY_STATE.json"))


@pytest.mark.parametrize("path", INPUTS, ids=_stem)
def test_fixture_round_trip(path: Path) -> None:
    state, memory = migrated(path)
    actual = canonical_json({"state": state, "memory": memory})
    gold = FIXTURES / f"{_stem(path)}.out.json"
    side = FIXTURES / f"{_stem(path)}.actual.json"
    if os.environ.get("AETHER_UPDATE_FIXTURES") == "1":
        gold.write_text(actual, encoding="utf-8")
    if not gold.exists() or gold.read_text(encoding="utf-8") != actual:
        side.write_text(actual, encoding="utf-8")
        pytest.fail(
            f"{path.name} does not migrate to {gold.name}; the actual output is in "
            f"{side.name}: diff them, and promote it if it is right"
        )
    side.unlink(missing_ok=True)


def _install(path: Path, project: Path) -> Path:
    data = project / ".aether" / "data"
    data.mkdir(parents=True)
    if path.is_dir():
        for f in path.iterdir():
            shutil.copy(f, data / f.name)
    else:
        shutil.copy(path, data / "COLONY_STATE.json")
    return data


def test_the_installed_cli_writes_what_the_gold_file_says(tmp_path: Path) -> None:
    """The same fixture through ``aether migrate``: state (plus the write's serial/updated_at)
    and memory files match the gold file exactly."""
    from tests.helpers import AETHER

    path = FIXTURES / "v1-six-file.in"
    data = _install(path, tmp_path)
    done = subprocess.run(
        [AETHER, "migrate"],
        cwd=tmp_path,
        env=clean_env(AETHER_NOW=NOW),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    gold = json.loads((FIXTURES / "v1-six-file.out.json").read_text())
    written = json.loads((data / "COLONY_STATE.json").read_text())
    assert written == {**gold["state"], "serial": 1, "updated_at": NOW}
    stored: list[Any] = []
    for kind_file in sorted((tmp_path / ".aether" / "memory").glob("*.json")):
        stored.extend(json.loads(kind_file.read_text())["items"])
    assert sorted(stored, key=lambda m: m["id"]) == sorted(gold["memory"], key=lambda m: m["id"])
    for name in SIBLINGS:  # left in place, byte for byte
        assert (data / name).read_bytes() == (path / name).read_bytes()
