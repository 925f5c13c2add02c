"""Writing a profile in the current format, with comments: used by ``aether profile migrate``.

A pure renderer from a current-format dict (``legacy.from_v1(...).data``) to YAML text. PyYAML's
dumper drops comments and reorders keys (the tool we replace lost every comment when it
rewrote its own YAML), so the layout here is written by hand and the scalars by PyYAML.
"""

from __future__ import annotations

from typing import Any

SECTION_COMMENTS = {
    "strict": [
        "strict: an unknown caste is an error. The old tool fell back to a default model for",
        "anything it did not know, so a migrated profile stays lenient (strict: false, loud",
        "warnings); set `strict: true` once every caste you use is listed below.",
    ],
    "default_model": ["the model an unknown caste gets in lenient mode (never for known castes)"],
    "models": ["speed and cost are 1..5 (v1 words: slow=2, medium=3, fast=4; low=1, high=5)"],
    "castes": ["caste -> its model and an optional fallback chain (at most 8 models in all)"],
    "overrides": ["your own choices, above task routing: caste -> model"],
    "task_routing": [
        "keywords match whole words, case-insensitively; when none matches, the caste's own",
        "model wins. The group matching the most keywords wins (then priority, then name).",
    ],
    "proxy": ["key_env is the NAME of the environment variable holding the key, never the key"],
}
TOP_ORDER = [
    "format",
    "name",
    "description",
    "strict",
    "default_model",
    "models",
    "castes",
    "overrides",
    "task_routing",
    "scoring",
    "proxy",
    "timeouts",
    "breaker",
]


def scalar(value: Any) -> str:
    """One YAML scalar or flow sequence, quoted only when YAML needs it."""
    import yaml

    text: str = yaml.safe_dump(
        value, default_flow_style=True, width=1 << 20, allow_unicode=True, sort_keys=False
    ).strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")].rstrip()
    elif text.endswith("..."):
        text = text[:-3].rstrip()
    return text


def _emit(lines: list[str], key: str, value: Any, indent: int) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            lines.append(f"{pad}{scalar(key)}: {{}}")
            return
        lines.append(f"{pad}{scalar(key)}:")
        for k, v in value.items():
            _emit(lines, str(k), v, indent + 1)
    elif isinstance(value, list) and any(isinstance(v, str) and len(v) > 30 for v in value):
        lines.append(f"{pad}{scalar(key)}:")
        lines.extend(f"{pad}  - {scalar(v)}" for v in value)
    else:
        lines.append(f"{pad}{scalar(key)}: {scalar(value)}")


def render_profile_yaml(data: dict[str, Any], header: list[str]) -> str:
    """The current-format ``data`` as commented YAML (keys in a fixed, readable order)."""
    import textwrap

    lines: list[str] = []
    for h in header:
        indent = len(h) - len(h.lstrip(" -")) if h.lstrip().startswith("-") else 0
        wrapped = textwrap.wrap(h, 94, subsequent_indent=" " * indent) or [""]
        lines.extend(f"# {w}".rstrip() for w in wrapped)
    keys = [k for k in TOP_ORDER if k in data] + [k for k in data if k not in TOP_ORDER]
    for key in keys:
        if key in SECTION_COMMENTS:
            lines.append("")
            lines.extend(f"# {c}" for c in SECTION_COMMENTS[key])
        elif isinstance(data[key], dict):
            lines.append("")
        if key == "castes" and isinstance(data[key], dict) and data[key]:
            # one line a caste, as in the default profile: easy to scan and to diff
            lines.append("castes:")
            lines.extend(f"  {scalar(c)}: {scalar(spec)}" for c, spec in data[key].items())
            continue
        _emit(lines, key, data[key], 0)
    return "\n".join(lines) + "\n"
