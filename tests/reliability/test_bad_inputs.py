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
