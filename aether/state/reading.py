"""Reading the colony state file: its bytes (bounded in size), parsing them (strict JSON: no
duplicate keys, no lone surrogates, UTF-8 only), upgrading an old format in memory and
validating the result against the current schema (``load_document``). Each failure is a typed
error that says where the backups are; nothing here writes. ``aether.state.store`` builds
loading and transactions on these.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aether.bounded_read import read_regular
from aether.errors import (
    AetherError,
    NoColony,
    SiblingFileError,
    StateCorrupt,
    StateDuplicateKeys,
    StateInvalid,
    StateNotUtf8,
    StateTooLarge,
    UnsafePath,
)
from aether.files import os_error
from aether.json_text import DuplicateKeyError, loads_strict, lone_surrogate
from aether.records import record
from aether.state.event_archive import InvalidEvent, archive_lines
from aether.state.migrations import CURRENT_VERSION, MigrationContext, UpgradeResult, upgrade
from aether.state.model import ColonyState, Settings
from aether.timeutil import iso
from aether.workspace import Workspace

DEFAULT_MAX_STATE_BYTES = 16 * 1024 * 1024
#: files the old tool's v1 layout kept beside COLONY_STATE.json
LEGACY_SIBLINGS = (
    "PROJECT_PLAN.json",
    "pheromones.json",
    "memory.json",
    "errors.json",
    "events.json",
)


def max_state_bytes() -> int:
    raw = os.environ.get("AETHER_MAX_STATE_BYTES")
    if raw is None or raw == "":
        return DEFAULT_MAX_STATE_BYTES
    text = raw.strip()
    # ASCII digits only: str.isdigit() accepts "²", which int() then refuses
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    from aether.errors import InvalidInput

    raise InvalidInput(
        f"AETHER_MAX_STATE_BYTES={raw!r} is not a positive whole number of bytes",
        fix="unset it (the limit is then 16 MiB) or set it to e.g. 33554432",
    )


def backups_hint(ws: Workspace) -> str:
    return f"backups are in {ws.backups_dir}" if ws.backups_dir.is_dir() else "no backups exist yet"


def read_state_bytes(ws: Workspace) -> bytes:
    path = ws.state_file
    try:
        if path.is_symlink():
            # the same refusal as a write (files.atomic_write_bytes): a link could point aether
            # at any file, and reading it would report that file's contents as the colony's
            raise UnsafePath(
                f"{path} is a symbolic link",
                meaning="aether does not read or write through links; nothing was changed",
                fix="replace the link with a regular file",
            )
        if path.is_dir():
            raise UnsafePath(
                f"{path} is a directory where the state file should be",
                fix="move the directory away; nothing was changed",
            )
        size = path.stat().st_size
        limit = max_state_bytes()
        if size > limit:
            raise StateTooLarge(
                f"the state file {path} is {size / 1048576:.1f} MiB, over the "
                f"{limit / 1048576:.0f} MiB limit",
                meaning="aether will not load a file that large (a healthy colony is well "
                "under 1 MiB); it was not touched",
                fix=f"inspect it by hand; {backups_hint(ws)} (AETHER_MAX_STATE_BYTES raises "
                "the limit)",
            )
        return read_regular(path, limit=limit)
    except FileNotFoundError:
        raise NoColony(
            f"no colony state at {path}",
            fix='create one with `aether init "GOAL"`',
        ) from None
    except OSError as exc:
        raise os_error(exc, path, "reading") from None


def parse_state_bytes(raw: bytes, ws: Workspace) -> Any:
    path = ws.state_file
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateNotUtf8(
            f"the state file {path} is not UTF-8 text (bad byte at offset {exc.start})",
            meaning="it is damaged or not a colony state; it was not touched",
            fix=f"restore it: {backups_hint(ws)}",
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        doc = loads_strict(text)
    except RecursionError:
        raise StateCorrupt(
            f"the state file {path} nests arrays or objects deeper than any colony state does",
            meaning="it is damaged or not a colony state; it was not touched",
            fix=f"restore it: {backups_hint(ws)}",
        ) from None
    except DuplicateKeyError as exc:
        raise StateDuplicateKeys(
            f"the state file {path} has the key {exc.key!r} twice in one object",
            meaning="which value is meant cannot be known; it was not touched",
            fix=f"remove one of them by hand, or restore: {backups_hint(ws)}",
        ) from None
    except ValueError as exc:
        what = "is empty" if not text.strip() else f"is not valid JSON ({exc})"
        raise StateCorrupt(
            f"the state file {path} {what}",
            meaning="it was probably truncated or edited by hand; aether never overwrites it",
            fix=f"restore it: {backups_hint(ws)}",
        ) from None
    _refuse_lone_surrogates(text, doc, ws)
    return doc


def _refuse_lone_surrogates(text: str, doc: Any, ws: Workspace) -> None:
    """A ``\\ud800`` escaped alone in the JSON decodes to a string no UTF-8 writer can encode:
    every command that printed or wrote it would fail. Refused like bytes that are not UTF-8."""
    where = lone_surrogate(text, doc)
    if where is not None:
        raise StateNotUtf8(
            f"the state file {ws.state_file} holds text that is not valid Unicode (a lone "
            f"surrogate escape in {where or 'the document'})",
            meaning="no command could print or save it; the file was not touched",
            fix=f"fix that value by hand, or restore: {backups_hint(ws)}",
        )


def peek(ws: Workspace) -> dict[str, Any] | None:
    """The top-level fields of a current-format state file, read without the lock and without
    building the model (a few ms less than ``Store.load`` for a hook or a refusal that needs
    only the status); None when the file is anything else — then ``Store.load`` gives the
    typed error or the upgraded state."""
    try:
        data = json.loads(read_state_bytes(ws))
    except (AetherError, ValueError, RecursionError):
        return None
    if isinstance(data, dict) and data.get("version") == CURRENT_VERSION:
        return data
    return None


def read_siblings(data_dir: Path) -> dict[str, Any]:
    """Parse the legacy v1 sibling files that exist next to the state."""
    found: dict[str, Any] = {}
    for name in LEGACY_SIBLINGS:
        path = data_dir / name
        if not path.is_file():
            continue
        try:
            found[name] = loads_strict(read_regular(path).decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SiblingFileError(
                f"the legacy file {path} cannot be read ({str(exc).splitlines()[0]})",
                meaning="its data would be lost if the colony were migrated without it; "
                "nothing was written",
                fix="fix the file or move it out of the data directory",
            ) from None
    return found


def validate_state(doc: Any, ws: Workspace) -> ColonyState:
    try:
        return ColonyState.model_validate(doc)
    except ValidationError as exc:
        raise state_invalid(ws, exc) from None


def state_invalid(
    ws: Workspace, exc: ValidationError, at: tuple[str | int, ...] = ()
) -> StateInvalid:
    """The error for a state that fails validation: its first problem, where it is (``at``:
    where the validated part sits in the state, for a part validated on its own)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in (*at, *err["loc"])) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return StateInvalid(
        f"the state file {ws.state_file} is invalid: {loc}: {err['msg']}{more}",
        meaning="a field has the wrong type or value; the file was not touched",
        fix=f"fix that field, or restore: {backups_hint(ws)}",
    )


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
    try:
        lines = archive_lines(oldest) if moved else b""
    except InvalidEvent as exc:  # named by its place in the file's events, as validation does
        raise state_invalid(ws, exc.error, ("events", exc.index)) from None
    return LoadedState(
        state=state,
        raw=raw,
        upgrade=result,
        archive_on_write=lines,
        events_moved=moved,
    )


def _beyond_the_cap(doc: dict[str, Any]) -> int:
    """How many of an upgraded document's oldest events are beyond its ``settings.event_cap``
    (a write's rule: ``aether.state.store._overflow``); 0 when what that depends on is not
    what validation accepts (validation then says what is wrong)."""
    events = doc.get("events")
    archived = doc.get("events_archived", 0)
    if type(events) is not list or type(archived) is not int or archived < 0:
        return 0
    try:
        cap = Settings.model_validate(doc.get("settings", {})).event_cap
    except ValidationError:
        return 0
    return max(len(events) - cap, 0)
