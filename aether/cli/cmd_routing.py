"""``aether route`` and the ``aether profile`` group (show, validate, migrate, docs, init)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from aether.cli.common import JSON_OPTION, JsonResult, execute, warn, workspace

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.routing.profiles import (
        DocsResult,
        InitProfileResult,
        ProfileMigrateResult,
        RouteResult,
        ShowResult,
        ValidateResult,
    )

T = TypeVar("T", bound=JsonResult)

profile_app = typer.Typer(
    name="profile",
    help="Show, check, convert and document the model profile (.aether/model-profiles.yaml).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

PATH_ARGUMENT = typer.Argument(
    None,
    help="A profile file (default: the colony's .aether/model-profiles.yaml).",
    metavar="[PATH]",
)
DEFAULT_OPTION = typer.Option(False, "--default", help="Use aether's packaged default profile.")


def _source(ctx: typer.Context, path: str | None, use_default: bool) -> tuple[Path, Path | None]:
    """(profile file, cache dir): a given path is read uncached, the colony's is cached."""
    if use_default:
        return Path(__file__).resolve().parent.parent / "routing" / "default-profile.yaml", None
    if path:
        return Path(path).expanduser(), None
    ws = workspace(ctx)
    return ws.profile_file, ws.cache_dir


def _now() -> str:
    from aether.timeutil import iso

    return iso()


# --- route ---------------------------------------------------------------------------------------


