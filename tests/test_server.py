"""``aether serve``: short commands handed to a resident process, with the same results, the
same files and exit codes as running them alone; anything unsafe stays local."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunAether
from tests.helpers import AETHER, assert_clean_error, clean_env
from tests.lock_scripts import HOLDER, start_script

FAKE_KEY = "sk-served-secret-0123456789"


@pytest.fixture
def run_aether(run_aether_process: RunAether) -> RunAether:
    """The installed entry point: it is what forwards a command to the server."""
    return run_aether_process


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A private TMPDIR per test, so each test's server has its own socket directory."""
    path = tmp_path / "run"
    path.mkdir()
    return path


def env_for(run_dir: Path, **extra: str) -> dict[str, str]:
    return clean_env(TMPDIR=str(run_dir), **extra)


def start_server(colony: Path, run_dir: Path, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [AETHER, "serve", "--idle-timeout", "120", *args],
        cwd=colony,
        env=env_for(run_dir),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "serving" in line, line
    return proc


@pytest.fixture
def server(colony: Path, run_dir: Path) -> Iterator[subprocess.Popen[str]]:
    proc = start_server(colony, run_dir)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        assert not list(run_dir.glob("aether-*/*.sock")), "the server left its socket behind"


def served(
    run_aether: RunAether, run_dir: Path, *args: str, **env: str
) -> tuple[int, str, str, bool]:
    """(exit code, stdout, stderr without import lines, whether the server answered)."""
    result = run_aether(*args, env=env_for(run_dir, PYTHONPROFILEIMPORTTIME="1", **env))
    lines = result.stderr.splitlines()
    imports = [line for line in lines if line.startswith("import time:")]
    rest = "".join(line + "\n" for line in lines if not line.startswith("import time:"))
    answered = not any(line.rstrip().endswith(" typer") for line in imports)
    return result.returncode, result.stdout, rest, answered


def spawn_clients(colony: Path, run_dir: Path, n: int, **env: str) -> list[subprocess.Popen[str]]:
    """``n`` concurrent `aether spawn --no-proxy --json`, as agents would start them."""
    return [
        subprocess.Popen(
            [AETHER, "spawn", "--caste", "scout", "--no-proxy", "--json"],
            cwd=colony,
            env=env_for(run_dir, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


def test_short_commands_are_served_with_the_same_output(
    server: subprocess.Popen[str], colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    for args in (("status", "--json"), ("route", "write the parser", "--json"), ("schema",)):
        code, out, _, answered = served(run_aether, run_dir, *args)
        local = run_aether(*args, env=env_for(run_dir, AETHER_SERVER="off"))
        assert answered, args
        assert code == 0 and out == local.stdout, args
    code, out, err, answered = served(
        run_aether, run_dir, "spawn", "--caste", "scout", "--no-proxy", "--json"
    )
    assert answered and code == 0
    worker = json.loads(out)
    assert "UNVERIFIED" in err
    listed = json.loads(run_aether("workers", "--json", env=env_for(run_dir)).stdout)
    assert worker["id"] in {w["id"] for w in listed["workers"]}


def test_errors_keep_their_exit_code_and_one_line(
    server: subprocess.Popen[str], run_aether: RunAether, run_dir: Path
) -> None:
    code, out, err, answered = served(run_aether, run_dir, "spawn", "--caste", "nope", "--json")
    local = run_aether(
        "spawn", "--caste", "nope", "--json", env=env_for(run_dir, AETHER_SERVER="off")
    )
    assert answered
    assert code == local.returncode != 0
    assert out == local.stdout and err == local.stderr
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    code, _, err, answered = served(run_aether, run_dir, "spawn", "--bogus")
    assert answered and code == 2 and err.startswith("aether: error:")


def test_each_command_runs_with_its_own_environment(
    server: subprocess.Popen[str], colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    code, out, _, answered = served(
        run_aether, run_dir, "spawn", "--caste", "builder", "--no-proxy", "--json",
        AETHER_NOW="2030-01-02T03:04:05Z", LITELLM_MASTER_KEY=FAKE_KEY,
    )  # fmt: skip
    assert answered and code == 0
    assert json.loads(out)["spawned_at"] == "2030-01-02T03:04:05Z"
    code, out, _, answered = served(
        run_aether, run_dir, "spawn", "--caste", "builder", "--no-proxy", "--json"
    )
    assert answered and code == 0
    assert json.loads(out)["spawned_at"] != "2030-01-02T03:04:05Z"  # nothing leaked
    code, _, err, answered = served(run_aether, run_dir, "status", AETHER_MAX_STATE_BYTES="lots")
    assert answered and code == 21 and "AETHER_MAX_STATE_BYTES" in err
    assert served(run_aether, run_dir, "status")[0] == 0
    # the key a command was given is never written anywhere
    for path in colony.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), path


def test_commands_from_a_subdirectory_find_the_colony(
    server: subprocess.Popen[str], colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    sub = colony / "src" / "deep"
    sub.mkdir(parents=True)
    result = run_aether(
        "status", "--json", cwd=sub, env=env_for(run_dir, PYTHONPROFILEIMPORTTIME="1")
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["ok"] is True
    assert not any(line.rstrip().endswith(" typer") for line in result.stderr.splitlines())


def test_unsafe_or_interactive_commands_stay_local(
    server: subprocess.Popen[str], run_aether: RunAether, run_dir: Path
) -> None:
    for args in (
        ("spawn", "--caste", "scout", "--no-proxy", "--exec", "--", "true"),
        ("spawn", "--help"),
        ("pause",),
        ("resume",),
    ):
        code, _, err, answered = served(run_aether, run_dir, *args)
        assert not answered, args
        assert code == 0, (args, err)


def test_concurrent_commands_through_the_server_lose_nothing(
    server: subprocess.Popen[str], colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    before = json.loads(run_aether("status", "--json", env=env_for(run_dir)).stdout)["serial"]
    procs = spawn_clients(colony, run_dir, 20)
    ids = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        ids.append(json.loads(out)["id"])
    after = json.loads(run_aether("status", "--json", env=env_for(run_dir)).stdout)
    assert after["serial"] == before + 20
    listed = json.loads(run_aether("workers", "--json", env=env_for(run_dir)).stdout)
    assert set(ids) <= {w["id"] for w in listed["workers"]}
    assert len(set(ids)) == 20


def test_a_dead_server_falls_back_to_local_runs_and_can_be_replaced(
    colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    proc = start_server(colony, run_dir)
    proc.kill()
    proc.wait()
    assert list(run_dir.glob("aether-*/*.sock")), "a SIGKILLed server leaves its socket"
    code, out, _, answered = served(run_aether, run_dir, "status", "--json")
    assert code == 0 and not answered and json.loads(out)["ok"] is True
    again = start_server(colony, run_dir)  # the stale socket is replaced
    try:
        assert served(run_aether, run_dir, "status")[3]
        second = run_aether("serve", env=env_for(run_dir))
        assert_clean_error(second, 28)
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=10)


def test_a_server_killed_mid_command_is_reported_never_retried(
    colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    """The served spawn waits for a lock another process holds; the server is killed: the
    client says the outcome is unknown (27) and does not run the spawn itself."""
    proc = start_server(colony, run_dir)
    holder, line = start_script(HOLDER, colony, clean_env())
    try:
        assert line == "locked"
        before = json.loads(run_aether("status", "--json", env=env_for(run_dir)).stdout)
        (client,) = spawn_clients(colony, run_dir, 1, AETHER_LOCK_TIMEOUT="60")
        time.sleep(1.5)
        proc.kill()
        out, err = client.communicate(timeout=30)
    finally:
        holder.kill()
        holder.wait()
        proc.wait()
    assert client.returncode == 27
    assert len(err.splitlines()) == 1 and "unknown" in err and "Traceback" not in err
    assert json.loads(out)["error"]["kind"] == "server_lost"
    after = json.loads(
        run_aether("status", "--json", env=env_for(run_dir, AETHER_SERVER="off")).stdout
    )
    assert after["serial"] == before["serial"]  # it never ran, and the client did not retry


def test_another_version_is_refused_before_anything_runs(
    server: subprocess.Popen[str], colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    import socket

    from aether.cli.server import _receive, _send, socket_path

    os.environ["TMPDIR"] = str(run_dir)
    try:
        path = socket_path(str(colony / ".aether"))
    finally:
        del os.environ["TMPDIR"]
    before = (colony / ".aether/data/COLONY_STATE.json").read_bytes()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        _send(
            sock,
            {
                "version": "0.0.0-other",
                "argv": ["spawn", "--caste", "scout", "--no-proxy"],
                "cwd": str(colony),
                "env": {},
                "aether_dir": str(colony / ".aether"),
            },
        )
        assert _receive(sock) == {"refused": "version"}
    assert (colony / ".aether/data/COLONY_STATE.json").read_bytes() == before


def test_a_shared_socket_directory_is_refused(
    colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    shared = run_dir / f"aether-{os.getuid()}"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    assert_clean_error(run_aether("serve", env=env_for(run_dir)), 28)
    shared.chmod(0o700)


@pytest.mark.parametrize("seed", range(6))
def test_a_server_killed_during_a_storm_loses_no_acknowledged_spawn(
    colony: Path, run_aether: RunAether, run_dir: Path, seed: int
) -> None:
    """SIGKILL the server at a random moment while twenty served spawns run: every client exits 0
    (its worker is in the state) or 27 (outcome unknown, not retried); the state stays valid."""
    import random

    proc = start_server(colony, run_dir)
    clients = spawn_clients(colony, run_dir, 20)
    time.sleep(random.Random(seed).uniform(0.02, 0.4))
    proc.kill()
    proc.wait()
    acknowledged, unknown = [], 0
    for client in clients:
        out, err = client.communicate(timeout=60)
        assert client.returncode in (0, 27), (client.returncode, err)
        assert "Traceback" not in err
        if client.returncode == 0:
            acknowledged.append(json.loads(out)["id"])
        else:
            unknown += 1
    status = run_aether("workers", "--json", env=env_for(run_dir, AETHER_SERVER="off"))
    assert status.returncode == 0  # the state parses and validates
    assert set(acknowledged) <= {w["id"] for w in json.loads(status.stdout)["workers"]}
    assert len(acknowledged) + unknown == 20


def test_a_client_never_talks_to_a_socket_in_a_shared_directory(
    server: subprocess.Popen[str], run_aether: RunAether, run_dir: Path
) -> None:
    """If the socket directory is (or becomes) enterable by others, a socket there could be
    someone else's: the client keeps its environment and runs the command itself."""
    directory = run_dir / f"aether-{os.getuid()}"
    assert served(run_aether, run_dir, "status")[3]
    directory.chmod(0o755)
    try:
        code, _, _, answered = served(run_aether, run_dir, "status")
        assert code == 0 and not answered
    finally:
        directory.chmod(0o700)
    assert served(run_aether, run_dir, "status")[3]


def test_sigterm_lets_the_running_command_finish_then_stops(
    colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    proc = start_server(colony, run_dir)
    holder, line = start_script(HOLDER, colony, clean_env())
    try:
        assert line == "locked"
        (client,) = spawn_clients(colony, run_dir, 1, AETHER_LOCK_TIMEOUT="60")
        time.sleep(1.0)  # the served spawn is waiting for the lock
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert proc.poll() is None, "the server stopped in the middle of a command"
    finally:
        holder.kill()
        holder.wait()
    out, err = client.communicate(timeout=60)
    assert client.returncode == 0, err
    worker = json.loads(out)["id"]
    assert proc.wait(timeout=30) == 0
    assert not list(run_dir.glob("aether-*/*.sock"))
    listed = json.loads(run_aether("workers", "--json", env=env_for(run_dir)).stdout)
    assert worker in {w["id"] for w in listed["workers"]}


def test_a_client_that_sends_nothing_delays_other_commands_by_a_second_at_most(
    server: subprocess.Popen[str], colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    """Issue 12: a client that connected and sent nothing blocked the server forever, and
    every aether command in the colony behind it."""
    import socket

    from aether.cli.server import socket_path

    os.environ["TMPDIR"] = str(run_dir)
    try:
        path = socket_path(str(colony / ".aether"))
    finally:
        del os.environ["TMPDIR"]
    stuck = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2)]
    try:
        for sock in stuck:
            sock.connect(path)  # and never send a byte
        started = time.monotonic()
        code, _, err, answered = served(run_aether, run_dir, "status", "--json")
        elapsed = time.monotonic() - started
        assert code == 0 and answered, err
        # two silent clients ahead of it in the queue: at most a second each, plus the command
        assert elapsed < 2 * 1.0 + 1.5, elapsed
    finally:
        for sock in stuck:
            sock.close()


def test_serve_status_and_stop(
    server: subprocess.Popen[str], run_aether: RunAether, run_dir: Path
) -> None:
    status = run_aether("serve", "--status", "--json", env=env_for(run_dir))
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["pid"] == server.pid and info["running"] is True and info["code_current"] is True
    stopped = run_aether("serve", "--stop", env=env_for(run_dir))
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout
    assert server.wait(timeout=10) == 0
    none = run_aether("serve", "--status", env=env_for(run_dir))
    assert none.returncode == 1 and "No aether server" in none.stdout


def test_a_server_whose_installed_code_changed_stops_serving_it(
    server: subprocess.Popen[str], colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    """Issue 12: an upgraded or edited install kept being served by the old process."""
    import aether.errors

    module = Path(aether.errors.__file__)
    before = module.stat()
    try:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
        code, out, err, answered = served(run_aether, run_dir, "status", "--json")
        assert code == 0 and json.loads(out)["ok"] is True, err
        assert not answered  # the client ran the new code itself
        assert server.wait(timeout=10) == 0  # and the stale server stopped
        assert server.stderr is not None and "changed" in server.stderr.read()
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_serve_with_json_prints_one_object_when_it_stops(
    colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    """The README promises every command one JSON object with --json: the server itself
    prints it when it stops (its log line stays on stderr)."""
    result = run_aether("serve", "--idle-timeout", "1", "--json", env=env_for(run_dir))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    answer = json.loads(lines[0])
    assert answer == {"ok": True, "colony": str(colony / ".aether"), "running": False}
