"""The user's Codex configuration, ``$CODEX_HOME/config.toml``: the provider block aether asks
for, and how what is there compares with it.

aether never writes this file (it is the user's, outside the project, and often holds other
providers); ``aether codex install`` prints the block and ``check`` reads the file — read-only,
bounded in size and time — to say whether it points Codex at the profile's proxy. Measured with
Codex 0.171.0 (docs/codex.md): the provider table's ``base_url`` is the proxy's OpenAI root
(``…/v1``; Codex posts ``<base_url>/responses``), ``env_key`` names the variable holding the
key (the key itself is never in a file), ``wire_api = "responses"``; and without
``trust_level = "trusted"`` for the project, Codex reads nothing in its ``.codex/``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aether.records import record
from aether.runtimes.codex.agents import toml_string

#: the name of aether's table under ``[model_providers]``
PROVIDER = "aether"
CONFIG_NAME = "config.toml"
#: a config.toml larger than this is not read (a real one is a few KiB)
MAX_CONFIG_BYTES = 1024 * 1024


def codex_home(env: Mapping[str, str]) -> Path:
    """Where Codex keeps its configuration: ``$CODEX_HOME``, else ``~/.codex``."""
    value = env.get("CODEX_HOME", "").strip()
    if value:
        return Path(value).expanduser()
    home = env.get("HOME", "").strip()
    return (Path(home) if home else Path.home()) / ".codex"


def base_url(endpoint: str) -> str:
    """The proxy's OpenAI-compatible root: the endpoint with ``/v1`` (once)."""
    root = endpoint.rstrip("/")
    return root if root.endswith("/v1") else root + "/v1"


@record(frozen=True)
class ProviderWanted:
    """What the profile calls for in config.toml."""

    base_url: str
    env_key: str
    project: str
    #: the main session's model (the queen's), suggested in the printed block; None: no queen
    model: str | None = None


def provider_block(want: ProviderWanted) -> str:
    """The lines to add to ``$CODEX_HOME/config.toml`` (never a key: only the variable's name).
    The top-level keys must stay above the first ``[table]`` of the file."""
    lines = ["# top-level keys: above the first [table] of config.toml"]
    if want.model is not None:
        lines.append(f"model = {toml_string(want.model)}")
    lines += [
        f"model_provider = {toml_string(PROVIDER)}",
        "",
        f"[model_providers.{PROVIDER}]",
        'name = "aether (LiteLLM proxy)"',
        f"base_url = {toml_string(want.base_url)}",
        f"env_key = {toml_string(want.env_key)}",
        'wire_api = "responses"',
        "",
        f"[projects.{toml_string(want.project)}]",
        'trust_level = "trusted"',
    ]
    return "\n".join(lines) + "\n"


@record
class ConfigReport:
    """What ``check`` found in config.toml: ``differences`` empty when it matches."""

    path: str
    found: bool
    differences: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "found": self.found, "differences": self.differences}


def read_config(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(the parsed file, None) or (None, why it could not be read — one line); (None, None)
    when there is no file."""
    from aether.bounded_read import read_regular

    try:
        raw = read_regular(path, limit=MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path}: cannot be read ({exc.strerror or exc})"
    try:
        return tomllib.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, f"{path}: not UTF-8 text"
    except tomllib.TOMLDecodeError as exc:
        return None, f"{path}: not valid TOML ({exc})"


def compare(path: Path, want: ProviderWanted) -> ConfigReport:
    """How ``path`` (a config.toml) differs from what aether asks for; each difference one
    line naming the setting, never its secret (there is none: only names and URLs)."""
    data, problem = read_config(path)
    if problem is not None:
        return ConfigReport(str(path), True, [problem])
    if data is None:
        return ConfigReport(
            str(path), False, [f"{path}: missing; add the block `aether codex install` prints"]
        )
    diffs: list[str] = []
    selected = data.get("model_provider")
    if selected != PROVIDER:
        now = _shown("model_provider", selected)
        diffs.append(f"{path}: model_provider {now}, not {PROVIDER!r}")
    providers = data.get("model_providers")
    table = providers.get(PROVIDER) if isinstance(providers, dict) else None
    if not isinstance(table, dict):
        diffs.append(f"{path}: no [model_providers.{PROVIDER}] table")
    else:
        for key, value in (
            ("base_url", want.base_url),
            ("env_key", want.env_key),
            ("wire_api", "responses"),
        ):
            have = table.get(key)
            if have != value:
                now = _shown(key, have)
                diffs.append(
                    f"{path}: [model_providers.{PROVIDER}] {key} {now}, the profile calls "
                    f"for {value!r}"
                )
    projects = data.get("projects")
    entry = projects.get(want.project) if isinstance(projects, dict) else None
    trust = entry.get("trust_level") if isinstance(entry, dict) else None
    if trust != "trusted":
        diffs.append(
            f"{path}: the project {want.project} is not trusted (Codex reads nothing in its "
            '.codex/ without `trust_level = "trusted"`)'
        )
    return ConfigReport(str(path), True, diffs)


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _shown(key: str, value: object) -> str:
    """How a difference quotes what the file holds: never a value that may be a secret (a key
    pasted as ``env_key``, a URL with a password in it)."""
    if not isinstance(value, str):
        return "is not set" if value is None else "is not a string"
    if key == "env_key" and not _VARIABLE.fullmatch(value):
        return "is not a variable name (not shown: it may be the key itself)"
    if key == "base_url":
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            hidden = bool(parts.username or parts.password or parts.query)
        except ValueError:
            hidden = True
        if hidden:
            return "carries credentials or a query (not shown)"
    from aether.redaction import redact

    return f"is {redact(value)!r}"
