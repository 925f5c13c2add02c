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
the tool call and shows the reason to the model), because that worker could not be routed. A
stdin that never ends is read for 10 s and then handled the same way: the script is POSIX sh
(dash runs it), so the bound is coreutils' ``timeout`` where it is installed, else a watchdog.
"""

from __future__ import annotations

from aether.runtimes.hook_handover import FIND_INTERPRETER, client_lines, find_aether
from aether.runtimes.hook_stdin import LATE_CHECK, STDIN_CHECK, STDIN_FUNCTIONS
from aether.runtimes.marker import stamp

RELATIVE_PATH = ".claude/hooks/aether-hook"

_HEAD = "#!/bin/sh\n"
STDIN_READER = STDIN_FUNCTIONS + STDIN_CHECK
_OPENING = (
    r"""# Claude Code runs this for aether's hooks (.claude/settings*.json): it finds the aether
# command and runs `aether hook EVENT` with the hook's JSON on stdin. It looks at $AETHER_BIN,
# `aether` on PATH, the project's .venv/ and venv/, then ~/.local/bin (pipx).
# `.claude/hooks/aether-hook --which` prints the aether it would run. See docs/claude-code.md.
"""
    + find_aether("${CLAUDE_PROJECT_DIR:-.}")
    + r"""event="${1:-}"
if [ "$event" = "--which" ]; then
  find_aether && printf '%s\n' "$aether_bin"
  exit $?
fi
"""
    + STDIN_FUNCTIONS
)
# session-start and pre-compact, with an interpreter for the client: the client reads the input
# itself (bounded as read_input is) and hands it over, so the session waits for one program
# instead of four (`timeout`, `cat`, `head` and the client: ~6 ms). It gives the input back on
# fd 5 before it sends anything; when it sends nothing (exit 75: no server, a late input) the
# script goes on with that input as if it had read it itself (aether/hook_client.py, --read).
# pre-agent keeps the launcher's reader: a spawn of an agent that is not aether's then starts
# no program at all.
_READ_WAITED = r"""if [ -z "$interpreter" ] || [ "$event" = pre-agent ]; then
  read_input
else
  exec 4>&1
  raw=$("$interpreter" -I -S -c "$HOOK_CLIENT" "$event" "$AETHER_VERSION" --read 5>&1 1>&4 4>&-)
  code=$?
  exec 4>&-
  input=${raw%????}
  if [ -z "$raw" ] && [ "$code" -ne 0 ]; then
    echo "aether hook $event: its input could not be read (its client exited $code); not run" >&2
    exit 0
  fi
  case "$code" in
    0) exit 0 ;;
    75) interpreter= ;;  # nothing was sent: aether itself runs below, with this input
    *)
      # sent and not answered, or stopped: it must not run again. The client said why in
      # one line; a signal left it no time to say it.
      if [ "$code" -gt 128 ]; then
        echo "aether hook $event: its server client was stopped (exit $code); whether the" \
          "hook took effect is unknown" >&2
      fi
      exit 0 ;;
  esac
fi
"""
_BODY = (
    FIND_INTERPRETER
    + r"""# Hooks that only record give Claude Code nothing to wait for, yet it waits for every hook
# (measured: a hook's delay is the session's). Such a hook is left to a background copy of this
# script at once, stdin and all: it reads the input (bounded as below), then hands it to the
# client (and, when no server takes it, to aether itself), holding none of the session's
# output pipes. Events keep their order: the server takes them one at a time, and they are far
# apart in a session. Input that is not a hook's JSON still goes to aether, which says what is
# wrong in the colony's activity log (nobody reads this script's output any more).
if [ -n "$interpreter" ]; then
  case "$event" in
    subagent-start|agent-result|subagent-stop|session-end)
      # a background job's stdin is /dev/null (POSIX, without job control): the hook's is
      # handed to it on fd 3
      exec 3<&0
      (
        trap '' HUP
        exec 0<&3 3<&-
        read_input
        case "$raw" in
          *"$nl"124) exit 0 ;;
        esac
        case "$event:$input" in
          session-end:*) ;;
          *'agent_type":"aether-'*|*'agent_type": "aether-'*) ;;
          *'"hook_event_name"'*) exit 0 ;;  # a subagent that is not aether's
        esac
        case "$input" in
          *'"hook_event_name"'*)
            printf '%s\n' "$input" |
              "$interpreter" -I -S -c "$HOOK_CLIENT" "$event" "$AETHER_VERSION"
            [ "$?" -ne 75 ] || printf '%s\n' "$input" | "$aether_bin" hook "$event" ;;
          *) printf '%s\n' "$input" | "$aether_bin" hook "$event" ;;
        esac
      ) >/dev/null 2>&1 &
      exit 0 ;;
  esac
fi
"""
    + _READ_WAITED
    + LATE_CHECK
    + r"""# A subagent that is not aether's (Explore, general-purpose, the user's own) leaves aether
# nothing to do in these four hooks: no process is started for it. Claude Code writes the JSON
# without spaces; input that is not a hook's JSON at all still goes to aether, which says so.
case "$event" in
  pre-agent|agent-result|subagent-start|subagent-stop)
    case "$input" in
      *'agent_type":"aether-'*|*'agent_type": "aether-'*) ;;
      *'"hook_event_name"'*) exit 0 ;;
    esac ;;
esac
# Runs "$@" with the hook's input on stdin, and ends this script as Claude Code needs.
# aether's stdout goes to Claude Code as it is; its stderr is held, so that a failure is one
# line, not aether's line and then this script's. Exit 75 from the server client means "not
# handed over" (nothing was sent): the caller goes on to run aether itself.
run_hook() {
  exec 4>&1
  said=$(printf '%s\n' "$input" | "$@" 2>&1 1>&4 4>&-)
  code=$?
  exec 4>&-
  [ "$code" -eq 75 ] && [ "$1" != "$aether_bin" ] && return 0
  if [ "$code" -eq 0 ]; then
    [ -n "$said" ] && printf '%s\n' "$said" >&2
    exit 0
  fi
  # `aether hook` itself always exits 0: anything else is another aether, a server that went
  # away, a crash. Claude Code reads exit 2 as "block": never pass a code through.
  first=${said%%"$nl"*}
  failed="$aether_bin exited $code${first:+ ($first)}"
  refuse_aether_spawn "$failed"
  echo "aether hook $event: $failed" >&2
  exit 0
}
if [ -n "$aether_bin" ]; then
  if [ -n "$interpreter" ]; then
    run_hook "$interpreter" -I -S -c "$HOOK_CLIENT" "$event" "$AETHER_VERSION"
  fi
  run_hook "$aether_bin" hook "$event"
fi
missing="the aether command was not found (set AETHER_BIN; see docs/claude-code.md)"
refuse_aether_spawn "$missing"
echo "aether hook $event: $missing" >&2
exit 0
"""
)


def render() -> str:
    body = _OPENING + client_lines() + _BODY
    return stamp(_HEAD, body, profile_hash="-", opener="#")
