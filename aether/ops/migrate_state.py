"""``aether migrate``: upgrade the state file to the current format, with a plan, a backup and
a report; ``--dry-run`` shows the plan and a diff, ``--check`` only says whether it is needed.

The plan is computed before anything runs (alembic's habit), from a lock-free read, so
``--dry-run`` and ``--check`` take no lock, create no file and change no byte. A real run
re-reads under the lock inside the store's transaction, which writes the never-rotated
pre-migration backup before it writes the upgraded state.
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aether.errors import CheckFailed, ProfileProblem
from aether.json_text import canonical_json, loads_strict, state_json
from aether.records import field, record
from aether.state.migrations import CURRENT_VERSION, MigrationStep, UpgradeResult
from aether.state.model import ColonyState
from aether.workspace import Workspace

if TYPE_CHECKING:
    from aether.state.reading import LoadedState
    from aether.state.store import Store

Mode = Literal["migrate", "dry-run", "check"]


def legacy_paths(legacy: dict[str, Any]) -> list[str]:
    """``legacy["3.0"]["model_profile"]`` -> ``"3.0.model_profile"``: one entry a kept key."""
    paths: list[str] = []
    for bucket, content in legacy.items():
        if isinstance(content, dict) and bucket != "duplicate_keys":
            paths.extend(f"{bucket}.{key}" for key in content)
        else:
            paths.append(bucket)
    return sorted(paths)


@record
class StateMigrateResult:
    ws: Workspace
    mode: Mode
    from_version: str
    steps: list[MigrationStep]
    written: bool = False
    backup: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    legacy_kept: list[str] = field(default_factory=list)
    siblings_folded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diff: str | None = None
    #: ``--dry-run``: the exact file ``migrate`` would write (its ``updated_at`` is the time of
    #: the preview; the write stamps its own)
    target: str | None = None

    @property
    def needed(self) -> bool:
        return bool(self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "mode": self.mode,
            "state_file": str(self.ws.state_file),
            "from_version": self.from_version,
            "to_version": CURRENT_VERSION,
            "needed": self.needed,
            "written": self.written,
            "plan": [
                {"from": s.from_version, "to": s.to_version, "summary": s.summary}
                for s in self.steps
            ],
            "backup": str(self.backup) if self.backup else None,
            "counts": self.counts,
            "legacy_kept": self.legacy_kept,
            "siblings_folded": self.siblings_folded,
            "notes": self.notes,
            "diff": self.diff,
            "target": self.target,
        }


def _counts(state: ColonyState, upgrade: UpgradeResult, events_moved: int) -> dict[str, int]:
    """What the file holds (``events_moved``: those already set aside for the archive, see
    ``LoadedState.events_moved``)."""
    return {
        "phases": len(state.plan.phases),
        "tasks": sum(len(p.tasks) for p in state.plan.phases),
        "workers": len(state.workers),
        "events": len(state.events) + events_moved,
        "errors": len(state.errors),
        "signals": len(state.signals),
        "memory_items": len(upgrade.memory),
        "legacy_keys": len(legacy_paths(state.legacy)),
    }


def profile_carry_over(ws: Workspace, old: dict[str, Any]) -> str:
    """How the old ``model_profile`` block maps onto the profile aether routes by.

    Its current equivalent is ``.aether/model-profiles.yaml`` (where ``profile_file`` already
    pointed): ``proxy_endpoint`` is ``proxy.endpoint``, ``routing_enabled: false`` is
    ``proxy.standalone: true``. This reads that file and says whether they agree.
    """
    head = (
        f"the old model_profile block (profile {old.get('active_profile')!r}, proxy "
        f"{old.get('proxy_endpoint')!r}, routing "
        f"{'on' if old.get('routing_enabled', True) else 'off'}) is carried into "
        "profile_binding; aether routes by " + ws.profile_file.name
    )
    if not ws.profile_file.is_file():
        return (
            head
            + ", which does not exist: run `aether profile init`"
            + (
                f" and set proxy.endpoint to {old['proxy_endpoint']}"
                if isinstance(old.get("proxy_endpoint"), str)
                else ""
            )
        )
    # imported only when there is a profile to compare (~10 ms: the routing loader and YAML)
    from aether.routing.loader import load_profile

    try:
        profile = load_profile(ws)
    except ProfileProblem as exc:
        return head + f", which is invalid ({exc.what}): run `aether profile validate`"
    problems: list[str] = []
    endpoint = old.get("proxy_endpoint")
    if isinstance(endpoint, str) and endpoint.rstrip("/") != str(profile.proxy.endpoint).rstrip(
        "/"
    ):
        problems.append(f"its proxy.endpoint is {profile.proxy.endpoint}, not {endpoint}")
    enabled = old.get("routing_enabled")
    if isinstance(enabled, bool) and enabled == profile.proxy.standalone:
        problems.append(
            "routing was "
            + ("on" if enabled else "off")
            + " but proxy.standalone is "
            + str(profile.proxy.standalone).lower()
        )
    if problems:
        return (
            head
            + ", which differs: "
            + "; ".join(problems)
            + " (edit it if the old values are the ones you want)"
        )
    return head + ", which agrees with it (proxy endpoint and routing)"


def _notes(
    ws: Workspace, state: ColonyState, upgrade: UpgradeResult, events_moved: int
) -> list[str]:
    notes: list[str] = []
    if state.profile_binding is not None:
        notes.append(profile_carry_over(ws, state.profile_binding.model_dump(mode="json")))
    if state.status == "paused":
        notes.append(
            f"the colony was paused (at {state.session.paused_at}); it stays paused: "
            "status paused, the old lifecycle text in status_detail"
        )
    if upgrade.siblings_folded:
        notes.append(
            "folded the legacy files " + ", ".join(upgrade.siblings_folded) + "; they stay "
            "where they are and are copied into the pre-migration backup"
        )
    if "duplicate_keys" in state.legacy:
        notes.append(
            "the file repeated keys in one object; the last value was used (as the old tool "
            'read it) and the earlier ones are kept in legacy["duplicate_keys"]'
        )
    over = events_moved + max(len(state.events) - state.settings.event_cap, 0)
    if over > 0:
        notes.append(
            f"the {over} oldest events move to data/events.archive.jsonl on write "
            f"(the state keeps the last {state.settings.event_cap})"
        )
    return notes


def _diff(raw: bytes, target: str, upgrade: UpgradeResult) -> str:
    """The old file against the exact ``target`` bytes, both in the state file's layout (one
    top-level field, one list item, per line) so the diff reads field by field."""
    from aether.state.migrations.duplicates import loads_keeping_duplicates

    text = raw.decode("utf-8").removeprefix("\ufeff")
    try:
        before_doc = loads_strict(text)
    except ValueError:
        before_doc = loads_keeping_duplicates(text)[0]
    shown = state_json(before_doc) if isinstance(before_doc, dict) else canonical_json(before_doc)
    before = shown.splitlines(keepends=True)
    after = target.splitlines(keepends=True)
    name = "COLONY_STATE.json"
    diff = "".join(
        difflib.unified_diff(
            before,
            after,
            f"{name} (format {upgrade.from_version})",
            f"{name} (format {CURRENT_VERSION})",
        )
    )
    if upgrade.memory:
        diff += f"+++ .aether/memory/ ({len(upgrade.memory)} items)\n" + "".join(
            f"+ {m['kind']}: {m['text']}\n" for m in upgrade.memory
        )
    return diff


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (reference counting still frees
    everything). Migrating a large colony allocates its whole document, the upgraded copy and
    the validated models in one burst, none of it in reference cycles: the collector walked
    them again and again for nothing (~35 ms of a 10,000-event migrate, measured in a fresh
    process). The block's data is freed when the call inside it returns, so the collector
    finds little to look at when it is back on. In a command's own process the collector is
    off already (``aether.cli.main``): this is for a migrate that a server runs."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def migrate_colony(
    ws: Workspace,
    *,
    dry_run: bool = False,
    check: bool = False,
    lock_timeout: float | None = None,
) -> StateMigrateResult:
    with _cyclic_gc_paused():
        return _migrate_colony(ws, dry_run=dry_run, check=check, lock_timeout=lock_timeout)


def _migrate_colony(
    ws: Workspace, *, dry_run: bool, check: bool, lock_timeout: float | None
) -> StateMigrateResult:
    from aether.state.store import Store

    mode: Mode = "check" if check else "dry-run" if dry_run else "migrate"
    store = Store(ws, lock_timeout=lock_timeout)
    loaded = store.load()  # lock-free and read-only: the plan comes before any write
    upgrade = loaded.upgrade
    if upgrade is None or not upgrade.changed:
        return StateMigrateResult(ws=ws, mode=mode, from_version=CURRENT_VERSION, steps=[])
    if check:
        raise CheckFailed(
            f"the state file {ws.state_file} is format {upgrade.from_version}; "
            f"a migration to {CURRENT_VERSION} is needed ("
            + ", ".join(s.name for s in upgrade.steps)
            + ")",
            fix="run `aether migrate --dry-run` to see it, `aether migrate` to do it",
        )
    result = StateMigrateResult(
        ws=ws,
        mode=mode,
        from_version=upgrade.from_version,
        steps=upgrade.steps,
        counts=_counts(loaded.state, upgrade, loaded.events_moved),
        legacy_kept=legacy_paths(loaded.state.legacy),
        siblings_folded=upgrade.siblings_folded,
        notes=_notes(ws, loaded.state, upgrade, loaded.events_moved),
    )
    if dry_run:
        from aether.state.store import prepare_write

        result.target = prepare_write(loaded.state, ws).payload.decode("utf-8")
        result.diff = _diff(loaded.raw, result.target, upgrade)
        return result
    return _persist(store, ws, result, loaded)


def _persist(
    store: Store, ws: Workspace, result: StateMigrateResult, loaded: LoadedState
) -> StateMigrateResult:
    from aether import activity

    with store.transaction(expected=loaded) as tx:
        if tx.upgrade is None or not tx.upgrade.changed:
            tx.abort = True  # another command persisted the upgrade meanwhile
            return StateMigrateResult(
                ws=ws, mode=result.mode, from_version=CURRENT_VERSION, steps=[]
            )
        # re-plan from what was read under the lock (the file may have changed since)
        result.from_version = tx.upgrade.from_version
        result.steps = tx.upgrade.steps
        result.counts = _counts(tx.state, tx.upgrade, tx.events_moved)
        result.legacy_kept = legacy_paths(tx.state.legacy)
        result.siblings_folded = tx.upgrade.siblings_folded
        result.notes = _notes(ws, tx.state, tx.upgrade, tx.events_moved)
    result.written = True
    result.backup = tx.pre_migration_backup
    result.counts["memory_items_new"] = len(tx.memory_added)
    result.counts["events_archived"] = tx.state.events_archived
    activity.log(
        ws,
        "migrate",
        from_version=result.from_version,
        to_version=CURRENT_VERSION,
        steps=[s.name for s in result.steps],
        backup=str(result.backup) if result.backup else None,
        counts=result.counts,
    )
    return result


class SchemaResult:
    """``aether schema``: the JSON Schema of the current state (the model is the source)."""

    def to_json(self) -> dict[str, Any]:
        return state_schema()


def state_schema() -> dict[str, Any]:
    schema = ColonyState.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$comment"] = (
        f"aether colony state, format {CURRENT_VERSION} (generated by `aether schema`)"
    )
    return schema
