"""No hang, no runaway on files aether does not own: a FIFO, a device or a huge file where aether
reads is refused with one line, every read is bounded in size and time, and so is the hook
launcher's read of its stdin.

A hang shows here as the child's timeout (``subprocess.TimeoutExpired``), never as a test that
waits forever; the bounds below are far above what a healthy command takes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import (
    AETHER,
    assert_clean_error,
    clean_env,
    one_hook_line,
    run_standalone,
    state_of,
    subagent_records,
    wait_for,
)

#: a healthy command takes well under a second; a hung one is stopped here
BOUND_S = 15
SESSION = "5e55-0000-4000-8000-00000000f1f0"


@pytest.fixture
def run_aether(run_aether_process: RunAether) -> RunAether:
    """The installed entry point: a hang must stay in a child process the test can stop."""

    def bounded(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("timeout", BOUND_S)
        return run_aether_process(*args, **kwargs)

    return bounded


@pytest.fixture
def standalone(colony: Path) -> Path:
    """A colony whose profile routes without a proxy, so hooks route and record offline."""
    run_standalone(colony)
    return colony


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    return path


def hook_input(event: str, **fields: object) -> str:
    doc = {"session_id": SESSION, "cwd": "/", "hook_event_name": event, **fields}
    return json.dumps(doc)


# --- the reader itself -------------------------------------------------------------------------


def test_read_regular_refuses_what_is_not_a_regular_file_without_waiting(tmp_path: Path) -> None:
    from aether.bounded_read import NotRegularFile, read_regular

    start = time.monotonic()
    for special, kind in ((fifo(tmp_path / "pipe"), "FIFO"), (Path("/dev/zero"), "device")):
        with pytest.raises(NotRegularFile, match=kind):
            read_regular(special)
    with pytest.raises(NotRegularFile, match="directory"):
        read_regular(tmp_path)
    assert time.monotonic() - start < 2


def test_read_regular_is_bounded_in_size_and_time(tmp_path: Path) -> None:
    from aether.bounded_read import FileTooLarge, ReadTooSlow, read_regular

    big = tmp_path / "big"
    big.write_bytes(b"x" * 4096)
    # a file read in one go is never late: the time bound is for reading on
    assert read_regular(big, limit=4096, wait_s=0) == b"x" * 4096
    with pytest.raises(FileTooLarge):
        read_regular(big, limit=4095)
    large = tmp_path / "large"
    large.write_bytes(b"y" * (8 << 20))
    with pytest.raises(ReadTooSlow):
        read_regular(large, wait_s=0)  # past its deadline after the first chunk


# --- commands on a FIFO where a file should be -----------------------------------------------


@pytest.mark.parametrize(
    ("rel", "args", "code"),
    [
        (".claude/settings.json", ("claude", "install"), 26),
        (".claude/hooks/aether-hook", ("claude", "install"), 26),
        (".claude/agents/aether-builder.md", ("claude", "install"), 26),
        (".aether/model-profiles.yaml", ("route", "fix the parser"), 40),
        (".aether/memory/learnings.json", ("memory", "list"), 66),
        (".aether/data/COLONY_STATE.json", ("status",), 26),
        ("export.json", ("memory", "import", "export.json"), 66),
    ],
    ids=["settings", "launcher", "agent", "profile", "memory", "state", "memory-import"],
)
def test_a_fifo_where_aether_reads_is_refused_with_one_line(
    colony: Path, run_aether: RunAether, rel: str, args: tuple[str, ...], code: int
) -> None:
    fifo(colony / rel)
    result = run_aether(*args)
    assert_clean_error(result, code)
    assert "FIFO" in result.stderr


def test_install_on_a_fifo_does_not_hold_the_colony_lock(
    colony: Path, run_aether: RunAether
) -> None:
    """install reads the settings under the colony lock: it used to hang there, and every
    other writer with it."""
    fifo(colony / ".claude" / "settings.json")
    assert run_aether("claude", "install").returncode == 26
    assert run_aether("memory", "add", "learning", "the lock is free").returncode == 0


def test_hooks_go_on_when_a_file_they_read_is_a_fifo(
    standalone: Path, run_aether: RunAether
) -> None:
    assert run_aether("claude", "install").returncode == 0
    fifo(standalone / ".claude" / "agents" / "aether-builder.md")
    spawn = {"subagent_type": "aether-builder", "description": "d", "prompt": "write it"}
    pre = run_aether(
        "hook",
        "pre-agent",
        input=hook_input("PreToolUse", tool_name="Agent", tool_input=spawn, tool_use_id="t1"),
    )
    assert pre.returncode == 0, pre.stderr
    decision = json.loads(pre.stdout)["hookSpecificOutput"]["permissionDecision"]
    assert decision == "deny"  # the definition cannot be read: the spawn cannot be routed
    fifo(standalone / ".aether" / "memory" / "learnings.json")
    start = run_aether("hook", "session-start", input=hook_input("SessionStart", source="x"))
    assert "FIFO" in one_hook_line(start, "session-start")
    assert start.stdout.strip()  # the briefing is still given
    end = run_aether("hook", "session-end", input=hook_input("SessionEnd", reason="exit"))
    assert end.returncode == 0, end.stderr
    assert state_of(standalone)["status"] == "paused"


def test_session_end_pauses_when_the_profile_is_a_fifo(colony: Path, run_aether: RunAether) -> None:
    fifo(colony / ".aether" / "model-profiles.yaml")
    end = run_aether("hook", "session-end", input=hook_input("SessionEnd", reason="exit"))
    assert "FIFO" in one_hook_line(end, "session-end")
    assert state_of(colony)["status"] == "paused"


# --- transcripts -------------------------------------------------------------------------------

ASSISTANT = {
    "type": "assistant",
    "message": {
        "id": "msg_1",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "usage": {"input_tokens": 10, "output_tokens": 3},
    },
}


def test_a_200_mb_transcript_of_tiny_lines_is_read_within_the_hooks_time(
    standalone: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """Claude Code gives subagent-stop 30 s; this transcript took 92 s when every line was
    parsed."""
    path = tmp_path / "agent.jsonl"
    with path.open("w") as fh:
        fh.write(json.dumps(ASSISTANT) + "\n")
        fh.write("{}\n" * (200 * 1024 * 1024 // 3))
    start = time.monotonic()
    result = run_aether(
        "hook",
        "subagent-stop",
        input=hook_input(
            "SubagentStop",
            agent_id="a1",
            agent_type="aether-scout",
            agent_transcript_path=str(path),
        ),
        timeout=60,
    )
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    assert elapsed < 20, elapsed
    (worker,) = subagent_records(state_of(standalone))
    assert worker["status"] == "completed" and worker["tokens_in"] == 10


def test_reading_a_transcript_stops_at_its_time_bound(tmp_path: Path) -> None:
    """Lines that all look like assistant messages must be parsed; the bound still holds and
    what was read so far counts (marked as a lower bound)."""
    from aether.runtimes.claude.usage import read_transcript

    path = tmp_path / "agent.jsonl"
    with path.open("w") as fh:
        fh.write(json.dumps(ASSISTANT) + "\n")
        fh.write('{"role":"assistant"}\n' * (40 * 1024 * 1024 // 21))
    start = time.monotonic()
    usage = read_transcript(path, wait_s=0.3)
    assert time.monotonic() - start < 3
    assert usage.truncated
    assert usage.by_model["claude-haiku-4-5"].input_tokens == 10


def test_a_stopped_subagents_transcript_is_read_once_its_last_message_is_there(
    tmp_path: Path,
) -> None:
    """Claude Code may still be writing a subagent's transcript when SubagentStop fires (a
    served hook reads it within milliseconds): the read waits for the message the hook named,
    and gives up after its bound with what is there."""
    import threading

    from aether.runtimes.claude import usage as usage_module
    from aether.runtimes.claude.usage import read_settled_transcript

    path = tmp_path / "agent.jsonl"
    path.write_text('{"type": "user", "message": {"role": "user", "content": "go"}}\n')
    message: dict[str, object] = {**ASSISTANT["message"]}  # type: ignore[dict-item]
    message["content"] = [{"type": "text", "text": "all done"}]
    last = {**ASSISTANT, "message": message}

    def finish() -> None:
        time.sleep(0.15)
        with path.open("a") as fh:
            fh.write(json.dumps(last) + "\n")

    writer = threading.Thread(target=finish)
    writer.start()
    usage = read_settled_transcript(path, "all done")
    writer.join()
    assert usage.by_model["claude-haiku-4-5"].input_tokens == 10
    # not even created yet when the hook reads it (measured with a served hook)
    late = tmp_path / "late.jsonl"

    def create() -> None:
        time.sleep(0.15)
        late.write_text(json.dumps(last) + "\n")

    writer = threading.Thread(target=create)
    writer.start()
    usage = read_settled_transcript(late, "all done")
    writer.join()
    assert usage.by_model["claude-haiku-4-5"].output_tokens == 3
    # never there: the bound holds, and nothing found is nothing counted
    usage_module.SETTLE_S, saved = 0.2, usage_module.SETTLE_S
    try:
        start = time.monotonic()
        empty = tmp_path / "empty.jsonl"
        empty.write_text("")
        assert read_settled_transcript(empty, "never written").by_model == {}
        assert time.monotonic() - start < 2
    finally:
        usage_module.SETTLE_S = saved


def test_a_transcript_line_longer_than_the_line_limit_is_skipped_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aether.runtimes.claude import usage as usage_module
    from aether.runtimes.claude.usage import read_transcript

    monkeypatch.setattr(usage_module, "MAX_LINE_BYTES", 200)
    monkeypatch.setattr(usage_module, "CHUNK_BYTES", 16)
    hidden = dict(ASSISTANT, message={**ASSISTANT["message"], "model": "hidden-model"})  # type: ignore[dict-item]
    path = tmp_path / "agent.jsonl"
    path.write_text(
        '{"pad": "' + "p" * 300 + '", ' + json.dumps(hidden)[1:] + "\n" + json.dumps(ASSISTANT)
    )
    usage = read_transcript(path)
    assert set(usage.by_model) == {"claude-haiku-4-5"}
    assert usage.lines == 2


# --- the launcher's own read of stdin ----------------------------------------------------------


def _launcher(colony: Path, run_aether: RunAether) -> Path:
    assert run_aether("claude", "install").returncode == 0
    return colony / ".claude" / "hooks" / "aether-hook"


def test_the_launcher_stops_reading_a_stdin_that_never_ends(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """With coreutils' timeout and without it (a PATH that has only cat, head and sleep)."""
    launcher = _launcher(colony, run_aether)
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("cat", "head", "sleep"):
        found = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True)
        (bare / tool).symlink_to(found.stdout.strip())
    started = []
    for path in (os.environ["PATH"], str(bare)):
        env = {"PATH": path, "AETHER_BIN": AETHER, "CLAUDE_PROJECT_DIR": str(colony)}
        proc = subprocess.Popen(
            ["/bin/sh", str(launcher), "pre-agent"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None
        proc.stdin.write(b'{"tool_input": {"subagent_type": "aether-builder", "prompt": "p"')
        proc.stdin.flush()  # and never closed
        started.append(proc)
    begin = time.monotonic()
    try:
        for proc in started:
            assert proc.wait(timeout=BOUND_S) == 2  # an aether spawn that was not routed
            assert proc.stderr is not None
            lines = proc.stderr.read().decode().splitlines()
            assert len(lines) == 1 and "did not end within 10 s" in lines[0], lines
    finally:
        for proc in started:
            proc.kill()
            proc.wait()
    assert time.monotonic() - begin < BOUND_S


def test_a_hook_that_only_records_ends_at_once_and_its_reader_within_the_bound(
    colony: Path, run_aether: RunAether
) -> None:
    """``subagent-stop`` is left to a background copy of the launcher with its stdin: the
    launcher ends at once even when that stdin never ends, and the copy stops reading it after
    10 s (then our end of the pipe finds no reader)."""
    launcher = _launcher(colony, run_aether)
    env = clean_env(AETHER_BIN=AETHER, CLAUDE_PROJECT_DIR=str(colony))
    proc = subprocess.Popen(
        ["/bin/sh", str(launcher), "subagent-stop"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(b'{"hook_event_name": "SubagentStop", "agent_type": "aether-builder"')
    proc.stdin.flush()  # and never closed
    begin = time.monotonic()
    try:
        assert proc.wait(timeout=5) == 0
        assert time.monotonic() - begin < 5
        assert proc.stdout is not None and proc.stdout.read() == b""

        def reader_gone() -> bool:
            assert proc.stdin is not None
            try:
                proc.stdin.write(b" ")
                proc.stdin.flush()
            except BrokenPipeError:
                return True
            return False

        wait_for(reader_gone, "the background reader to give up", timeout=BOUND_S)
    finally:
        proc.kill()
        proc.wait()
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass


def test_the_launcher_passes_a_large_input_on_in_time(
    colony: Path, run_aether: RunAether, tmp_path: Path
) -> None:
    """A single 20 MB line: read up to the 16 MiB cap, and aether says it is too large — on
    stderr for a hook Claude Code waits for the answer of; in the activity log for one that
    only records, which the launcher leaves to a background copy of itself at once."""
    launcher = _launcher(colony, run_aether)
    env = clean_env(AETHER_BIN=AETHER, CLAUDE_PROJECT_DIR=str(colony))
    for event in ("pre-compact", "subagent-stop"):
        started = time.monotonic()
        done = subprocess.run(
            ["/bin/sh", str(launcher), event],
            input=b"x" * (20 * 1024 * 1024),
            capture_output=True,
            env=env,
            timeout=BOUND_S,
        )
        assert done.returncode == 0
        if event == "pre-compact":
            (line,) = done.stderr.decode().splitlines()
            assert "larger than" in line
        else:
            assert (done.stdout, done.stderr) == (b"", b"")
            assert time.monotonic() - started < BOUND_S
    log = colony / ".aether" / "activity.log"
    wait_for(
        lambda: sum("larger than" in line for line in log.read_text().splitlines()) == 2,
        "the background hook's line in the activity log",
    )


def test_holds_compares_a_file_with_bytes_without_reading_it_whole(tmp_path: Path) -> None:
    """True only for the same bytes in a regular file; a link, a FIFO, a missing file, a
    shorter or longer one are not (the caller then reads it as usual)."""
    import os

    from aether.bounded_read import holds

    content = bytes(range(256)) * 4096  # 1 MiB: several chunks
    path = tmp_path / "state.json"
    path.write_bytes(content)
    assert holds(path, content)
    assert not holds(path, content[:-1]) and not holds(path, content + b"x")
    assert not holds(path, content[:-1] + b"\0")
    path.write_bytes(b"")
    assert holds(path, b"") and not holds(path, b"x")
    link = tmp_path / "link.json"
    link.symlink_to(path)
    assert not holds(link, b"")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert not holds(fifo, b"")
    assert not holds(tmp_path / "missing", b"")
