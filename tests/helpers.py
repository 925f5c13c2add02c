"""Helpers the test modules share (fixtures are in conftest.py).

Two ways to run aether:

* :func:`run_cli` runs a command line *in this process* through
  :func:`aether.cli.inprocess.run_in_process` — the very path ``aether serve`` runs every command
  it is handed — with its own environment, working directory and stdin. Most CLI behaviour is
  tested this way: it is ~50× cheaper than starting Python, Typer and Pydantic again.
* :func:`run_process` starts the installed ``aether`` entry point, for tests where the process is
  the point: the entry point itself, crashes and signals, concurrency, the server, lean imports,
  ``spawn --exec`` children, the real proxy and Claude Code.

Both return a :class:`subprocess.CompletedProcess`, so an assertion reads the same either way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aether.state.migrations import UpgradeResult

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
GOLDEN = Path(__file__).parent / "golden"

Result = subprocess.CompletedProcess[str]


def aether_executable() -> str:
    """The console script installed by ``pip install``; process tests must go through it."""
    candidate = Path(sys.executable).parent / "aether"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("aether")
    if not found:
        raise RuntimeError("the aether entry point is not installed: pip install -e '.[test]'")
    return found


AETHER = aether_executable()


#: the home directory aether sees in a test (each test gets its own: conftest.py): nothing a
#: test runs may write to the real ``~/.claude/`` (``aether claude install`` adds its relay
#: there)
TEST_HOME: Path | None = None


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``AETHER_*`` setting, 200 columns wide, with the
    aether under test first on PATH, as in its activated virtualenv: whatever looks ``aether``
    up by PATH (the hook launcher, ``doctor``) finds this one, never another install, and the
    suite passes in a virtualenv that is not activated; and the test's own ``HOME``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_")}
    # a hook starts a server for its colony when none runs; tests that want one start it, or
    # say so (tests/test_server_autostart.py): none is left running behind a test
    env["AETHER_SERVER"] = "manual"
    env.pop("NO_COLOR", None)
    env["COLUMNS"] = "200"
    env["PATH"] = os.pathsep.join(
        [str(Path(AETHER).parent), *env.get("PATH", "").split(os.pathsep)]
    )
    if TEST_HOME is not None:
        env["HOME"] = str(TEST_HOME)
    env.update(extra)
    return env


# --- running aether ----------------------------------------------------------------------------


def run_process(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> Result:
    """The installed ``aether`` entry point in a child process."""
    return subprocess.run(
        [AETHER, *args],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


_full_command: Any = None


def _command() -> Any:
    """The Click command of every registered command, built once (as ``aether serve`` does)."""
    global _full_command
    if _full_command is None:
        import typer.main

        from aether.cli.app import app, register

        _full_command = typer.main.get_command(register(app))
    return _full_command


def needs_a_process(args: tuple[str, ...]) -> bool:
    """Command lines that cannot run in-process: ``--exec`` starts a child and takes over
    signals, ``serve`` listens until stopped."""
    from aether.cli.app import invoked_command

    return "--exec" in args or invoked_command(list(args)) == "serve"


def run_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
) -> Result:
    """``aether ARGS`` in this process (a child process for :func:`needs_a_process` lines).
    ``timeout`` bounds only a child process: every wait inside aether has its own bound."""
    if needs_a_process(args):
        return run_process(*args, cwd=cwd, env=env, input=input, timeout=timeout)
    from aether.cli.inprocess import run_in_process

    ran = run_in_process(
        list(args),
        env=env if env is not None else clean_env(),
        cwd=str(cwd),
        stdin=(input or "").encode("utf-8"),
        command=_command(),
    )
    return subprocess.CompletedProcess([AETHER, *args], ran.exit, ran.stdout, ran.stderr)


def run_on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """The installed aether with a pseudo-terminal as stdout and stderr (Rich draws then);
    everything it wrote, decoded."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([AETHER, *args], cwd=cwd, env=env, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", errors="replace")


def run_standalone(project: Path) -> Path:
    """Make the project's profile route without a proxy, so hooks and spawns route and record
    offline (tests of what aether records, not of the proxy)."""
    profile = project / ".aether" / "model-profiles.yaml"
    profile.write_text(profile.read_text().replace("proxy:\n", "proxy:\n  standalone: true\n"))
    return project


