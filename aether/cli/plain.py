"""A stand-in for Rich's Console when stdout is not a terminal.

Agents call aether many times a session with stdout piped, where Rich would print plain text
anyway — after costing ~25-100 ms to import and set up. ``PlainConsole`` prints strings itself
(stripping Rich markup) and tables (``TextTable``), and creates a real Console only if a
renderer hands it a Rich object (a Panel), so commands whose human output is text lines or
tables never import Rich.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Literal

from aether.text import visible

# Rich markup, as Rich parses it: a tag is "[" + a letter, "#", "/" or "@" + anything but "["
# up to the first "]", with the run of backslashes before it; N backslashes stand for N // 2,
# and an odd run makes the tag literal text. Outside tags a backslash before "[" is dropped.
_TAG = re.compile(r"(\\*)\[([a-z#/@][^\[]*?)\]")
_TAG_START = re.compile(r"\[[a-z#/@][^\[]*?\]")
_BACKSLASHES_BEFORE_BRACKET = re.compile(r"(\\*)\[")
_TRAILING_BACKSLASHES = re.compile(r"(\\+)$")


def escape_markup(text: str) -> str:
    """The user's text inside a markup string, shown exactly as written by Rich and by the
    plain console (no Rich import). Before a tag-like bracket the backslash run is doubled plus
    one (the tag becomes literal text); before any other bracket one backslash is added. Exact
    when the escaped text ends the markup; to put a tag after it, use ``styled`` (a trailing
    backslash would escape that tag)."""

    def one(m: re.Match[str]) -> str:
        run = m.group(1)
        if _TAG_START.match(text, m.end() - 1):
            return run * 2 + "\\["
        return run + "\\["

    return _BACKSLASHES_BEFORE_BRACKET.sub(one, text)


def styled(style: str, text: str) -> str:
    """``text`` in ``style`` (e.g. ``bold``), shown exactly as written."""
    escaped = _TRAILING_BACKSLASHES.sub(lambda m: m.group(1) * 2, escape_markup(text))
    return f"[{style}]{escaped}[/{style}]"


def strip_markup(text: str) -> str:
    """What Rich prints for ``text``, without the styles."""
    out: list[str] = []
    pos = 0
    for m in _TAG.finditer(text):
        out.append(text[pos : m.start()].replace("\\[", "["))
        run = len(m.group(1))
        out.append("\\" * (run // 2))
        if run % 2:
            out.append(f"[{m.group(2)}]")
        pos = m.end()
    out.append(text[pos:].replace("\\[", "["))
    return "".join(out)


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
        if len(objects) == 1 and isinstance(objects[0], TextTable):
            self._stream.write("\n".join(objects[0].plain_lines()) + end)
            return
        if all(isinstance(o, str) for o in objects):
            text = sep.join(objects)
            if markup is not False:
                text = strip_markup(text)
            self._stream.write(visible(text) + end)
            return
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(file=self._stream, highlight=False, soft_wrap=False)
        self._rich.print(*objects, markup=markup, end=end, sep=sep)


class TextTable:
    """A table described once and drawn by whichever console prints it.

    On a terminal Rich draws it (``__rich__`` builds a ``rich.table.Table``); piped, the plain
    console prints aligned columns itself, one row per line with cells separated by two spaces,
    so listing commands never import Rich for an agent (the Rich table import and layout cost
    ~25 ms of a ~150 ms process) and their output stays greppable. Cells are literal text, never
    markup: a memory item reading ``use [bold] sparingly`` is shown as written.
    """

    def __init__(
        self,
        *columns: str,
        title: str | None = None,
        right: tuple[str, ...] = (),
        whole: tuple[str, ...] = (),
    ):
        self.columns = columns
        self.title = title
        self.right = frozenset(right)
        #: columns never cut or wrapped on a narrow terminal (ids to copy); the others give way
        self.whole = frozenset(whole)
        self.rows: list[tuple[str, ...]] = []

    def add_row(self, *cells: str) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells)

    def plain_lines(self) -> list[str]:
        table = [self.columns, *(tuple(_one_line(c) for c in row) for row in self.rows)]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.columns))]
        lines = [] if self.title is None else [self.title]
        for row in table:
            cells = [
                cell.rjust(width) if column in self.right else cell.ljust(width)
                for cell, width, column in zip(row, widths, self.columns, strict=True)
            ]
            lines.append("  ".join(cells).rstrip())
        return lines

    def __rich__(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=self.title)
        for i, column in enumerate(self.columns):
            justify: Literal["right", "left"] = "right" if column in self.right else "left"
            if column in self.whole:
                widest = max((len(visible(r[i])) for r in self.rows), default=0)
                width = max(widest, len(column))
                table.add_column(column, justify=justify, no_wrap=True, min_width=width)
            else:
                table.add_column(column, justify=justify, overflow="fold")
        for row in self.rows:
            table.add_row(*(Text(visible(cell)) for cell in row))
        return table


def _one_line(cell: str) -> str:
    return visible(cell.replace("\r", " ").replace("\n", " "))
