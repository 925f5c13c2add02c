"""Every entry of the bad-input catalogue (docs/robustness.md) through the installed CLI."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.helpers import AETHER, clean_env, server_socket, start_server, was_served
from tests.reliability.catalogue import ENTRIES, FRAMES, BadFrame, BadInput, archive_name

#: lock metadata is rewritten by whichever command takes the lock; it holds no colony data
LOCK_METADATA = (".lock", ".lock.holder")


def files_of(root: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.name.endswith(LOCK_METADATA):
            continue
        found[str(path.relative_to(root))] = path.read_bytes()
    return found


def _placeholder(arg: str, project: Path) -> str:
    """Arguments only known after the setup ran (a worker id, a chamber name)."""
    if arg == "WORKER_ID":
        return (project / "worker-id").read_text()
    if arg == "CHAMBER":
        return archive_name(project)
    return arg


def test_catalogue_is_large_and_unique() -> None:
    assert len(ENTRIES) >= 40, (
        f"only {len(ENTRIES)} bad inputs catalogued (docs/reliability.md promises 40+)"
    )
    ids = [e.id for e in ENTRIES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_bad_input(entry: BadInput, template_colony: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    if entry.colony:
        shutil.copytree(template_colony, project, symlinks=True)
    else:
        project.mkdir()
    cleanup = entry.setup(project) if entry.setup else None
    try:
        args = [_placeholder(a, project) for a in entry.args]
        before = files_of(project)
        result = subprocess.run(
            [AETHER, *args],
            cwd=project,
            env=clean_env(**entry.env),
            capture_output=True,
            text=True,
            input=entry.input,
            timeout=120,
        )
        after = files_of(project)
    finally:
        if cleanup:
            cleanup()
    output = result.stdout + result.stderr
    assert result.returncode == entry.exit_code, (entry.id, result.returncode, result.stderr)
    assert "Traceback" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, (entry.id, result.stderr)
    prefix = "aether: error: " if entry.is_error else "aether: warning: "
    assert lines[0].startswith(prefix), lines[0]
    assert entry.expect.lower() in lines[0].lower(), (entry.expect, lines[0])
    if entry.is_error:
        # the audit log may only grow: proxy failures are recorded there by design
        log = ".aether/activity.log"
        if log in before:
            assert after.get(log, b"").startswith(before[log]), "the activity log was rewritten"
            after[log] = before[log]
        changed = sorted(k for k in before if before[k] != after.get(k))
        assert not changed, f"{entry.id} changed pre-existing files: {changed}"
    for name, value in entry.env.items():
        # a secret never reaches the output (debug output included) or a file
        secret = value.strip()
        if "KEY" in name and len(secret) >= 8:
            assert secret not in output, (entry.id, name)
            assert not [k for k, v in after.items() if secret.encode() in v], (entry.id, name)


def _exchange(path: str, frame: bytes) -> bytes:
    """Send ``frame`` on a new connection and return everything the server answers before it
    closes (bounded: the server's own deadline is 1 s)."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(path)
        try:
            sock.sendall(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed on an early part of the frame
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass  # closed with part of the frame unread
    return b"".join(chunks)


@pytest.mark.parametrize("entry", FRAMES, ids=[f.id for f in FRAMES])
def test_bad_frame(entry: BadFrame, template_colony: Path, tmp_path: Path) -> None:
    from aether import __version__
    from aether.cli.server import code_fingerprint

    project, run_dir = tmp_path / "project", tmp_path / "run"
    shutil.copytree(template_colony, project, symlinks=True)
    run_dir.mkdir()
    server = start_server(project, run_dir)
    try:
        request: dict[str, object] = {
            "argv": ["status"],
            "cwd": str(project),
            "aether_dir": str(project / ".aether"),
            "version": __version__,
            "code": code_fingerprint(),
            "env": clean_env(TMPDIR=str(run_dir)),
        }
        answer = _exchange(server_socket(project, run_dir), entry.frame(request))
        # the server goes on: the next command of a real client is served
        after = subprocess.run(
            [AETHER, "status", "--json"],
            cwd=project,
            env=clean_env(TMPDIR=str(run_dir), PYTHONPROFILEIMPORTTIME="1"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    if entry.answer == "closed":
        assert answer == b"", answer[:200]
    else:
        assert json.loads(answer[8:]) == {"refused": "request"}, answer[:200]
    assert after.returncode == 0 and was_served(after), after.stderr[-500:]
    assert server.returncode == 0
    assert server.stderr is not None and server.stderr.read() == ""  # no crash, no warning


# --- keys typed where text is asked for ----------------------------------------------------------

#: the keys planted in every way in: by shape, and by the value of a secret-named variable
PLANTED = {
    "sk": "sk-live-4f9c2a7b1e8d3c6a",
    "github": "ghp_" + "Z7yK2pQ9rT4wX8vB1nM6cL3hJ5gF0dSaE2uR",
    "aws": "AKIA" + "QX7ZP4RT2KLM9WNB",
    "bearer-token": "eyJhbGciOi.planted-bearer-77",
    "api-key": "plantedassignedkey99",
    "env-value": "an-ordinary-looking-credential-31337",
}
SECRET_TEXT = (
    f"use {PLANTED['sk']} and {PLANTED['github']} with {PLANTED['aws']}; "
    f"Authorization: Bearer {PLANTED['bearer-token']}; api_key={PLANTED['api-key']}; "
    f"and {PLANTED['env-value']}"
)


def _hook(event: str, **fields: object) -> str:
    base = {"session_id": "s-secret", "transcript_path": "", "cwd": "/", **fields}
    return json.dumps({**base, "hook_event_name": event})


def _drive_every_way_in(project: Path, env: dict[str, str]) -> set[str]:
    """Run each way in of SECRET_WAYS_IN with SECRET_TEXT; the ids driven."""

    def aether(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [AETHER, *args], cwd=project, env=env, input=stdin, capture_output=True, text=True
        )
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    driven = {"init-goal"}
    aether("init", f"Ship it. {SECRET_TEXT}")
    profile = project / ".aether" / "model-profiles.yaml"
    profile.write_text(profile.read_text().replace("proxy:\n", "proxy:\n  standalone: true\n"))
    aether("claude", "install", "--no-relay")
    spawned = json.loads(aether("spawn", "--caste", "builder", "--task", SECRET_TEXT, "--json"))
    aether("worker", "report", spawned["id"], "--model-used", SECRET_TEXT)
    aether("worker", "fail", spawned["id"], "--reason", SECRET_TEXT)
    driven |= {"spawn-task", "worker-report", "worker-fail"}
    never = json.loads(aether("spawn", "--caste", "scout", "--json"))["id"]
    for kind in ("learning", "decision", "instinct"):
        aether("memory", "add", kind, f"{kind}: {SECRET_TEXT}")
    export = project.parent / "memory-export.json"
    aether("memory", "export", str(export))
    doc = json.loads(export.read_text())
    doc["items"] = [{**doc["items"][0], "id": "m-imported", "text": f"imported {SECRET_TEXT}"}]
    export.write_text(json.dumps(doc))
    aether("memory", "import", str(export))
    driven |= {"memory-add", "memory-import"}
    # the hooks of a Claude Code session: a subagent routed, started, stopped; then its end
    tool_input = {"subagent_type": "aether-builder", "description": SECRET_TEXT}
    tool_input["prompt"] = SECRET_TEXT
    aether("hook", "session-start", stdin=_hook("SessionStart", source="startup"))
    aether("hook", "pre-agent", stdin=_hook("PreToolUse", tool_input=tool_input, tool_use_id="t"))
    aether(
        "hook",
        "subagent-start",
        stdin=_hook("SubagentStart", agent_id="a1", agent_type="aether-builder"),
    )
    stop = _hook(
        "SubagentStop",
        agent_id="a1",
        agent_type="aether-builder",
        last_assistant_message=SECRET_TEXT,
    )
    aether("hook", "subagent-stop", stdin=stop)
    transcript = project.parent / "session.jsonl"
    line = {"message": {"role": "assistant", "model": "m", "content": SECRET_TEXT}}
    transcript.write_text(json.dumps(line) + "\n")
    end = _hook("SessionEnd", reason=SECRET_TEXT, transcript_path=str(transcript))
    aether("hook", "session-end", stdin=end)  # the last session out: paused
    driven |= {"pre-agent", "subagent-stop", "session-end-reason", "session-transcript"}
    aether("pause", "--note", SECRET_TEXT)
    driven.add("pause-note")
    aether("resume")  # the scout spawned but never started: never_started
    aether("worker", "close", never, "--reason", SECRET_TEXT)
    driven.add("worker-close")
    aether("archive")
    return driven


def test_no_way_in_keeps_a_key(tmp_path: Path) -> None:
    from tests.reliability.catalogue import SECRET_WAYS_IN

    project = tmp_path / "project"
    project.mkdir()
    env = clean_env(AETHER_SERVER="off", MY_SERVICE_TOKEN=PLANTED["env-value"])
    driven = _drive_every_way_in(project, env)
    assert driven == {w.id for w in SECRET_WAYS_IN}
    outputs = [
        subprocess.run([AETHER, *args], cwd=project, env=env, capture_output=True, text=True).stdout
        for args in (
            ("status", "--json"),
            ("status",),
            ("workers", "--json"),
            ("workers",),
            ("memory", "list", "--json"),
            ("costs",),
        )
    ]
    everything = b"\n".join(
        [*files_of(project / ".aether").values(), *(o.encode() for o in outputs)]
    )
    holder = project / ".aether" / "data" / "COLONY_STATE.json.lock.holder"
    everything += holder.read_bytes()
    leaks = [name for name, value in PLANTED.items() if value.encode() in everything]
    assert leaks == [], f"kept in a file or printed: {leaks}"
    assert b"[redacted]" in everything  # the text itself is kept, the keys taken out
    assert holder.stat().st_mode & 0o777 == 0o600
