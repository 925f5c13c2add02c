"""The shape docs/architecture.md promises: functions and modules a reader can hold at once.

A function may run past the limit only when it says why, in a comment starting ``# long:``
inside it (a table of options Typer reads from the signature, say); a module may not.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "aether"
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 400


def _functions(path: Path) -> list[tuple[str, int, list[str]]]:
    """(name, first line, source lines) of every function in ``path``, decorators included."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            assert node.end_lineno is not None
            found.append((node.name, first, lines[first - 1 : node.end_lineno]))
    return found


def test_no_function_is_long_without_saying_why() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{first} {name} ({len(body)} lines)"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name, first, body in _functions(path)
        if len(body) > MAX_FUNCTION_LINES and not any("# long:" in line for line in body)
    ]
    assert not offenders, offenders


def test_no_module_is_long() -> None:
    offenders = [
        f"{path.relative_to(REPO)} ({n} lines)"
        for path in sorted(PACKAGE.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not offenders, offenders


def test_the_shape_checks_can_fail(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    long_one = tmp_path / "long.py"
    long_one.write_text(f"def f() -> None:\n{body}\n", encoding="utf-8")
    said_why = tmp_path / "said.py"
    said_why.write_text(f"def f() -> None:\n    # long: a test\n{body}\n", encoding="utf-8")
    ((_, _, lines),) = _functions(long_one)
    assert len(lines) == MAX_FUNCTION_LINES + 1
    ((_, _, lines),) = _functions(said_why)
    assert any("# long:" in line for line in lines)
