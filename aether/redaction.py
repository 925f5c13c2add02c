"""What a secret looks like, and the one place text enters the colony (docs/robustness.md).

Keys and tokens live in the environment only. Yet people paste them where text is asked for —
a subagent's prompt, a pause note, a memory item, a task — and what aether keeps is copied on:
into the state, its backups, HANDOFF.md and its history, archived chambers, the briefing and
every command's output. So every piece of text from outside passes :func:`admitted` before
aether keeps it, whoever typed it:

* the value of every secret-named variable of the environment (a name holding ``key``,
  ``token``, ``secret``, ``passw``, ``auth`` or ``credential``: ``LITELLM_MASTER_KEY``,
  ``ANTHROPIC_AUTH_TOKEN``, …), in each form it may be printed in;
* common token shapes: ``sk-…`` (OpenAI, Anthropic, LiteLLM keys), ``ghp_…``/``github_pat_…``
  (GitHub), ``AKIA…`` (AWS access key ids), ``xox?-…`` (Slack), ``Bearer …``, and
  ``api_key=…`` / ``token: …`` style assignments.

:func:`redact` is the same scrub for what aether prints (errors, the activity log).
"""

from __future__ import annotations

import os
import re

_SECRET_PATTERNS = (
    # a token that *starts* with sk- (never "task-…", "risk-…": not inside a word)
    (re.compile(r"(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{3,}"), "sk-[redacted]"),
    (
        re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})"),
        "[redacted]",
    ),
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), "[redacted]"),
    (re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9\-]{10,}"), "[redacted]"),
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._\-~+/]+=*"), "Bearer [redacted]"),
)
_ASSIGNMENT = re.compile(
    r"(?i)(api[_-]?key|token|authorization|password|secret)(\"?\s*[:=]\s*\"?)[^\s\",}]+"
)

#: names of environment variables whose values are secrets, whatever their shape
_SECRET_NAME = re.compile(r"(?i)(key|token|secret|passw|auth|credential)")


#: the environment :func:`secret_values` last looked at (as the process holds it) and what it
#: found: a hook scrubs dozens of texts, each with the same environment
_last_seen: tuple[tuple[tuple[bytes, bytes], ...], tuple[str, ...]] | None = None


def secret_values() -> tuple[str, ...]:
    """The values of this process's secret-named variables, in every form they may be printed
    in: as set, stripped of the line break a copy-paste adds, and escaped as ``repr`` shows
    them in a traceback. Longest first, so no shorter form leaves a piece of a longer one."""
    global _last_seen
    # the raw bytes os.environ keeps (no decoding per variable); any change is seen
    raw = getattr(os.environ, "_data", None)
    seen = tuple(raw.items()) if isinstance(raw, dict) else None
    if seen is not None and _last_seen is not None and _last_seen[0] == seen:
        return _last_seen[1]
    forms: set[str] = set()
    for name, value in os.environ.items():
        if value and len(value.strip()) >= 8 and _SECRET_NAME.search(name):
            forms.update({value, value.strip(), repr(value)[1:-1], repr(value.strip())[1:-1]})
    found = tuple(sorted(forms, key=len, reverse=True))
    if seen is not None:
        _last_seen = (seen, found)
    return found


def redact(text: str, *, also: tuple[str, ...] = ()) -> str:
    """``text`` with anything that looks like a credential replaced by ``[redacted]``; ``also``
    names more values to take out (a key held in a variable whose name says nothing)."""
    out = text
    for pattern, replacement in _SECRET_PATTERNS:
        out = pattern.sub(replacement, out)
    out = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", out)
    for value in (*secret_values(), *(v for v in also if len(v.strip()) >= 4)):
        out = out.replace(value, "[redacted]")
    return out


def admitted(text: str, *, also: tuple[str, ...] = ()) -> str:
    """Text from outside as the colony keeps it: credentials taken out. Every way in calls
    this (the bad-input catalogue drives each one and looks for the planted secrets in every
    file and output)."""
    return redact(text, also=also)


def admitted_or_none(text: str | None) -> str | None:
    return None if text is None else admitted(text)
