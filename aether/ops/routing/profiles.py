"""Use cases behind ``aether route`` and ``aether profile show|validate|migrate|docs|init``."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aether.errors import CheckFailed, InvalidInput, ProfileInvalid
from aether.records import field, record
from aether.routing.loader import LoadedProfile, load_profile_file
from aether.routing.resolve import RouteRequest, RoutingDecision, check_context_tokens, resolve

if TYPE_CHECKING:
    from aether.routing.loader import Analysis

MAX_TASK_CHARS = 200_000


@record
class RouteResult:
    decision: RoutingDecision
    profile_file: Path
    source_format: str
    profile_warnings: list[str]
    #: what ``spawn`` would try, in order, when ``AETHER_MODEL_1..8`` replace the list (None:
    #: no override set, spawn tries the decision's model then its chain)
    env_order: list[str] | None = None
    #: an ``AETHER_MODEL_n`` problem that would stop ``spawn`` (exit 46)
    env_problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            **self.decision.to_json(),
            "profile_file": str(self.profile_file),
            "profile_format": self.source_format,
            "profile_warnings": self.profile_warnings,
            "env_override": {"models": self.env_order, "problem": self.env_problem},
        }


def load(path: Path, cache_dir: Path | None) -> LoadedProfile:
    return load_profile_file(path, cache_dir)


def route_task(
    path: Path,
    cache_dir: Path | None,
    request: RouteRequest,
) -> RouteResult:
    if request.task is not None and len(request.task) > MAX_TASK_CHARS:
        raise InvalidInput(
            f"the task text is {len(request.task)} characters (limit {MAX_TASK_CHARS})",
            fix="describe the task; pass sizes with --context-tokens",
        )
    check_context_tokens(request.context_tokens)
    loaded = load(path, cache_dir)
    decision = resolve(loaded.table, request)
    result = RouteResult(decision, path, loaded.source_format, loaded.warnings)
    # spawn applies AETHER_MODEL_1..8 after resolution; say so, or the explanation is wrong
    from aether.errors import BadModelOverride
    from aether.routing.fallback import candidates

    try:
        cands = candidates(loaded.table, decision, context_tokens=decision.context_tokens)
    except BadModelOverride as exc:
        result.env_problem = exc.one_line()
    else:
        if cands.source == "environment":
            result.env_order = list(cands.models)
    return result


@record
class ShowResult:
    loaded: LoadedProfile
    rows: list[RoutingDecision]

    def to_json(self) -> dict[str, Any]:
        t = self.loaded.table
        return {
            "ok": True,
            "profile_file": str(self.loaded.path),
            "profile_format": self.loaded.source_format,
            "profile_hash": t.profile_hash,
            "strict": t.strict,
            "default_model": t.default_model,
            "proxy": {"endpoint": t.proxy.endpoint, "from": t.proxy.endpoint_source},
            "castes": [
                {"caste": d.caste, "model": d.model, "chain": list(d.chain), "source": d.source}
                for d in self.rows
            ],
            "models": {n: m.to_json() for n, m in t.models.items()},
            "task_routing": {
                "enabled": t.task_routing_enabled,
                "groups": [
                    {
                        "name": g.name,
                        "keywords": list(g.keywords),
                        "model": g.model,
                        "castes": list(g.castes),
                        "priority": g.priority,
                    }
                    for g in t.groups
                ],
            },
            "scoring_enabled": t.scoring.enabled,
            "warnings": self.loaded.warnings,
        }


def show_profile(path: Path, cache_dir: Path | None) -> ShowResult:
    loaded = load(path, cache_dir)
    rows = [resolve(loaded.table, RouteRequest(caste=c)) for c in sorted(loaded.table.castes)]
    return ShowResult(loaded, rows)


@record
class ValidateResult:
    analysis: Analysis
    profile_hash: str | None

    @property
    def ok(self) -> bool:
        return not self.analysis.errors

    def to_json(self) -> dict[str, Any]:
        a = self.analysis
        return {
            "ok": self.ok,
            "profile_file": str(a.path),
            "profile_format": a.source_format,
            "profile_hash": self.profile_hash,
            "errors": [f.to_json() for f in a.errors],
            "warnings": [f.to_json() for f in a.warnings],
        }


def validate_profile(path: Path) -> ValidateResult:
    from aether.routing.loader import analyse_file
    from aether.routing.table import compile_table

    analysis = analyse_file(path)
    digest = None
    if analysis.dump is not None and not analysis.errors:
        digest = compile_table(analysis.dump).profile_hash
    return ValidateResult(analysis, digest)


@record
class ProfileMigrateResult:
    path: Path
    source_format: str
    backup: Path | None
    written: bool
    dry_run: bool
    profile_hash: str
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "profile_file": str(self.path),
            "from_format": self.source_format,
            "to_format": "2",
            "backup": str(self.backup) if self.backup else None,
            "written": self.written,
            "dry_run": self.dry_run,
            "profile_hash": self.profile_hash,
            "notes": self.notes,
            "warnings": self.warnings,
        }


def _converted_header(
    source_format: str, now: str, backup: Path, notes: list[str], warnings: list[str]
) -> list[str]:
    """The comment at the top of a converted profile: from what, when, and what changed."""
    header = [
        "aether model profile (current format), converted from the old tool's "
        f"{source_format} format",
        f"by `aether profile migrate` at {now}; the original is kept at {backup.name}.",
        "See docs/routing.md for the format.",
        "",
        "What changed:",
        *[f"  - {n}" for n in notes],
        "  - underscore caste names (route_setter) are written with hyphens (route-setter);",
        "    both spellings keep working",
    ]
    if warnings:
        header += ["", "Warnings:", *[f"  - {w}" for w in warnings]]
    return header


def migrate_profile(path: Path, *, dry_run: bool, now: str) -> ProfileMigrateResult:
    """Convert an old-format profile to the current one: backup, atomic write, same meaning."""
    from aether.files import atomic_write_bytes, atomic_write_text
    from aether.routing.legacy import from_v1
    from aether.routing.loader import analyse_data
    from aether.routing.profile_yaml import render_profile_yaml
    from aether.routing.yamlsafe import parse_profile_yaml, read_profile_bytes

    raw = read_profile_bytes(path)
    data = parse_profile_yaml(raw, path)
    before = analyse_data(data, path)
    if before.source_format == "2":
        return _already_current(path, before, dry_run)
    before_dump = _convertible_dump(path, before)
    conv = from_v1(data)
    stamp = now.replace(":", "").replace("-", "")
    backup = path.with_name(f"{path.name}.{before.source_format}-{stamp}.bak")
    header = _converted_header(before.source_format, now, backup, conv.notes, conv.warnings)
    text = render_profile_yaml(conv.data, header)
    old_hash = _same_routing_hash(path, before_dump, text)
    if not dry_run:
        with _colony_lock(path):
            atomic_write_bytes(backup, raw, mode=0o600)
            atomic_write_text(path, text)
    return ProfileMigrateResult(
        path,
        before.source_format,
        None if dry_run else backup,
        not dry_run,
        dry_run,
        old_hash,
        conv.notes,
        conv.warnings,
        text,
    )


def _already_current(path: Path, before: Analysis, dry_run: bool) -> ProfileMigrateResult:
    """A profile in the current format: nothing to convert, unless it is invalid."""
    from aether.routing.table import compile_table

    if before.errors:
        raise ProfileInvalid(
            f"{path}: {before.errors[0].line()}",
            fix="run `aether profile validate` and fix the file",
        )
    assert before.dump is not None
    return ProfileMigrateResult(
        path, "2", None, False, dry_run, compile_table(before.dump).profile_hash
    )


def _convertible_dump(path: Path, before: Analysis) -> dict[str, Any]:
    """The old profile's validated dump, or why it cannot be converted."""
    if before.errors or before.dump is None:
        raise ProfileInvalid(
            f"{path}: {before.errors[0].line() if before.errors else 'cannot be converted'}",
            meaning="the old profile does not convert into a valid one; nothing was written",
            fix="fix the old file (run `aether profile validate` to list every problem)",
        )
    return before.dump


