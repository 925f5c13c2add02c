"""``aether codex install | check | uninstall``: set a project up for the Codex CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from aether.cli.common import JSON_OPTION, execute, lock_timeout, warn, workspace

if TYPE_CHECKING:
    from aether.runtimes.codex.install import CheckResult, InstallResult, UninstallResult

codex_app = typer.Typer(
    help="Codex CLI integration: caste agents, hooks (.codex/hooks.json), and the provider "
    "and hook-trust blocks for config.toml.",
    no_args_is_help=True,
)

_DRY_RUN = typer.Option(False, "--dry-run", help="Show what would change; write nothing.")

_VERBS = {
    "create": "created",
    "update": "updated",
    "remove": "removed",
    "unchanged": "unchanged",
    "kept": "kept (not aether's to change)",
}


@codex_app.command()
def install(
    ctx: typer.Context,
    dry_run: bool = _DRY_RUN,
    force: bool = typer.Option(
        False, "--force", help="Also replace agent files aether did not write (backed up first)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write caste agents to .codex/agents/, merge aether's hooks into .codex/hooks.json (your
    entries kept; a hooks.json that is not valid stops it, nothing written) with their launcher
    .codex/hooks/aether-hook, and print the provider and hook-trust blocks for config.toml.

    aether never writes $CODEX_HOME/config.toml: add the printed block yourself (it names the
    variable holding the proxy key, never the key). Run it again after changing
    .aether/model-profiles.yaml; a second run changes nothing.
    """

    def run() -> InstallResult:
        from aether.runtimes.codex.install import install as install_op

        return install_op(
            workspace(ctx), force=force, dry_run=dry_run, lock_timeout=lock_timeout(ctx)
        )

    result = execute(json_out, run, text=_install_text)
    if not json_out:
        for line in result.warnings:
            warn(line)


def _install_text(result: InstallResult) -> str:
    plan = result.plan
    actions = [f.action for f in plan.files]
    counts = ", ".join(
        f"{actions.count(name)} {verb}" for name, verb in _VERBS.items() if actions.count(name)
    )
    head = "Would write" if result.dry_run else "Codex set up"
    lines = [
        f"{head} for profile {plan.desired.profile_hash}: {counts or 'nothing to do'} "
        "file(s) under .codex/ (agents, hook launcher)."
    ]
    for f in plan.files:
        if f.action != "unchanged":
            lines.append(f"  {f.action:<9} {f.path}" + (f"  ({f.detail})" if f.detail else ""))
    block = result.provider_block
    if block is not None and result.config is not None:
        if result.config.found and not result.config.differences:
            lines.append(f"{result.config.path} already points Codex at the proxy.")
        else:
            lines.append(f"Add this to {result.config.path} (the key stays in the environment):")
            lines += ["", *("  " + line if line else "" for line in block.splitlines()), ""]
            if result.config.found:
                lines += [f"  - {d}" for d in result.config.differences]
    if result.plan.hooks.changed:
        verb = "Would merge" if result.dry_run else "Merged"
        lines.append(f"{verb} aether's hooks into {result.plan.hooks.rel} (yours kept).")
    trust = result.trust
    if trust is not None and trust.untrusted:
        lines.append(
            f"Codex runs a project's hooks only once trusted: add this to {trust.config_path} "
            "(or trust them in Codex's /hooks):"
        )
        lines += ["", *("  " + line if line else "" for line in trust.block.splitlines()), ""]
    elif trust is not None and trust.entries:
        lines.append(f"{trust.config_path} trusts aether's hooks.")
    return "\n".join(lines) + "\n"


@codex_app.command()
def check(ctx: typer.Context, json_out: bool = JSON_OPTION) -> None:
    """Exit 1 and list the differences when the agent files, aether's hooks or
    $CODEX_HOME/config.toml (the provider, the project's and the hooks' trust) no longer match
    the profile."""

    def run() -> CheckResult:
        from aether.runtimes.codex.install import check as check_op

        return check_op(workspace(ctx))

    result = execute(json_out, run, text=_check_text)
    if not result.ok:
        raise typer.Exit(1)


def _check_text(result: CheckResult) -> str:
    if result.ok:
        where = (
            f"; {result.config.path} points Codex at the proxy and trusts aether's hooks"
            if result.config
            else ""
        )
        return f"In sync with profile {result.profile_hash}{where}.\n"
    lines = [f"{len(result.differences)} difference(s) from profile {result.profile_hash}:"]
    lines += [f"  - {d}" for d in result.differences]
    lines.append("Run `aether codex install` to bring the agent files and hooks in line; it prints")
    lines.append("the blocks config.toml needs (the provider, the hooks' trust).")
    return "\n".join(lines) + "\n"


@codex_app.command()
def uninstall(
    ctx: typer.Context,
    dry_run: bool = _DRY_RUN,
    force: bool = typer.Option(
        False, "--force", help="Also remove aether's agent files that someone edited."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Remove the agent files, hooks and launcher aether wrote; your own files and hook entries
    stay as they are (the project byte for byte as before install). config.toml is yours:
    remove the provider and hook-trust blocks yourself."""

    def run() -> UninstallResult:
        from aether.runtimes.codex.install import uninstall as uninstall_op

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
    removed = [f for f in result.files if f.action == "remove"]
    text = f"{head} {len(removed)} file(s) aether wrote.\n"
    if result.hooks is not None:
        verb = "Would take" if result.dry_run else "Took"
        text += f"{verb} aether's hooks out of {result.hooks.rel}.\n"
    return text


def register(app: typer.Typer) -> None:
    app.add_typer(codex_app, name="codex")
