"""Reading a hook's JSON from stdin with a bound on size and on time.

Claude Code writes the event's JSON and closes the pipe, so the read ends at once; the bounds
are for everything else (a terminal, a writer that never closes), because nothing in aether
may wait without a limit. Used by ``aether hook`` and by the ``aether serve`` client, which
hands the bytes to the server.
"""

from __future__ import annotations

import io
import os
import sys
import time

MAX_BYTES = 16 * 1024 * 1024
WAIT_S = 10.0


def slurp_stdin(limit: int = MAX_BYTES, wait_s: float = WAIT_S) -> tuple[bytes, str | None]:
    """(what was read, why it is not the whole input — None when it is)."""
    stream = sys.stdin
    if stream is None:
        return b"", "there is no stdin"
    if isinstance(stream, ReplayedStdin):
        return bytes(stream.buffer.read()), stream.problem
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        buffer = getattr(stream, "buffer", None)
        data = buffer.read(limit + 1) if buffer is not None else stream.read(limit + 1).encode()
        return _checked(data, limit, None)
    if os.isatty(fd):
        return b"", "stdin is a terminal; the hook's JSON is expected there"
    return _read_fd(fd, limit, wait_s)


def _checked(data: bytes, limit: int, problem: str | None) -> tuple[bytes, str | None]:
    if len(data) > limit:
        return data[:limit], f"the input on stdin is larger than {limit} bytes"
    return data, problem


def _read_fd(fd: int, limit: int, wait_s: float) -> tuple[bytes, str | None]:
    import select

    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + wait_s
    while size <= limit:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), f"stdin did not end within {wait_s:g} s"
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, min(1 << 16, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return _checked(b"".join(chunks), limit, None)


class ReplayedStdin(io.TextIOWrapper):
    """A stdin this process read once already (the ``aether serve`` client does, to send it):
    the same bytes, and the reason that read stopped short of the whole input, which the next
    ``slurp_stdin`` reports as its own."""

    def __init__(self, data: bytes, problem: str | None) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8", errors="replace")
        self.problem = problem


def replace_stdin(data: bytes, problem: str | None = None) -> None:
    """Make ``data`` what this process reads as stdin (after the real stdin was consumed);
    ``problem``: why that read did not get the whole input."""
    sys.stdin = ReplayedStdin(data, problem)
