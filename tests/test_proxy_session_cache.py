"""The proxy checks a session keeps (aether/ops/spawn/proxy_proofs.py ``SessionCache``): written on
every spawn's answer without fsync, so a file a crash left cut or garbled must read as no cache
at all — the checks then simply run again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aether.ops.spawn.proxy_proofs import SessionCache
from aether.workspace import Workspace

ENDPOINT = "http://127.0.0.1:4000"
KEY = "sk-test-session-cache"


def test_the_session_cache_round_trips_and_costs_no_fsync(
    colony: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(colony)
    cache = SessionCache.load(ws, "s-1", ENDPOINT, KEY)
    assert not cache.valid
    cache.open_proxy, cache.probes = False, 2
    synced: list[int] = []
    real_fsync = os.fsync

    def counted(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counted)
    cache.save()
    assert synced == []  # a spawn's answer waits for this write
    again = SessionCache.load(ws, "s-1", ENDPOINT, KEY)
    assert again.valid and again.open_proxy is False and again.probes == 2
    assert KEY not in SessionCache.path_for(ws, "s-1").read_text()
    # another key or endpoint: the cache is not this one's
    assert not SessionCache.load(ws, "s-1", ENDPOINT, KEY + "x").valid
    assert not SessionCache.load(ws, "s-1", "http://127.0.0.1:4001", KEY).valid


@pytest.mark.parametrize(
    "left",
    [b"", b'{"format": 1, "session_id": "s-1", "endp', b"\xff\xfe", b"[]", b'{"probes": []}'],
)
def test_a_cut_or_garbled_session_cache_reads_as_none(colony: Path, left: bytes) -> None:
    ws = Workspace(colony)
    cache = SessionCache.load(ws, "s-1", ENDPOINT, KEY)
    cache.save()
    path = SessionCache.path_for(ws, "s-1")
    text = path.read_text()
    if left == b'{"probes": []}':  # the right identity, a count of the wrong type
        left = json.dumps({**json.loads(text), "probes": ["x"]}).encode()
    path.write_bytes(left)
    assert not SessionCache.load(ws, "s-1", ENDPOINT, KEY).valid
