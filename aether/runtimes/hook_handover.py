"""What a runtime's hook launcher runs to hand a hook to ``aether serve`` (shell text, POSIX sh).

The launcher does not start the ``aether`` entry point when a server runs for the colony: it
runs aether's own small client (aether/hook_client.py) with the interpreter of the aether it
found, isolated and without site-packages. These are the parts Claude Code's launcher and
Codex's (``claude.launcher``, ``codex.launcher``) put into their scripts: the client's source as
a shell variable, and the lines that find its interpreter. Each launcher then runs
``"$interpreter" -I -S -c "$HOOK_CLIENT" EVENT "$AETHER_VERSION"`` (Codex's adds ``codex
PROJECT``) and, on exit 75 (nothing was sent), ``aether hook`` itself.
"""

from __future__ import annotations


def find_aether(project: str) -> str:
    """The shell function ``find_aether``: sets ``$aether_bin`` to the aether a hook runs —
    ``$AETHER_BIN``, ``aether`` on PATH, ``PROJECT/.venv`` and ``PROJECT/venv``, then
    ``~/.local/bin`` (pipx) — or fails with it empty. ``project`` is shell text for the project
    directory (expanded when the function runs).

    It starts no process: PATH is walked by the shell itself, where ``$(command -v aether)``
    and ``$(find_aether)`` each forked a copy of the shell (~1 ms of every hook, and more
    inside a busy session). Only an absolute PATH entry is looked in: an empty or relative one
    would find an ``aether`` by whatever directory the hook happens to run in.
    """
    return (
        r"""usable() { [ -n "$1" ] && [ -f "$1" ] && [ -x "$1" ]; }
find_aether() {
  aether_bin=${AETHER_BIN:-}
  usable "$aether_bin" && return 0
  rest=${PATH:-}:
  while [ -n "$rest" ]; do
    dir=${rest%%:*}
    rest=${rest#*:}
    case "$dir" in
      /*) aether_bin=${dir%/}/aether; usable "$aether_bin" && return 0 ;;
    esac
  done
  for aether_bin in """
        + f'"{project}/.venv/bin/aether" "{project}/venv/bin/aether" \\\n'
        + r"""      "${HOME:-/nonexistent}/.local/bin/aether"; do
    usable "$aether_bin" && return 0
  done
  aether_bin=
  return 1
}
"""
    )


#: sets ``$aether_bin`` (``find_aether``'s answer, or empty) and ``$interpreter``: the python of
#: that aether's ``#!`` line, empty when there is none or ``AETHER_SERVER`` is ``off``
FIND_INTERPRETER = (
    "# A server of this colony takes the hook from the client below, run by the interpreter\n"
    + r"""# of the aether found (its #! line), isolated and without site-packages: no Typer, no
# pydantic, no .pth files (aether/hook_client.py). Without a server it sends nothing (exit 75).
find_aether || aether_bin=
interpreter=
if [ -n "$aether_bin" ] && [ "${AETHER_SERVER:-}" != off ]; then
  IFS= read -r shebang < "$aether_bin" 2>/dev/null || shebang=
  case "$shebang" in
    '#!/'*) interpreter=${shebang#??} ;;
  esac
  case "$interpreter" in
    *[![:graph:]]*|'') interpreter= ;;
    */python*) [ -x "$interpreter" ] || interpreter= ;;
    *) interpreter= ;;
  esac
fi
"""
)


def client_lines() -> str:
    """The server client's source as shell assignments (single-quoted: the shell takes it as
    it is), with the aether version it speaks for."""
    from pathlib import Path

    from aether import __version__, hook_client

    source = Path(hook_client.__file__).read_text(encoding="utf-8")
    quoted = "'" + source.replace("'", "'\\''") + "'"
    return f"AETHER_VERSION={__version__}\nHOOK_CLIENT={quoted}\n"
