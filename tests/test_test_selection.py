"""The documented ways to select tests select what they say (pyproject.toml declares the markers).

* ``python -m pytest -m "not proxy"`` leaves out every test that starts the real LiteLLM proxy
  (all of ``tests/proxy/``, the Claude Code tests included) and nothing else of note;
* ``python -m pytest -m proxy`` runs exactly those;
* ``python -m pytest tests/reliability -m slow`` runs the long reliability runs
  (docs/reliability.md), which no other selection includes.

Each selection is a real ``pytest --collect-only`` of this repository, so a new test in
``tests/proxy/`` without the marker, or a documented command that collects nothing, fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import REPO


def collected(*args: str) -> set[str]:
    """The node ids ``pytest --collect-only`` selects with ``args`` (no test runs). Without the
    options and coverage measurement CI gives this run: a collection needs neither."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTEST_ADDOPTS" and not k.startswith(("COV_CORE_", "COVERAGE_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 5), result.stdout[-2000:] + result.stderr[-2000:]
    return {line for line in result.stdout.splitlines() if "::" in line}


def test_marker_expressions_select_what_the_docs_say() -> None:
    everything_but_proxy = collected("-m", "not proxy")
    proxy_only = collected("-m", "proxy")
    slow_only = collected("tests/reliability", "-m", "slow")

    assert proxy_only, "-m proxy selects nothing"
    assert all(node.startswith("tests/proxy/") for node in proxy_only), sorted(proxy_only)[:5]
    assert not any(node.startswith("tests/proxy/") for node in everything_but_proxy), sorted(
        n for n in everything_but_proxy if n.startswith("tests/proxy/")
    )[:5]
    # every test of the proxy directory is in one selection or the other: none is unmarked
    in_proxy_dir = collected("tests/proxy")
    assert in_proxy_dir == proxy_only

    assert slow_only, "the documented `pytest tests/reliability -m slow` collects no test"
    assert all(node.startswith("tests/reliability/") for node in slow_only)
    # the long runs are not part of any other selection (the default run included)
    assert not slow_only & everything_but_proxy
    assert not slow_only & collected("tests/reliability")
