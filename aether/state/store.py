"""The colony store: the one way state is read and written.

``Store.load()`` is for read-only commands: no lock, no write; an old file is upgraded in memory.
``Store.transaction()`` is for every command that writes:

1. take the colony lock (``aether.state.lock``), sweep temp files a crashed writer left;
2. read and parse; an old format is upgraded by the migration chain (its events beyond the
   cap leave it as the events archive's lines, validated but never built into models:
   ``load_document``), after a pre-migration backup that is never rotated away;
3. validate against the current schema and hand the model to the caller;
4. the caller changes it; move the events beyond the cap out, re-validate what stays
   (``model_copy`` and attribute assignment do not validate);
5. move overflowing events and finished workers to their append-only archives;
6. bump the serial, link the previous file into ``backups/``, write atomically, release.

A corrupt file is never overwritten: every error is raised before anything is written. The
write is all or nothing (``aether.files.staged_files``): the pre-migration backup, the memory
files, the archive appends, the backup link and the state file are all prepared first and moved
into place only when every one is ready, so a full disk or a read-only directory midway leaves
every file as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from aether.bounded_read import holds
from aether.errors import (
    AetherError,
    ColonyExists,
    NoColony,
    StateDuplicateKeys,
)
from aether.files import StagedFiles, os_error, staged_files
from aether.json_text import compact_json, pydantic_writes_alike, state_json
from aether.records import field, record
from aether.state.lock import ColonyLock, colony_lock, command_line, lock_timeout_from_env
from aether.state.migrations import CURRENT_VERSION, MigrationContext, UpgradeResult, upgrade
from aether.state.model import (
    FINISHED_WORKER_STATUSES,
    ColonyState,
    Event,
    Settings,
    Worker,
    WorkerCounts,
)
from aether.state.reading import (
    LEGACY_SIBLINGS,
    parse_state_bytes,
    read_siblings,
    read_state_bytes,
    state_invalid,
    validate_state,
)
from aether.timeutil import iso
from aether.workspace import Workspace

if TYPE_CHECKING:
    from aether.memory import MemoryItem

#: rolling backups kept in data/backups/ (hard links to previous versions: no copy cost)
ROLLING_BACKUPS = 10


@record
class LoadedState:
    state: ColonyState
    raw: bytes
    upgrade: UpgradeResult | None = None
    #: the oldest events of an upgraded file, beyond what the state keeps, as the events
    #: archive's lines (``archive_lines``): the first write appends them. The state no longer
    #: holds them and already counts them in ``events_archived``.
    archive_on_write: bytes = b""
    #: how many events those lines are
    events_moved: int = 0

    @property
    def upgraded_from(self) -> str | None:
        return self.upgrade.from_version if self.upgrade and self.upgrade.changed else None


def _parse_legacy_duplicates(raw: bytes, error: StateDuplicateKeys) -> tuple[Any, tuple[Any, ...]]:
    """A repeated key is corruption in our format, but the old tool wrote them
    (aether/state/migrations/duplicates.py).

    Its readers kept the last value, so a legacy file is read that way and every shadowed
    value is kept (``legacy.duplicate_keys``); a current-format file is refused.
    """
    from aether.state.migrations.duplicates import loads_keeping_duplicates

    text = raw.decode("utf-8").removeprefix("\ufeff")
    doc, duplicates = loads_keeping_duplicates(text)
    if not isinstance(doc, dict) or doc.get("version") == CURRENT_VERSION:
        raise error
    return doc, duplicates


def load_document(ws: Workspace, raw: bytes) -> LoadedState:
    """Parse, upgrade (in memory) and validate a state file's bytes.

    An upgraded file can hold far more events than the state keeps (a 3.0 colony of 10,000,
    where the state keeps 100): the oldest leave the upgraded document here, before it is
    validated, as the lines the first write appends to the events archive — the write would
    move them there anyway. Each is validated as an ``Event`` on its way to its line
    (``archive_lines``), without building 10,000 models that nothing reads again."""
    duplicates: tuple[Any, ...] = ()
    try:
        doc = parse_state_bytes(raw, ws)
    except StateDuplicateKeys as exc:
        doc, duplicates = _parse_legacy_duplicates(raw, exc)
    if isinstance(doc, dict) and doc.get("version") == CURRENT_VERSION:
        return LoadedState(state=validate_state(doc, ws), raw=raw)
    siblings = read_siblings(ws.data_dir) if isinstance(doc, dict) else {}
    ctx = MigrationContext(
        now=iso(), siblings=siblings, source_path=ws.state_file, duplicate_keys=duplicates
    )
    try:
        result = upgrade(doc, ctx)
    except AetherError:
        raise
    except Exception as exc:  # a step met a shape it does not handle: report, never crash
        from aether.errors import MigrationError

        raise MigrationError(
            f"the state file {ws.state_file} could not be migrated ({type(exc).__name__}: {exc})",
            meaning="nothing was written",
            fix="report this with the file attached; restore from backups if needed",
        ) from None
    upgraded = result.state
    moved = _beyond_the_cap(upgraded)
    oldest: list[Any] = []
    if moved:
        oldest = upgraded["events"][:moved]
        upgraded["events"] = upgraded["events"][moved:]
        upgraded["events_archived"] = upgraded.get("events_archived", 0) + moved
    state = validate_state(upgraded, ws)
    return LoadedState(
        state=state,
        raw=raw,
        upgrade=result,
        archive_on_write=archive_lines(oldest, ws) if moved else b"",
        events_moved=moved,
    )


def _beyond_the_cap(doc: dict[str, Any]) -> int:
    """How many of an upgraded document's oldest events are beyond its ``settings.event_cap``
    (the write's rule, ``_overflow``); 0 when what that depends on is not what validation
    accepts (validation then says what is wrong)."""
    events = doc.get("events")
    archived = doc.get("events_archived", 0)
    if type(events) is not list or type(archived) is not int or archived < 0:
        return 0
    try:
        cap = Settings.model_validate(doc.get("settings", {})).event_cap
    except ValidationError:
        return 0
    return max(len(events) - cap, 0)


def archive_lines(events: list[Any], ws: Workspace) -> bytes:
    """Events not yet validated (the oldest of ``ws``'s state, in order) as the events
    archive's lines: each exactly the line ``event_lines`` writes for the ``Event`` it
    validates as.

    An event of only the model's own fields, each of the plain type the model declares — text;
    ``raw`` text or null; ``data`` an object pydantic-core writes as ``compact_json`` does
    (``json_text.pydantic_writes_alike``) — is what validation would make of it, defaults
    filled in: its line is written from it (~0.5 µs an event; building and writing the model,
    ~2 µs; tests/test_files.py holds the two to the same bytes). Any other event is validated
    as an ``Event`` (a failure names it, ``events.<index>``) and written from the model.
    """
    from pydantic_core import PydanticSerializationError, to_json

    plain = [_plain_event(event) for event in events]
    if None not in plain:  # the usual case: every event plain, written in one pass
        try:
            return b"".join([to_json(event) + b"\n" for event in plain])
        except PydanticSerializationError:
            pass  # text no UTF-8 writer can encode: the model's way refuses it as ever
    lines: list[bytes] = []
    for index, (event, plain_event) in enumerate(zip(events, plain, strict=True)):
        if plain_event is not None:
            try:
                lines.append(to_json(plain_event) + b"\n")
                continue
            except PydanticSerializationError:
                pass
        try:
            model = Event.model_validate(event)
        except ValidationError as exc:
            raise state_invalid(ws, exc, ("events", index)) from None
        lines.append(event_lines([model]))
    return b"".join(lines)


#: an ``Event``'s fields in its declared (sorted) order: the defaults, and None for the two
#: required ones
_EVENT_TEMPLATE: dict[str, Any] = {
    name: None if info.is_required() else info.default for name, info in Event.model_fields.items()
}


def _plain_event(event: Any) -> dict[str, Any] | None:
    """``event`` as the ``Event`` it validates as would be written, when it is plain (see
    ``archive_lines``); None otherwise."""
    if type(event) is not dict or not event.keys() <= _EVENT_TEMPLATE.keys():
        return None
    plain = {**_EVENT_TEMPLATE, **event}  # the template's key order, the event's values
    raw, data = plain["raw"], plain["data"]
    if (
        type(plain["message"]) is str
        and type(plain["source"]) is str
        and type(plain["ts"]) is str
        and type(plain["type"]) is str
        and (raw is None or type(raw) is str)
        and type(data) is dict
        and (not data or pydantic_writes_alike(data))
    ):
        return plain
    return None


@record
class Transaction:
    ws: Workspace
    state: ColonyState
    upgrade: UpgradeResult | None = None
    memory_to_add: list[MemoryItem] = field(default_factory=list)
    #: the items of ``memory_to_add`` the commit found new (the others were already there)
    memory_added: list[MemoryItem] = field(default_factory=list)
    #: set by the caller to skip the write (e.g. nothing to do); the lock is still released
    abort: bool = False
    swept: list[Path] = field(default_factory=list)
    #: where the pre-migration backup went, when this transaction persisted an upgrade
    pre_migration_backup: Path | None = None
    #: the events the upgrade moved to the archive (``LoadedState.events_moved``)
    events_moved: int = 0
    #: run with the lock still held once the transaction ends (see ``then``)
    after: list[Callable[[ColonyState], None]] = field(default_factory=list)

    def add_memory(self, items: list[MemoryItem]) -> None:
        self.memory_to_add.extend(items)

    def then(self, step: Callable[[ColonyState], None]) -> None:
        """Run ``step`` while the lock is still held, after the state is written: it sees the
        state exactly as committed (serial bumped, compacted), so a file derived from it (the
        handoff) can never describe another serial, and no second lock-and-load is needed. On
        abort it sees ``tx.state`` as the caller left it (an aborting caller has not changed it,
        so that is the state on disk). A step that raises fails the command after the commit:
        the state is written, the derived file is not."""
        self.after.append(step)


@record
class PreparedWrite:
    """A state as a write would store it, and what the write moves out of it (the events as
    the archive's lines, encoded: they are appended as they are)."""

    state: ColonyState
    payload: bytes
    archive_lines: bytes
    moved_workers: list[Worker]


def prepare_write(state: ColonyState, ws: Workspace) -> PreparedWrite:
    """Exactly what ``Store.transaction`` writes for ``state``, without writing anything:
    re-validated (Pydantic does not validate assignment), compacted, serial bumped, stamped
    with the write time. ``migrate --dry-run`` shows this, so its preview is the file.

    The events beyond the cap leave the state unchanged: they were validated when they were
    read or created, and nothing changes an event once it is recorded. Only what stays is
    dumped and validated again — for a migrated colony of 10,000 events, 100 instead of all;
    the others go from their models straight to the archive's lines (``event_lines``).
    """
    overflow = _overflow(state)
    archived = state.events[:overflow]
    # a shallow copy with only the events that stay: the others are neither dumped nor
    # validated again
    dump = state.model_copy(update={"events": state.events[overflow:]}).model_dump(mode="json")
    prepared = validate_state(dump, ws)
    prepared.events_archived += overflow
    workers = _compact_workers(prepared)
    prepared.serial += 1
    prepared.updated_at = iso()
    payload = state_json(prepared.model_dump(mode="json")).encode("utf-8")
    return PreparedWrite(prepared, payload, event_lines(archived), workers)


def event_lines(events: list[Event]) -> bytes:
    """``events`` as lines of the events archive: each exactly ``compact_json`` of the
    event's dump (sorted keys, no whitespace), then a newline.

    Pydantic's serializer writes an event in that very form from the model (``Event``
    declares its fields in sorted order) when the event has no keys beyond its fields and
    its ``data`` is one ``compact_json`` would write alike (``json_text.pydantic_writes_alike``:
    sorted keys, no float spelled differently): ~0.7 µs an event instead of a dump and an
    encode that sorts (~3 µs; a migrated colony of 10,000 events moves 9,900). Any other
    event goes that long way. Either way an event is written from its validated model.
    """
    from pydantic_core import PydanticSerializationError

    write = Event.__pydantic_serializer__.to_json
    try:
        return b"".join(
            [
                (
                    write(event)
                    if not event.__pydantic_extra__
                    and type(event.data) is dict
                    and (not event.data or pydantic_writes_alike(event.data))
                    else _dumped_line(event)
                )
                + b"\n"
                for event in events
            ]
        )
    except PydanticSerializationError:
        # text no UTF-8 writer can encode (a lone surrogate): the long way, which refuses it
        # with the same error as ever
        return b"".join([_dumped_line(event) + b"\n" for event in events])


def _dumped_line(event: Event) -> bytes:
    return compact_json(event.model_dump(mode="json")).encode("utf-8")


def _overflow(state: ColonyState) -> int:
    """How many of the oldest events are beyond ``settings.event_cap``: they move to the events
    archive. A cap that is not a valid number (changed by assignment, never validated) moves
    none; the validation of the write then refuses it."""
    cap = state.settings.event_cap
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
        return 0
    return max(len(state.events) - cap, 0)


def _compact_workers(state: ColonyState) -> list[Worker]:
    """Keep the state bounded without discarding anything: the finished workers beyond their
    cap leave the state (the caller appends them to the history), counted per caste/model."""
    moved: list[Worker] = []
    finished = [w for w in state.workers if w.status in FINISHED_WORKER_STATUSES]
    wcap = state.settings.finished_worker_cap
    if len(finished) > wcap:
        to_move = {w.id for w in finished[: len(finished) - wcap]}
        moved = [w for w in state.workers if w.id in to_move]
        for w in moved:
            counts = state.worker_counts.setdefault(f"{w.caste}/{w.model}", WorkerCounts())
            counts.total += 1
            counts.by_status[w.status] = counts.by_status.get(w.status, 0) + 1
        state.workers = [w for w in state.workers if w.id not in to_move]
    return moved


class Store:
    def __init__(self, ws: Workspace, *, lock_timeout: float | None = None, command: str = ""):
        self.ws = ws
        self.lock_timeout = lock_timeout if lock_timeout is not None else lock_timeout_from_env()
        self.command = command or command_line()

    # --- reading -------------------------------------------------------------------------------

    def load(self) -> LoadedState:
        return load_document(self.ws, read_state_bytes(self.ws))

    # --- writing -------------------------------------------------------------------------------

    def lock(self) -> ColonyLock:
        return colony_lock(self.ws, lock_timeout=self.lock_timeout, command=self.command)

    def _load_under_lock(self, expected: LoadedState | None) -> LoadedState:
        """The file as it is now. When it still holds the bytes of ``expected`` (a lock-free
        ``load()`` the caller made and has not changed), that load's parse, upgrade and
        validation stand: the same bytes give the same result. A v1 file is always read
        again: its meaning also depends on its sibling files."""
        if expected is None:
            return self.load()
        upgrade = expected.upgrade
        folds_siblings = upgrade is not None and any(s.from_version == "1.0" for s in upgrade.steps)
        if not folds_siblings and holds(self.ws.state_file, expected.raw):
            return expected  # compared without reading the file into memory again
        raw = read_state_bytes(self.ws)
        if raw == expected.raw and not folds_siblings:
            return expected
        return load_document(self.ws, raw)

    @contextmanager
    def transaction(self, *, expected: LoadedState | None = None) -> Iterator[Transaction]:
        """The state under the colony lock, written when the block ends (see the module's
        steps). ``expected``: see ``_load_under_lock`` (``aether migrate`` plans from a
        lock-free load, then writes; a large colony is not parsed and validated twice)."""
        if not self.ws.exists():
            raise NoColony(
                f"no colony state at {self.ws.state_file}",
                fix='create one with `aether init "GOAL"`',
            )
        with self.lock() as lock:  # taking it sweeps what killed writers left behind
            loaded = self._load_under_lock(expected)
            tx = Transaction(
                ws=self.ws,
                state=loaded.state,
                upgrade=loaded.upgrade,
                swept=lock.swept,
                events_moved=loaded.events_moved,
            )
            yield tx
            if tx.abort:
                for step in tx.after:
                    step(tx.state)
                return
            with staged_files() as staged:  # every part is written, or none is
                if loaded.upgrade is not None and loaded.upgrade.changed:
                    tx.pre_migration_backup = self._pre_migration_backup(
                        staged, loaded.raw, loaded.upgrade
                    )
                    from aether.memory import MemoryItem

                    tx.memory_to_add = [
                        MemoryItem.model_validate(m) for m in loaded.upgrade.memory
                    ] + tx.memory_to_add
                previous = loaded.state.serial if loaded.upgrade is None else -1
                self._commit(
                    tx, staged, previous_serial=previous, archive_first=loaded.archive_on_write
                )
            self._prune_rolling_backups()
            for step in tx.after:
                step(tx.state)

    def _commit(
        self,
        tx: Transaction,
        staged: StagedFiles,
        *,
        previous_serial: int,
        archive_first: bytes = b"",
    ) -> None:
        """Stage the write of ``tx``; ``archive_first``: lines for the events archive ahead of
        those this write moves (``LoadedState.archive_on_write``)."""
        if tx.memory_to_add:
            from aether.memory import stage_merge

            tx.memory_added = stage_merge(staged, self.ws.memory_dir, tx.memory_to_add)
        prepared = prepare_write(tx.state, self.ws)
        archived = archive_first + prepared.archive_lines
        if archived:
            staged.append_bytes(self.ws.events_archive, archived)
        if prepared.moved_workers:
            staged.append(
                self.ws.workers_history,
                (compact_json(w.model_dump(mode="json")) for w in prepared.moved_workers),
            )
        if previous_serial >= 0:
            self._rolling_backup(staged, previous_serial)
        staged.write(self.ws.state_file, prepared.payload)
        tx.state = prepared.state

    def _rolling_backup(self, staged: StagedFiles, serial: int) -> None:
        """Hard-link the file about to be replaced into backups/ (free: no bytes copied)."""
        staged.make_dirs(self.ws.backups_dir)
        target = self.ws.backups_dir / f"COLONY_STATE.serial-{serial:08d}.json"
        if not target.exists():
            staged.link_or_copy(self.ws.state_file, target)

    def _prune_rolling_backups(self) -> None:
        """Keep the last ``ROLLING_BACKUPS``, once the write they back up has committed (one
        that cannot be removed now is removed by a later write)."""
        try:
            rolling = sorted(self.ws.backups_dir.glob("COLONY_STATE.serial-*.json"))
            for old in rolling[:-ROLLING_BACKUPS]:
                old.unlink()
        except OSError:
            pass

    def _pre_migration_backup(self, staged: StagedFiles, raw: bytes, result: UpgradeResult) -> Path:
        """A lasting copy of the old file and its siblings, never rotated away.

        The state file's copy is the old file itself (``StagedFiles.preserve``): the write
        replaces the state with a new file, so a hard link keeps the old one, byte for byte,
        without writing and syncing a second copy of it (2.9 MB for a colony of 10,000
        events); a file system without hard links gets a copy. The sibling files stay in use
        in place, so they are copied."""
        folder = self.ws.backups_dir / "pre-migration" / f"{result.from_version}-{iso()}"
        folder = Path(str(folder).replace(":", ""))
        staged.make_dirs(folder)
        staged.preserve(self.ws.state_file, folder / self.ws.state_file.name, raw)
        for name in LEGACY_SIBLINGS:
            sibling = self.ws.data_dir / name
            if sibling.is_file():
                staged.write(folder / name, sibling.read_bytes())
        return folder

    def create(self, state: ColonyState, *, force: bool) -> Path | None:
        """Write a brand-new colony (``aether init``). Returns the backup of a replaced one."""
        with self.lock():
            backup: Path | None = None
            if self.ws.exists():
                if not force:
                    raise ColonyExists(
                        f"a colony already exists at {self.ws.root}",
                        meaning="init would replace it",
                        fix="use `aether status` to see it, or `aether init --force` to back it "
                        "up and start over",
                    )
            payload = state_json(state.model_dump(mode="json")).encode("utf-8")
            with staged_files() as staged:  # the backup and the new colony, or neither
                if self.ws.exists():
                    backup = self._backup_before_replace(staged)
                staged.write(self.ws.state_file, payload)
            return backup

    def _backup_before_replace(self, staged: StagedFiles) -> Path:
        staged.make_dirs(self.ws.backups_dir)
        target = self.ws.backups_dir / f"COLONY_STATE.before-init-{iso().replace(':', '')}.json"
        try:
            old = self.ws.state_file.read_bytes()
        except OSError as exc:
            raise os_error(exc, self.ws.state_file, "backing up") from None
        staged.write(target, old)
        return target
