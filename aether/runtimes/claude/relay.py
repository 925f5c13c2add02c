"""``~/.claude/hooks/aether-relay``: aether's hooks for sessions started below a project's top.

Claude Code reads a project's ``.claude/settings.json`` — where aether's hooks are — only in
the directory it is started in, while it finds ``.claude/agents/`` definitions in that
directory or the nearest parent that has them (both measured with 2.1.328). A session started
in ``src/pkg`` of an aether project would therefore run ``aether-*`` subagents with no hook at
all: unrouted, unverified, unrecorded. The user-level settings (``~/.claude/settings.json``)
are read wherever Claude Code starts, so ``aether claude install`` adds this relay there.

For every hook event the relay does nothing unless it is needed: where no aether project is
found walking up (checked first, with the shell's own tests: most sessions of a user are in no
aether project, and each of their hooks runs this), or where the start directory's own settings
carry aether's hooks (they run themselves), it exits at once. Otherwise it runs ``aether hook
EVENT`` for the project it found (``CLAUDE_PROJECT_DIR`` set to that project). It never runs
anything from the project itself: only the aether that installed it (pinned below) or, failing
that, ``aether`` on ``PATH``. When no aether can be run, a spawn of an ``aether-*`` subagent is
refused (exit 2), like the project launcher does, because it could not be routed.
"""

from __future__ import annotations

import shlex

from aether.runtimes.claude.launcher import STDIN_READER
from aether.runtimes.claude.settings import RELAY_RELATIVE_PATH
from aether.runtimes.marker import stamp

_HEAD = "#!/bin/sh\n"
_BODY = (
    r"""# Claude Code runs this for every session of this user (~/.claude/settings.json): in a
# session started below the top of an aether project, where Claude Code does not read the
# project's .claude/settings.json, it runs `aether hook EVENT` for that project. Elsewhere it
# does nothing. Installed by `aether claude install`; see docs/claude-code.md.
event="${1:-}"
start="${CLAUDE_PROJECT_DIR:-$PWD}"
# Every session of this user runs this for every hook, most of them in no aether project: the
# walk up to one comes first and starts no program, so elsewhere the relay costs one shell.
project="$start"
until [ -f "$project/.claude/hooks/aether-hook" ] ||
    [ -f "$project/.aether/claude-install.json" ]; do
  [ "$project" = "/" ] || [ -z "$project" ] && exit 0
  project="${project%/*}"
  [ -n "$project" ] || project=/
done
for settings in "$start/.claude/settings.json" "$start/.claude/settings.local.json"; do
  # the project's own hooks are loaded here: they run themselves
  if [ -f "$settings" ] && grep -q '/.claude/hooks/aether-hook ' "$settings" 2>/dev/null; then
    exit 0
  fi
done
"""
    + STDIN_READER
    + r"""aether_bin=@PINNED@
[ -x "$aether_bin" ] || aether_bin=$(command -v aether 2>/dev/null)
if [ -z "$aether_bin" ] || [ ! -x "$aether_bin" ]; then
  refuse_aether_spawn "the aether command was not found (through the relay)"
  echo "aether hook $event: the aether command was not found (through the relay)" >&2
  exit 0
fi
printf '%s\n' "$input" | CLAUDE_PROJECT_DIR="$project" "$aether_bin" hook "$event"
code=$?
[ "$code" -eq 0 ] && exit 0
refuse_aether_spawn "$aether_bin exited $code"
echo "aether hook $event: $aether_bin exited $code (through the relay)" >&2
exit 0
"""
)


def render(pinned: str | None) -> str:
    """The relay script, pinning the aether that installs it (``''``: only PATH is searched)."""
    body = _BODY.replace("@PINNED@", shlex.quote(pinned or ""))
    return stamp(_HEAD, body, profile_hash="-", opener="#")


__all__ = ["RELAY_RELATIVE_PATH", "render"]
