"""``.claude/hooks/aether-hook``: the one command every aether hook entry runs.

Why a launcher script instead of a path to ``aether`` in the settings: the settings file is
usually committed and shared, and each person (or CI machine) has aether somewhere else — a
virtualenv that is not on Claude Code's PATH, pipx, a system install. The script holds no
machine-specific path; it looks, in order, at ``$AETHER_BIN``, ``aether`` on PATH, the
project's ``.venv/`` and ``venv/``, and ``~/.local/bin`` (pipx). ``aether claude install
--local`` pins the installing aether as ``AETHER_BIN`` in ``.claude/settings.local.json``
(Claude Code passes a settings file's ``env`` block to hooks); ``aether doctor`` runs the
script's ``--which`` to report what a hook would run.

When no aether is found the script never breaks the session: one line on stderr, exit 0 — except
for a spawn of an ``aether-*`` subagent, which it refuses (exit 2: Claude Code blocks the tool
call and shows the reason to the model), because that worker could not be routed or recorded.
"""

from __future__ import annotations

from aether.runtimes.marker import stamp

RELATIVE_PATH = ".claude/hooks/aether-hook"

_HEAD = "#!/bin/sh\n"
_BODY = r"""# Claude Code runs this for aether's hooks (.claude/settings*.json): it finds the aether
# command and runs `aether hook EVENT` with the hook's JSON on stdin. It looks at $AETHER_BIN,
# `aether` on PATH, the project's .venv/ and venv/, then ~/.local/bin (pipx).
# `.claude/hooks/aether-hook --which` prints the aether it would run. See docs/claude-code.md.
find_aether() {
  for candidate in "${AETHER_BIN:-}" "$(command -v aether 2>/dev/null)" \
      "${CLAUDE_PROJECT_DIR:-.}/.venv/bin/aether" "${CLAUDE_PROJECT_DIR:-.}/venv/bin/aether" \
      "${HOME:-/nonexistent}/.local/bin/aether"; do
    if [ -n "$candidate" ] && [ -f "$candidate" ] && [ -x "$candidate" ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}
event="${1:-}"
if [ "$event" = "--which" ]; then
  find_aether
  exit $?
fi
if aether_bin=$(find_aether); then
  exec "$aether_bin" hook "$event"
fi
message="aether hook $event: the aether command was not found"
message="$message (set AETHER_BIN; see docs/claude-code.md)"
if [ "$event" = "pre-agent" ]; then
  input=$(cat)
  case "$input" in
    *'"subagent_type":"aether-'*|*'"subagent_type": "aether-'*)
      echo "$message; this aether worker cannot be routed, so it was not started" >&2
      exit 2 ;;
  esac
fi
echo "$message" >&2
exit 0
"""


def render() -> str:
    return stamp(_HEAD, _BODY, profile_hash="-", opener="#")
