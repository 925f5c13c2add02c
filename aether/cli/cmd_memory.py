"""``aether memory add|list|export|import``: learnings, decisions and instincts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, lock_timeout, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.colony.memory import AddResult, ExportResult, ImportResult, ListResult

memory_app = typer.Typer(
    name="memory",
    help="What the colony has learned: learnings, decisions, instincts (kept by reset).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@memory_app.command("add")
def add(
    ctx: typer.Context,
    kind: str = typer.Argument(..., metavar="learning|decision|instinct", help="Kind of item."),
    text: str = typer.Argument(..., help="The item itself, one idea."),
    phase: str | None = typer.Option(None, "--phase", help="The plan phase it belongs to."),
    confidence: float | None = typer.Option(None, "--confidence", help="How sure, from 0 to 1."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Remember something (an item with the same kind and text is not added twice)."""

    def run() -> AddResult:
        from aether.ops.colony.memory import add_memory

        return add_memory(
            workspace(ctx),
            kind,
            text,
            phase=phase,
            confidence=confidence,
            lock_timeout=lock_timeout(ctx),
        )

    execute(json_out, run, _render_add)


def _render_add(result: AddResult, console: Console) -> None:
    verb = "Added" if result.added else "Already known:"
    console.print(f"{verb} {result.item.kind} {result.item.id}", markup=False)


@memory_app.command("list")
def list_(
    ctx: typer.Context,
    kind: str | None = typer.Option(
        None, "--kind", help="Only this kind: learning, decision, instinct or pattern."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """List what the colony remembers, oldest first."""

    def run() -> ListResult:
        from aether.ops.colony.memory import list_memory

        return list_memory(workspace(ctx), kind)

    execute(json_out, run, _render_list)


def _render_list(result: ListResult, console: Console) -> None:
    from aether.cli.plain import TextTable

    if not result.items:
        console.print(
            'Nothing remembered yet. Add: aether memory add learning "TEXT"', markup=False
        )
        return
    table = TextTable("id", "kind", "phase", "conf.", "text")
    for i in result.items:
        conf = "-" if i.confidence is None else f"{i.confidence:g}"
        table.add_row(i.id, i.kind, i.phase or "-", conf, i.text)
    console.print(table)
    console.print(", ".join(f"{n} {k}s" for k, n in result.counts.items() if n))


@memory_app.command("export")
def export(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE", help="Where to write the JSON export."),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write every memory item to a JSON file (for `aether memory import` elsewhere)."""

    def run() -> ExportResult:
        from pathlib import Path

        from aether.ops.colony.memory import export_memory

        return export_memory(
            workspace(ctx), Path(file), force=force, lock_timeout=lock_timeout(ctx)
        )

    execute(json_out, run, _render_export)


def _render_export(result: ExportResult, console: Console) -> None:
    console.print(f"Exported {sum(result.counts.values())} item(s) to {result.path}", markup=False)


@memory_app.command("import")
def import_(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE", help="A file written by `memory export`."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Merge an export into this colony's memory; items already known are skipped."""

    def run() -> ImportResult:
        from pathlib import Path

        from aether.ops.colony.memory import import_memory

        return import_memory(workspace(ctx), Path(file), lock_timeout=lock_timeout(ctx))

    execute(json_out, run, _render_import)


def _render_import(result: ImportResult, console: Console) -> None:
    console.print(
        f"Imported {len(result.added)} new item(s) from {result.path} "
        f"({result.read - len(result.added)} already known)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(memory_app, name="memory")
