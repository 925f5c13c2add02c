"""The parsed-profile cache: keeps YAML and pydantic off the paths that only need to route.

``.aether/cache/profile.json`` holds the last validated profile as JSON, keyed by the sha256 of
the profile file's bytes (plus the aether version and cache scheme, so an upgraded aether never
trusts an old interpretation). Any change to the file — even a comment — is a miss, which
re-parses and re-validates; a hit costs one small JSON read. Profiles that expand ``${VAR}``
references (old v1 files) are never cached: their meaning depends on the environment.

A corrupt, foreign or unreadable cache is ignored and rebuilt; failing to write it (read-only
colony) is silent. Writes are atomic, so concurrent commands never see a torn cache.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from aether import __version__
from aether.bounded_read import read_regular
from aether.errors import AetherError
from aether.records import record
from aether.routing.table import RoutingTable, compile_table

CACHE_SCHEME = 1
CACHE_NAME = "profile.json"


@record(frozen=True)
class CachedProfile:
    dump: dict[str, Any]
    source_format: str
    warnings: tuple[str, ...]
    table: RoutingTable


def cache_key(data: bytes) -> str:
    return f"{CACHE_SCHEME}:{__version__}:{hashlib.sha256(data).hexdigest()}"


def read_cache(cache_dir: Path | None, key: str) -> CachedProfile | None:
    if cache_dir is None:
        return None
    try:
        record = json.loads(read_regular(cache_dir / CACHE_NAME).decode("utf-8"))
        if not isinstance(record, dict) or record.get("key") != key:
            return None
        dump = record["profile"]
        table = compile_table(dump)
        if table.profile_hash != record.get("hash"):
            return None  # an edited or damaged cache: never trust it
        return CachedProfile(
            dump=dump,
            source_format=str(record["source_format"]),
            warnings=tuple(str(w) for w in record.get("warnings", ())),
            table=table,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_cache(
    cache_dir: Path | None,
    key: str,
    dump: dict[str, Any],
    source_format: str,
    warnings: list[str],
    table: RoutingTable,
) -> None:
    if cache_dir is None:
        return
    from aether.files import atomic_write_json, linked_directory

    record = {
        "key": key,
        "hash": table.profile_hash,
        "source_format": source_format,
        "warnings": list(warnings),
        "profile": dump,
    }
    try:
        if linked_directory(cache_dir, cache_dir.parent) is not None:
            return  # nothing is written through a linked directory, not even a cache
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(cache_dir / CACHE_NAME, record)
    except (OSError, AetherError):
        pass
