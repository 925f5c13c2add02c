"""A stand-in for Rich's Console when stdout is not a terminal.

Agents call aether many times a session with stdout piped, where Rich would print plain text
anyway — after costing ~25-100 ms to import and set up. ``PlainConsole`` prints strings itself
(stripping Rich markup) and creates a real Console only if a renderer hands it a Rich object
(a Table, a Panel), so commands whose human output is text lines never import Rich.
"""

from __future__ import annotations

import re
import sys
from typing import Any

# Rich markup tags: [bold], [/bold], [yellow], [/], [bold red], [link=...]; "\[" is a literal
_TAG = re.compile(r"(?<!\\)\[/?(?:[a-z][a-z0-9_ #.,=:/-]*)?\]")


def strip_markup(text: str) -> str:
    return _TAG.sub("", text).replace("\\[", "[")


class PlainConsole:
    def __init__(self, stderr: bool = False) -> None:
        self._stream = sys.stderr if stderr else sys.stdout
        self._rich: Any = None

    @property
    def file(self) -> Any:
        """The stream, as Rich's ``Console.file`` (for renderers that write raw text)."""
        return self._stream

    @property
    def is_terminal(self) -> bool:
        return False

    def print(
        self, *objects: Any, markup: bool | None = None, end: str = "\n", sep: str = " ", **_: Any
    ) -> None:
        if all(isinstance(o, str) for o in objects):
            text = sep.join(objects)
            if markup is not False:
                text = strip_markup(text)
            self._stream.write(text + end)
            return
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(file=self._stream, highlight=False, soft_wrap=False)
        self._rich.print(*objects, markup=markup, end=end, sep=sep)
