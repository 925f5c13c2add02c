"""Console-script entry point."""

from __future__ import annotations

import sys


def main() -> None:
    from aether.cli.app import app

    try:
        app(prog_name="aether")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.stderr.write("aether: interrupted\n")
        sys.exit(130)
