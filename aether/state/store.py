"""The colony store: the one way state is read and written.

``Store.load()`` is for read-only commands: no lock, no write; an old file is upgraded in memory.
``Store.transaction()`` is for every command that writes:

1. take the colony lock (``aether.state.lock``), sweep temp files a crashed writer left;
2. read and parse; an old format is upgraded by the migration chain (its events beyond the
   cap leave it as the events archive's lines, validated but never built into models:
   ``aether.state.reading.load_document``), after a pre-migration backup that is never rotated away;
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
from typing import TYPE_CHECKING

from aether.bounded_read import holds
from aether.errors import ColonyExists, NoColony
from aether.files import StagedFiles, os_error, staged_files
from aether.json_text import compact_json, state_json
from aether.records import field, record
from aether.state.event_archive import event_lines
from aether.state.lock import ColonyLock, colony_lock, command_line, lock_timeout_from_env
from aether.state.migrations import UpgradeResult
from aether.state.model import (
    FINISHED_WORKER_STATUSES,
    ColonyState,
    Worker,
    WorkerCounts,
)
from aether.state.reading import (
    LEGACY_SIBLINGS,
    LoadedState,
    load_document,
    read_state_bytes,
    validate_state,
)
from aether.timeutil import iso
from aether.workspace import Workspace

if TYPE_CHECKING:
    from aether.memory import MemoryItem

#: rolling backups kept in data/backups/ (hard links to previous versions: no copy cost)
ROLLING_BACKUPS = 10


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