def git(*args: str, cwd: Path) -> None:
    """``git ARGS`` in ``cwd`` with a committer identity of its own."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def one_hook_line(result: subprocess.CompletedProcess[str], event: str) -> str:
    """A hook's outcome: exit 0, no traceback, exactly one stderr line naming the hook."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"aether hook {event}: ")
    return lines[0]


def subagent_records(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The worker records of a state, without those that stand for agent sessions (their main
    agent, ``runtime.role`` ``main``: aether/ops/session/agent_sessions.py)."""
    return [w for w in state["workers"] if (w.get("runtime") or {}).get("role") != "main"]


def session_records(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in state["workers"] if (w.get("runtime") or {}).get("role") == "main"]


# --- aether serve ------------------------------------------------------------------------------


def start_server(project: Path, run_dir: Path, *args: str) -> subprocess.Popen[str]:
    """``aether serve`` for ``project``, its socket under ``run_dir`` (the server's own
    TMPDIR), returned once it says it is serving; its stderr stays open for the test."""
    proc = subprocess.Popen(
        [AETHER, "serve", "--idle-timeout", "120", *args],
        cwd=project,
        env=clean_env(TMPDIR=str(run_dir)),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "serving" in line, line
    return proc


def server_socket(project: Path, run_dir: Path) -> str:
    """The socket a server started by :func:`start_server` listens on."""
    from aether.hook_client import socket_path

    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(run_dir)
    try:
        return socket_path(str(project / ".aether"))
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved


def was_served(result: Result) -> bool:
    """Whether a command run with ``PYTHONPROFILEIMPORTTIME=1`` was answered by a server: the
    client that hands a command over never imports Typer."""
    return not any(
        line.startswith("import time:") and line.rstrip().endswith(" typer")
        for line in result.stderr.splitlines()
    )


# --- waiting for a process ---------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` every 10 ms until it holds (never a fixed sleep that guesses how long
    something takes); fail naming ``what`` after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def working_directory(pid: int) -> str | None:
    """Where process ``pid`` is now (Linux: /proc); None once it is gone. ``aether serve``
    moves into a client's directory for the command it runs, and back."""
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


def signal_pending(pid: int, signum: int) -> bool:
    """Whether ``signum`` was sent to ``pid`` and not yet delivered (Linux: /proc)."""
    bit = 1 << (signum - 1)
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        masks = [line.split()[1] for line in fh if line.startswith(("SigPnd:", "ShdPnd:"))]
    return any(int(mask, 16) & bit for mask in masks)


# --- checking results --------------------------------------------------------------------------


def assert_clean_error(result: Result, exit_code: int) -> None:
    """One line on stderr, the documented exit code, no traceback."""
    assert result.returncode == exit_code, (result.returncode, result.stderr, result.stdout)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("aether: error: "), lines[0]


def as_json(result: Result) -> dict[str, Any]:
    """The JSON a successful ``--json`` command printed."""
    assert result.returncode == 0, (result.returncode, result.stderr, result.stdout)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def check_golden(name: str, actual: str) -> None:
    """``actual`` equals tests/golden/NAME; otherwise it is written beside it for review."""
    golden = GOLDEN / name
    actual_path = golden.with_suffix(".actual.md")
    expected = golden.read_text(encoding="utf-8") if golden.exists() else None
    if expected != actual:
        actual_path.write_text(actual, encoding="utf-8")
        pytest.fail(f"{golden} differs; actual output written to {actual_path} for review")
    actual_path.unlink(missing_ok=True)


# --- files on disk -----------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (to prove a failed command changed nothing)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def data_snapshot(project: Path) -> dict[str, bytes]:
    """Every file's bytes, except the lock-holder note each lock acquisition rewrites (who
    held the lock last is metadata, not colony data) and the profile parse cache."""
    return {
        k: v
        for k, v in snapshot(project).items()
        if not k.endswith(".lock.holder") and not k.startswith(".aether/cache/")
    }


def state_of(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((project / ".aether/data/COLONY_STATE.json").read_text())
    return data


def write_state(project: Path, data: dict[str, Any]) -> None:
    (project / ".aether/data/COLONY_STATE.json").write_text(json.dumps(data, indent=2) + "\n")


def worker(
    wid: str, caste: str, model: str, status: str = "spawned", **extra: Any
) -> dict[str, Any]:
    """A worker record as `aether spawn` writes it (the format of aether/state/model.py)."""
    return {
        "id": wid,
        "caste": caste,
        "model": model,
        "model_source": "caste-default",
        "model_reason": "test",
        "profile_hash": "p-test",
        "spawned_at": "2026-03-01T11:00:00Z",
        "status": status,
        **extra,
    }


def inject_workers(project: Path, workers: list[dict[str, Any]]) -> None:
    """Stand-in for `aether spawn` records written straight into the state file."""
    data = state_of(project)
    data["workers"].extend(workers)
    write_state(project, data)


def edit_profile_model(project: Path, caste: str, old: str, new: str) -> None:
    """Give ``caste`` the model ``new`` instead of ``old`` in the colony's profile."""
    path = project / ".aether/model-profiles.yaml"
    text = path.read_text()
    pattern = re.compile(rf"^(\s*{caste}:\s*\{{model: ){re.escape(old)}", re.M)
    assert pattern.search(text), "the default profile changed shape; update this test"
    path.write_text(pattern.sub(rf"\g<1>{new}", text, count=1))


# --- the migration chain's lossless checker ----------------------------------------------------

ANCHORS = SHARED / "anchor-states"
NOW = "2030-01-02T03:04:05Z"
SIBLINGS = ("PROJECT_PLAN.json", "pheromones.json", "memory.json", "errors.json", "events.json")

needs_shared = pytest.mark.skipif(
    not ANCHORS.is_dir(), reason=f"the shared anchor corpus is absent ({ANCHORS})"
)


def string_leaves(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in string_leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in string_leaves(v)]
    return []


def _survives(text: str, found: set[str]) -> bool:
    if not text or text in found:
        return True
    stripped = text.strip()
    if stripped.startswith(("[", "{")):  # JSON text the chain decoded: its contents must survive
        try:
            decoded = json.loads(stripped)
        except ValueError:
            return False
        return all(_survives(s, found) for s in string_leaves(decoded))
    return False


def missing_strings(inputs: list[Any], result: UpgradeResult) -> list[str]:
    """Every non-empty string leaf of the inputs that appears nowhere in state + memory."""
    from aether.memory import MemoryItem
    from aether.state.model import ColonyState

    state = ColonyState.model_validate(result.state).model_dump(mode="json")
    memory = [MemoryItem.model_validate(m).model_dump(mode="json") for m in result.memory]
    found = set(string_leaves(state)) | set(string_leaves(memory))
    return [s for doc in inputs for s in string_leaves(doc) if not _survives(s, found)]


def upgrade_doc(doc: Any, siblings: dict[str, Any] | None = None, **ctx: Any) -> UpgradeResult:
    """The migration chain on one state document (and its sibling files), at :data:`NOW`."""
    from aether.state.migrations import MigrationContext, upgrade

    return upgrade(doc, MigrationContext(now=NOW, siblings=siblings or {}, **ctx))


def anchor_inputs(path: Path) -> tuple[Any, dict[str, Any], tuple[dict[str, Any], ...]]:
    """(state document, siblings, duplicate keys) of an anchor file or six-file folder."""
    from aether.state.migrations.duplicates import loads_keeping_duplicates

    state_file = path / "COLONY_STATE.json" if path.is_dir() else path
    doc, duplicates = loads_keeping_duplicates(state_file.read_text(encoding="utf-8"))
    siblings = {}
    if path.is_dir():
        siblings = {n: json.loads((path / n).read_text()) for n in SIBLINGS if (path / n).exists()}
    return doc, siblings, duplicates


def anchor_paths() -> list[Path]:
    if not ANCHORS.is_dir():
        return []
    return sorted(p for p in ANCHORS.iterdir() if p.suffix == ".json" or p.is_dir())
