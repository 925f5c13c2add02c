"""Codex's hooks handed to ``aether serve`` as installed, with the REAL Codex CLI (0.171.0) and
the real LiteLLM proxy: the first hook of a session that finds no server answers in its own
process and starts one; the hooks after it, of that session and of the next, are handed to it
(docs/server.md). Nothing a served hook records may be lost, and a session killed meanwhile is
still found dead by the next one: the server is not the session's process (the client names the
Codex process it runs under)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.helpers import clean_env
from tests.proxy.conftest import MASTER_KEY, RunningProxy
from tests.proxy.responses import spawn_agent, wait_agent
from tests.proxy.test_codex_hooks import Colony
from tests.proxy.upstream import Upstream

pytestmark = pytest.mark.proxy


@pytest.fixture
def served_colony(
    project: Path,
    run_aether: RunAether,
    litellm_proxy: RunningProxy,
    upstream: Upstream,
    tmp_path: Path,
) -> Iterator[tuple[Colony, dict[str, str]]]:
    """A Codex colony whose sessions run as installed (``AETHER_SERVER`` unset: hooks start and
    use a server), its server's socket under the test's own TMPDIR; the server is stopped at
    the end."""
    colony = Colony(project, run_aether, litellm_proxy, upstream, tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    colony.env.pop("AETHER_SERVER")
    colony.env["TMPDIR"] = str(run_dir)
    status_env = clean_env(TMPDIR=str(run_dir), LITELLM_MASTER_KEY=MASTER_KEY)
    yield colony, status_env
    run_aether("serve", "--stop", env=status_env)


def _server(colony: Colony, status_env: dict[str, str]) -> dict[str, Any]:
    done = colony.run_aether("serve", "--status", "--json", env=status_env)
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def test_codex_sessions_as_installed_are_served_and_lose_nothing(
    served_colony: tuple[Colony, dict[str, str]],
) -> None:
    colony, status_env = served_colony
    served = []
    for n in (1, 2):
        colony.run([spawn_agent("aether-builder", f"write part {n}")], [wait_agent()])
        server = _server(colony, status_env)
        assert server["running"] is True, server
        served.append(server["served"])
        assert colony.state()["status"] == "paused"
    # the first session's first hook started the server and the others were handed to it (five
    # of its six: session-start, pre-agent, subagent-start and -stop, turn-end, session-end);
    # the second session's were all handed over
    assert served[0] >= 4 and served[1] - served[0] >= 5, served
    builders = colony.subagents()
    assert [w["status"] for w in builders] == ["completed", "completed"]
    assert all(w["tokens_out"] and w["verified"] for w in builders), builders
    assert all(w["resolved_model"] == "cx-builder" for w in builders)
    sessions = colony.sessions()
    assert [w["status"] for w in sessions] == ["completed", "completed"]
    assert all(w["tokens_out"] for w in sessions)


def test_a_killed_codex_session_is_found_dead_through_the_server(
    served_colony: tuple[Colony, dict[str, str]],
) -> None:
    colony, status_env = served_colony
    colony.run(prompt="warm up")  # starts the server
    colony.kill_while_the_builder_works()
    colony.next_session_finds_the_killed_one_dead()
    assert sorted(w["status"] for w in colony.sessions()) == ["completed", "completed", "lost"]
    assert _server(colony, status_env)["served"] > 0