def _same_routing_hash(path: Path, before_dump: dict[str, Any], text: str) -> str:
    """The profile hash the converted ``text`` shares with the original; a converted profile
    that would route differently is refused."""
    from aether.routing.loader import analyse_data
    from aether.routing.table import compile_table
    from aether.routing.yamlsafe import parse_profile_yaml

    after = analyse_data(parse_profile_yaml(text.encode("utf-8"), path), path)
    old_hash = compile_table(before_dump).profile_hash
    if after.errors or after.dump is None or compile_table(after.dump).profile_hash != old_hash:
        raise ProfileInvalid(
            f"{path}: the converted profile would route differently from the original",
            meaning="this is a bug in aether; nothing was written",
            fix="report it with the profile attached (remove secrets first)",
        )
    return old_hash


@record
class DocsResult:
    output: Path
    changed: bool
    check: bool
    profile_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "output": str(self.output),
            "changed": self.changed,
            "check": self.check,
            "profile_hash": self.profile_hash,
        }


def default_profile_loaded() -> LoadedProfile:
    from aether.routing.loader import analyse_data
    from aether.routing.table import compile_table
    from aether.routing.yamlsafe import parse_profile_yaml

    packaged = Path(__file__).resolve().parents[2] / "routing" / "default-profile.yaml"
    analysis = analyse_data(parse_profile_yaml(packaged.read_bytes(), packaged), packaged)
    assert analysis.dump is not None and not analysis.errors, analysis.findings
    return LoadedProfile(packaged, analysis.dump, compile_table(analysis.dump), "2")


