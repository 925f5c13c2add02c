"""``aether schema`` prints the current state's JSON Schema; docs/state-schema.json is current."""

from __future__ import annotations

import json

from aether.ops.migrate_state import state_schema
from aether.state.migrations import CURRENT_VERSION
from tests.conftest import RunAether
from tests.helpers import REPO


def test_schema_command_prints_one_json_object(run_aether: RunAether) -> None:
    plain = run_aether("schema")
    assert plain.returncode == 0, plain.stderr
    schema = json.loads(plain.stdout)
    assert schema["title"] == "ColonyState" and "version" in schema["required"]
    assert CURRENT_VERSION in schema["$comment"]
    assert run_aether("schema", "--json").stdout == plain.stdout


def test_committed_schema_is_current() -> None:
    committed = (REPO / "docs" / "state-schema.json").read_text(encoding="utf-8")
    from aether.json_text import canonical_json

    assert committed == canonical_json(state_schema()), (
        "docs/state-schema.json is stale: run `python -m tools.gendocs`"
    )


def test_list_and_dict_defaults_are_never_shared_between_instances() -> None:
    """The models use plain ``[]``/``{}`` defaults: Pydantic copies them per instance (a
    ``default_factory`` cost ~4 ms of import, through ``inspect.signature`` on ``list``)."""
    from aether.state.model import ColonyState, Phase, Worker

    document = {
        "version": CURRENT_VERSION,
        "colony_id": "c",
        "serial": 0,
        "created_at": "t",
        "updated_at": "t",
        "goal": "g",
        "session": {"id": "s", "started_at": "t"},
    }
    worker = {
        "id": "w",
        "caste": "c",
        "model": "m",
        "model_source": "s",
        "model_reason": "r",
        "profile_hash": "h",
        "spawned_at": "t",
    }
    a = ColonyState.model_validate(document)
    a.add_event("x")
    a.legacy["k"] = 1
    a.session.previous_ids.append("old")
    a.plan.phases.append(Phase(id=1))
    w = Worker.model_validate(worker)
    w.routing["k"] = 1
    b = ColonyState.model_validate(document)
    assert b.events == [] and b.legacy == {} and b.plan.phases == []
    assert b.session.previous_ids == []
    assert Worker.model_validate(worker).routing == {}
