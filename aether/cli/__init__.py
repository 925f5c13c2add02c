"""The command line: the only layer that knows Typer, Rich, prompts and exit codes."""
