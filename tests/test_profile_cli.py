"""The profile file through the installed CLI: bad input, validation, migration, docs, cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aether.ops.routing.profiles import default_profile_loaded, render_docs
from tests.conftest import RunAether
from tests.helpers import REPO, SHARED, assert_clean_error, snapshot

#: the project's own profiles in the old tool's formats (fixtures/profiles/README.md)
FIXTURES = REPO / "fixtures" / "profiles"
V1_LITERAL = FIXTURES / "v1-literal-key.yaml"
V1_ENV = FIXTURES / "v1-env-key.yaml"
V2_SLOTS = FIXTURES / "v2-slots.yaml"
#: the real profiles of the old tool, when the shared corpus is there (acceptance, optional)
ANCHORS = SHARED / "anchor-profiles"
#: every old-format profile with the literal secret it holds (never to be copied)
OLD_PROFILES = [
    pytest.param(V1_LITERAL, "sk-fixture-literal-0000", id="v1-literal-key"),
    pytest.param(V1_ENV, "sk-fixture-fallback-1111", id="v1-env-key"),
    pytest.param(V2_SLOTS, "sk-fixture-fallback-2222", id="v2-slots"),
    *(
        pytest.param(path, "sk-litellm-local", id=f"anchor-{path.name}")
        for path in sorted(ANCHORS.glob("*.yaml") if ANCHORS.is_dir() else [])
    ),
]

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def write_profile(colony: Path, text: str | bytes) -> Path:
    path = colony / ".aether" / "model-profiles.yaml"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


@pytest.mark.parametrize(
    ("content", "code", "needle"),
    [
        ("models: [unclosed\n", 41, "line"),
        ("format: 2\nstrict: true\nstrict: false\n", 41, "duplicate key 'strict'"),
        (BOMB, 48, "alias"),
        ("- a\n- b\n", 49, "a list, not a mapping"),
        ("", 49, "empty"),
        ("format: 2\nmodels: 3\ncastes: {}\n", 42, "models"),
        (b"format: 2\n\xff\xfe\n", 41, "UTF-8"),
        ("format: 7\nmodels: {}\ncastes: {}\n", 42, "newer aether"),
        ("models: {}\ncastes: {}\n", 42, "format"),
    ],
)
def test_bad_profiles_are_one_line_errors_and_change_nothing(
    colony: Path, run_aether: RunAether, content: str | bytes, code: int, needle: str
) -> None:
    path = write_profile(colony, content)
    before = snapshot(colony / ".aether")
    result = run_aether("route", "do it", "--caste", "builder")
    assert_clean_error(result, code)
    assert str(path) in result.stderr and needle in result.stderr
    assert snapshot(colony / ".aether") == before


def test_missing_and_huge_profiles(colony: Path, run_aether: RunAether) -> None:
    path = colony / ".aether" / "model-profiles.yaml"
    path.unlink()
    assert_clean_error(run_aether("route", "x"), 40)
    path.write_bytes(b"# padding\n" * 1_100_000)  # ~10 MB
    result = run_aether("profile", "validate")
    assert_clean_error(result, 47)
    assert "limit" in result.stderr


def test_deeply_nested_yaml_does_not_crash(colony: Path, run_aether: RunAether) -> None:
    write_profile(colony, "a: " + "[" * 200_000 + "]" * 200_000 + "\n")
    assert_clean_error(run_aether("route", "x"), 41)


def test_validate_lists_every_problem_with_did_you_mean(
    tmp_path: Path, run_aether: RunAether
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "format: 2\n"
        "models:\n"
        "  kimi-k2.5: {provider: moonshot, context_window: 256000}\n"
        "  m1: {provider: p, context_window: 10, speeed: 3}\n"
        "castes:\n"
        "  builder: {model: kimik2.5, chain: [m1, m1]}\n"
        "  scout: {model: m1, chain: [a, b, c, d, e, f, g, h]}\n"
        "task_routing:\n"
        "  groups:\n"
        "    empty: {keywords: [], model: m1}\n"
        "proxy:\n"
        "  key_env: LITELLM_MASTER_KEY\n"
    )
    result = run_aether("profile", "validate", str(bad), "--json")
    assert result.returncode == 42, result.stderr
    report = json.loads(result.stdout)
    lines = [f"{e['location']}: {e['message']}" for e in report["errors"]]
    assert any("speeed" in line and "did you mean 'speed'" in line for line in lines), lines
    # pydantic stops at the unknown key; fix it and the cross-reference checks run
    bad.write_text(bad.read_text().replace(", speeed: 3", ""))
    report = json.loads(run_aether("profile", "validate", str(bad), "--json").stdout)
    lines = [f"{e['location']}: {e['message']}" for e in report["errors"]]
    assert "castes.builder.model: unknown model 'kimik2.5' (did you mean 'kimi-k2.5'?)" in lines
    assert any(line.startswith("castes.builder.chain[1]:") and "twice" in line for line in lines)
    assert any(line.startswith("castes.scout.chain:") and "limit 8" in line for line in lines)
    assert any("task_routing.groups.empty.keywords" in line for line in lines)
    human = run_aether("profile", "validate", str(bad))
    assert human.returncode == 42 and "kimik2.5" in human.stdout


def test_v1_loads_as_is_and_warns_about_the_literal_secret(
    colony: Path, run_aether: RunAether
) -> None:
    write_profile(colony, V1_LITERAL.read_bytes())
    result = run_aether("route", "design the schema", "--caste", "route_setter", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["model"], out["source"]) == ("deepthink-9", "task-routing")
    assert out["profile_format"] == "v1"
    assert any("SECRET IN PROFILE" in w for w in out["profile_warnings"])
    assert "sk-fixture-literal-0000" not in result.stdout + result.stderr
    human = run_aether("route", "x", "--caste", "builder")
    assert "SECRET IN PROFILE" in human.stderr and "key_env" in human.stderr


@pytest.mark.parametrize(("old", "secret"), OLD_PROFILES)
def test_migrate_keeps_meaning_backs_up_and_drops_secrets(
    tmp_path: Path, run_aether: RunAether, old: Path, secret: str
) -> None:
    path = tmp_path / "model-profiles.yaml"
    original = old.read_bytes()
    assert secret.encode() in original
    path.write_bytes(original)
    before = json.loads(run_aether("profile", "validate", str(path), "--json").stdout)
    result = run_aether("profile", "migrate", str(path), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert Path(out["backup"]).read_bytes() == original
    assert out["profile_hash"] == before["profile_hash"]
    text = path.read_text()
    assert text.startswith("# aether model profile") and "format: 2" in text
    data = text.split("\nformat: 2", 1)[1]
    assert secret not in text and "auth_token" not in data
    assert "key_env:" in data and "route_setter:" not in data
    assert "model_slots" not in data and "worker_models" not in data
    after = json.loads(run_aether("profile", "validate", str(path), "--json").stdout)
    assert after["ok"] and after["profile_format"] == "2"
    assert after["profile_hash"] == before["profile_hash"]
    again = json.loads(run_aether("profile", "migrate", str(path), "--json").stdout)
    assert again["written"] is False and again["from_format"] == "2"


def test_migrate_dry_run_writes_nothing(tmp_path: Path, run_aether: RunAether) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(V1_ENV.read_bytes())
    before = snapshot(tmp_path)
    result = run_aether("profile", "migrate", str(path), "--dry-run")
    assert result.returncode == 0 and "key_env: FIXTURE_PROXY_TOKEN" in result.stdout
    assert "sk-fixture-fallback-1111" not in result.stdout + result.stderr
    assert snapshot(tmp_path) == before


def test_v2_slots_route_each_caste_to_its_slots_model(colony: Path, run_aether: RunAether) -> None:
    """Castes and keyword groups name slots; ``inherit`` castes fall to the lenient default,
    saying so; the migrated file routes exactly as the slot file did."""
    write_profile(colony, V2_SLOTS.read_bytes())
    expected = {
        ("scout", "x"): ("lite-1", "caste-default"),
        ("route_setter", "x"): ("deepthink-9", "caste-default"),
        ("keeper", "x"): ("swiftcoder-3", "lenient-default"),
        ("builder", "design the api"): ("deepthink-9", "task-routing"),
        ("queen", "format the notes"): ("lite-1", "task-routing"),
    }

    def routes() -> dict[tuple[str, str], tuple[str, str]]:
        found = {}
        for caste, task in expected:
            result = run_aether("route", task, "--caste", caste, "--json")
            assert result.returncode == 0, result.stderr
            out = json.loads(result.stdout)
            found[(caste, task)] = (out["model"], out["source"])
        return found

    assert routes() == expected
    warnings = json.loads(run_aether("profile", "validate", "--json").stdout)["warnings"]
    assert sum("slot 'inherit'" in w["message"] for w in warnings) == 2
    assert run_aether("profile", "migrate").returncode == 0
    assert routes() == expected


def test_show_and_route_json(colony: Path, run_aether: RunAether) -> None:
    show = json.loads(run_aether("profile", "show", "--json").stdout)
    castes = {row["caste"]: row for row in show["castes"]}
    assert castes["route-setter"]["model"] == "claude-opus-4-5"
    assert castes["builder"]["source"] == "caste-default"
    r = run_aether("route", "fix the latest typo", "-c", "Builder", "--tools", "git,grep", "--json")
    out = json.loads(r.stdout)
    assert out["source"] == "task-routing" and out["matched_keywords"] == ["typo"]
    assert set(out["scores"]) == set(show["models"])
    human = run_aether("route", "get the latest results", "-c", "watcher")
    assert "caste-default" in human.stdout and "intent scores" in human.stdout
    bad = run_aether("route", "x", "--model", "kimik2.5")
    assert_clean_error(bad, 43)
    assert "did you mean 'kimi-k2.5'" in bad.stderr


def test_cache_hit_imports_neither_yaml_nor_the_profile_models(
    colony: Path, run_aether: RunAether
) -> None:
    assert run_aether("route", "warm the cache").returncode == 0
    cache = colony / ".aether" / "cache" / "profile.json"
    assert cache.exists()
    probe = (
        "import sys; from aether.cli.main import run; run(['route', 'x', '--json'])\n"
        "print('LOADED', 'yaml' in sys.modules, 'aether.routing.profile' in sys.modules,"
        " file=sys.stderr)"
    )
    r = subprocess.run([sys.executable, "-c", probe], cwd=colony, capture_output=True, text=True)
    # Typer itself imports pydantic to coerce option values; building the profile's Pydantic
    # models (~50 ms) and importing yaml are what a cache hit avoids
    assert "LOADED False False" in r.stderr, r.stderr
    cache.write_text("{not json")  # a corrupt cache is ignored and rebuilt
    assert run_aether("route", "x").returncode == 0
    assert json.loads(cache.read_text())["hash"].startswith("p-")
    # an edited profile is a cache miss: the edit is seen at once
    path = colony / ".aether" / "model-profiles.yaml"
    path.write_text(path.read_text().replace("overrides: {}", "overrides: {builder: haiku}"))
    out = json.loads(run_aether("route", "x", "--json").stdout)
    assert (out["model"], out["source"]) == ("claude-haiku-4-5", "override")


def test_committed_workers_md_matches_the_default_profile() -> None:
    committed = (REPO / "docs" / "workers.md").read_text(encoding="utf-8")
    expected = render_docs(default_profile_loaded(), "aether's packaged default profile")
    if committed != expected:
        (REPO / "docs" / "workers.md.actual").write_text(expected, encoding="utf-8")
    assert committed == expected, "docs/workers.md is stale: run `aether profile docs --default`"


def test_profile_docs_check_and_write(colony: Path, run_aether: RunAether) -> None:
    assert run_aether("profile", "docs").returncode == 0
    assert "| builder | claude-sonnet-4-5 |" in (colony / "docs" / "workers.md").read_text()
    assert run_aether("profile", "docs", "--check").returncode == 0
    path = colony / ".aether" / "model-profiles.yaml"
    path.write_text(path.read_text().replace("overrides: {}", "overrides: {builder: opus}"))
    stale = run_aether("profile", "docs", "--check")
    assert_clean_error(stale, 1)


def test_profile_init_refuses_then_backs_up(colony: Path, run_aether: RunAether) -> None:
    # the exit code `aether init` gives for the same situation: what it would create is there
    assert_clean_error(run_aether("profile", "init"), 11)
    out = json.loads(run_aether("profile", "init", "--force", "--json").stdout)
    assert Path(out["backup"]).exists()


def test_profile_init_takes_the_proxy_url(colony: Path, run_aether: RunAether) -> None:
    path = colony / ".aether" / "model-profiles.yaml"
    out = run_aether("profile", "init", "--force", "--proxy", "http://10.9.8.7:4100/", "--json")
    assert out.returncode == 0, out.stderr
    text = path.read_text()
    assert "  endpoint: http://10.9.8.7:4100/\n" in text and "127.0.0.1:4000" not in text
    shown = json.loads(run_aether("profile", "show", "--json").stdout)
    assert shown["proxy"] == {
        "endpoint": "http://10.9.8.7:4100/",
        "from": "proxy.endpoint in the profile",
    }
    assert run_aether("profile", "validate").returncode == 0


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("localhost:4000", "is not an http(s) URL"),
        ("http://127.0.0.1:4000x", "has an invalid port"),
        ("http://me:pa55-secret@127.0.0.1:4000", "carries a user name or password"),
        ("http://127.0.0.1:4000\nstandalone: true", "holds white space or a character"),
    ],
)
def test_profile_init_refuses_a_bad_proxy_url_and_writes_nothing(
    colony: Path, run_aether: RunAether, url: str, words: str
) -> None:
    before = snapshot(colony / ".aether")
    r = run_aether("profile", "init", "--force", "--proxy", url)
    assert_clean_error(r, 21)
    assert f"--proxy {words}" in r.stderr and "pa55" not in r.stderr
    assert snapshot(colony / ".aether") == before


def test_route_says_what_an_aether_model_override_changes(
    colony: Path, run_aether: RunAether
) -> None:
    from tests.helpers import clean_env

    plain = json.loads(run_aether("route", "fix the bug", "--json", env=clean_env()).stdout)
    assert plain["env_override"] == {"models": None, "problem": None}
    env = clean_env(AETHER_MODEL_1="claude-haiku-4-5", AETHER_MODEL_2="claude-opus-4-5")
    over = json.loads(run_aether("route", "fix the bug", "--json", env=env).stdout)
    assert over["model"] == plain["model"]  # resolution itself ignores the environment
    assert over["env_override"]["models"] == ["claude-haiku-4-5", "claude-opus-4-5"]
    human = run_aether("route", "fix the bug", env=env).stdout
    assert "claude-haiku-4-5 -> claude-opus-4-5 (set by AETHER_MODEL_n)" in human
    bad = run_aether("route", "fix the bug", env=clean_env(AETHER_MODEL_2="claude-opus-4-5"))
    assert bad.returncode == 0 and "spawn would stop (exit 46)" in bad.stdout


@pytest.mark.parametrize("value", ["0", "-5", "100000001"])
def test_route_and_spawn_agree_on_the_context_tokens_they_accept(
    colony: Path, run_aether: RunAether, value: str
) -> None:
    """route took --context-tokens 0 where spawn refused it; both refuse the same values with
    the same exit code (0 and below: a usage error; past 100,000,000: out of range)."""
    routed = run_aether("route", "x", "--context-tokens", value)
    spawned = run_aether("spawn", "--caste", "builder", "--no-proxy", "--context-tokens", value)
    assert routed.returncode == spawned.returncode != 0, (routed.stderr, spawned.stderr)
    assert routed.returncode == (21 if value == "100000001" else 2)
    for result in (routed, spawned):
        assert "--context-tokens" in result.stderr and len(result.stderr.splitlines()) == 1


def test_profile_docs_in_a_subdirectory_writes_the_projects_docs(
    colony: Path, run_aether: RunAether
) -> None:
    sub = colony / "src" / "pkg"
    sub.mkdir(parents=True)
    result = run_aether("profile", "docs", "--json", cwd=sub)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["output"] == str(colony / "docs" / "workers.md")
    assert (colony / "docs" / "workers.md").is_file()
    assert not (sub / "docs").exists()
    assert run_aether("profile", "docs", "--check", cwd=sub).returncode == 0
    # an explicit --output is the user's path, relative to where they are
    assert run_aether("profile", "docs", "-o", "here.md", cwd=sub).returncode == 0
    assert (sub / "here.md").is_file()


def test_profile_validate_lists_cross_reference_errors_beside_schema_errors(
    colony: Path, run_aether: RunAether
) -> None:
    """A schema error (an unknown key) must not hide a caste naming an undeclared model: the
    command promises every problem in one run."""
    path = colony / ".aether" / "model-profiles.yaml"
    text = path.read_text()
    text = text.replace("builder:       {model: claude-sonnet-4-5", "builder:       {model: gpt-9")
    text = text.replace("\nstrict: true\n", "\nstrict: true\nstrcit: false\n")
    text = text.replace("context_window: 200000", "context_window: lots", 1)
    path.write_text(text)
    out = json.loads(run_aether("profile", "validate", "--json").stdout)
    errors = {(e["location"], e["message"].split(" (")[0]) for e in out["errors"]}
    assert ("strcit", "unknown key") in errors, errors
    assert any(loc.endswith(".context_window") for loc, _ in errors), errors
    assert any(loc == "castes.builder.model" and "gpt-9" in msg for loc, msg in errors), errors
    # the model whose spec is invalid is still declared: no "unknown model" for it
    broken = next(loc for loc, _ in errors if loc.endswith(".context_window")).split(".")[1]
    assert not any(f"unknown model '{broken}'" in msg for _, msg in errors), errors
