"""Console-script entry point."""

from __future__ import annotations

import os
import sys


def main() -> None:
    # Pydantic scans every installed distribution's entry points for plugins the first time a
    # model is built (~7 ms, more in large environments). aether uses no Pydantic plugins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from aether.cli.app import app

    try:
        app(prog_name="aether")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.stderr.write("aether: interrupted\n")
        sys.exit(130)
