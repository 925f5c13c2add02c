"""Sessions as they really happen, with the REAL Claude Code client (docs/claude-code.md):
subagents that delegate, sessions started in a subdirectory or a sibling git worktree,
overlapping sessions, a session killed while its worker runs, lost workers closed or re-run,
the main agent's own tokens, several spawns in one turn.

Each test runs the pinned Claude Code binary (``claude -p``) through the real LiteLLM proxy to
the scripted upstream (tests/proxy/upstream.py), in a project set up by ``aether claude
install``; the upstream's record of what it was asked is the evidence.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunAether
from tests.helpers import git, session_records, subagent_records
from tests.proxy.claude import (
    ClaudeRun,
    claude_env,
    queen_run,
    run_claude,
    spawn,
    start_claude,
    state_of,
    subagent_models,
)
from tests.proxy.conftest import MASTER_KEY, RunningProxy
from tests.proxy.upstream import Script, Upstream

pytestmark = pytest.mark.proxy


def briefing_seen(upstream: Upstream, marker: str = "# aether colony") -> str:
    """The session-start briefing as the main model received it (the first queen request that
    carries it, in a session whose prompt holds ``marker`` when given)."""
    for seen in upstream.seen:
        if seen.model == "cc-queen" and "# aether colony" in seen.text and marker in seen.text:
            return seen.text[seen.text.index("# aether colony") :]
    raise AssertionError("no briefing reached the main model")


def wait_for(check: Any, what: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def running_builders(project: Path) -> list[dict[str, Any]]:
    return [
        w
        for w in subagent_records(state_of(project))
        if w["caste"] == "builder" and w["status"] == "running"
    ]


def finished(proc: Any, timeout: float = 180) -> ClaudeRun:
    out, err = proc.communicate(timeout=timeout)
    run = ClaudeRun(proc.returncode, out, err)
    assert run.returncode == 0, (out[-2000:], err[-3000:])
    return run


# --- 1. nested spawns: every worker once, in a tree ---------------------------------------------


def test_a_prime_that_delegates_leaves_exactly_three_workers_in_a_tree(
    cc_project: Path, home: Path, upstream: Upstream, run_aether: RunAether
) -> None:
    script = Script(
        spawns=[spawn("aether-prime", "lead the parser phase", "lead the phase")],
        delegates={
            "cc-prime": [
                [
                    spawn("aether-builder", "write the parser", "parser"),
                    spawn("aether-scout", "map the grammar files", "grammar map"),
                ]
            ]
        },
        replies={"cc-builder": "Parser written.\nNext: wire it into the CLI."},
    )
    run = queen_run(cc_project, home, upstream, script)
    assert run.result["subagent_stats"]["spawned_by_subagents"] == 2
    state = state_of(cc_project)
    workers = subagent_records(state)
    assert sorted(w["caste"] for w in workers) == ["builder", "prime", "scout"]  # no phantom
    (queen,) = session_records(state)
    by_caste = {w["caste"]: w for w in workers}
    prime = by_caste["prime"]
    assert prime["parent_id"] == queen["id"]
    assert by_caste["builder"]["parent_id"] == prime["id"]
    assert by_caste["scout"]["parent_id"] == prime["id"]
    for w in workers:
        assert w["verified"] is True and w["status"] == "completed", w
        assert w["runtime"]["agent_id"] and w["runtime"]["agent_id"] != prime["runtime"].get(
            "parent_agent_id"
        )
    assert by_caste["builder"]["runtime"]["parent_agent_id"] == prime["runtime"]["agent_id"]
    assert by_caste["builder"]["result"] == "Next: wire it into the CLI."
    # the tree, wherever the colony is shown
    status = json.loads(run_aether("status", "--json").stdout)
    depths = {row["id"]: row["depth"] for row in status["tree"]}
    assert depths[queen["id"]] == 0 and depths[prime["id"]] == 1
    assert depths[by_caste["builder"]["id"]] == depths[by_caste["scout"]["id"]] == 2
    listed = json.loads(run_aether("workers", "--json").stdout)["workers"]
    assert [w["id"] for w in listed][:2] == [queen["id"], prime["id"]]
    table = run_aether("workers").stdout
    assert f"  └ {by_caste['builder']['id']}" in table
    handoff = (cc_project / ".aether" / "HANDOFF.md").read_text()
    assert f"| └ {by_caste['builder']['id']} | builder | cc-builder | completed |" in handoff
    assert "Next: wire it into the CLI." in handoff
    queen_run(cc_project, home, upstream, [], prompt="the next morning")
    briefing = briefing_seen(upstream)
    # a nested list: the builder under the prime
    assert f"\n- {prime['id']}: prime on cc-prime, completed" in briefing
    assert f"\n  - {by_caste['builder']['id']}: builder on cc-builder, completed" in briefing


# --- 2. a subdirectory, a sibling worktree, a clone without a colony ----------------------------


def test_a_session_started_in_a_subdirectory_is_routed_verified_and_recorded(
    cc_project: Path, home: Path, upstream: Upstream, litellm_proxy: RunningProxy
) -> None:
    sub = cc_project / "src" / "pkg"
    sub.mkdir(parents=True)
    # Claude Code reads .claude/settings.json only where it starts: the endpoint comes from the
    # environment there (install prints this line); aether's relay in ~/.claude runs the hooks
    run = queen_run(
        cc_project,
        home,
        upstream,
        [spawn("aether-builder", "redesign the storage architecture")],
        cwd=sub,
        ANTHROPIC_BASE_URL=litellm_proxy.url,
    )
    assert run.result["subagent_stats"]["by_type"] == {"aether--cc-opus": 1}
    assert "cc-opus" in subagent_models(upstream) and "cc-builder" not in subagent_models(upstream)
    state = state_of(cc_project)
    (worker,) = subagent_records(state)
    assert worker["model"] == "cc-opus" and worker["verified"] is True
    assert worker["status"] == "completed" and worker["tokens_out"]
    (session,) = session_records(state)
    assert session["runtime"]["cwd"] == str(sub)
    assert state["status"] == "paused"  # its end was recorded too


def _committed_repo(project: Path) -> None:
    """The project as a git repository: .claude/ committed, the colony not."""
    (project / ".gitignore").write_text(".aether/\n")
    git("init", "-q", ".", cwd=project)
    git("add", ".", cwd=project)
    git("commit", "-qm", "set up", cwd=project)


def test_a_session_in_a_sibling_worktree_belongs_to_the_main_checkouts_colony(
    cc_project: Path, home: Path, upstream: Upstream, tmp_path: Path
) -> None:
    _committed_repo(cc_project)
    worktree = tmp_path / "feature-wt"
    git("worktree", "add", "-q", str(worktree), cwd=cc_project)
    assert not (worktree / ".aether").exists() and (worktree / ".claude" / "agents").is_dir()
    run = queen_run(
        cc_project, home, upstream, [spawn("aether-builder", "write the parser")], cwd=worktree
    )
    assert run.result["subagent_stats"]["by_type"] == {"aether-builder": 1}
    assert "no colony" not in run.stderr
    state = state_of(cc_project)  # the main checkout's colony
    (worker,) = subagent_records(state)
    assert worker["verified"] is True and worker["status"] == "completed"
    (session,) = session_records(state)
    assert session["runtime"]["worktree"] == str(worktree.resolve())
    assert not (worktree / ".aether").exists()  # nothing written in the worktree
    assert (cc_project / ".aether" / "HANDOFF.md").exists()


def test_an_aether_spawn_with_no_colony_to_route_it_is_denied(
    cc_project: Path, home: Path, upstream: Upstream, tmp_path: Path
) -> None:
    _committed_repo(cc_project)
    clone = tmp_path / "clone"
    git("clone", "-q", str(cc_project), str(clone), cwd=tmp_path)
    assert (clone / ".claude" / "agents" / "aether-builder.md").exists()
    assert not (clone / ".aether").exists()
    run = queen_run(cc_project, home, upstream, [spawn("aether-builder", "write it")], cwd=clone)
    assert run.result["subagent_stats"]["spawned"] == 0
    assert subagent_models(upstream) == []  # the builder's model was never asked
    reply = next(s.text for s in upstream.seen if s.tool_results)
    assert "aether refused this spawn of aether-builder" in reply and "no colony" in reply


# --- 3. overlapping sessions ---------------------------------------------------------------------


def test_overlapping_sessions_keep_every_sessions_words_and_no_live_worker_is_lost(
    cc_project: Path, home: Path, upstream: Upstream, run_aether: RunAether
) -> None:
    a_words = "Session A: " + "the lexer is half done. " * 30 + "Next: finish the lexer."
    slow = Script(
        spawns=[spawn("aether-builder", "session-A: build the lexer", "lexer")],
        delays={"cc-builder": 12},
        replies={"cc-queen": a_words},
    )
    upstream.reset(
        Script(
            replies={"cc-queen": "Session B checked the docs. Next: nothing for B."},
            by_prompt={"session-A": slow},
        )
    )
    env = claude_env(home, MASTER_KEY)
    session_a = start_claude(cc_project, env, "session-A: build the lexer")
    try:
        (builder,) = wait_for(lambda: running_builders(cc_project), "A's builder to run")
        b = run_claude(cc_project, env, "session-B: check the docs")
        assert b.returncode == 0, b.stderr[-2000:]
        state = state_of(cc_project)
        assert state["status"] == "active"  # B's end did not pause the colony under A
        assert [w["id"] for w in running_builders(cc_project)] == [builder["id"]]
        checkpoint = (cc_project / ".aether" / "HANDOFF.md").read_text()
        assert "Session B checked the docs. Next: nothing for B." in checkpoint
        # a third session starts and ends while A still works: A's worker stays running
        c = run_claude(cc_project, env, "session-C: look around")
        assert c.returncode == 0, c.stderr[-2000:]
        assert [w["id"] for w in running_builders(cc_project)] == [builder["id"]]
        finished(session_a)
    finally:
        if session_a.poll() is None:
            session_a.kill()
    state = state_of(cc_project)
    assert state["status"] == "paused"  # the last one out paused
    done = next(w for w in subagent_records(state) if w["id"] == builder["id"])
    assert (
        done["status"] == "completed"
        and done["tokens_out"] == (upstream.usage_by_model()["cc-builder"]["output_tokens"])
    )
    sessions = session_records(state)
    assert len(sessions) == 3 and all(s["status"] == "completed" for s in sessions)
    handoff = (cc_project / ".aether" / "HANDOFF.md").read_text()
    assert "Session B checked the docs. Next: nothing for B." in handoff
    assert a_words in handoff.replace("> ", "")  # whole: its beginning and its "Next:"
    # the main agents' own tokens: each session's transcript, each token once
    costs = json.loads(run_aether("costs", "--json").stdout)
    queen_usage = upstream.usage_by_model()["cc-queen"]
    assert costs["by_caste"]["queen"]["tokens_out"] == queen_usage["output_tokens"]
    assert costs["by_caste"]["queen"]["tokens_in"] == queen_usage["input_tokens"]
    assert costs["by_caste"]["queen"]["workers"] == 3
    assert costs["by_caste"]["queen"]["cost_usd"] is None  # no price known: unknown, not 0
    assert costs["by_caste"]["queen"]["cost_unknown"] == 3
    assert "unknown" in run_aether("costs").stdout


# --- 4 and 5. a killed session; its lost workers closed and re-run ----------------------------


def test_a_killed_session_is_known_at_once_and_its_lost_workers_can_be_closed_or_rerun(
    cc_project: Path, home: Path, upstream: Upstream, run_aether: RunAether
) -> None:
    doomed = Script(
        turns=[
            [
                spawn("aether-builder", "session-A: build the lexer", "lexer"),
                spawn("aether-builder", "session-A: build the parser", "parser"),
            ]
        ],
        delays={"cc-builder": 120},
    )
    upstream.reset(Script(by_prompt={"session-A": doomed}))
    env = claude_env(home, MASTER_KEY)
    session_a = start_claude(cc_project, env, "session-A: build both")
    try:
        builders = wait_for(
            lambda: len(running_builders(cc_project)) == 2 and running_builders(cc_project),
            "both builders to run",
        )
        # killed while both builders wait on their model: their requests have reached the
        # upstream (recorded in this test, not in a later one's when the delay ends)
        wait_for(lambda: subagent_models(upstream).count("cc-builder") >= 2, "both to ask")
    finally:
        os.kill(session_a.pid, signal.SIGKILL)
        session_a.wait(timeout=30)
    lexer, parser = sorted(builders, key=lambda w: w["task"])
    assert "lexer" in lexer["task"] and "parser" in parser["task"]
    # the next session of any kind knows at once: its briefing calls nothing running
    b = queen_run(
        cc_project, home, upstream, Script(replies={"cc-queen": "B looked."}), prompt="session-B"
    )
    # session B's own request: a late one of the killed session A may reach the upstream too
    briefing = briefing_seen(upstream, "session-B")
    assert "died without ending" in briefing and lexer["id"] in briefing
    assert "In flight" not in briefing and "(running)" not in briefing
    state = state_of(cc_project)
    by_id = {w["id"]: w for w in subagent_records(state)}
    assert by_id[lexer["id"]]["status"] == by_id[parser["id"]]["status"] == "lost"
    dead = next(s for s in session_records(state) if s["status"] == "lost")
    assert "killed or crashed" in dead["fail_reason"]
    assert b.returncode == 0
    # 5. one is closed with a reason; the other is handed back to be re-run
    closed = run_aether("worker", "close", lexer["id"], "--reason", "the lexer is not needed")
    assert closed.returncode == 0, closed.stderr
    handed = json.loads(run_aether("worker", "respawn", parser["id"], "--json").stdout)
    assert handed["handed_back"] is True and handed["worker"] is None
    assert len(subagent_records(state_of(cc_project))) == 2  # no record that nothing runs
    rerun = Script(
        spawns=[
            spawn(
                "aether-builder",
                "session-A: build the parser",
                f"build the parser (replaces {parser['id']})",
            )
        ]
    )
    queen_run(cc_project, home, upstream, rerun, prompt="session-C")
    briefing = briefing_seen(upstream)
    assert f"aether-builder (replaces {parser['id']})" in briefing  # "re-run these"
    assert lexer["id"] not in briefing.split("## Workers", 1)[1]  # closed: not listed
    state = state_of(cc_project)
    by_id = {w["id"]: w for w in subagent_records(state)}
    new = next(w for w in by_id.values() if w.get("respawn_of") == parser["id"])
    assert by_id[parser["id"]]["replaced_by"] == new["id"]
    assert new["status"] == "completed" and new["verified"] is True
    handoff = (cc_project / ".aether" / "HANDOFF.md").read_text()
    workers_in_flight = handoff.split("## Workers in flight", 1)[1].split("## ", 1)[0]
    assert parser["id"] not in workers_in_flight and lexer["id"] not in workers_in_flight
    queen_run(cc_project, home, upstream, [], prompt="session-D")
    assert parser["id"] not in briefing_seen(upstream).split("## Workers", 1)[1]


# --- 8. several Agent calls in one turn --------------------------------------------------------


def test_a_denial_among_several_spawns_of_one_turn_is_recorded_by_aether(
    cc_project: Path, home: Path, upstream: Upstream
) -> None:
    scout = cc_project / ".claude" / "agents" / "aether-scout.md"
    scout.write_text(scout.read_text().replace('model: "cc-haiku"', 'model: "cc-sonnet"'))
    script = Script(
        turns=[[spawn("aether-builder", "write the parser"), spawn("aether-scout", "map it")]]
    )
    run = queen_run(cc_project, home, upstream, script)
    # measured with 2.1.328: with one call of the turn allowed, the denied one is not listed
    # under permission_denials; its reason still reaches the main model
    assert run.result["permission_denials"] == []
    assert run.result["subagent_stats"]["by_type"] == {"aether-builder": 1}
    reply = next(s.text for s in upstream.seen if s.tool_results)
    assert "aether refused this spawn of aether-scout" in reply
    assert "Retrying this spawn now will be refused again" in reply
    state = state_of(cc_project)
    assert [w["caste"] for w in subagent_records(state)] == ["builder"]
    (denied,) = [e for e in state["events"] if e["type"] == "spawn.denied"]
    assert denied["data"]["subagent_type"] == "aether-scout"


def test_a_session_whose_requests_bypass_the_proxy_is_refused_aether_spawns(
    cc_project: Path, run_aether: RunAether, litellm_proxy: RunningProxy
) -> None:
    from tests.helpers import clean_env

    hook = json.dumps(
        {
            "session_id": "s-1",
            "transcript_path": "",
            "cwd": str(cc_project),
            "hook_event_name": "PreToolUse",
            "tool_name": "Agent",
            "tool_input": {"subagent_type": "aether-builder", "prompt": "x", "description": "x"},
            "tool_use_id": "toolu_1",
        }
    )

    def answer(**env: str) -> dict[str, Any]:
        ran = run_aether("hook", "pre-agent", input=hook, env=clean_env(**env))
        decision: dict[str, Any] = json.loads(ran.stdout)["hookSpecificOutput"]
        return decision

    key = {"LITELLM_MASTER_KEY": MASTER_KEY}
    # no ANTHROPIC_BASE_URL: Claude Code would send the subagent to Anthropic's API directly
    off = answer(**key)
    assert off["permissionDecision"] == "deny"
    assert "Anthropic's API" in off["permissionDecisionReason"]
    assert "ANTHROPIC_BASE_URL" in off["permissionDecisionReason"]
    # the same endpoint spelled another way is the same proxy
    same = litellm_proxy.url.replace("127.0.0.1", "localhost") + "/"
    assert answer(**key, ANTHROPIC_BASE_URL=same)["permissionDecision"] == "allow"


def test_as_installed_the_hooks_run_through_a_server_they_started_and_nothing_is_lost(
    cc_project: Path, home: Path, upstream: Upstream, run_aether: RunAether, tmp_path: Path
) -> None:
    """The default install, nothing started by hand (every other test here runs hooks in their
    own processes): the first session's first hook starts a server, the launcher hands it the
    rest, and the hooks that only record are done after their acknowledgement. Two sessions in
    turn: every record is complete, the colony paused after each, and the second session spent
    no paid probe — the first one's proof of the builder's model is younger than the TTL."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    from tests.helpers import clean_env

    status_env = clean_env(TMPDIR=str(run_dir), LITELLM_MASTER_KEY=MASTER_KEY)

    def status() -> dict[str, Any]:
        done = run_aether("status", "--json", env=status_env)  # handed over: runs after them
        assert done.returncode == 0, done.stderr
        doc: dict[str, Any] = json.loads(done.stdout)
        return doc

    try:
        for n in (1, 2):
            queen_run(
                cc_project,
                home,
                upstream,
                [spawn("aether-builder", f"write part {n}")],
                AETHER_SERVER="auto",
                TMPDIR=str(run_dir),
            )
            assert run_aether("serve", "--status", env=status_env).returncode == 0
            doc = status()
            assert doc["status"] == "paused"
            assert doc["proxy"] == (
                {"probes": 1, "proofs_reused": 0}
                if n == 1
                else {
                    "probes": 0,
                    "proofs_reused": 1,
                }
            )
        state = state_of(cc_project)
        builders = subagent_records(state)
        assert [w["status"] for w in builders] == ["completed", "completed"]
        facts = [(w["tokens_out"], w["verified"], w["usage_by_model"]) for w in builders]
        assert all(out and verified for out, verified, _ in facts), facts
        assert [w["status"] for w in session_records(state)] == ["completed", "completed"]
        assert (cc_project / ".aether" / "HANDOFF.md").exists()
        assert set(subagent_models(upstream)) == {"cc-builder"}
    finally:
        run_aether("serve", "--stop", env=status_env)
