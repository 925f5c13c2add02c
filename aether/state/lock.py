"""The colony lock: an OS lock (``filelock.FileLock``, flock on Unix) on a sidecar file.

* The OS releases the lock when its holder dies, so a dead holder delays nobody (the tool we
  replace made callers wait ~50 s on a dead holder's lock).
* ``fallback_to_soft=False``: never silently downgrade to a lock file that survives a crash.
* ``preserve_lock_file=True``: the lock file is never deleted (deleting it lets two processes
  hold "the" lock on different inodes).
* Who holds the lock is written to a second sidecar after acquiring, so a caller that times out
  can name the holder (pid, host, command, since). Nothing about locking is printed.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aether.errors import LockTimeout, UnsafePath
from aether.timeutil import iso

if TYPE_CHECKING:
    from aether.workspace import Workspace

DEFAULT_LOCK_TIMEOUT_S = 10.0


def lock_timeout_from_env() -> float:
    raw = os.environ.get("AETHER_LOCK_TIMEOUT")
    if raw is None or raw == "":
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (0 <= value <= 3600):
        from aether.errors import InvalidInput

        raise InvalidInput(
            f"AETHER_LOCK_TIMEOUT={raw!r} is not a number of seconds between 0 and 3600",
            fix="unset it or set it to e.g. 10",
        )
    return value


def read_holder(holder_file: Path) -> dict[str, Any] | None:
    try:
        from aether.bounded_read import read_regular

        data = json.loads(read_regular(holder_file, limit=64 * 1024).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe_holder(info: dict[str, Any] | None) -> str:
    if not info:
        return "an unknown process"
    return (
        f"pid {info.get('pid', '?')} on {info.get('host', '?')} "
        f"running {info.get('command', '?')!r} since {info.get('since', '?')}"
    )


class ColonyLock:
    def __init__(
        self,
        lock_file: Path,
        holder_file: Path,
        *,
        timeout: float,
        command: str,
        sweep: tuple[Path, ...] = (),
    ):
        self.lock_file = lock_file
        self.holder_file = holder_file
        self.timeout = timeout
        self.command = command
        #: directories whose leftover temp files the holder removes once it has the lock: every
        #: writer cleans up after a killed one, not only those that write the state file
        self.sweep = sweep
        self.swept: list[Path] = []
        self._lock: Any = None

    def acquire(self) -> None:
        from filelock import FileLock
        from filelock import Timeout as FileLockTimeout

        if self.lock_file.is_symlink():
            raise UnsafePath(
                f"the lock file {self.lock_file} is a symbolic link",
                meaning="aether refuses to lock through a link",
                fix="remove the link; aether recreates the lock file",
            )
        lock = FileLock(
            str(self.lock_file),
            timeout=self.timeout,
            thread_local=False,
            fallback_to_soft=False,
            preserve_lock_file=True,
            poll_interval=0.01,
        )
        try:
            lock.acquire()
        except FileLockTimeout:
            holder = describe_holder(read_holder(self.holder_file))
            raise LockTimeout(
                f"the colony is locked by {holder}; waited {self.timeout:g} s",
                meaning="another aether command is writing this colony",
                fix="wait for it to finish, or raise AETHER_LOCK_TIMEOUT / --lock-timeout",
            ) from None
        except OSError as exc:
            from aether.files import os_error

            raise os_error(exc, self.lock_file, "locking") from None
        self._lock = lock
        info = {
            "pid": os.getpid(),
            "host": os.uname().nodename,  # gethostname() without importing socket
            "command": self.command,
            "since": iso(),
        }
        try:
            # Informational only, so no fsync: after a crash the OS lock is free anyway.
            # Written over the last note, then cut to length: opening with O_TRUNC costs
            # ~0.2 ms here (ext4), and every transaction writes this note.
            note = json.dumps(info).encode()
            fd = os.open(self.holder_file, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                os.fchmod(fd, 0o600)  # one left by an older aether may be world-readable
                os.write(fd, note)
                os.ftruncate(fd, len(note))
            finally:
                os.close(fd)
        except OSError:
            pass
        if self.sweep:
            from aether.files import sweep_temp_files

            self.swept = [p for directory in self.sweep for p in sweep_temp_files(directory)]

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ColonyLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def colony_lock(
    ws: Workspace,
    *,
    lock_timeout: float | None = None,
    command: str = "",
    writes_into: tuple[Path, ...] = (),
) -> ColonyLock:
    """The colony's lock, for writers that do not touch the state file (memory files): the same
    lock ``Store.lock()`` returns, without importing the state models.

    Every writer takes it, so it is where a linked directory is refused before anything is
    written: the colony's own directories, and ``writes_into``, the others this writer uses
    (``aether claude``'s), whose leftover temp files it also sweeps."""
    for directory in (*ws.own_directories(), *writes_into):
        ws.refuse_linked(directory)
    timeout = lock_timeout if lock_timeout is not None else lock_timeout_from_env()
    ws.data_dir.mkdir(parents=True, exist_ok=True)
    return ColonyLock(
        ws.lock_file,
        ws.lock_holder_file,
        timeout=timeout,
        command=command or command_line(),
        sweep=(ws.data_dir, ws.memory_dir, ws.root, *writes_into),
    )


def command_line() -> str:
    """Which command holds the lock, for the holder note: the program and its command words
    (``aether memory add``), never its arguments — a note, a task or a key may be among them."""
    words = [os.path.basename(sys.argv[0]) if sys.argv else "aether"]
    for arg in sys.argv[1:3]:
        if not _COMMAND_WORD.fullmatch(arg):
            break
        words.append(arg)
    return " ".join(words)[:80]


#: what a command word looks like (``worker``, ``pre-agent``); anything else is an argument
_COMMAND_WORD = re.compile(r"[a-z][a-z-]{0,30}")
