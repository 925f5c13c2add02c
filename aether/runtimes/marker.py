"""The ownership marker every file aether writes for a runtime carries.

One line, in the file's own comment syntax::

    <!-- aether:managed profile=p-… sha256=… — note -->     (Markdown)
    # aether:managed profile=p-… sha256=… — note            (shell, TOML)

``sha256`` is a digest of the file without that line, so aether can tell its own file
(``aether``), its own file that someone changed (``edited``) and a file it never wrote
(``user``). An edited or foreign file is never overwritten or removed without ``--force``.
"""

from __future__ import annotations

import hashlib
import re

from aether.records import record

TOKEN = "aether:managed"
_LINE = re.compile(r"^(?:<!--|#) aether:managed profile=(\S+) sha256=([0-9a-f]{16})(?:\s|$)")


@record(frozen=True)
class Ownership:
    owner: str  # aether | edited | user
    profile_hash: str | None = None


def _is_marker(line: str) -> bool:
    return _LINE.match(line) is not None


def _digest(text_without_marker: str) -> str:
    return hashlib.sha256(text_without_marker.encode("utf-8")).hexdigest()[:16]


def stamp(
    before: str,
    after: str,
    *,
    profile_hash: str,
    opener: str,
    closer: str = "",
    command: str = "aether claude install",
) -> str:
    """``before`` + the marker line + ``after``; the digest covers ``before + after`` (not the
    note, which names the ``command`` that wrote the file)."""
    note = f"written by `{command}`; change .aether/model-profiles.yaml, not this file"
    line = f"{opener} {TOKEN} profile={profile_hash} sha256={_digest(before + after)} — {note}"
    return before + line + (f" {closer}" if closer else "") + "\n" + after


def ownership(text: str) -> Ownership:
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        found = _LINE.match(line)
        if found:
            rest = "".join(lines[:index] + lines[index + 1 :])
            intact = found.group(2) == _digest(rest)
            return Ownership("aether" if intact else "edited", found.group(1))
    return Ownership("user")
