"""Crash suite: real ``aether`` processes SIGKILLed at random (seeded) moments.

After every kill: the state parses and validates; every write the CLI acknowledged (exit 0
before the kill) is still there; user memory is intact; chambers reported good still verify;
and the next write removes leftover temp files.

CI runs a short version (60 kills). The long run (500 kills; marked ``slow``, so only a
selection that names it runs it) is documented in docs/reliability.md:

    python -m pytest tests/reliability -m slow

``--crash-kills N`` sets the number of kills of either run.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aether.files import TEMP_SUFFIX
from aether.memory import load_all
from aether.state.store import Store
from aether.workspace import Workspace
from tests.helpers import AETHER, clean_env

CI_KILLS = 60
LONG_KILLS = 500
CASTES = ("builder", "watcher", "scout", "architect", "oracle", "chaos")


@dataclass
class Expected:
    """What the CLI acknowledged, and so must survive every later kill."""

    workers: set[str] = field(default_factory=set)
    memory: set[str] = field(default_factory=set)
    chambers: set[str] = field(default_factory=set)
    acknowledged: int = 0
    kills: int = 0
    by_op: dict[str, int] = field(default_factory=dict)


def _run_json(argv: list[str], cwd: Path) -> dict[str, object]:
    result = subprocess.run(
        [AETHER, *argv], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (argv, result.stderr)
    payload = json.loads(result.stdout)
    assert isinstance(payload, dict)
    return payload


def _workers_present(ws: Workspace) -> set[str]:
    present = {w.id for w in Store(ws).load().state.workers}
    if ws.workers_history.exists():
        for line in ws.workers_history.read_text().splitlines():
            if line.strip():
                present.add(json.loads(line)["id"])
    return present


def _memory_present(ws: Workspace) -> set[str]:
    return {item.text for items in load_all(ws.memory_dir).values() for item in items}


def _temp_files(ws: Workspace) -> list[Path]:
    return [
        p
        for d in (ws.data_dir, ws.memory_dir, ws.root)
        if d.is_dir()
        for p in d.iterdir()
        if p.name.endswith(TEMP_SUFFIX)
    ]


def _command(op: str, rng: random.Random, step: int) -> list[str]:
    if op == "spawn":
        caste = rng.choice(CASTES)
        return ["spawn", "--caste", caste, "--task", f"task {step}", "--no-proxy", "--json"]
    if op == "memory":
        kind = rng.choice(("learning", "decision", "instinct"))
        return ["memory", "add", kind, f"{kind} number {step}", "--json"]
    if op == "pause":
        return ["pause", "--note", f"pause {step}", "--json"]
    if op == "resume":
        return ["resume", "--json"]
    if op == "archive":
        return ["archive", "--name", f"crash-{step}", "--json"]
    if op == "reset":
        return ["reset", "--yes", "--json"]
    raise AssertionError(op)


OPS = ("spawn", "spawn", "spawn", "memory", "memory", "pause", "resume", "archive", "reset")


def _acknowledge(op: str, payload: dict[str, object], step: int, exp: Expected) -> None:
    exp.acknowledged += 1
    exp.by_op[op] = exp.by_op.get(op, 0) + 1
    if op == "spawn":
        exp.workers.add(str(payload["id"]))
    elif op == "memory":
        item = payload["item"]
        assert isinstance(item, dict)
        exp.memory.add(str(item["text"]))
    elif op == "archive":
        exp.chambers.add(str(payload["name"]))
    elif op == "reset":
        exp.workers.clear()


def _check(ws: Workspace, exp: Expected, project: Path, killed_op: str | None) -> None:
    Store(ws).load()  # parses and validates, or raises
    present = _workers_present(ws)
    if killed_op == "reset":
        # a killed reset either happened entirely or not at all
        survivors = exp.workers & present
        assert survivors in (exp.workers, set()), "a killed reset half-cleared the workers"
        exp.workers = survivors
    missing = exp.workers - present
    assert not missing, f"acknowledged workers lost: {sorted(missing)}"
    lost_memory = exp.memory - _memory_present(ws)
    assert not lost_memory, f"acknowledged memory lost: {sorted(lost_memory)}"


def _verify_chambers(project: Path, exp: Expected) -> None:
    for name in sorted(exp.chambers):
        result = subprocess.run(
            [AETHER, "archive", "verify", name],
            cwd=project,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"chamber {name} reported good does not verify: {result}"


def run_crash_suite(project: Path, kills: int, seed: int) -> Expected:
    rng = random.Random(seed)
    ws = Workspace(project)
    exp = Expected()
    for text in ("the first learning", "a second learning"):
        _run_json(["memory", "add", "learning", text, "--json"], project)
        exp.memory.add(text)
    step = 0
    while exp.kills < kills:
        step += 1
        assert step < kills * 6, "the harness is not managing to kill anything"
        op = rng.choice(OPS)
        argv = _command(op, rng, step)
        proc = subprocess.Popen(
            [AETHER, *argv],
            cwd=project,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # a whole command takes roughly 0.2-0.6 s here: kill anywhere in that span
        delay = rng.uniform(0.0, 0.6)
        try:
            out, err = proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            exp.kills += 1
            _check(ws, exp, project, killed_op=op)
            continue
        if proc.returncode == 0:
            _acknowledge(op, json.loads(out), step, exp)
            leftovers = _temp_files(ws)
            assert not leftovers, f"{op} acknowledged but temp files remain: {leftovers}"
        else:
            # refusals are fine (resume when active, ...) but never a crash
            assert "Traceback" not in err, err
            assert err.startswith("aether: error: "), err
        _check(ws, exp, project, killed_op=None)
        if step % 25 == 0:
            _verify_chambers(project, exp)
    # the next write cleans up whatever the kills left behind
    _run_json(["memory", "add", "learning", "after the storm", "--json"], project)
    exp.memory.add("after the storm")
    assert not _temp_files(ws)
    _check(ws, exp, project, killed_op=None)
    _verify_chambers(project, exp)
    return exp


def test_crash_suite(request: pytest.FixtureRequest, fresh_colony: Path) -> None:
    _crash_run(request, fresh_colony, CI_KILLS)


@pytest.mark.slow
def test_crash_suite_long(request: pytest.FixtureRequest, fresh_colony: Path) -> None:
    """The documented long run (docs/reliability.md has its results)."""
    _crash_run(request, fresh_colony, LONG_KILLS)


def _crash_run(request: pytest.FixtureRequest, fresh_colony: Path, default_kills: int) -> None:
    kills = request.config.getoption("--crash-kills") or default_kills
    seed = request.config.getoption("--crash-seed")
    started = time.monotonic()
    exp = run_crash_suite(fresh_colony, kills, seed)
    elapsed = time.monotonic() - started
    print(
        f"\ncrash suite: {exp.kills} kills, {exp.acknowledged} acknowledged writes "
        f"({exp.by_op}), {len(exp.chambers)} chambers, seed {seed}, {elapsed:.0f} s"
    )
    assert exp.kills >= kills


def test_killed_migrate_leaves_old_or_new_never_torn(tmp_path: Path) -> None:
    """migrate on a legacy file, killed at random: the file is the old bytes or a valid 4.0."""
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "legacy-states"
    legacy = sorted(fixture.glob("v3*.in.json")) or sorted(fixture.glob("*.in.json"))
    if not legacy:
        pytest.fail("no legacy fixtures under fixtures/legacy-states/")
    source = legacy[0]
    rng = random.Random(7)
    kills = 0
    for attempt in range(40):
        project = tmp_path / f"p{attempt}"
        data = project / ".aether" / "data"
        data.mkdir(parents=True)
        shutil.copy(source, data / "COLONY_STATE.json")
        original = (data / "COLONY_STATE.json").read_bytes()
        proc = subprocess.Popen(
            [AETHER, "migrate", "--json"],
            cwd=project,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            proc.communicate(timeout=rng.uniform(0.0, 0.5))
            assert proc.returncode == 0
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            kills += 1
        now = (data / "COLONY_STATE.json").read_bytes()
        if now != original:
            doc = json.loads(now)
            assert doc["version"] == "4.0"
            Store(Workspace(project)).load()
            backups = list((data / "backups" / "pre-migration").rglob("COLONY_STATE.json"))
            assert any(b.read_bytes() == original for b in backups), "migrated without backup"
    assert kills >= 10
