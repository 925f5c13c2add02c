"""``aether pause``, ``aether resume`` and ``aether doctor``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, lock_timeout, warn, workspace
from aether.cli.plain import escape_markup, styled

if TYPE_CHECKING:
    from rich.console import Console

    from aether.ops.doctor.report import DoctorResult
    from aether.ops.session.pause import PauseResult
    from aether.ops.session.resume import ResumeResult


def pause(
    ctx: typer.Context,
    note: str | None = typer.Option(
        None, "--note", help="What was happening, for whoever resumes (goes into HANDOFF.md)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """End the session: mark the colony paused and write .aether/HANDOFF.md."""

    def run() -> PauseResult:
        from aether.ops.session.pause import pause as pause_op

        return pause_op(workspace(ctx), note=note, lock_timeout=lock_timeout(ctx))

    execute(json_out, run, _render_pause)


def _render_pause(result: PauseResult, console: Console) -> None:
    s = result.state
    if result.already_paused:
        console.print(f"Already paused since {s.session.paused_at}; handoff refreshed.")
    else:
        console.print(f"Paused session {s.session.id} at {s.session.paused_at}.")
    console.print(f"Handoff: {result.handoff}", markup=False, soft_wrap=True)
    if s.session.profile_hash_at_pause:
        console.print(
            f"Profile {s.session.profile_hash_at_pause}: "
            f"{len(s.session.caste_models_at_pause)} castes recorded."
        )
    from aether.state.model import FINISHED_WORKER_STATUSES

    in_flight = [
        w for w in s.workers if w.status not in FINISHED_WORKER_STATUSES and not w.is_main_session
    ]
    if in_flight:
        unverified = sum(1 for w in in_flight if not w.verified)
        console.print(
            f"{len(in_flight)} worker(s) in flight"
            + (f", [yellow]{unverified} UNVERIFIED (--no-proxy)[/yellow]" if unverified else "")
            + "; listed in the handoff."
        )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape_markup(warning)}")
    console.print("Next session: aether resume", markup=False)


def resume(
    ctx: typer.Context,
    respawn: bool = typer.Option(
        False,
        "--respawn",
        help="Spawn a replacement for every lost or never-started worker, on its pinned model.",
    ),
    adopt_profile: bool = typer.Option(
        False,
        "--adopt-profile",
        help="When the profile changed since pause, re-pin unfinished workers of the affected "
        "castes to the model the profile gives now (default: they keep their pinned model).",
    ),
    no_proxy: bool = typer.Option(
        False, "--no-proxy", help="Respawn without proxy verification (recorded as unverified)."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Resume a colony that was not paused (the previous session died without "
        "`aether pause`): unfinished workers silent for longer than the heartbeat limit "
        "become orphans; the others may still be running and are left alone.",
    ),
    ignore_handoff: bool = typer.Option(
        False,
        "--ignore-handoff",
        help="Resume even if HANDOFF.md belongs to another colony (it is moved to "
        "handoff-history/, not deleted).",
    ),
    heartbeat_limit: int | None = typer.Option(
        None,
        "--heartbeat-limit",
        metavar="SECONDS",
        envvar="AETHER_HEARTBEAT_LIMIT",
        help="A running worker whose last heartbeat is older than this is marked lost "
        "(default: the colony's settings.heartbeat_limit_s, 3600).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Start a new session: check the handoff, profile and git drift, mark orphaned workers."""

    def run() -> ResumeResult:
        from aether.ops.session.resume import resume as resume_op

        return resume_op(
            workspace(ctx),
            adopt_profile=adopt_profile,
            respawn=respawn,
            no_proxy=no_proxy,
            force=force,
            ignore_handoff=ignore_handoff,
            heartbeat_limit_s=heartbeat_limit,
            lock_timeout=lock_timeout(ctx),
        )

    result = execute(json_out, run, _render_resume)
    if json_out and result.handoff_problem:
        # stdout holds the JSON object; a damaged handoff must still be visible to a person
        warn(f"HANDOFF.md was unreadable ({result.handoff_problem}); resumed from the state")
    _exit_if_a_respawn_failed(result)


