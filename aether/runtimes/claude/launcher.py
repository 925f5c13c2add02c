"""``.claude/hooks/aether-hook``: the one command every aether hook entry runs.

Why a launcher script instead of a path to ``aether`` in the settings: the settings file is
usually committed and shared, and each person (or CI machine) has aether somewhere else — a
virtualenv that is not on Claude Code's PATH, pipx, a system install. The script holds no
machine-specific path; it looks, in order, at ``$AETHER_BIN``, ``aether`` on PATH, the
project's ``.venv/`` and ``venv/``, and ``~/.local/bin`` (pipx). ``aether claude install
--local`` pins the installing aether as ``AETHER_BIN`` in ``.claude/settings.local.json``
(Claude Code passes a settings file's ``env`` block to hooks); ``aether doctor`` runs the
script's ``--which`` to report what a hook would run.

When no aether is found, or the one found exits non-zero (``aether hook`` itself always exits 0:
this is an older aether without the command, a server that went away, a crash), the script
never passes the code on — Claude Code reads exit 2 as "block" — but prints one line and exits
0; except for a spawn of an ``aether-*`` subagent, which it refuses (exit 2: Claude Code blocks
the tool call and shows the reason to the model), because that worker could not be routed.
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
# the hook's JSON, kept so a failure can still tell an aether spawn from any other
input=$(cat)
refuse_aether_spawn() {
  case "$input" in
    *'"subagent_type":"aether-'*|*'"subagent_type": "aether-'*)
      if [ "$event" = "pre-agent" ]; then
        echo "aether hook $event: $1; this aether worker could not be routed: not started" >&2
        exit 2
      fi ;;
  esac
}
if aether_bin=$(find_aether); then
  printf '%s\n' "$input" | "$aether_bin" hook "$event"
  code=$?
  [ "$code" -eq 0 ] && exit 0
  # `aether hook` itself always exits 0: anything else is another aether, a server that went
  # away, a crash. Claude Code reads exit 2 as "block": never pass a code through.
  refuse_aether_spawn "$aether_bin exited $code"
  echo "aether hook $event: $aether_bin exited $code" >&2
  exit 0
fi
missing="the aether command was not found (set AETHER_BIN; see docs/claude-code.md)"
refuse_aether_spawn "$missing"
echo "aether hook $event: $missing" >&2
exit 0
"""


def render() -> str:
    return stamp(_HEAD, _BODY, profile_hash="-", opener="#")
