"""Where a colony's files live.

A colony lives in ``.aether/`` inside a project directory. Like git finds ``.git/``, aether
walks up from the current directory to the first ``.aether/`` that holds a colony. In a linked
git worktree (``git worktree add``) with no colony of its own on the way up, the colony is the
one of the repository's main worktree: every worktree of a repository belongs to one colony.
The global ``--dir PATH`` option and the ``AETHER_ROOT`` environment variable override the
search (in that order); either may name the project directory or the ``.aether`` directory
itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from aether.errors import BadWorkspace, NoColony
from aether.records import record

AETHER_DIRNAME = ".aether"
STATE_FILENAME = "COLONY_STATE.json"


@record(frozen=True)
class Workspace:
    """The paths of one colony. Creating this object touches nothing on disk."""

    project: Path

    @property
    def root(self) -> Path:
        return self.project / AETHER_DIRNAME

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def state_file(self) -> Path:
        return self.data_dir / STATE_FILENAME

    @property
    def lock_file(self) -> Path:
        """The sidecar the OS lock is taken on (never the state file itself)."""
        return self.data_dir / (STATE_FILENAME + ".lock")

    @property
    def lock_holder_file(self) -> Path:
        """Who holds the lock: pid, host, command, since (JSON, written after acquiring)."""
        return self.data_dir / (STATE_FILENAME + ".lock.holder")

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def events_archive(self) -> Path:
        """Events compacted out of the bounded state (JSON lines, append-only)."""
        return self.data_dir / "events.archive.jsonl"

    @property
    def workers_history(self) -> Path:
        """Finished worker records compacted out of the state (JSON lines, append-only)."""
        return self.data_dir / "workers.history.jsonl"

    @property
    def breaker_file(self) -> Path:
        return self.data_dir / "breaker.json"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def memory_dir(self) -> Path:
        return self.root / "memory"

    @property
    def profile_file(self) -> Path:
        return self.root / "model-profiles.yaml"

    @property
    def handoff_file(self) -> Path:
        return self.root / "HANDOFF.md"

    @property
    def handoff_history_dir(self) -> Path:
        return self.root / "handoff-history"

    @property
    def activity_log(self) -> Path:
        return self.root / "activity.log"

    @property
    def chambers_dir(self) -> Path:
        return self.root / "chambers"

    def own_directories(self) -> tuple[Path, ...]:
        """The directories aether writes into inside ``.aether/``. None of them may be a link;
        ``.aether`` itself may (the colony then lives where it points, and is found there)."""
        return (
            self.data_dir,
            self.backups_dir,
            self.backups_dir / "pre-migration",
            self.memory_dir,
            self.cache_dir,
            self.chambers_dir,
            self.handoff_history_dir,
        )

    def refuse_linked(self, directory: Path) -> None:
        """``UnsafePath`` when the way to ``directory`` passes a link: from ``.aether/`` for
        the colony's own directories, else from the project (``.claude/`` and below)."""
        from aether.files import refuse_linked_directory

        inside = directory.is_relative_to(self.root)
        refuse_linked_directory(directory, self.root if inside else self.project)

    def exists(self) -> bool:
        return self.state_file.exists() or self.state_file.is_symlink()


def _explicit_project(value: str, source: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.name == AETHER_DIRNAME:
        path = path.parent
    if path.exists() and not path.is_dir():
        raise BadWorkspace(
            f"{source} points at {path}, which is not a directory",
            fix="pass the project directory (the one that holds .aether/)",
        )
    return path


def explicit_project(dir_option: str | None) -> tuple[Path, str] | None:
    """The project directory named by ``--dir`` or ``AETHER_ROOT``, if any."""
    if dir_option:
        return _explicit_project(dir_option, "--dir"), "--dir"
    env = os.environ.get("AETHER_ROOT")
    if env:
        return _explicit_project(env, "AETHER_ROOT"), "AETHER_ROOT"
    return None


def discover(dir_option: str | None = None, *, start: Path | None = None) -> Workspace:
    """Find the colony for a command that needs one; raise ``NoColony`` when there is none."""
    explicit = explicit_project(dir_option)
    if explicit is not None:
        project, source = explicit
        ws = Workspace(project)
        if not ws.exists():
            raise NoColony(
                f"no colony in {project} (from {source})",
                fix='create one with `aether init "GOAL"` or point --dir at another project',
            )
        return ws
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        ws = Workspace(candidate)
        if ws.exists():
            return ws
    main = _main_worktree(here)
    if main is not None and Workspace(main).exists():
        return Workspace(main)
    where = f" or in {main}, the main worktree of its repository" if main is not None else ""
    raise NoColony(
        f"no colony found in {here} or any parent directory{where}",
        fix='create one with `aether init "GOAL"`, or pass --dir / set AETHER_ROOT',
    )


def _main_worktree(here: Path) -> Path | None:
    """The main worktree of the repository when ``here`` is in a linked worktree."""
    from aether.gitinfo import worktree_of  # only when walking up found nothing

    tree = worktree_of(here)
    return tree.main if tree is not None else None


def for_init(dir_option: str | None = None) -> Workspace:
    """Where ``aether init`` creates a colony: ``--dir``/``AETHER_ROOT``, else the cwd."""
    explicit = explicit_project(dir_option)
    if explicit is not None:
        return Workspace(explicit[0])
    return Workspace(Path.cwd().resolve())


def enclosing(project: Path) -> Workspace | None:
    """The colony of a directory above ``project``: the one every command run in ``project``
    uses while ``project`` has none of its own."""
    for candidate in project.resolve().parents:
        ws = Workspace(candidate)
        if ws.exists():
            return ws
    return None
