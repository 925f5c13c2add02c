"""What every runtime's hook launcher shares: the hook's JSON read from stdin, bounded in time
and size, and an aether spawn refused when it cannot be handed on (shell text, POSIX sh).

Claude Code's launcher and relay (``claude.launcher``, ``claude.relay``) and Codex's
(``codex.launcher``) put these parts into their scripts.
"""

from __future__ import annotations

#: defines ``read_input`` — the hook's JSON from stdin, bounded in time and size, into ``$input``
#: — and ``refuse_aether_spawn``; the relay (relay.py) reads its input the same way
STDIN_FUNCTIONS = r"""
# The hook's JSON, kept so a failure can still tell an aether spawn from any other. Claude Code
# writes it and closes the pipe; a stdin that never ends is read for 10 s at most (coreutils'
# `timeout`, else a watchdog that stops the reader) and 16 MiB (`head -c`, where there is one).
# Every program started costs a hook a millisecond or more, and a session runs several hooks:
# where `timeout` is (coreutils, busybox — whose `head` has -c), three programs read it.
read_for_10s() {
  cat <&3 &
  reader=$!
  # the watchdog's sleep may outlive this script by a few seconds; it holds none of its pipes
  (sleep 10 && kill "$reader") >/dev/null 2>&1 </dev/null &
  watchdog=$!
  wait "$reader"
  code=$?
  kill "$watchdog"
  [ "$code" -le 128 ] || return 124
}
nl='
'
# $raw: what was read (past 16 MiB cut: aether sees one byte more and says so), then a line
# with the reader's status in three digits (124: stdin did not end in time); only fixed-length
# patterns touch it, as dash matches others in quadratic time. $input: what was read.
read_input() {
  exec 3<&0
  if command -v timeout >/dev/null 2>&1; then
    # `timeout` kills its program: cat (unbuffered) keeps what came before; head -c caps it
    raw=$( (timeout 10 cat <&3; printf '\n%03d' "$?") 2>/dev/null | head -c 16777221)
  else
    cap=cat
    if head -c 1 </dev/null >/dev/null 2>&1; then cap="head -c 16777221"; fi
    raw=$( (read_for_10s; printf '\n%03d' "$?") 2>/dev/null | $cap)
  fi
  exec 3<&-
  input=${raw%????}
}
refuse_aether_spawn() {
  case "$input" in
    *'"subagent_type":"aether-'*|*'"subagent_type": "aether-'*)
      if [ "$event" = "pre-agent" ]; then
        echo "aether hook $event: $1; this aether worker could not be routed: not started" >&2
        exit 2
      fi ;;
  esac
}
"""[1:]
#: ends a hook whose stdin never ended (``$raw`` as ``read_input`` leaves it)
LATE_CHECK = r"""
case "$raw" in
  *"$nl"124)
    late="its input did not end within 10 s"
    refuse_aether_spawn "$late"
    echo "aether hook $event: $late; not run" >&2
    exit 0 ;;
esac
"""[1:]
#: reads the input (``STDIN_FUNCTIONS`` defined before) and ends a hook whose stdin never ended
STDIN_CHECK = "read_input\n" + LATE_CHECK
