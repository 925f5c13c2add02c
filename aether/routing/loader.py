"""Loading a profile file: cache first, then YAML -> (legacy conversion) -> Pydantic -> checks.

* ``load_profile_file`` — what routing needs (route, spawn, pause/resume): the validated dump
  and the compiled ``RoutingTable``. On a cache hit it imports neither yaml nor the Pydantic
  profile models (see ``aether.routing.cache``).

``analyse_file`` is what ``aether profile validate`` uses: every finding, not just the first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aether.errors import ProfileInvalid
from aether.records import field, record, replace
from aether.routing.cache import cache_key, read_cache, write_cache
from aether.routing.table import RoutingTable, compile_table

if TYPE_CHECKING:
    from pydantic import ValidationError

    from aether.routing.profile import Finding, Profile
    from aether.workspace import Workspace


@record
class LoadedProfile:
    path: Path
    dump: dict[str, Any]
    table: RoutingTable
    source_format: str  # "2" | "v1" | "v2-slots"
    warnings: list[str] = field(default_factory=list)
    from_cache: bool = False

    def profile(self) -> Profile:
        from aether.routing.profile import Profile

        return Profile.model_validate(self.dump)

    @property
    def profile_hash(self) -> str:
        return self.table.profile_hash


@record
class Analysis:
    """Everything ``profile validate`` reports about one file."""

    path: Path
    source_format: str
    findings: list[Finding]
    dump: dict[str, Any] | None
    uses_env: bool = False
    legacy_notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


def _format_of(data: dict[str, Any], path: Path) -> str:
    from aether.routing.legacy import detect_format

    kind = detect_format(data)
    if kind == "current":
        fmt = data.get("format")
        if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > 2:
            raise ProfileInvalid(
                f"{path}: format: {fmt} was written by a newer aether (this one reads 2)",
                meaning="it is not safe to guess what a newer format means; nothing was changed",
                fix="upgrade aether, or restore a profile in format 2",
            )
        return "2"
    if kind == "unknown":
        if "models" in data or "castes" in data:
            raise ProfileInvalid(
                f"{path}: format: required, but missing",
                meaning="aether cannot tell which profile format this is",
                fix="add `format: 2` at the top if the file is written in the current format",
            )
        keys = ", ".join(sorted(map(str, data))[:5])
        raise ProfileInvalid(
            f"{path}: not an aether model profile (top-level keys: {keys})",
            fix="see docs/routing.md for the format, or run `aether profile init --force`",
        )
    return kind


def analyse_data(data: dict[str, Any], path: Path) -> Analysis:
    """Convert (if legacy), validate and cross-check one parsed document. Raises only for
    documents that are not a profile at all; every other problem becomes a finding."""
    from pydantic import ValidationError

    from aether.routing.profile import check_profile, parse_profile, validation_findings

    source_format = _format_of(data, path)
    current, uses_env = data, False
    notes: list[str] = []
    findings: list[Finding] = []
    if source_format != "2":
        current, uses_env, notes, findings = _converted(data, source_format)
    try:
        profile = parse_profile(current)
    except ValidationError as exc:
        schema = validation_findings(exc)
        checked = _checks_of_what_is_left(current, exc, schema)
        ordered = (
            schema
            + [f for f in checked if f.severity == "error"]
            + findings
            + [f for f in checked if f.severity == "warning"]
        )
        return Analysis(path, source_format, ordered, None, uses_env, notes)
    checked = check_profile(profile)
    ordered = (
        [f for f in checked if f.severity == "error"]
        + findings
        + [f for f in checked if f.severity == "warning"]
    )
    return Analysis(path, source_format, ordered, profile.model_dump(mode="json"), uses_env, notes)


#: rounds of removing what the schema refuses before giving up on checking the rest
_SALVAGE_ROUNDS = 20


def _checks_of_what_is_left(
    data: dict[str, Any], exc: ValidationError, schema: list[Finding]
) -> list[Finding]:
    """The cross-reference findings of the profile without the parts the schema refuses, so a
    schema error never hides them (``profile validate`` promises every problem in one run).

    Each round removes, for every schema error, the deepest mapping key its location names
    (the key's parent when the key is missing), until what is left validates. Findings about
    what was removed are left out: at or below a removed location, already reported by the
    schema, or an "unknown model" that is only unknown because its invalid entry was removed.
    """
    import copy

    from pydantic import ValidationError

    from aether.routing.profile import check_profile, parse_profile

    work = copy.deepcopy(data)
    removed: set[tuple[Any, ...]] = set()
    for _ in range(_SALVAGE_ROUNDS):
        paths = {_removable(work, tuple(e["loc"])) for e in exc.errors()}
        if () in paths:
            return []  # an error about the whole document: nothing sensible is left
        for where in paths:
            _remove(work, where)
        removed |= paths
        try:
            left = parse_profile(work)
        except ValidationError as again:
            exc = again
            continue
        return [f for f in check_profile(left) if not _about_removed(f, data, removed, schema)]
    return []


def _removable(doc: dict[str, Any], loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The deepest prefix of ``loc`` that names a key present in a mapping of ``doc``."""
    node: Any = doc
    deepest: tuple[Any, ...] = ()
    for i, part in enumerate(loc):
        if not isinstance(node, dict) or part not in node:
            break
        deepest, node = loc[: i + 1], node[part]
    return deepest


def _remove(doc: dict[str, Any], where: tuple[Any, ...]) -> None:
    node: Any = doc
    for part in where[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(where[-1], None)


def _about_removed(
    finding: Finding, data: dict[str, Any], removed: set[tuple[Any, ...]], schema: list[Finding]
) -> bool:
    from aether.routing.profile import location

    places = {location(where) for where in removed} | {f.location for f in schema}
    if any(
        finding.location == p or finding.location.startswith((p + ".", p + "[")) for p in places
    ):
        return True
    declared = data.get("models")
    models: dict[str, Any] = declared if isinstance(declared, dict) else {}
    gone = [str(where[1]) for where in removed if len(where) == 2 and where[0] == "models"]
    for name in gone:
        spec = models.get(name)
        aliases = spec.get("aliases") if isinstance(spec, dict) else None
        names = [name, *(a for a in (aliases or []) if isinstance(a, str))]
        if any(finding.message.startswith(f"unknown model {n!r}") for n in names):
            return True
    return False


def _converted(
    data: dict[str, Any], source_format: str
) -> tuple[dict[str, Any], bool, list[str], list[Finding]]:
    """An old-format document in the current format: (data, uses_env, notes, warnings)."""
    from aether.routing.legacy import from_v1
    from aether.routing.profile import Finding

    conv = from_v1(data)
    notice = (
        f"this is the old tool's {source_format} format; it loads as-is, and "
        f"`aether profile migrate` converts it (with a backup)"
    )
    findings = [Finding("warning", "", notice), *(Finding("warning", "", w) for w in conv.warnings)]
    return conv.data, conv.uses_env, conv.notes, findings


def analyse_file(path: Path) -> Analysis:
    from aether.routing.yamlsafe import parse_profile_yaml, read_profile_bytes

    return analyse_data(parse_profile_yaml(read_profile_bytes(path), path), path)


def _invalid(analysis: Analysis) -> ProfileInvalid:
    errors = analysis.errors
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ProfileInvalid(
        f"{analysis.path}: {errors[0].line()}{more}",
        meaning="aether will not guess which model a worker should get",
        fix="run `aether profile validate` for every problem, fix them, and try again",
    )


def load_profile_file(path: Path, cache_dir: Path | None) -> LoadedProfile:
    """The validated profile at ``path``, from the cache when its bytes are unchanged."""
    from aether.routing.yamlsafe import read_profile_bytes

    data = read_profile_bytes(path)
    key = cache_key(data)
    cached = read_cache(cache_dir, key)
    if cached is not None:
        return LoadedProfile(
            path=path,
            dump=cached.dump,
            table=_in_this_environment(cached.table),
            source_format=cached.source_format,
            warnings=list(cached.warnings),
            from_cache=True,
        )
    from aether.routing.yamlsafe import parse_profile_yaml

    analysis = analyse_data(parse_profile_yaml(data, path), path)
    if analysis.errors or analysis.dump is None:
        raise _invalid(analysis)
    table = compile_table(analysis.dump)
    warnings = [w.line() for w in analysis.warnings]
    if not analysis.uses_env:
        write_cache(cache_dir, key, analysis.dump, analysis.source_format, warnings, table)
    return LoadedProfile(
        path, analysis.dump, _in_this_environment(table), analysis.source_format, warnings
    )


def _in_this_environment(table: RoutingTable) -> RoutingTable:
    """The table with what the environment decides above the file: ``AETHER_PROXY_URL``."""
    proxy = table.proxy.with_environment(os.environ)
    return table if proxy is table.proxy else replace(table, proxy=proxy)


def load_profile(ws: Workspace) -> Profile:
    """The colony's validated profile (cached); ProfileMissing / ProfileSyntax / ProfileInvalid."""
    return load_profile_file(ws.profile_file, ws.cache_dir).profile()
