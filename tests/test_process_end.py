"""A finished command ends its process without Python's teardown (``end_process`` in
aether/cli/main.py): nothing it printed may be lost on the way, and its exit code stays.

aether's writers flush what they print (aether/cli/common.py) and ``end_process`` flushes
again before the end; these tests hold the whole way to it: a long answer through a pipe, a
refusal's code and line. Coverage measures the entry point's child processes and keeps the
normal exit there (it saves its data at exit), so these children run without it: they take
the short way."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import clean_env, run_process


def _short_way() -> dict[str, str]:
    env = clean_env()
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        env.pop(name, None)
    return env


def test_a_long_answer_reaches_a_pipe_whole(colony: Path) -> None:
    # stdout into a pipe is block-buffered (8 KiB): an end before the last flush would cut
    # the schema (~22 KB) short
    result = run_process("schema", cwd=colony, env=_short_way())
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) > 16_384
    assert json.loads(result.stdout)["$schema"].startswith("https://json-schema.org/")
    status = run_process("status", "--json", cwd=colony, env=_short_way())
    assert status.returncode == 0 and json.loads(status.stdout)["goal"] == "Test colony goal"


def test_a_refusal_keeps_its_exit_code_and_its_one_line(tmp_path: Path) -> None:
    result = run_process("status", cwd=tmp_path, env=_short_way())
    assert result.returncode == 10
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("aether: error: no colony found")


#: ``aether`` as the entry point runs it, noting whether Python's cyclic garbage collector
#: is on when the command starts and when a server starts listening
_GC_PROBE = """
import gc, sys
import aether.cli.main as main
import aether.cli.server_loop as loop

real_run, real_listen = main.run, loop._listen
notes = sys.argv[1]

def note(what):
    with open(notes, "a") as f:
        f.write(f"{what} {gc.isenabled()}\\n")

def run(argv, **kwargs):
    note("command")
    return real_run(argv, **kwargs)

def listen(*args, **kwargs):
    note("server")
    return real_listen(*args, **kwargs)

main.run, loop._listen = run, listen
sys.argv = ["aether", *sys.argv[2:]]
main.main()
"""


def test_a_command_runs_without_the_cyclic_collector_and_a_server_with_it(
    colony: Path, tmp_path: Path
) -> None:
    """A one-shot command leaves Python's cyclic collector off (its end frees everything; each
    collection walked ~20,000 young objects for nothing); a server, which lives long, turns it
    back on."""
    import subprocess
    import sys

    notes = tmp_path / "gc-notes"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = clean_env(TMPDIR=str(run_dir))
    for args in (["status"], ["serve", "--idle-timeout", "1"]):
        done = subprocess.run(
            [sys.executable, "-c", _GC_PROBE, str(notes), *args],
            cwd=colony,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    assert notes.read_text().splitlines() == ["command False", "command False", "server True"]
