"""HEAD and branch of the git repository holding a project, and which worktree a directory is
in — read from files (no subprocess).

pause records HEAD and branch and resume reports what changed (docs/lifecycle.md); a
worktree's ``.git`` file and ``packed-refs`` are followed the way git itself does. A linked
worktree (``git worktree add``) belongs to the colony of its repository's main worktree
(aether.workspace.discover, docs/claude-code.md).
"""

from __future__ import annotations

from pathlib import Path

from aether.bounded_read import read_regular
from aether.handoff import GitInfo
from aether.records import record


@record(frozen=True)
class Worktree:
    """The git worktree holding a directory: its top directory, and for a linked worktree the
    top of the repository's main worktree (None for the main worktree itself, or when the
    repository has none: a bare one, or a git directory kept elsewhere)."""

    top: Path
    main: Path | None


def worktree_of(path: Path) -> Worktree | None:
    """The worktree holding ``path``; None outside a repository."""
    for candidate in (path, *path.parents):
        dotgit = candidate / ".git"
        try:
            if dotgit.is_dir():
                return Worktree(candidate, None)
            if not dotgit.is_file():
                continue
            gitdir = _linked_git_dir(candidate, dotgit)
        except (OSError, UnicodeDecodeError):
            return None
        if gitdir is None:
            return None
        common = _common_dir(gitdir)
        main = common.parent if common.name == ".git" and common != gitdir else None
        return Worktree(candidate, main if main != candidate else None)
    return None


def _text(path: Path) -> str:
    """A git file's text, stripped (OSError when it cannot be read: absent, special, huge)."""
    return read_regular(path, limit=64 * 1024 * 1024).decode("utf-8", errors="replace").strip()


def read_git(project: Path) -> GitInfo | None:
    """HEAD and branch of the repository holding ``project``; None outside a repository."""
    for candidate in (project, *project.parents):
        dotgit = candidate / ".git"
        try:
            if dotgit.is_dir():
                gitdir: Path | None = dotgit
            elif dotgit.is_file():
                gitdir = _linked_git_dir(candidate, dotgit)
            else:
                continue
            if gitdir is None:
                return None  # a `.git` file that names no git directory
            head = _text(gitdir / "HEAD")
        except OSError:
            return None
        if head.startswith("ref:"):
            ref = head[4:].strip()
            return GitInfo(head=_read_ref(gitdir, ref), branch=ref.removeprefix("refs/heads/"))
        return GitInfo(head=head or None, branch=None)
    return None


def _linked_git_dir(candidate: Path, dotgit: Path) -> Path | None:
    """The git directory a ``.git`` *file* (a worktree's, a submodule's) points to."""
    text = _text(dotgit)
    if not text.startswith("gitdir:"):
        return None
    return (candidate / text.split(":", 1)[1].strip()).resolve()


def _read_ref(gitdir: Path, ref: str) -> str | None:
    for base in (gitdir, _common_dir(gitdir)):
        try:
            return _text(base / ref) or None
        except OSError:
            pass
        try:
            for line in _text(base / "packed-refs").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
        except OSError:
            pass
    return None


def _common_dir(gitdir: Path) -> Path:
    try:
        common = _text(gitdir / "commondir")
    except OSError:
        return gitdir
    return (gitdir / common).resolve()
