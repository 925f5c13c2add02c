"""The project's Codex files as they are, and as the profile calls for them (reading only).

``desired``: every ``.codex/agents/aether-*.toml`` ``aether codex install`` would write, and the
provider block it asks for in ``$CODEX_HOME/config.toml``; ``plan_install``: what install would
change (the same ``FileAction`` rules as Claude Code's files: aether's own files are replaced,
an edited or foreign one is kept unless ``--force``). ``aether.runtimes.codex.install`` writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aether.bounded_read import read_regular
from aether.errors import RuntimeNotInstalled, RuntimeSettingsInvalid
from aether.json_text import loads_strict
from aether.ops.runtime_files import FileAction, file_action, read_text_file, refuse_credentials_in
from aether.records import field, record
from aether.runtimes.codex import agents as cx
from aether.runtimes.codex import launcher
from aether.runtimes.codex.config import ProviderWanted, base_url
from aether.runtimes.codex.hooks import LAUNCHER
from aether.runtimes.codex.hooks_file import HooksChange, plan_hooks
from aether.runtimes.marker import ownership
from aether.timeutil import iso
from aether.workspace import Workspace

#: the directories install writes into, deepest last; uninstall removes those it created
CODEX_DIRS = (".codex", cx.AGENTS_DIR, ".codex/hooks")
MANIFEST_FORMAT = 1


def manifest_path(ws: Workspace) -> Path:
    return ws.root / "codex-install.json"


def backups_dir(ws: Workspace) -> Path:
    return ws.backups_dir / "codex"


def directories(ws: Workspace) -> tuple[Path, ...]:
    """Every directory install and uninstall write into: none may be a link, and a killed
    run's temp files are swept from them."""
    return (*(ws.project / rel for rel in CODEX_DIRS), backups_dir(ws))


@record
class Desired:
    profile_hash: str
    files: dict[str, str]  # project-relative path -> content
    #: what config.toml should hold; None when the profile runs without a proxy (standalone)
    provider: ProviderWanted | None


def desired(ws: Workspace) -> Desired:
    from aether.routing.loader import load_profile_file
    from aether.runtimes.definitions import caste_model, definitions

    table = load_profile_file(ws.profile_file, ws.cache_dir).table
    files = {
        f"{cx.AGENTS_DIR}/{cx.filename(d)}": cx.render(d, table.profile_hash)
        for d in definitions(table)
    }
    files[LAUNCHER] = launcher.render()
    proxy = table.proxy
    provider = None
    if not proxy.standalone:
        where = "in Codex's config.toml as the provider's base_url (install prints it)"
        refuse_credentials_in(proxy.endpoint, proxy.endpoint_source, where=where)
        queen = caste_model(table, "queen") if "queen" in table.castes else None
        provider = ProviderWanted(base_url(proxy.endpoint), proxy.key_env, str(ws.project), queen)
    return Desired(table.profile_hash, files, provider)


# --- reading what is there ---------------------------------------------------------------------


def owned_agent_files(ws: Workspace) -> dict[str, str]:
    """Every ``aether-*.toml`` under .codex/agents, and the hook launcher, that carries
    aether's marker -> its text."""
    directory = ws.project / cx.AGENTS_DIR
    found: dict[str, str] = {}
    text = read_text_file(ws.project / LAUNCHER)
    if text is not None and ownership(text).owner != "user":
        found[LAUNCHER] = text
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob(f"aether-*{cx.SUFFIX}")):
        text = read_text_file(path)
        if text is not None and ownership(text).owner != "user":
            found[f"{cx.AGENTS_DIR}/{path.name}"] = text
    return found


def read_manifest(ws: Workspace) -> dict[str, Any]:
    try:
        data = loads_strict(read_regular(manifest_path(ws)).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else {}


def require_installed(ws: Workspace) -> None:
    if not read_manifest(ws) and not owned_agent_files(ws):
        raise RuntimeNotInstalled(
            f"aether's Codex integration is not installed in {ws.project}",
            fix="run `aether codex install`",
        )


# --- the plan ----------------------------------------------------------------------------------


@record
class Plan:
    desired: Desired
    files: list[FileAction]
    manifest: dict[str, Any]
    #: .codex/hooks.json, aether's entries merged in
    hooks: HooksChange
    #: "<path>: not valid TOML (…)" for each agent file in the way that Codex could not read
    malformed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.hooks.changed or any(
            f.action in ("create", "update", "remove") for f in self.files
        )


def plan_install(ws: Workspace, *, force: bool) -> Plan:
    want = desired(ws)
    current = {rel: read_text_file(ws.project / rel) for rel in want.files}
    owned = owned_agent_files(ws)
    files = [file_action(rel, current[rel], text, force) for rel, text in want.files.items()]
    files += [
        file_action(rel, text, None, force) for rel, text in owned.items() if rel not in want.files
    ]
    malformed = [
        f"{rel}: {problem}"
        for rel, text in {**current, **owned}.items()
        if rel.endswith(cx.SUFFIX)
        and text is not None
        and (problem := cx.toml_problem(text)) is not None
    ]
    old = read_manifest(ws)
    hooks = plan_hooks(ws)  # a hooks.json Codex could not read stops here
    manifest = {
        "format": MANIFEST_FORMAT,
        "profile_hash": want.profile_hash,
        "created_dirs": old.get(
            "created_dirs", [d for d in CODEX_DIRS if not (ws.project / d).exists()]
        ),
        "created_hooks": old.get("created_hooks", hooks.before is None),
        "hooks_backup": old.get("hooks_backup"),
        "installed_at": old.get("installed_at") or iso(),
    }
    return Plan(want, files, manifest, hooks, malformed)


def refuse_malformed(plan: Plan) -> None:
    """An agent file in aether's way that is not valid TOML stops install (nothing written):
    Codex could not read it, and aether will not guess whose it is. ``--force`` replaces it
    (a backup is kept)."""
    if plan.malformed:
        raise RuntimeSettingsInvalid(
            plan.malformed[0],
            meaning="aether does not replace or keep beside its own an agent file Codex cannot "
            "read; nothing was written",
            fix="fix or remove the file, or run `aether codex install --force` to replace it "
            "(the old one is backed up)",
        )
