"""The current colony state schema: the only Pydantic model of ``COLONY_STATE.json``.

Older formats are never modelled here; ``aether.state.migrations`` turns them into a dict of
this shape first. Every model allows extra keys, so fields written by an older or foreign writer
that this version does not know survive a load→save cycle verbatim (the tool we replace dropped
them on save). Values the migration chain could not map to a field go to ``legacy``.

Timestamps are ISO 8601 strings in UTC (``2026-11-21T15:04:11Z``), kept as strings so that a
value read from an old file is written back byte-for-byte.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: lifecycle statuses aether itself writes; a migrated unknown one becomes "unknown" and the
#: original text is kept in ``status_detail``
ColonyStatus = Literal[
    "idle",
    "planning",
    "ready",
    "active",
    "executing",
    "built",
    "paused",
    "completed",
    "sealed",
    "entombed",
    "unknown",
]

WorkerStatus = Literal[
    "spawned",  # recorded, not yet reported as started
    "running",  # started (heartbeat or --exec start)
    "completed",
    "failed",
    "never_started",  # found by resume: spawned but never started
    "lost",  # found by resume: started but never finished / heartbeat too old
]

#: statuses after which a worker is done; a ``lost`` or ``never_started`` one may still be
#: closed, replaced, or reported finished after all (the runtime's own word beats a presumption)
FINISHED_WORKER_STATUSES: frozenset[str] = frozenset(
    {"completed", "failed", "never_started", "lost"}
)
#: what resume, or a session found dead, calls a worker that did not finish
ORPHAN_WORKER_STATUSES: frozenset[str] = frozenset({"lost", "never_started"})
#: ``runtime.role`` of the record that stands for an agent session's main agent (the queen)
MAIN_SESSION_ROLE = "main"


class _Open(BaseModel):
    """Base for every state model: unknown keys are kept, not dropped.

    List and dict fields default to plain ``[]``/``{}``: Pydantic copies such a default for
    each instance, and a ``default_factory=list`` costs ~4 ms of every process (Pydantic asks
    ``inspect.signature`` about the factory, which for a builtin means tokenizing its text
    signature)."""

    model_config = ConfigDict(extra="allow", validate_default=False)


class Task(_Open):
    id: str
    description: str = ""
    status: str = "pending"
    caste: str | None = None
    worker_ids: list[str] = []


class Phase(_Open):
    id: int | str
    name: str = ""
    description: str = ""
    status: str = "pending"
    tasks: list[Task] = []


class Plan(_Open):
    generated_at: str | None = None
    #: a number or an object of axes, as the old tool wrote it
    confidence: float | dict[str, Any] | None = None
    phases: list[Phase] = []


class Session(_Open):
    id: str
    started_at: str
    paused_at: str | None = None
    resumed_at: str | None = None
    ended_at: str | None = None
    #: the note given to ``aether pause --note``
    note: str | None = None
    #: the profile hash in force when the colony was paused
    profile_hash_at_pause: str | None = None
    #: the model each caste would get at pause (caste -> model)
    caste_models_at_pause: dict[str, str] = {}
    previous_ids: list[str] = []
    #: git HEAD and branch of the project at pause ({"head": ..., "branch": ...}), if a repo
    git_at_pause: dict[str, str | None] | None = None


class RoutingAttempt(_Open):
    """One model tried while spawning a worker."""

    model: str
    outcome: str  # "ok", "skipped", "failed"
    status: int | None = None
    error: str | None = None
    timed_out: bool = False
    at: str | None = None


class Worker(_Open):
    id: str
    caste: str
    model: str
    #: where the model came from: explicit, pinned, override, task-routing, scoring,
    #: caste-default, fallback, lenient-default, legacy
    model_source: str
    model_reason: str
    profile_hash: str
    task: str | None = None
    session_id: str | None = None
    status: WorkerStatus = "spawned"
    spawned_at: str
    started_at: str | None = None
    heartbeat_at: str | None = None
    finished_at: str | None = None
    #: True only when a proxy check proved the model is served (and, with a probe, answered)
    verified: bool = False
    #: how it was verified: {"method": "models-list"|"probe"|"none", ...}
    verification: dict[str, Any] = {}
    attempts: list[RoutingAttempt] = []
    model_used: str | None = None
    model_mismatch: bool = False
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    exit_code: int | None = None
    duration_s: float | None = None
    latency_ms: float | None = None
    fail_reason: str | None = None
    respawn_of: str | None = None
    replaced_by: str | None = None
    #: set by ``resume --adopt-profile``: the model a respawn of this worker uses instead of
    #: ``model`` (the record of what it ran on is never rewritten)
    repin_to: str | None = None
    #: the routing decision behind ``model`` (decision model/source/reason, chain and where it
    #: came from, skipped models, warnings; docs/spawn.md)
    routing: dict[str, Any] = {}
    #: how ``spawn --exec`` ran it: {"program": argv[0], "timeout_s": N, "timed_out": bool}
    exec_info: dict[str, Any] | None = None
    #: the agent runtime that ran it, when not ``aether spawn``: {"kind": "claude-code",
    #: "session_id", "tool_use_id", "agent_id", "agent_type", "requested_type", ...}
    runtime: dict[str, Any] | None = None
    #: the model the runtime says it resolved for the worker (Claude Code's ``resolvedModel``)
    resolved_model: str | None = None
    #: tokens (and cost, when known) per model the worker used, from the runtime's own record
    #: (a transcript, a headless result): model -> {"tokens_in", "tokens_out", ...}
    usage_by_model: dict[str, dict[str, Any]] = {}
    #: the worker that spawned this one (a subagent's caller; a session's top-level subagents
    #: hang under the record of that session's main agent); None: spawned from outside
    parent_id: str | None = None
    #: what the worker said last: a subagent's final line, a session's last message (bounded)
    result: str | None = None
    #: a lost or never-started worker someone closed (``aether worker close``), and why
    closed_at: str | None = None
    close_reason: str | None = None
    #: an agent runtime's worker handed back to be re-run by the next session's main agent
    #: (``worker respawn`` of a subagent): linked when a subagent takes it up
    rerun_requested_at: str | None = None
    #: how many times the colony resumed while this orphan waited (closed at a limit)
    orphan_resumes: int = 0

    @property
    def is_main_session(self) -> bool:
        """Does this record stand for an agent session's main agent (the queen)?"""
        return (self.runtime or {}).get("role") == MAIN_SESSION_ROLE

    @property
    def awaits_decision(self) -> bool:
        """An orphan nobody has replaced, closed or handed back to be re-run: handoffs and
        briefings list it until one of those happens."""
        return (
            self.status in ORPHAN_WORKER_STATUSES
            and not self.replaced_by
            and not self.closed_at
            and not self.rerun_requested_at
            and not self.is_main_session
        )


