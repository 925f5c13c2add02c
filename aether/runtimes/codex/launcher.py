"""``.codex/hooks/aether-hook``: the one command every aether entry of ``.codex/hooks.json`` runs.

As Claude Code's launcher (aether.runtimes.claude.launcher), it holds no machine-specific path
to aether: it looks at ``$AETHER_BIN``, ``aether`` on PATH, the project's ``.venv/`` and
``venv/``, then ``~/.local/bin`` (pipx); ``--which`` prints what a hook would run. It reads the
hook's JSON with the same bounds (10 s, 16 MiB), hands it to the colony's ``aether serve``
through aether's own client when one runs (aether/runtimes/hook_handover.py) or else runs
``aether hook EVENT --runtime codex``, from the project it belongs to (the directory above
``.codex/``), and never breaks the session: no
aether, an aether that fails, a stdin that never ends — one line on stderr and exit 0; except
for a spawn of an ``aether-*`` agent, which it refuses (exit 2: Codex blocks the tool call and
shows the reason to the model, measured with 0.171.0), because that worker could not be routed.
A spawn of any other agent, and the events of a subagent that is not aether's, start no aether
at all.
"""

from __future__ import annotations

from aether.runtimes.hook_handover import FIND_INTERPRETER, client_lines, find_aether
from aether.runtimes.hook_stdin import STDIN_CHECK, STDIN_FUNCTIONS
from aether.runtimes.marker import stamp

_HEAD = "#!/bin/sh\n"
_FIND = (
    r"""# Codex runs this for aether's hooks (.codex/hooks.json): it finds the aether command
# and runs `aether hook EVENT --runtime codex` with the hook's JSON on stdin (or hands it to
# the colony's aether server, when one runs), from the project this script belongs to. It
# looks at $AETHER_BIN, `aether` on PATH, the project's .venv/ and venv/, then ~/.local/bin
# (pipx). `.codex/hooks/aether-hook --which` prints the aether it would run. See docs/codex.md.
here=$(dirname "$0")
project=$(cd "$here/../.." 2>/dev/null && pwd) || project=.
"""
    + find_aether("$project")
    + r"""event="${1:-}"
if [ "$event" = "--which" ]; then
  find_aether && printf '%s\n' "$aether_bin"
  exit $?
fi
"""
)
_REFUSE = r"""# Codex's spawn names its agent in `agent_type` (Claude Code's in `subagent_type`)
refuse_aether_spawn() {
  case "$input" in
    *'"agent_type":"aether-'*|*'"agent_type": "aether-'*)
      if [ "$event" = "pre-agent" ]; then
        echo "aether hook $event: $1; this aether worker could not be routed: not started" >&2
        exit 2
      fi ;;
  esac
}
"""
_FILTER = r"""# A subagent that is not aether's leaves aether nothing to do: no process is started.
# Input that is not a hook's JSON at all still goes to aether, which says so.
case "$event" in
  pre-agent|subagent-start|subagent-stop)
    case "$input" in
      *'agent_type":"aether-'*|*'agent_type": "aether-'*) ;;
      *'"hook_event_name"'*) exit 0 ;;
    esac ;;
esac
"""
_RUN = r"""# Runs "$@" from the project with the hook's input on stdin, and ends this script as
# Codex needs: aether's stdout goes to Codex as it is; its stderr is held, so a failure is one
# line. Exit 75 from the server client means "not handed over" (nothing was sent): the caller
# goes on to run aether itself.
run_hook() {
  exec 4>&1
  said=$(cd "$project" && printf '%s\n' "$input" | "$@" 2>&1 1>&4 4>&-)
  code=$?
  exec 4>&-
  [ "$code" -eq 75 ] && [ "$1" != "$aether_bin" ] && return 0
  if [ "$code" -eq 0 ]; then
    [ -n "$said" ] && printf '%s\n' "$said" >&2
    exit 0
  fi
  # `aether hook` itself always exits 0: anything else is another aether or a crash. Codex
  # reads exit 2 as "block": never pass a code through.
  first=${said%%"$nl"*}
  failed="$aether_bin exited $code${first:+ ($first)}"
  refuse_aether_spawn "$failed"
  echo "aether hook $event: $failed" >&2
  exit 0
}
if [ -n "$aether_bin" ]; then
  if [ -n "$interpreter" ]; then
    run_hook "$interpreter" -I -S -c "$HOOK_CLIENT" "$event" "$AETHER_VERSION" codex "$project"
  fi
  run_hook "$aether_bin" hook "$event" --runtime codex
fi
missing="the aether command was not found (set AETHER_BIN; see docs/codex.md)"
refuse_aether_spawn "$missing"
echo "aether hook $event: $missing" >&2
exit 0
"""


def render() -> str:
    body = _FIND + STDIN_FUNCTIONS + _REFUSE + STDIN_CHECK + _FILTER
    body += client_lines() + FIND_INTERPRETER + _RUN
    return stamp(_HEAD, body, profile_hash="-", opener="#")
