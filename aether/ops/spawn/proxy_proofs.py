"""What a colony remembers of the proxy's proofs, so a check is not paid for twice.

* ``SessionCache`` (``.aether/cache/proxy-session-<session>.json``): per colony session, that
  the proxy was ready, whether it is open to any key, the models probed, and how many paid
  probes the session sent or took from an earlier proof (``aether status --json``: ``proxy``).
* ``ProbeProofs`` (``.aether/cache/proxy-proofs.json``): a passed probe (one paid 1-token
  request) proves its model to later sessions and other processes for the profile's
  ``proxy.probe_ttl_s``.

Both are tied to the endpoint and to a salted fingerprint of the key (never the key), and both
are caches: one that cannot be read or written costs a check, never a wrong answer — every
spawn still asks the proxy for its model list (spawn_verify.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from aether.bounded_read import read_regular
from aether.files import atomic_write_json, linked_directory
from aether.records import field, record
from aether.timeutil import iso
from aether.workspace import Workspace

CACHE_FORMAT = 1


@record
class SessionCache:
    path: Any
    session_id: str
    endpoint: str
    salt: str
    key_id: str
    valid: bool = False
    open_proxy: bool | None = None
    probed: dict[str, dict[str, Any]] = field(default_factory=dict)
    verified_at: float | None = None
    #: paid probes this session sent, and models it took as proven from an earlier proof
    probes: int = 0
    proofs_reused: int = 0

    @staticmethod
    def fingerprint(salt: str, key: str) -> str:
        return hashlib.sha256((salt + "\0" + key).encode("utf-8")).hexdigest()[:24]

    @staticmethod
    def path_for(ws: Workspace, session_id: str) -> Any:
        safe = "".join(ch for ch in session_id if ch.isalnum() or ch in "-_")[:80]
        return ws.cache_dir / f"proxy-session-{safe}.json"

    @classmethod
    def load(cls, ws: Workspace, session_id: str, endpoint: str, key: str) -> SessionCache:
        path = cls.path_for(ws, session_id)
        try:
            data = json.loads(read_regular(path).decode("utf-8"))
            if (
                isinstance(data, dict)
                and data.get("format") == CACHE_FORMAT
                and data.get("session_id") == session_id
                and data.get("endpoint") == endpoint
                and data.get("key_id") == cls.fingerprint(str(data.get("salt")), key)
            ):
                return cls(
                    path,
                    session_id,
                    endpoint,
                    str(data["salt"]),
                    str(data["key_id"]),
                    valid=True,
                    open_proxy=data.get("open_proxy"),
                    probed=dict(data.get("probed") or {}),
                    verified_at=data.get("verified_at"),
                    probes=int(data.get("probes") or 0),
                    proofs_reused=int(data.get("proofs_reused") or 0),
                )
        except (OSError, ValueError, TypeError):
            pass
        salt = os.urandom(8).hex()
        return cls(path, session_id, endpoint, salt, cls.fingerprint(salt, key))

    def save(self) -> None:
        directory = self.path.parent
        try:
            if linked_directory(directory, directory.parent) is not None:
                return  # nothing is written through a linked directory, not even a cache
            directory.mkdir(parents=True, exist_ok=True)
            # not fsynced: a cache a crash left cut reads as no cache (the checks run again)
            atomic_write_json(
                self.path,
                {
                    "format": CACHE_FORMAT,
                    "session_id": self.session_id,
                    "endpoint": self.endpoint,
                    "salt": self.salt,
                    "key_id": self.key_id,
                    "open_proxy": self.open_proxy,
                    "probed": self.probed,
                    "verified_at": self.verified_at or time.time(),
                    "probes": self.probes,
                    "proofs_reused": self.proofs_reused,
                },
                durable=False,
            )
        except Exception:  # a cache that cannot be written only costs speed next time
            pass


def probe_counts(ws: Workspace, session_id: str) -> dict[str, int]:
    """What a colony session spent on proving models: paid probes sent, and models taken as
    proven from an earlier session's probe (``aether status --json``: ``proxy``)."""
    try:
        data = json.loads(read_regular(SessionCache.path_for(ws, session_id)).decode("utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("session_id") != session_id:
        return {"probes": 0, "proofs_reused": 0}
    return {
        "probes": int(data.get("probes") or 0),
        "proofs_reused": int(data.get("proofs_reused") or 0),
    }


@record
class ProbeProofs:
    """Passed probes that later sessions may rely on: per model, the deployment that answered
    and when (epoch seconds), for one endpoint and key. A lost update between two processes
    writing at once costs one more probe later, nothing else; a file that does not parse, or
    was written for another endpoint or key, proves nothing."""

    path: Any
    endpoint: str
    salt: str
    key_id: str
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, ws: Workspace, endpoint: str, key: str) -> ProbeProofs:
        path = ws.cache_dir / "proxy-proofs.json"
        try:
            data = json.loads(read_regular(path).decode("utf-8"))
            if (
                isinstance(data, dict)
                and data.get("format") == CACHE_FORMAT
                and data.get("endpoint") == endpoint
                and isinstance(data.get("models"), dict)
                and data.get("key_id") == SessionCache.fingerprint(str(data.get("salt")), key)
            ):
                return cls(path, endpoint, str(data["salt"]), str(data["key_id"]), data["models"])
        except (OSError, ValueError):
            pass
        salt = os.urandom(8).hex()
        return cls(path, endpoint, salt, SessionCache.fingerprint(salt, key))

    def fresh(self, model: str, ttl_s: float) -> dict[str, Any] | None:
        """The proof of ``model`` when it is younger than ``ttl_s`` (never one from the
        future: a clock set back does not stretch a proof)."""
        proof = self.models.get(model)
        if not isinstance(proof, dict) or not isinstance(proof.get("at_s"), (int, float)):
            return None
        age = time.time() - float(proof["at_s"])
        return proof if 0 <= age < ttl_s else None

    def record(self, model: str, deployment: str) -> None:
        self.models[model] = {"deployment": deployment, "at": iso(), "at_s": time.time()}
        try:
            directory = self.path.parent
            if linked_directory(directory, directory.parent) is not None:
                return
            directory.mkdir(parents=True, exist_ok=True)
            atomic_write_json(
                self.path,
                {
                    "format": CACHE_FORMAT,
                    "endpoint": self.endpoint,
                    "salt": self.salt,
                    "key_id": self.key_id,
                    "models": self.models,
                },
            )
        except Exception:  # a proof that cannot be kept only costs a probe next session
            pass