def _exit_if_a_respawn_failed(result: ResumeResult) -> None:
    """The session resumed either way; a failed ``--respawn`` still makes the exit code say so
    (the first failure's)."""
    failed = [r for r in result.respawned if r.error is not None]
    if failed:
        import sys

        first = failed[0].error
        assert first is not None
        sys.stderr.write(
            f"aether: error: {len(failed)} respawn(s) failed; first: {first.one_line()}\n"
        )
        raise typer.Exit(first.exit_code)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _render_resume(result: ResumeResult, console: Console) -> None:
    escape = escape_markup
    s = result.state
    prev = result.previous_session
    phase = "-" if s.current_phase is None else str(s.current_phase)
    in_flight = [w for w in s.workers if w.status in ("spawned", "running")]
    lines = [
        styled("bold", s.goal),
        f"phase: {escape(phase)} of {len(s.plan.phases)}   workers in flight: {len(in_flight)}"
        f"   orphans: {len(result.orphans)}",
        f"paused: {prev.paused_at or 'never (resumed with --force)'}"
        f"   handoff age: {_age(result.handoff_age_s)}",
        f"note: {escape(prev.note or '-')}",
    ]
    title = f"resuming {escape(s.colony_id)}"
    if console.is_terminal:
        from rich.panel import Panel

        console.print(Panel("\n".join(lines), title=title, expand=False))
    else:  # piped: the same facts as plain lines, without paying for Rich
        console.print(f"== {title} ==")
        for line in lines:
            console.print(f"  {line}")
    styles = {"ok": "green", "info": "cyan", "warning": "yellow"}
    for c in result.checks:
        style = styles.get(c["level"], "white")
        console.print(f"[{style}]{c['level']:>7}[/{style}] {c['check']}: {escape(c['message'])}")
    if result.drift:
        console.print("castes routed differently since pause (caste: at pause -> now):")
        for d in result.drift:
            console.print(f"  {d.caste}: {d.at_pause or '-'} -> {d.now or '-'}", markup=False)
        if result.pinned_workers:
            verb = "re-pinned to the profile" if result.adopted else "keep their pinned model"
            console.print(
                f"{len(result.pinned_workers)} unfinished worker(s) {verb}"
                + ("" if result.adopted else " (--adopt-profile re-pins)")
            )
    for o in result.orphans:
        console.print(
            f"  [yellow]{o.status}[/yellow] {o.id} ({o.caste} on {o.model}): {escape(o.reason)}"
        )
    _render_respawned(result, console)
    if result.pending and not result.respawned:
        console.print(
            f"{len(result.pending)} worker(s) await a replacement: "
            "aether resume --respawn, or aether worker respawn ID",
            markup=False,
        )
    if result.handoff_moved_to:
        console.print(f"handoff kept as {result.handoff_moved_to}", markup=False, soft_wrap=True)
    console.print(f"Session {s.session.id} started; colony active.")


def _render_respawned(result: ResumeResult, console: Console) -> None:
    for r in result.respawned:
        if r.handed_back:
            console.print(
                f"  {r.lost_id} ({r.caste}) handed back: the next Claude Code session re-runs it",
                markup=False,
            )
        elif r.worker is not None:
            console.print(
                f"  respawned {r.lost_id} → {r.worker.get('id')} on {r.worker.get('model')}"
            )
        elif r.error is not None:
            console.print(
                f"  [red]respawn of {r.lost_id} failed:[/red] {escape_markup(r.error.one_line())}"
            )


def doctor(
    ctx: typer.Context,
    no_proxy: bool = typer.Option(False, "--no-proxy", help="Skip the proxy readiness check."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Check the colony's health: state size, counts, lock, temp files, profile, proxy.

    Exits 1 when a check fails (warnings alone exit 0).
    """

    def run() -> DoctorResult:
        from aether.ops.doctor.report import run_doctor
        from aether.runtimes.registry import doctor_checks

        return run_doctor(workspace(ctx), check_proxy=not no_proxy, runtime_checks=doctor_checks)

    result = execute(json_out, run, _render_doctor)
    if not result.ok:
        raise typer.Exit(1)


def _render_doctor(result: DoctorResult, console: Console) -> None:
    escape = escape_markup
    marks = {
        "ok": "[green]ok[/green]",
        "warning": "[yellow]warn[/yellow]",
        "fail": "[red]FAIL[/red]",
        "skipped": "[dim]skip[/dim]",
        "info": "[cyan]info[/cyan]",
    }
    for c in result.checks:
        console.print(f"{marks.get(c.level, c.level):>6} {c.name}: {escape(c.message)}")
    console.print("healthy" if result.ok else "[red]problems found[/red]")


def register(app: typer.Typer) -> None:
    app.command()(pause)
    app.command()(resume)
    app.command()(doctor)