def route(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="The task text a worker would be given."),
    caste: str = typer.Option("builder", "--caste", "-c", help="The worker's caste."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Ask for this model (an unknown model is an error)."
    ),
    context_tokens: int | None = typer.Option(
        None, "--context-tokens", min=1, help="Context size (default: estimated from the task)."
    ),
    tools: str = typer.Option("", "--tools", help="Comma-separated tools the task needs."),
    pinned: str | None = typer.Option(
        None, "--pinned", help="The model this task already ran on (as resume would pass it)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Explain which model a worker would get for TASK, and why (nothing is spawned)."""

    def run() -> RouteResult:
        from aether.ops.routing.profiles import route_task
        from aether.routing.resolve import RouteRequest

        path, cache = _source(ctx, None, False)
        request = RouteRequest(
            caste=caste,
            task=task,
            model=model,
            pinned_model=pinned,
            context_tokens=context_tokens,
            tools=tuple(t.strip() for t in tools.split(",") if t.strip()),
        )
        return route_task(path, cache, request)

    result = execute(json_out, run, text=_render_route)
    if not json_out:
        for w in result.profile_warnings:
            warn(w)


def _render_route(result: RouteResult) -> str:
    d = result.decision
    out = [f"{d.caste} -> {d.model}   ({d.source})", f"  why:      {d.reason}"]
    if d.matched_keywords:
        out.append(f"  keywords: {', '.join(d.matched_keywords)} (group {d.matched_group})")
    out.append(f"  chain:    {' -> '.join(d.chain) if d.chain else '(none)'}")
    for m, why in d.skipped:
        out.append(f"  skipped:  {m}: {why}")
    if d.context_tokens is not None:
        est = " (estimated from the task text)" if d.context_estimated else ""
        out.append(f"  context:  {d.context_tokens} tokens{est}")
    if d.score_detail is not None:
        s = d.score_detail
        out.append("  intent scores (length + complexity + context + tools = total):")
        for name in sorted(s.scores, key=lambda n: (-s.scores[n], n)):
            f = s.factors[name]
            mark = " <- highest" if name == s.winner else ""
            out.append(
                f"    {name:<28} {f['length']:>3} + {f['complexity']:>3} + {f['context']:>3} + "
                f"{f['tools']:>3} = {s.scores[name]:>3}{mark}"
            )
    if result.env_order is not None:
        out.append(f"  spawn:    tries {' -> '.join(result.env_order)} (set by AETHER_MODEL_n)")
    if result.env_problem is not None:
        out.append(f"  warning:  spawn would stop (exit 46): {result.env_problem}")
    for w in d.warnings:
        out.append(f"  warning:  {w}")
    out.append(f"  profile:  {d.profile_hash} ({result.profile_file})")
    return "\n".join(out) + "\n"


# --- profile ---------------------------------------------------------------------------------


@profile_app.command("show")
def profile_show(
    ctx: typer.Context,
    path: str | None = PATH_ARGUMENT,
    use_default: bool = DEFAULT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Every caste with its model, fallback chain and where the choice comes from."""

    def run() -> ShowResult:
        from aether.ops.routing.profiles import show_profile

        return show_profile(*_source(ctx, path, use_default))

    result = execute(json_out, run, _render_show)
    if not json_out:
        for w in result.loaded.warnings:
            warn(w)


def _render_show(result: ShowResult, console: Console) -> None:
    from aether.cli.plain import TextTable

    t = result.loaded.table
    console.print(
        f"{result.loaded.path}  (format {result.loaded.source_format}, "
        f"{'strict' if t.strict else 'lenient'}, hash {t.profile_hash})",
        markup=False,
    )
    standalone = "; standalone: spawns are not verified" if t.proxy.standalone else ""
    console.print(
        f"proxy: {t.proxy.endpoint} (from {t.proxy.endpoint_source}){standalone}", markup=False
    )
    table = TextTable("caste", "model", "fallback chain", "source", title="castes")
    for d in result.rows:
        table.add_row(d.caste, d.model, " -> ".join(d.chain) or "-", d.source)
    console.print(table)
    models = TextTable(
        "model", "provider", "window", "capabilities", "speed", "cost", "aliases", title="models"
    )
    for n, m in t.models.items():
        models.add_row(
            n,
            m.provider,
            str(m.context_window),
            ", ".join(m.capabilities),
            str(m.speed),
            str(m.cost),
            ", ".join(m.aliases),
        )
    console.print(models)
    if t.task_routing_enabled and t.groups:
        for g in t.groups:
            scope = ", ".join(g.castes) or "all castes"
            console.print(
                f"task routing {g.name}: {', '.join(g.keywords)} -> {g.model} ({scope})",
                markup=False,
            )


@profile_app.command("validate")
def profile_validate(
    ctx: typer.Context,
    path: str | None = PATH_ARGUMENT,
    use_default: bool = DEFAULT_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Check the profile; list every problem as `location: message`. Exits 42 on errors."""

    def run() -> ValidateResult:
        from aether.ops.routing.profiles import validate_profile

        return validate_profile(_source(ctx, path, use_default)[0])

    result = execute(json_out, run, text=_render_validate)
    if not result.ok:
        from aether.errors import ProfileInvalid

        if not json_out:
            sys.stderr.write(
                f"aether: error: {result.analysis.path}: {len(result.analysis.errors)} "
                "problem(s); the profile is not usable.\n"
            )
        raise typer.Exit(ProfileInvalid.exit_code)


def _render_validate(result: ValidateResult) -> str:
    a = result.analysis
    out = [f"{a.path} (format {a.source_format})"]
    out += [f"  error:   {f.line()}" for f in a.errors]
    out += [f"  warning: {f.line()}" for f in a.warnings]
    if result.ok:
        out.append(f"OK: profile hash {result.profile_hash}")
    return "\n".join(out) + "\n"


@profile_app.command("migrate")
def profile_migrate(
    ctx: typer.Context,
    path: str | None = PATH_ARGUMENT,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the new file; write nothing."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Convert an old-format profile (v1, v2-slots) to the current one, keeping a backup."""

    def run() -> ProfileMigrateResult:
        from aether.ops.routing.profiles import migrate_profile

        return migrate_profile(_source(ctx, path, False)[0], dry_run=dry_run, now=_now())

    execute(json_out, run, text=_render_migrate)


def _render_migrate(result: ProfileMigrateResult) -> str:
    if result.source_format == "2":
        return f"{result.path} is already in the current format; nothing to do.\n"
    if result.dry_run:
        return result.text
    out = [
        f"Converted {result.path} from {result.source_format} to the current format.",
        f"  backup: {result.backup}",
        f"  profile hash (unchanged): {result.profile_hash}",
    ]
    out += [f"  note: {n}" for n in result.notes]
    out += [f"  warning: {w}" for w in result.warnings]
    return "\n".join(out) + "\n"


@profile_app.command("docs")
def profile_docs(
    ctx: typer.Context,
    path: str | None = PATH_ARGUMENT,
    use_default: bool = DEFAULT_OPTION,
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Where to write (default: docs/workers.md in the colony's project directory, or "
        "here when there is no colony).",
    ),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 when the file differs from the profile."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write docs/workers.md (castes, models, task routing) generated from the profile."""

    def run() -> DocsResult:
        from aether.ops.routing.profiles import default_profile_loaded, load, write_docs

        if use_default:
            loaded, source = default_profile_loaded(), "aether's packaged default profile"
        else:
            file, cache = _source(ctx, path, False)
            loaded, source = load(file, cache), f"`{file.name}`"
        return write_docs(loaded, source, _docs_output(ctx, output), check=check)

    execute(json_out, run, text=_render_docs)


def _docs_output(ctx: typer.Context, output: str | None) -> Path:
    """``--output`` as given (relative to where the user is), else the project's
    docs/workers.md: run from a subdirectory, it must not write a second docs/ there."""
    from aether.errors import NoColony

    if output is not None:
        return Path(output).expanduser()
    try:
        return workspace(ctx).project / "docs" / "workers.md"
    except NoColony:
        return Path("docs") / "workers.md"


def _render_docs(result: DocsResult) -> str:
    if result.check:
        return f"{result.output} is up to date.\n"
    verb = "wrote" if result.changed else "unchanged:"
    return f"{verb} {result.output} (profile {result.profile_hash})\n"


@profile_app.command("init")
def profile_init(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Replace the profile (backed up first)."),
    proxy_url: str | None = typer.Option(
        None,
        "--proxy",
        metavar="URL",
        help="The LiteLLM proxy's URL, written as proxy.endpoint (default http://127.0.0.1:4000; "
        "AETHER_PROXY_URL overrides it at run time).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write aether's documented default profile to .aether/model-profiles.yaml."""

    def run() -> InitProfileResult:
        from aether.ops.routing.profiles import init_profile

        return init_profile(
            workspace(ctx).profile_file, force=force, now=_now(), proxy_url=proxy_url
        )

    execute(json_out, run, text=_render_init)


def _render_init(result: InitProfileResult) -> str:
    extra = f" (previous file backed up to {result.backup})" if result.backup else ""
    return f"wrote the default profile to {result.path}{extra}\n"


def register(app: typer.Typer) -> None:
    app.command()(route)
    app.add_typer(profile_app, name="profile")
