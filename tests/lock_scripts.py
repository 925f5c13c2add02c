"""Child-process scripts that hold or wait for a colony's lock (tests and benchmarks share them).

Run as ``python -c SCRIPT PROJECT_DIR``; each prints one line when it is in position.
"""

import textwrap

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

#: prints "waiting", blocks on the lock, then prints time.monotonic() when it holds it
WAITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from aether.state.store import Store
    from aether.workspace import Workspace
    lock = Store(Workspace(Path(sys.argv[1])), lock_timeout=30).lock()
    print("waiting", flush=True)
    lock.acquire()
    print(time.monotonic(), flush=True)
    lock.release()
    """
)
