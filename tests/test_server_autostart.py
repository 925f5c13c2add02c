"""Hooks and the server nobody starts by hand: the first hook that finds no server starts one,
the launcher hands later hooks to it through its own client (aether/hook_client.py), hooks that
only record are acknowledged at once and done in order, and nothing falls through the cracks
when the server runs other code or servers are off."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import clean_env, run_standalone, server_socket, state_of, wait_for

SESSION = "0b5e55e5-0000-4000-8000-000000000001"


@pytest.fixture
def run_aether(run_aether_process: RunAether) -> RunAether:
    return run_aether_process


@pytest.fixture
def project(colony: Path, run_aether: RunAether, tmp_path: Path) -> Iterator[Path]:
    """A standalone colony set up for Claude Code; its server (if a hook started one) is
    stopped afterwards."""
    run_standalone(colony)
    assert run_aether("claude", "install", "--no-relay").returncode == 0
    yield colony
    run_aether("serve", "--stop", env=hook_env(colony, tmp_path))


def hook_env(project: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A hook's environment as Claude Code gives it (its project directory and its own pid:
    this test's process stands for the session), with servers in their default mode and an
    ``aether`` that leaves a mark when it runs as a whole program."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    env = clean_env(
        TMPDIR=str(run_dir),
        CLAUDE_PROJECT_DIR=str(project),
        CLAUDE_PID=str(os.getpid()),
        AETHER_BIN=str(_marking_aether(tmp_path)),
        **extra,
    )
    if "AETHER_SERVER" not in extra:
        env.pop("AETHER_SERVER")  # clean_env says "manual"; here hooks do what users get
    return env


def _marking_aether(tmp_path: Path) -> Path:
    """An entry point like pip's (``#!`` the interpreter, then aether's main) that first
    touches ``aether-ran``: the launcher's own client never runs it."""
    script = tmp_path / "aether"
    if not script.exists():
        mark = tmp_path / "aether-ran"
        script.write_text(
            f"#!{sys.executable}\nimport pathlib\npathlib.Path({str(mark)!r}).touch()\n"
            "from aether.cli.main import main\nmain()\n"
        )
        script.chmod(0o755)
    return script


