"""What stops ``aether resume``: a colony that is not paused (without ``--force``), a
HANDOFF.md of another colony (without ``--ignore-handoff``). Checked once without the lock, so a
refused resume leaves every file untouched, and again under it.
"""

from __future__ import annotations

from aether.errors import ColonyStateConflict, HandoffError
from aether.handoff import HandoffDocument
from aether.state.reading import peek
from aether.state.store import Store


def refuse_early(
    store: Store, doc: HandoffDocument | None, *, force: bool, ignore_handoff: bool
) -> None:
    """The refusals of ``_refuse``, without the lock, so a refused resume leaves every file
    untouched. A current-format state is judged from its status and colony id alone (the
    transaction validates it and checks again); anything else gets the full load, and its typed
    error if it has one."""
    data = peek(store.ws)
    if (
        data is not None
        and isinstance(data.get("status"), str)
        and isinstance(data.get("colony_id"), str)
    ):
        refuse(data["status"], data["colony_id"], doc, force=force, ignore_handoff=ignore_handoff)
    else:
        s = store.load().state
        refuse(s.status, s.colony_id, doc, force=force, ignore_handoff=ignore_handoff)


def refuse(
    status: str,
    colony_id: str,
    doc: HandoffDocument | None,
    *,
    force: bool,
    ignore_handoff: bool,
) -> None:
    if status != "paused" and not force:
        raise ColonyStateConflict(
            f"the colony is not paused (status {status})",
            meaning="resume ends the previous session and marks its unfinished workers "
            "lost; on a live session that would be wrong",
            fix="run `aether pause` first; if the previous session died without pausing, "
            "run `aether resume --force`",
        )
    if doc is not None and doc.colony_id != colony_id and not ignore_handoff:
        raise HandoffError(
            f"HANDOFF.md belongs to colony {doc.colony_id}, not to this colony ({colony_id})",
            meaning="it was copied from another project; nothing was changed",
            fix="move it away, or run `aether resume --ignore-handoff` (it is then kept "
            "in .aether/handoff-history/)",
        )
