"""``aether claude install | check | uninstall``: set a project up for Claude Code."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, lock_timeout, warn, workspace

if TYPE_CHECKING:
    from aether.runtimes.claude.check import CheckResult
    from aether.runtimes.claude.install import InstallResult, UninstallResult

claude_app = typer.Typer(
    help="Claude Code integration: caste subagents, hooks, proxy alignment.",
    no_args_is_help=True,
)

_DRY_RUN = typer.Option(False, "--dry-run", help="Show what would change; write nothing.")
_FORCE = typer.Option(
    False, "--force", help="Also replace or remove files and values aether did not write."
)


@claude_app.command()
def install(
    ctx: typer.Context,
    dry_run: bool = _DRY_RUN,
    local: bool = typer.Option(
        False,
        "--local",
        help="Write the hooks to .claude/settings.local.json (not shared) and pin this aether "
        "as AETHER_BIN there.",
    ),
    force: bool = _FORCE,
    no_relay: bool = typer.Option(
        False,
        "--no-relay",
        help="Do not add aether's relay to ~/.claude/ (sessions started in a subdirectory "
        "then run aether subagents without aether's hooks).",
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write caste subagents to .claude/agents/ and merge aether's hooks into the settings.

    Also adds aether's relay to ~/.claude/settings.json: Claude Code reads the project's
    settings only in the directory it starts in, and the relay covers sessions started in a
    subdirectory. Run it again after changing .aether/model-profiles.yaml; a second run
    changes nothing.
    """

    def run() -> InstallResult:
        from aether.runtimes.claude.install import install as install_op

        return install_op(
            workspace(ctx),
            local=local,
            force=force,
            dry_run=dry_run,
            relay=not no_relay,
            lock_timeout=lock_timeout(ctx),
        )

    result = execute(json_out, run, text=_install_text)
    if not json_out:
        for line in result.warnings:
            warn(line)


def _count(actions: list[str]) -> str:
    parts = []
    for name in ("create", "update", "remove", "unchanged", "kept"):
        n = actions.count(name)
        if n:
            parts.append(f"{n} {_VERBS[name]}")
    return ", ".join(parts) or "nothing to do"


#: beyond this many changed files the text output summarises (--json lists them all)
LISTED_FILES = 12

_VERBS = {
    "create": "created",
    "update": "updated",
    "remove": "removed",
    "unchanged": "unchanged",
    "kept": "kept (not aether's to change)",
}


def _install_text(result: InstallResult) -> str:
    plan = result.plan
    head = "Would write" if result.dry_run else "Claude Code set up"
    lines = [
        f"{head} for profile {plan.desired.profile_hash}: "
        + _count([f.action for f in plan.files])
        + f" file(s) under .claude/; hooks in {plan.desired.settings_file}."
    ]
    changed = [f for f in plan.files if f.action != "unchanged"]
    shown = changed if len(changed) <= LISTED_FILES else [f for f in changed if f.detail]
    for f in shown:
        lines.append(f"  {f.action:<9} {f.path}" + (f"  ({f.detail})" if f.detail else ""))
    if len(shown) < len(changed):
        others = len(changed) - len(shown)
        lines.append(f"  {'… and ' if shown else ''}{others} file(s): --json lists each")
    for change in plan.settings:
        if change.changed:
            lines.append(f"  settings  {change.rel}")
            if result.dry_run:
                lines += ["    " + d for d in change.diff().rstrip("\n").splitlines()]
    if plan.desired.env:
        values = ", ".join(f"{k}={v}" for k, v in sorted(plan.desired.env.items()))
        lines.append(f"  env: {values}")
    if result.relay is not None:
        state = "changed" if result.relay.changed else "in place"
        lines.append(
            f"  relay     {result.relay.home}/.claude/ ({state}): sessions started in a "
            "subdirectory are routed too"
        )
    if not result.dry_run:
        lines.append(f"Hooks run: {result.hook_runs or 'NO aether found (see the warning)'}")
        if plan.desired.endpoint:
            lines += [
                "Start Claude Code with your proxy key in the environment (never in a file):",
                "  export LITELLM_MASTER_KEY=...   # the key aether verifies with",
                '  export ANTHROPIC_AUTH_TOKEN="$LITELLM_MASTER_KEY"   # the key Claude Code sends',
                "  claude",
                "Claude Code reads .claude/settings.json only in the directory it starts in; to "
                "start it in a subdirectory, also",
                f"  export ANTHROPIC_BASE_URL={plan.desired.endpoint.rstrip('/')}",
            ]
    return "\n".join(lines) + "\n"


@claude_app.command()
def check(ctx: typer.Context, json_out: bool = JSON_OPTION) -> None:
    """Exit 1 and list the differences when the files or hooks no longer match the profile."""

    def run() -> CheckResult:
        from aether.runtimes.claude.check import check as check_op

        return check_op(workspace(ctx))

    result = execute(json_out, run, text=_check_text)
    if not result.ok:
        raise typer.Exit(1)


def _check_text(result: CheckResult) -> str:
    if result.ok:
        return f"In sync with profile {result.profile_hash} (hooks in {result.settings_file}).\n"
    lines = [f"{len(result.differences)} difference(s) from profile {result.profile_hash}:"]
    lines += [f"  - {d}" for d in result.differences]
    lines.append("Run `aether claude install` to bring them in line.")
    return "\n".join(lines) + "\n"


@claude_app.command()
def uninstall(
    ctx: typer.Context,
    dry_run: bool = _DRY_RUN,
    force: bool = typer.Option(
        False, "--force", help="Also remove aether's files that someone edited."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Remove what aether installed; your own files, hooks and settings stay as they are.

    A settings file you have not changed since is restored byte for byte.
    """

    def run() -> UninstallResult:
        from aether.runtimes.claude.install import uninstall as uninstall_op

        return uninstall_op(
            workspace(ctx), force=force, dry_run=dry_run, lock_timeout=lock_timeout(ctx)
        )

    result = execute(json_out, run, text=_uninstall_text)
    if not json_out:
        for f in result.files:
            if f.action == "kept":
                warn(f"{f.path} kept: {f.detail}")


def _uninstall_text(result: UninstallResult) -> str:
    head = "Would remove" if result.dry_run else "Removed"
    removed = [f.path for f in result.files if f.action == "remove"]
    lines = [f"{head} {len(removed)} file(s) aether wrote."]
    for change in result.settings:
        if change.changed:
            how = (
                "deleted (aether created it)"
                if change.after is None
                else "restored byte for byte"
                if change.rel in result.restored
                else "aether's entries removed"
            )
            lines.append(f"  {change.rel}: {how}")
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    app.add_typer(claude_app, name="claude")