class Event(_Open):
    # The fields are declared in the order of their names, the order every file stores an
    # event's keys in (sorted): Pydantic writes a model's fields in the order they are
    # declared, so its serializer writes an event exactly as ``json_text.compact_json`` writes
    # the event's dump, and the events archive's lines come from it without a dump and a sort
    # (``aether.state.event_archive``; tests/test_files.py holds the two to the same bytes).
    # (A comment, not a docstring: a docstring would become the schema's description.)
    data: dict[str, Any] = {}
    message: str = ""
    #: the original text of an event migrated from a pipe-separated string, kept verbatim
    raw: str | None = None
    source: str = "aether"
    ts: str
    type: str


class Settings(_Open):
    #: events kept in the state; older ones move to data/events.archive.jsonl
    event_cap: int = Field(default=100, ge=1, le=100_000)
    #: finished workers kept in the state; older ones move to data/workers.history.jsonl
    finished_worker_cap: int = Field(default=50, ge=1, le=1_000_000)
    #: a running worker whose last heartbeat is older than this is ``lost`` on resume
    heartbeat_limit_s: int = Field(default=3600, ge=1)


class ProfileBinding(_Open):
    """The profile a colony was routed by, as its writer recorded it (the old tool's 3.0
    ``model_profile`` block). aether itself routes by ``.aether/model-profiles.yaml`` and
    records the profile hash on every worker; ``aether migrate`` compares the two."""

    profile_file: str | None = None
    active_profile: str | None = None
    routing_enabled: bool | None = None
    proxy_endpoint: str | None = None
    updated_at: str | None = None


class WorkerCounts(_Open):
    """Per caste/model counts of finished workers compacted out of ``workers``."""

    total: int = 0
    by_status: dict[str, int] = {}


class ColonyState(_Open):
    version: str
    colony_id: str
    serial: int = Field(ge=0)
    created_at: str
    updated_at: str
    goal: str
    name: str | None = None
    status: ColonyStatus = "idle"
    #: the original lifecycle text when it came from an older writer (e.g. "CROWNED")
    status_detail: str | None = None
    plan: Plan = Field(default_factory=Plan)
    current_phase: int | str | None = None
    session: Session
    workers: list[Worker] = []
    #: "caste/model" -> counts of compacted finished workers
    worker_counts: dict[str, WorkerCounts] = {}
    #: model -> the last runs of ``spawn --exec`` workers on it (``{"duration_s", "latency_ms",
    #: "ok"}``, newest last, at most 50): the model-aware default --exec timeout (docs/workers.md)
    latency_history: dict[str, list[dict[str, Any]]] = {}
    events: list[Event] = []
    events_archived: int = 0
    signals: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    settings: Settings = Field(default_factory=Settings)
    #: the routing profile binding carried over from an older writer (see ProfileBinding)
    profile_binding: ProfileBinding | None = None
    #: values from older formats with no field of their own, kept verbatim by source version
    legacy: dict[str, Any] = {}
    #: one entry per migration applied to this colony: {from, to, at, steps}
    migrations: list[dict[str, Any]] = []

    def add_event(
        self, type: str, message: str = "", *, source: str = "aether", **data: Any
    ) -> Event:
        """Append an event; the store moves the oldest beyond ``settings.event_cap`` out."""
        from aether.timeutil import iso

        event = Event(ts=iso(), type=type, source=source, message=message, data=data)
        self.events.append(event)
        return event

    def phase_in_progress(self) -> Phase | None:
        """The plan's phase that ``current_phase`` names, if any."""
        for phase in self.plan.phases:
            if str(phase.id) == str(self.current_phase):
                return phase
        return None

    def worker(self, worker_id: str) -> Worker | None:
        for w in self.workers:
            if w.id == worker_id:
                return w
        return None
