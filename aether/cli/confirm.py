"""Asking before a destructive command, and showing progress during a long one. This is the only
layer that knows the terminal: without ``--yes`` a destructive command asks; with no terminal
and no ``--yes`` it refuses (exit 65). ``reset --forget-memory`` additionally needs the colony
id or name typed back (aether/cli/cmd_reset.py), even with ``--yes``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer

from aether.cli.common import fail

#: archives smaller than this finish before a progress bar would be worth drawing
PROGRESS_MIN_BYTES = 8 * 1024 * 1024


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on stderr once an archive is large enough."""
    if not enabled:
        yield None
        return
    state: dict[str, object] = {}

    def update(done: int, total: int) -> None:
        if total < PROGRESS_MIN_BYTES:
            return
        if "bar" not in state:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

            bar = Progress(
                "archiving",
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            bar.start()
            state["bar"] = bar
            state["task"] = bar.add_task("archive", total=total)
        from rich.progress import Progress, TaskID

        bar_ = state["bar"]
        task = state["task"]
        assert isinstance(bar_, Progress) and isinstance(task, int)
        bar_.update(TaskID(task), completed=done)

    try:
        yield update
    finally:
        from rich.progress import Progress

        bar = state.get("bar")
        if isinstance(bar, Progress):
            bar.stop()


def confirm_or_refuse(question: str, yes: bool, json_out: bool) -> None:
    from aether.errors import Aborted, ConfirmationRequired

    if yes:
        return
    if not sys.stdin.isatty():
        raise fail(
            ConfirmationRequired(
                "this command changes the colony and needs confirmation, but there is no terminal "
                "to ask on",
                meaning="nothing was changed",
                fix="pass --yes (or --dry-run to see what it would do)",
            ),
            json_out,
        )
    if not typer.confirm(question, default=False, err=True):
        raise fail(Aborted("answered no", meaning="nothing was changed"), json_out)
