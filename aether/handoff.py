"""HANDOFF.md: what a person (or agent) who has forgotten everything needs to pick up a colony.

The document's machine-readable part: :class:`HandoffDocument` (what :func:`document_for`
takes from the state) and :func:`parse_handoff`, which reads it back from the fenced JSON block
at the end of a HANDOFF.md. The Markdown around it is rendered by :mod:`aether.handoff_render`.
Nothing here touches the disk or the clock.

The machine block is what ``aether resume`` checks (colony id, serial, session, workers); the
prose above it is for people and is never parsed. The block is always the *last* fenced block
after the ``aether:handoff`` marker, so text a user put in the goal or the note can never be
mistaken for it.
"""

from __future__ import annotations

from typing import Any

from aether.errors import HandoffError
from aether.json_text import loads_strict
from aether.records import field, record
from aether.state.model import FINISHED_WORKER_STATUSES, ColonyState, Worker

HANDOFF_FORMAT = 1
MARKER = "<!-- aether:handoff"


@record(frozen=True)
class GitInfo:
    head: str | None
    branch: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"head": self.head, "branch": self.branch}


#: the fields of a worker record (aether.state.model.Worker) a handoff carries, in the order
#: its JSON lists them: copying a worker and writing the JSON both go by this list
HANDOFF_WORKER_FIELDS = ("id", "caste", "model", "status", "profile_hash", "verified", "task")


@record(frozen=True)
class HandoffWorker:
    """A worker as the handoff lists it: the ``HANDOFF_WORKER_FIELDS`` of its record (declared
    here with the record's types; a test keeps the two equal)."""

    id: str
    caste: str
    model: str
    status: str
    profile_hash: str
    verified: bool
    task: str | None

    @classmethod
    def of(cls, worker: Worker) -> HandoffWorker:
        return cls(**{name: getattr(worker, name) for name in HANDOFF_WORKER_FIELDS})

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HANDOFF_WORKER_FIELDS}


@record(frozen=True)
class HandoffDocument:
    """The machine-readable block of a HANDOFF.md."""

    colony_id: str
    serial: int
    session_id: str
    paused_at: str | None
    profile_hash: str | None
    caste_models: dict[str, str]
    git: GitInfo | None
    workers: tuple[HandoffWorker, ...] = ()
    note: str | None = None
    goal: str = ""
    format: int = HANDOFF_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "colony_id": self.colony_id,
            "serial": self.serial,
            "session_id": self.session_id,
            "paused_at": self.paused_at,
            "goal": self.goal,
            "note": self.note,
            "profile_hash": self.profile_hash,
            "caste_models": dict(sorted(self.caste_models.items())),
            "git": self.git.to_json() if self.git else None,
            "workers": [w.to_json() for w in self.workers],
        }


def handoff_workers(state: ColonyState) -> list[Worker]:
    """Workers a handoff lists: in flight, orphans awaiting a decision, and workers handed
    back to be re-run (an agent session's own record is described with its session)."""
    return [
        w
        for w in state.workers
        if not w.is_main_session
        and (
            w.status not in FINISHED_WORKER_STATUSES
            or w.awaits_decision
            or (w.rerun_requested_at is not None and not w.replaced_by)
        )
    ]


def document_for(state: ColonyState, git: GitInfo | None) -> HandoffDocument:
    session = state.session
    return HandoffDocument(
        colony_id=state.colony_id,
        serial=state.serial,
        session_id=session.id,
        paused_at=session.paused_at,
        profile_hash=session.profile_hash_at_pause,
        caste_models=dict(session.caste_models_at_pause),
        git=git,
        workers=tuple(HandoffWorker.of(w) for w in handoff_workers(state)),
        note=session.note,
        goal=state.goal,
    )


# --- parsing -----------------------------------------------------------------------------------


def _bad(why: str) -> HandoffError:
    return HandoffError(
        f"HANDOFF.md is unreadable: {why}",
        meaning="it was probably edited by hand; the colony state is the source of truth",
        fix="run `aether resume` (it works from the state) or `aether pause` to rewrite it",
    )


