"""How spawn reaches the proxy, read from the validated profile dump.

Its own small module so that ``spawn --no-proxy`` (and the profile's standalone mode) can read
these settings without importing the proxy client, the breaker and the verification code.
"""

from __future__ import annotations

from typing import Any

from aether.records import record


@record(frozen=True)
class ProxySettings:
    endpoint: str
    key_env: str
    standalone: bool
    probe: str
    open_proxy_check: bool
    attempt_s: float
    connect_s: float
    breaker_failures: int
    breaker_cooldown_s: float

    @classmethod
    def from_dump(cls, dump: dict[str, Any]) -> ProxySettings:
        """Read from the validated profile dump (defaults as in ``routing.profile``)."""
        p = dump.get("proxy") or {}
        t = dump.get("timeouts") or {}
        b = dump.get("breaker") or {}
        return cls(
            endpoint=str(p.get("endpoint", "http://127.0.0.1:4000")),
            key_env=str(p.get("key_env", "LITELLM_MASTER_KEY")),
            standalone=bool(p.get("standalone", False)),
            probe=str(p.get("probe", "first-use")),
            open_proxy_check=bool(p.get("open_proxy_check", True)),
            attempt_s=float(t.get("attempt_s", 30)),
            connect_s=float(t.get("connect_s", 5)),
            breaker_failures=int(b.get("failures", 3)),
            breaker_cooldown_s=float(b.get("cooldown_s", 60)),
        )
