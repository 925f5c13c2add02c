"""``aether schema`` prints the current state's JSON Schema; docs/state-schema.json is current."""

from __future__ import annotations

import json

from aether.ops.migrate import state_schema
from aether.state.migrations import CURRENT_VERSION
from tests.conftest import REPO, RunAether


def test_schema_command_prints_one_json_object(run_aether: RunAether) -> None:
    plain = run_aether("schema")
    assert plain.returncode == 0, plain.stderr
    schema = json.loads(plain.stdout)
    assert schema["title"] == "ColonyState" and "version" in schema["required"]
    assert CURRENT_VERSION in schema["$comment"]
    assert run_aether("schema", "--json").stdout == plain.stdout


def test_committed_schema_is_current() -> None:
    committed = (REPO / "docs" / "state-schema.json").read_text(encoding="utf-8")
    from aether.files import canonical_json

    assert committed == canonical_json(state_schema()), (
        "docs/state-schema.json is stale: run `python -m tools.gendocs`"
    )