def _str_or_none(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(f"{key!r} is not a string")
    return value


def parse_handoff(text: str) -> HandoffDocument:
    """Read the machine block of a HANDOFF.md; ``HandoffError`` when it is missing or bad."""
    doc = _machine_block(text)
    fmt = doc.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise _bad("'format' is missing")
    if fmt > HANDOFF_FORMAT:
        raise _bad(f"format {fmt} is newer than this aether understands ({HANDOFF_FORMAT})")
    colony_id, session_id, serial = _identity(doc)
    caste_models, git = _caste_models(doc), _git(doc)
    workers = tuple(_worker(raw) for raw in _worker_entries(doc))
    return HandoffDocument(
        colony_id=colony_id,
        serial=serial,
        session_id=session_id,
        paused_at=_str_or_none(doc, "paused_at"),
        profile_hash=_str_or_none(doc, "profile_hash"),
        caste_models=caste_models,
        git=git,
        workers=workers,
        note=_str_or_none(doc, "note"),
        goal=_str_or_none(doc, "goal") or "",
        format=fmt,
        extra={k: v for k, v in doc.items() if k not in _KNOWN_KEYS},
    )


_KNOWN_KEYS = frozenset(
    {
        "format",
        "colony_id",
        "serial",
        "session_id",
        "paused_at",
        "goal",
        "note",
        "profile_hash",
        "caste_models",
        "git",
        "workers",
    }
)


def _machine_block(text: str) -> dict[str, Any]:
    """The JSON object of the last machine block in ``text``."""
    # the marker must start a line: inside the JSON every newline is escaped, so a goal or
    # note that quotes the marker can never be taken for the real block
    start = text.rfind("\n" + MARKER)
    if start < 0 and text.startswith(MARKER):
        start = 0
    if start < 0:
        raise _bad("no machine-readable block")
    opening = text.find("```json\n", start)
    if opening < 0:
        raise _bad("the machine-readable block has no ```json fence")
    body_start = opening + len("```json\n")
    closing = text.find("\n```", body_start)
    if closing < 0:
        raise _bad("the machine-readable block is not closed")
    try:
        doc = loads_strict(text[body_start:closing])
    except ValueError as exc:
        raise _bad(f"its JSON does not parse ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise _bad("its JSON is not an object")
    return doc


def _identity(doc: dict[str, Any]) -> tuple[str, str, int]:
    colony_id = doc.get("colony_id")
    session_id = doc.get("session_id")
    serial = doc.get("serial")
    if not isinstance(colony_id, str) or not colony_id:
        raise _bad("'colony_id' is missing")
    if not isinstance(session_id, str) or not session_id:
        raise _bad("'session_id' is missing")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 0:
        raise _bad("'serial' is not a non-negative integer")
    return colony_id, session_id, serial


def _caste_models(doc: dict[str, Any]) -> dict[str, str]:
    caste_models = doc.get("caste_models") or {}
    if not isinstance(caste_models, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in caste_models.items()
    ):
        raise _bad("'caste_models' is not a map of caste to model")
    return dict(caste_models)


def _git(doc: dict[str, Any]) -> GitInfo | None:
    git_raw = doc.get("git")
    if git_raw is None:
        return None
    if not isinstance(git_raw, dict):
        raise _bad("'git' is not an object")
    head, branch = git_raw.get("head"), git_raw.get("branch")
    return GitInfo(
        head=head if isinstance(head, str) else None,
        branch=branch if isinstance(branch, str) else None,
    )


def _worker_entries(doc: dict[str, Any]) -> list[Any]:
    workers_raw = doc.get("workers") or []
    if not isinstance(workers_raw, list):
        raise _bad("'workers' is not a list")
    return workers_raw


def _worker(raw: Any) -> HandoffWorker:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise _bad("a worker entry has no id")
    return HandoffWorker(
        id=raw["id"],
        caste=str(raw.get("caste", "")),
        model=str(raw.get("model", "")),
        status=str(raw.get("status", "")),
        profile_hash=str(raw.get("profile_hash", "")),
        verified=raw.get("verified") is True,
        task=raw.get("task") if isinstance(raw.get("task"), str) else None,
    )
