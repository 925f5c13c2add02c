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
from tests.helpers import (
    AETHER,
    assert_clean_error,
    clean_env,
    server_socket,
    signal_pending,
    start_server,
    state_of,
    wait_for,
    was_served,
    working_directory,
)
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
    rest = "".join(line + "\n" for line in lines if not line.startswith("import time:"))
    return result.returncode, result.stdout, rest, was_served(result)


def spawn_clients(
    colony: Path, run_dir: Path, n: int, cwd: Path | None = None, **env: str
) -> list[subprocess.Popen[str]]:
    """``n`` concurrent `aether spawn --no-proxy --json`, as agents would start them (in
    ``cwd``, the colony's directory unless told)."""
    return [
        subprocess.Popen(
            [AETHER, "spawn", "--caste", "scout", "--no-proxy", "--json"],
            cwd=cwd or colony,
            env=env_for(run_dir, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]


def running_it(server: subprocess.Popen[str], client_dir: Path) -> None:
    """Wait until ``server`` runs the command of the client started in ``client_dir`` (the
    server moves into a client's directory for its command)."""
    wait_for(
        lambda: working_directory(server.pid) == str(client_dir), f"the command from {client_dir}"
    )


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
    agent = colony / "agent"
    agent.mkdir()
    proc = start_server(colony, run_dir)
    holder, line = start_script(HOLDER, colony, clean_env())
    try:
        assert line == "locked"
        before = json.loads(run_aether("status", "--json", env=env_for(run_dir)).stdout)
        (client,) = spawn_clients(colony, run_dir, 1, agent, AETHER_LOCK_TIMEOUT="60")
        running_it(proc, agent)  # and waiting for the lock the holder keeps
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

    from aether.cli.server import _receive, _send

    path = server_socket(colony, run_dir)
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


@pytest.mark.parametrize("tmpdir", ["missing", "a-file"])
def test_a_tmpdir_where_no_socket_directory_can_be_made_is_refused(
    colony: Path, run_aether: RunAether, tmp_path: Path, tmpdir: str
) -> None:
    """It was an internal error (70) from the directory's mkdir."""
    (tmp_path / "a-file").write_text("not a directory")
    env = clean_env(TMPDIR=str(tmp_path / tmpdir))
    result = run_aether("serve", "--idle-timeout", "1", env=env, timeout=30)
    assert_clean_error(result, 28)
    assert "socket directory" in result.stderr


def test_serve_outside_a_colony_says_so(project: Path, run_aether: RunAether) -> None:
    """It was an internal error (70): the colony was looked up outside the error boundary."""
    result = run_aether("serve", "--idle-timeout", "1", timeout=30)
    assert_clean_error(result, 10)
    assert "no colony" in result.stderr


@pytest.mark.parametrize("seed", range(6))
def test_a_server_killed_during_a_storm_loses_no_acknowledged_spawn(
    colony: Path, run_aether: RunAether, run_dir: Path, seed: int
) -> None:
    """SIGKILL the server at a random moment while twenty served spawns run: every client exits 0
    (its worker is in the state) or 27 (outcome unknown, not retried); the state stays valid."""
    import random

    proc = start_server(colony, run_dir)
    start = state_of(colony)["serial"]
    clients = spawn_clients(colony, run_dir, 20)
    served = random.Random(seed).randint(1, 19)  # killed after this many spawns, mid-storm
    wait_for(lambda: state_of(colony)["serial"] >= start + served, f"{served} served spawns")
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
    agent = colony / "agent"
    agent.mkdir()
    proc = start_server(colony, run_dir)
    holder, line = start_script(HOLDER, colony, clean_env())
    try:
        assert line == "locked"
        (client,) = spawn_clients(colony, run_dir, 1, agent, AETHER_LOCK_TIMEOUT="60")
        running_it(proc, agent)  # the served spawn is waiting for the lock
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: not signal_pending(proc.pid, signal.SIGTERM), "SIGTERM's delivery")
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

    path = server_socket(colony, run_dir)
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


def test_a_client_that_drips_its_request_delays_other_commands_by_a_second_at_most(
    server: subprocess.Popen[str], colony: Path, run_aether: RunAether, run_dir: Path
) -> None:
    """The request's deadline is for the whole request: a client sending one byte every 0.2 s
    (each read then had its own second) held every command queued behind it for as long as
    it kept dripping."""
    import socket
    import threading

    body = json.dumps({"argv": ["status"], "cwd": str(colony), "env": {}}).encode()
    frame = len(body).to_bytes(8, "big") + body
    dripper = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dripper.connect(server_socket(colony, run_dir))
    cut_off = threading.Event()

    def drip() -> None:
        give_up = time.monotonic() + 8  # the pace of the attack, not a wait for a condition
        for byte in frame:
            try:
                dripper.send(bytes([byte]))
            except OSError:
                cut_off.set()
                return
            if time.monotonic() > give_up:
                return
            time.sleep(0.2)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        code, _, err, answered = served(run_aether, run_dir, "status", "--json")
        elapsed = time.monotonic() - started
    finally:
        thread.join(timeout=15)
        dripper.close()
    assert code == 0 and answered, err
    assert elapsed < 1.0 + 1.5, f"a status queued behind the dripping client took {elapsed:.1f} s"
    assert cut_off.is_set(), "the server kept reading the dripping client"
    print(f"\nstatus queued behind a client dripping its request: {elapsed:.2f} s")


@pytest.mark.parametrize(
    ("name", "size"),
    [("12.6 MB of non-ASCII text", 6_300_000), ("past the 16 MiB limit", 8_400_000)],
)
def test_a_large_hook_input_is_answered_as_a_local_run_answers_it(
    server: subprocess.Popen[str], run_aether: RunAether, run_dir: Path, name: str, size: int
) -> None:
    """A hook input under the 16 MiB limit failed only when served (escaped in JSON it grew
    past the server's 64 MiB), and one past the limit was cut and sent, not refused."""
    big = json.dumps(
        {"session_id": "s-big", "agent_id": "a-1", "agent_type": "general-purpose",
         "padding": "é" * size},
        ensure_ascii=False,
    )  # fmt: skip
    local = run_aether(
        "hook", "subagent-start", "--json", input=big, env=env_for(run_dir, AETHER_SERVER="off")
    )
    result = run_aether(
        "hook", "subagent-start", "--json", input=big,
        env=env_for(run_dir, PYTHONPROFILEIMPORTTIME="1"),
    )  # fmt: skip
    rest = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert (result.returncode, result.stdout, rest) == (
        local.returncode,
        local.stdout,
        local.stderr.splitlines(),
    ), name
    assert json.loads(result.stdout)["ok"] is (size < 8_000_000)
    assert was_served(result) is (size < 8_000_000)  # one past the limit runs on its own


def test_a_request_larger_than_a_server_takes_is_not_sent(
    monkeypatch: pytest.MonkeyPatch, colony: Path
) -> None:
    """Served and local accept the same inputs: what a server would drop unread runs locally."""
    import aether.cli.server as server_module

    request = server_module._request(["status"], str(colony), str(colony / ".aether"), b"x" * 300)
    assert request is not None
    monkeypatch.setattr(server_module, "MAX_MESSAGE", len(request) - 8 - 1)
    assert (
        server_module._request(["status"], str(colony), str(colony / ".aether"), b"x" * 300) is None
    )


def test_a_connection_that_fails_unexpectedly_is_dropped_and_the_server_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last resort behind the request checks: one line on the server's stderr (redacted),
    and the accept loop is told to go on."""
    import aether.cli.server_loop as loop

    def broken(job: object, info: object, command: object) -> bool:
        raise RuntimeError("unforeseen\nwith Authorization: Bearer sk-live-0123456789abcdef")

    monkeypatch.setattr(loop, "_do", broken)
    info = loop.ServerInfo("/colony/.aether", 60.0, "code", "2031-01-01T00:00:00Z", 1)
    assert loop._do_guarded(loop._Job("deferred"), info, None) is True
    err = capsys.readouterr().err
    assert err.startswith("aether: warning: a request failed unexpectedly") and err.count("\n") == 1
    assert "sk-live-0123456789abcdef" not in err


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