def launch(
    project: Path, event: str, stdin: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The hook as Claude Code runs it: the launcher, with the hook's JSON on stdin."""
    return subprocess.run(
        [str(project / ".claude" / "hooks" / "aether-hook"), event],
        input=stdin,
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )


def hook_json(event: str, **fields: object) -> str:
    doc = {"session_id": SESSION, "transcript_path": "", "cwd": "/", "hook_event_name": event}
    return json.dumps({**doc, **fields})


def server_status(run_aether: RunAether, env: dict[str, str]) -> dict[str, object] | None:
    done = run_aether("serve", "--status", "--json", env=env)
    doc: dict[str, object] = json.loads(done.stdout)
    return doc if done.returncode == 0 else None


def test_the_first_hook_starts_a_server_and_the_next_ones_are_handed_to_it(
    project: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    env = hook_env(project, tmp_path)
    mark = tmp_path / "aether-ran"
    first = launch(project, "session-start", hook_json("SessionStart", source="startup"), env)
    assert first.returncode == 0, first.stderr
    assert "# aether colony" in first.stdout  # answered by aether run whole
    assert mark.exists()
    wait_for(lambda: server_status(run_aether, env) is not None, "the server a hook started")
    served_before = server_status(run_aether, env)
    assert served_before is not None
    mark.unlink()

    # the next hook: the launcher's own client, the server answers; aether never runs whole
    again = launch(project, "session-start", hook_json("SessionStart", source="resume"), env)
    assert (again.returncode, again.stderr) == (0, "")
    assert "# aether colony" in again.stdout
    assert not mark.exists()
    served_after = server_status(run_aether, env)
    assert served_after is not None
    assert served_after["pid"] == served_before["pid"]
    assert int(str(served_after["served"])) >= int(str(served_before["served"])) + 1

    # a hook that only records is acknowledged at once and done right after: the session's end
    # is the last one out, so the colony pauses and HANDOFF.md is written
    ended = launch(project, "session-end", hook_json("SessionEnd", reason="other"), env)
    assert (ended.returncode, ended.stdout, ended.stderr) == (0, "", "")
    assert not mark.exists()
    handoff = project / ".aether" / "HANDOFF.md"
    # the state is committed first, HANDOFF.md written from it right after
    wait_for(
        lambda: state_of(project)["status"] == "paused" and handoff.exists(),
        "the deferred session end",
    )


@pytest.mark.parametrize("mode", ["manual", "off"])
def test_manual_and_off_keep_hooks_from_starting_a_server(
    project: Path, tmp_path: Path, mode: str
) -> None:
    env = hook_env(project, tmp_path, AETHER_SERVER=mode)
    done = launch(project, "session-start", hook_json("SessionStart", source="startup"), env)
    assert done.returncode == 0, done.stderr
    # the start is claimed (a marker file) before the hook returns: nothing was claimed
    assert not list((tmp_path / "run").glob("aether-*/*"))


def test_a_server_of_another_version_is_not_used_and_the_hook_still_runs(
    project: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    env = hook_env(project, tmp_path)
    launch(project, "session-start", hook_json("SessionStart", source="startup"), env)
    wait_for(lambda: server_status(run_aether, env) is not None, "the server a hook started")
    launcher = project / ".claude" / "hooks" / "aether-hook"
    text = launcher.read_text()
    launcher.write_text(text.replace("AETHER_VERSION=", "AETHER_VERSION=0.0.0-other", 1))
    mark = tmp_path / "aether-ran"
    mark.unlink()
    done = launch(project, "session-start", hook_json("SessionStart", source="resume"), env)
    assert (done.returncode, done.stderr) == (0, "")
    assert "# aether colony" in done.stdout
    assert mark.exists()  # refused unrun by the server: the launcher ran aether itself


def test_the_launchers_request_is_the_json_the_server_reads() -> None:
    """The client writes its JSON by hand (no ``json`` module: it would import ``re``); what it
    writes must parse to exactly what the full client sends, whatever the text holds."""
    from aether.hook_client import request_json

    env = {
        "PLAIN": "value",
        "QUOTES": 'say "hi" \\ there',
        "CONTROL": "tab\tnew\nline\x01",
        "UNICODE": "naïve — 日本",
        "UNDECODABLE": b"\xff\xfe".decode("utf-8", "surrogateescape"),
    }
    stdin = '{"prompt": "é"}'.encode()
    text = request_json("pre-agent", "1.2.3", "/p/.aether", "/p/sub dir", env, stdin)
    assert text.isascii()
    import base64

    assert json.loads(text) == {
        "argv": ["hook", "pre-agent"],
        "cwd": "/p/sub dir",
        "aether_dir": "/p/.aether",
        "version": "1.2.3",
        "code": "",
        "reply": "frames",
        "env": env,
        "stdin": base64.b64encode(stdin).decode(),
    }
    # another runtime's launcher names it: `aether hook EVENT --runtime codex`
    codex = request_json("pre-agent", "1.2.3", "/p/.aether", "/p", {}, b"{}", "codex")
    assert json.loads(codex)["argv"] == ["hook", "pre-agent", "--runtime", "codex"]


def test_a_codex_hook_is_handed_to_the_server_by_the_launchers_own_client(
    project: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """Codex's launcher hands its hooks over as Claude Code's does: the first one starts the
    server, the next ones go through the launcher's own client (aether never runs whole), and
    the session is recorded with the process the hook runs under (this test's: the client
    found it above the launcher's shells), not the server's."""
    assert run_aether("codex", "install").returncode == 0
    env = hook_env(project, tmp_path)
    for variable in ("CLAUDE_PROJECT_DIR", "CLAUDE_PID"):
        env.pop(variable)
    launcher = project / ".codex" / "hooks" / "aether-hook"
    mark = tmp_path / "aether-ran"

    def start(source: str) -> subprocess.CompletedProcess[str]:
        doc = {"session_id": SESSION, "cwd": str(project), "model": "cx-main", "source": source}
        return subprocess.run(
            [str(launcher), "session-start"],
            input=json.dumps({**doc, "hook_event_name": "SessionStart"}),
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
        )

    first = start("startup")
    assert first.returncode == 0, first.stderr
    assert "# aether colony" in json.loads(first.stdout)["hookSpecificOutput"]["additionalContext"]
    assert mark.exists()  # answered by aether run whole, which started the server
    wait_for(lambda: server_status(run_aether, env) is not None, "the server a hook started")
    before = server_status(run_aether, env)
    assert before is not None
    mark.unlink()
    again = start("resume")
    assert (again.returncode, again.stderr) == (0, "")
    assert "# aether colony" in json.loads(again.stdout)["hookSpecificOutput"]["additionalContext"]
    assert not mark.exists()
    after = server_status(run_aether, env)
    assert after is not None and int(str(after["served"])) == int(str(before["served"])) + 1
    (session,) = [
        w for w in state_of(project)["workers"] if (w.get("runtime") or {}).get("role") == "main"
    ]
    assert session["runtime"]["kind"] == "codex"
    assert session["runtime"]["process"]["pid"] == os.getpid()


def test_the_launchers_client_imports_nothing_beyond_the_interpreters_builtins() -> None:
    """Run as the launcher runs it (isolated, no site-packages), with no colony to talk to: it
    answers "not handed over" (75) without importing json, socket, re or enum."""
    from aether import hook_client

    source = Path(hook_client.__file__).read_text()
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", "-c", source, "pre-agent", "0"],
        input="{}",
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "CLAUDE_PID": "1"},
        timeout=30,
    )
    assert done.returncode == 75, done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not imported & {"json", "socket", "re", "enum", "typing", "base64"}, imported
    # as Codex's launcher runs it: it finds the process it runs under in /proc, with posix alone
    codex_args = ["pre-agent", "0", "codex", "/nonexistent"]
    codex = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", "-c", source, *codex_args],
        input="{}",
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "")},
        timeout=30,
    )
    assert codex.returncode == 75, codex.stderr
    imported = {line.split("|")[-1].strip() for line in codex.stderr.splitlines() if "|" in line}
    assert not imported & {"json", "socket", "re", "enum", "typing", "base64"}, imported