def render_docs(loaded: LoadedProfile, source: str) -> str:
    from aether.routing.docs import render_workers_md

    return render_workers_md(loaded.dump, loaded.table, source)


def write_docs(loaded: LoadedProfile, source: str, output: Path, *, check: bool) -> DocsResult:
    from aether.bounded_read import read_regular
    from aether.files import atomic_write_text

    text = render_docs(loaded, source)
    try:
        current = read_regular(output).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        current = None
    changed = current != text
    if check:
        if changed:
            raise CheckFailed(
                f"{output} does not match the profile",
                fix="run `aether profile docs` to regenerate it",
            )
    elif changed:
        output.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(output, text)
    return DocsResult(output, changed, check, loaded.table.profile_hash)


@record
class InitProfileResult:
    path: Path
    backup: Path | None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "profile_file": str(self.path),
            "backup": str(self.backup) if self.backup else None,
        }


def init_profile(
    path: Path, *, force: bool, now: str, proxy_url: str | None = None
) -> InitProfileResult:
    """Write the default profile (``proxy_url``: its ``proxy.endpoint``), backing up a file
    that is there when ``force`` says so; without it, an existing file is refused (exit 11,
    as ``aether init`` refuses an existing colony)."""
    from aether.bounded_read import read_regular
    from aether.errors import ColonyExists
    from aether.files import atomic_write_bytes, atomic_write_text, os_error
    from aether.routing.defaults import default_profile_text

    text = default_profile_text(proxy_url)
    backup = None
    if path.exists() and not force:
        raise ColonyExists(
            f"{path} already exists",
            meaning="profile init would replace it",
            fix="pass --force to replace it (the current file is backed up first)",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with _colony_lock(path):
        if path.exists():
            backup = path.with_name(f"{path.name}.{now.replace(':', '').replace('-', '')}.bak")
            try:
                current = read_regular(path)
            except OSError as exc:
                raise os_error(exc, path, "backing up") from None
            atomic_write_bytes(backup, current, mode=0o600)
        atomic_write_text(path, text)
    return InitProfileResult(path, backup)


def _colony_lock(path: Path) -> AbstractContextManager[object]:
    """The colony lock when ``path`` is a colony's profile: every write in .aether/ holds it
    (the store sweeps temp files there under the same lock)."""
    from contextlib import nullcontext

    from aether.state.store import Store
    from aether.workspace import AETHER_DIRNAME, Workspace

    resolved = path.resolve()
    if resolved.parent.name == AETHER_DIRNAME and (resolved.parent / "data").is_dir():
        return Store(Workspace(resolved.parent.parent)).lock()
    return nullcontext()
