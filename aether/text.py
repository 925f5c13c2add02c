"""User text made safe to show: control characters rendered visibly, never executed.

A goal, task or note may hold terminal escapes (``\\x1b[31m``), carriage returns, or Unicode
bidi overrides that reorder what a reader sees. aether stores user text exactly as given and
renders these characters as escapes wherever it prints or writes Markdown; JSON output already
escapes the C0 range, and ``json_visible`` escapes the rest (the value decodes unchanged).
"""

from __future__ import annotations

import re

#: C0 controls except tab and line feed, DEL, C1 controls, bidi embeddings/overrides/isolates
_SHOWN_ESCAPED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: what ``json.dumps(ensure_ascii=False)`` leaves raw that a terminal or an editor may act on
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control character shown as an escape (tabs and newlines kept)."""
    return _SHOWN_ESCAPED.sub(_escape, text)


def json_visible(dumped: str) -> str:
    """A JSON document (from ``json.dumps(..., ensure_ascii=False)``) with the characters it
    leaves raw escaped as ``\\uXXXX`` — the same values, nothing a terminal would act on."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)


def did_you_mean(name: str, candidates: list[str]) -> str:
    """`` (did you mean 'kimi-k2.5'?)`` or ``""``; compares ignoring case and punctuation."""
    import difflib

    def squash(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    by_squash = {squash(c): c for c in candidates}
    close = difflib.get_close_matches(squash(name), list(by_squash), n=1, cutoff=0.6)
    return f" (did you mean {by_squash[close[0]]!r}?)" if close else ""


def one_line(text: object, limit: int) -> str:
    """Whitespace collapsed, control characters shown as escapes, cut to ``limit``."""
    shown = visible(" ".join(str(text).split()))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def cut_front(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, cut from the front: its end is what says what
    comes next."""
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]
