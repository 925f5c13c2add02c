"""User text in human output is shown exactly as written, by Rich on a terminal and by the
plain console when piped (which must print what Rich would, without importing it)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from aether.cli.plain import TextTable, escape_markup, strip_markup, styled
from tests.conftest import RunAether


def rich_text(markup: str) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=10_000, force_terminal=False, highlight=False, emoji=False).print(
        markup, soft_wrap=True
    )
    return buf.getvalue()[:-1]


#: brackets, slashes and backslashes are what markup gives meaning to
MARKUP_CHARS = st.text(alphabet="ab[]/\\ =#@", max_size=16)


@settings(max_examples=400, deadline=None)
@given(MARKUP_CHARS)
def test_escaped_text_reads_back_exactly_in_rich_and_plain(text: str) -> None:
    for markup, shown in (
        (styled("bold", text), text),
        (f"[yellow]warning:[/yellow] {escape_markup(text)}", f"warning: {text}"),
    ):
        assert rich_text(markup) == shown, markup
        assert strip_markup(markup) == shown, markup


@settings(max_examples=200, deadline=None)
@given(MARKUP_CHARS)
def test_plain_console_strips_our_markup_as_rich_does(text: str) -> None:
    markup = f"[bold red]x[/bold red] {escape_markup(text)} [dim]y[/dim]"
    assert strip_markup(markup) == rich_text(markup)


def test_text_table_cells_are_literal_on_a_terminal_too() -> None:
    from rich.console import Console

    table = TextTable("id", "text", right=("id",))
    table.add_row("1", "use [bold] sparingly \\[x]")
    buf = io.StringIO()
    Console(file=buf, width=100, force_terminal=False).print(table)
    assert "use [bold] sparingly \\[x]" in buf.getvalue()
    assert table.plain_lines() == ["id  text", " 1  use [bold] sparingly \\[x]"]


def test_goals_with_brackets_survive_init_status_and_resume(
    project: Path, run_aether: RunAether
) -> None:
    goal = r"fix [auth] in arr[0] \[literal] [/]"
    assert goal in run_aether("init", goal).stdout
    assert run_aether("status").stdout.splitlines()[0] == goal
    assert run_aether("pause").returncode == 0
    resumed = run_aether("resume").stdout
    assert f"  {goal}" in resumed.splitlines()
    assert json.loads(run_aether("status", "--json").stdout)["goal"] == goal
