"""Child-process scripts that hold or wait for a colony's lock (tests and benchmarks share them).

Run as ``python -c SCRIPT PROJECT_DIR``; each prints one line when it is in position.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: takes the lock and sleeps; prints "locked". The lock object must stay referenced: a
#: collected FileLock releases its lock (an earlier harness measured nothing because of it).
HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from aether.state.store import Store
    from aether.workspace import Workspace
    lock = Store(Workspace(Path(sys.argv[1])), command="test-holder").lock()
    lock.acquire()
    print("locked", flush=True)
    time.sleep(300)
    """
)

#: prints "waiting" once it has found the lock held (one attempt that did not get it), blocks
#: on it, then prints time.monotonic() when it holds it; no caller has to guess how long
#: starting up and reaching the lock takes
WAITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from aether.errors import LockTimeout
    from aether.state.store import Store
    from aether.workspace import Workspace
    lock = Store(Workspace(Path(sys.argv[1])), lock_timeout=0).lock()
    try:
        lock.acquire()
    except LockTimeout:
        print("waiting", flush=True)
        lock.timeout = 30
        lock.acquire()
    else:
        print("waiting", flush=True)  # it was free
    print(time.monotonic(), flush=True)
    lock.release()
    """
)


def start_script(
    script: str, project: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], str]:
    """Start ``script`` on ``project``; return it and its first line once it is in position."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(project)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()