def test_a_subagent_that_is_not_aethers_starts_no_process_at_all(
    project: Path, tmp_path: Path
) -> None:
    """Explore, general-purpose, a user's own agent: their four agent hooks are answered by the
    launcher itself; input that is not a hook's JSON still reaches aether, which says so."""
    env = hook_env(project, tmp_path, AETHER_SERVER="off")
    mark = tmp_path / "aether-ran"
    spawn = {"tool_name": "Agent", "tool_input": {"subagent_type": "general-purpose"}}
    for event, doc in (
        ("pre-agent", hook_json("PreToolUse", **spawn)),
        ("agent-result", hook_json("PostToolUse", **spawn)),
        ("subagent-start", hook_json("SubagentStart", agent_type="Explore", agent_id="a1")),
        ("subagent-stop", hook_json("SubagentStop", agent_type="Explore", agent_id="a1")),
    ):
        done = launch(project, event, doc, env)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), event
    assert not mark.exists()
    garbage = launch(project, "pre-agent", "not json", env)
    assert garbage.returncode == 0 and "aether hook pre-agent" in garbage.stderr
    assert mark.exists()


def test_a_hook_that_only_records_is_answered_while_the_server_is_busy(
    project: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """The server runs one command at a time; it reads requests in a thread of their own, so a
    hook that only records is acknowledged at once even while another command waits (here on
    the colony lock another process holds), and done in its turn once that one is."""
    import time

    from tests.lock_scripts import HOLDER, start_script

    env = hook_env(project, tmp_path, AETHER_LOCK_TIMEOUT="60")
    launch(project, "session-start", hook_json("SessionStart", source="startup"), env)
    wait_for(lambda: server_status(run_aether, env) is not None, "the server a hook started")
    holder, line = start_script(HOLDER, project, clean_env())
    try:
        assert line == "locked"
        waiting = subprocess.Popen(
            [str(project / ".claude" / "hooks" / "aether-hook"), "pre-compact"],
            stdin=subprocess.PIPE,
            env=env,
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stdin is not None
        waiting.stdin.write(hook_json("PreCompact"))
        waiting.stdin.close()
        time.sleep(0.5)  # let the server take it up and block on the lock
        assert waiting.poll() is None
        started = time.monotonic()
        ended = launch(project, "session-end", hook_json("SessionEnd", reason="other"), env)
        assert time.monotonic() - started < 1.5  # the acknowledgement, not the work
        assert (ended.returncode, ended.stdout, ended.stderr) == (0, "", "")
        assert state_of(project)["status"] == "active"  # not done yet: the lock is held
    finally:
        holder.kill()
        holder.wait()
    assert waiting.wait(timeout=60) == 0
    handoff = project / ".aether" / "HANDOFF.md"
    wait_for(
        lambda: state_of(project)["status"] == "paused" and handoff.exists(),
        "the session end, done in its turn",
    )


def _marking_tools(tmp_path: Path) -> tuple[Path, Path]:
    """A directory of ``timeout``, ``cat`` and ``head`` that each leave a mark, then run the
    real one: put first on PATH, they tell whether the launcher read a hook's input itself."""
    tools, marks = tmp_path / "tools", tmp_path / "marks"
    tools.mkdir()
    marks.mkdir()
    for name in ("timeout", "cat", "head"):
        real = shutil.which(name)
        assert real is not None
        tool = tools / name
        tool.write_text(f'#!/bin/sh\n: > "{marks / name}"\nexec "{real}" "$@"\n')
        tool.chmod(0o755)
    return tools, marks


def test_session_start_and_pre_compact_are_read_and_handed_over_by_the_client_alone(
    project: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """With a server, ``session-start`` and ``pre-compact`` are read by the launcher's client
    itself: no ``timeout``, ``cat`` or ``head`` runs, aether never runs whole, and the answer
    is the server's. Without a server the client gives the input back and aether runs with
    it; ``pre-agent`` (which starts nothing for another agent's spawn) and servers ``off``
    keep the launcher's own reader."""
    tools, marks = _marking_tools(tmp_path)
    env = hook_env(project, tmp_path)
    env["PATH"] = f"{tools}:{env['PATH']}"
    mark = tmp_path / "aether-ran"
    first = launch(project, "session-start", hook_json("SessionStart", source="startup"), env)
    assert first.returncode == 0 and "# aether colony" in first.stdout, first.stderr
    assert mark.exists() and not list(marks.iterdir())  # given back, then run whole
    wait_for(lambda: server_status(run_aether, env) is not None, "the server a hook started")
    mark.unlink()
    again = launch(project, "session-start", hook_json("SessionStart", source="resume"), env)
    assert (again.returncode, again.stderr) == (0, "")
    assert "# aether colony" in again.stdout
    compact = launch(project, "pre-compact", hook_json("PreCompact", trigger="auto"), env)
    assert (compact.returncode, compact.stderr) == (0, "")
    assert not mark.exists() and not list(marks.iterdir())
    other = {"subagent_type": "Explore", "prompt": "look"}
    explore = hook_json("PreToolUse", tool_name="Agent", tool_input=other, tool_use_id="toolu_r2")
    passed = launch(project, "pre-agent", explore, env)
    assert (passed.returncode, passed.stdout, passed.stderr) == (0, "", "")
    assert {p.name for p in marks.iterdir()} >= {"timeout", "cat", "head"}
    for used in marks.iterdir():
        used.unlink()
    resume = hook_json("SessionStart", source="resume")
    off = launch(project, "session-start", resume, {**env, "AETHER_SERVER": "off"})
    assert off.returncode == 0 and "# aether colony" in off.stdout
    assert {p.name for p in marks.iterdir()} >= {"timeout", "cat", "head"}


def test_the_client_reads_a_hooks_input_within_its_bounds(tmp_path: Path) -> None:
    """``--read`` (aether/hook_client.py ``read_bounded``): at most the limit, for at most the
    time given, and what was read is kept when the input does not end."""
    import threading

    from aether.hook_client import read_bounded

    r, w = os.pipe()
    try:
        os.write(w, b'{"partial": ')
        started = time.monotonic()
        assert read_bounded(r, 1 << 20, 0.3) == (b'{"partial": ', False)  # never ended
        assert 0.25 < time.monotonic() - started < 5
        os.write(w, b"x" * 100)
        assert read_bounded(r, 40, 5) == (b"x" * 40, True)  # the cap counts as ended
        late = threading.Timer(0.2, os.write, (w, b"late"))
        late.start()
        late.join()
        os.close(w)
        assert read_bounded(r, 1 << 20, 5) == (b"x" * 60 + b"late", True)
    finally:
        os.close(r)


def test_the_clients_reader_keeps_the_launchers_bounds() -> None:
    """The client's ``--read`` and the launcher's shell reader bound a hook's input alike: the
    same seconds, and the same size (the shell caps ``$raw``, which ends with a newline and a
    three-digit status, four bytes past the input)."""
    from aether.hook_client import LATE, READ_LIMIT, READ_S
    from aether.runtimes.hook_stdin import LATE_CHECK, STDIN_FUNCTIONS

    assert f"timeout {READ_S:g} cat" in STDIN_FUNCTIONS
    assert f"sleep {READ_S:g} &&" in STDIN_FUNCTIONS
    assert STDIN_FUNCTIONS.count(f"head -c {READ_LIMIT + 4}") == 2
    assert f'*"$nl"{LATE})' in LATE_CHECK and "return 124" in STDIN_FUNCTIONS


def test_the_client_gives_the_input_back_when_it_sends_nothing(tmp_path: Path) -> None:
    """No server: nothing is sent (exit 75, not a word), and the input is given back on fd 5
    exactly as the launcher's own reader leaves ``$raw``: the bytes, a newline, the status."""
    from aether import hook_client

    given = tmp_path / "given"
    env = clean_env(CLAUDE_PID=str(os.getpid()), CLAUDE_PROJECT_DIR=str(tmp_path / "none"))
    env.pop("AETHER_SERVER")
    done = subprocess.run(
        [
            "/bin/sh",
            "-c",
            'exec "$0" -I -S -c "$1" session-start 0.0.0 --read 5>"$2"',
            sys.executable,
            Path(hook_client.__file__).read_text(),
            str(given),
        ],
        input=b'{"hook_event_name": "SessionStart"}\n\n',
        env=env,
        capture_output=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout, done.stderr) == (75, b"", b"")
    assert given.read_bytes() == b'{"hook_event_name": "SessionStart"}\n\n\n000'


def test_an_aether_spawn_the_server_never_answers_is_refused_in_one_line(
    project: Path, tmp_path: Path
) -> None:
    """A server that takes a hook and goes away before answering: the hook may have taken
    effect, so it is never run again — an aether spawn is refused (exit 2), in one line that
    says why; a session-start its client read itself goes on (exit 0), in one line too."""
    import socket

    env = hook_env(project, tmp_path, AETHER_SERVER="manual")
    run_dir = Path(env["TMPDIR"])
    (run_dir / f"aether-{os.getuid()}").mkdir(mode=0o700)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(server_socket(project, run_dir))
    listener.listen(4)

    def vanish() -> None:  # take each request whole, then close without a word
        for _ in range(2):
            conn, _ = listener.accept()
            with conn:
                size = int.from_bytes(conn.recv(8, socket.MSG_WAITALL), "big")
                conn.recv(size, socket.MSG_WAITALL)

    import threading

    thread = threading.Thread(target=vanish, daemon=True)
    thread.start()
    try:
        spawn = {"subagent_type": "aether-builder", "description": "d", "prompt": "p"}
        pre = hook_json("PreToolUse", tool_name="Agent", tool_input=spawn, tool_use_id="t1")
        refused = launch(project, "pre-agent", pre, env)
        assert refused.returncode == 2 and refused.stdout == ""
        (line,) = refused.stderr.splitlines()
        assert "did not answer in time" in line and "could not be routed: not started" in line
        started = launch(project, "session-start", hook_json("SessionStart"), env)
        assert started.returncode == 0 and len(started.stderr.splitlines()) == 1
        assert "whether the hook took effect is unknown" in started.stderr
        thread.join(timeout=10)
    finally:
        listener.close()
