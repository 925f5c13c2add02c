"""Docs that quote the code are current; the layers import one way; errors are well-formed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from aether.errors import AetherError, all_error_classes
from tests.helpers import REPO
from tools import gendocs

PACKAGE = REPO / "aether"
UI_MODULES = {"typer", "rich", "click"}


def test_generated_docs_are_current() -> None:
    for name, render in gendocs.GENERATED.items():
        committed = (gendocs.DOCS / name).read_text(encoding="utf-8")
        assert committed == render(), f"docs/{name} is stale: run `python -m tools.gendocs`"


def test_every_error_has_a_unique_exit_code_and_a_doc() -> None:
    codes: dict[int, str] = {}
    for cls in all_error_classes():
        assert cls.exit_code not in codes, (cls.__name__, codes.get(cls.exit_code))
        codes[cls.exit_code] = cls.__name__
        assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} needs a docstring"
        assert cls is AetherError or cls.kind != "internal"
    assert 2 not in codes, "2 is Typer's usage error"


def test_every_error_belongs_to_the_family_of_its_exit_code_range() -> None:
    """Callers catch a family (``ProfileProblem``), never the base: each concrete error is in
    exactly the family whose codes hold its exit code (a lock timeout once reported as
    "profile unreadable")."""
    from aether.errors import CheckFailed, error_families

    families = error_families()
    assert len(families) >= 8
    for cls in all_error_classes():
        if cls in (AetherError, CheckFailed):
            continue
        mine = [f for f in families if issubclass(cls, f)]
        assert len(mine) == 1, (cls.__name__, mine)
        assert cls.exit_code in mine[0].__dict__["family"], (cls.__name__, mine[0].__name__)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    """``name`` (dotted, under aether) is a module or package of this repository."""
    base = PACKAGE.parent.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _aether_imports(path: Path, module: str | None = None) -> set[str]:
    """Every aether module ``path`` (the module named ``module``, by default the one its place
    in the package says) imports, at any depth of the file (function-level imports count):
    ``from aether import cli`` is ``aether.cli``, ``from aether.ops import spawn`` is
    ``aether.ops.spawn.spawn``, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module or _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "aether")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "aether":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if _is_module(sub) else base)
    return found


def test_only_the_cli_layer_knows_typer_and_rich() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "cli":
            continue
        bad = _imports(path) & UI_MODULES
        if bad:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert not offenders, offenders


def _runtime_use_cases() -> set[str]:
    """The modules of the runtime packages that sit above ``aether.ops`` (they import it): what
    only the CLI and runtime packages may import."""
    found: set[str] = set()
    for path in (PACKAGE / "runtimes").rglob("*.py"):
        if any((m + ".").startswith("aether.ops.") for m in _aether_imports(path)):
            found.add(_module_name(path))
    return found


def _runtime_of(module: str) -> str | None:
    """``claude`` for ``aether.runtimes.claude.install``; None outside a runtime's package."""
    parts = module.split(".")
    if len(parts) > 3 and parts[:2] == ["aether", "runtimes"]:
        return parts[2]
    if len(parts) == 3 and parts[:2] == ["aether", "runtimes"]:
        base = PACKAGE / "runtimes" / parts[2]
        return parts[2] if base.is_dir() else None
    return None


def test_layers_import_one_way() -> None:
    """cli -> runtimes -> ops -> domain: the domain never imports ops or cli; ops never import
    cli; ops and the domain never import a runtime's use cases (they reach a runtime through
    the registry and its adapter, which sit below ops); a runtime's package never imports
    another runtime's use cases."""
    use_cases = _runtime_use_cases()
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        layer = rel.parts[0]
        if rel.name == "__main__.py":
            continue  # the entry point is the top of the stack
        me = _runtime_of(_module_name(path))
        for module in _aether_imports(path):
            if layer != "cli" and (module + ".").startswith("aether.cli."):
                offenders.append(f"{rel} imports {module}")
            if layer not in {"cli", "ops", "runtimes"} and (module + ".").startswith("aether.ops."):
                offenders.append(f"{rel} imports {module}")
            if layer not in {"cli", "runtimes"} and module in use_cases:
                offenders.append(f"{rel} imports the runtime use case {module}")
            theirs = _runtime_of(module)
            if me and theirs and me != theirs and module in use_cases:
                offenders.append(f"{rel} imports another runtime's {module}")
    assert not offenders, offenders


def test_the_runtime_use_cases_are_found() -> None:
    """The rule above rests on telling a runtime's use cases from its file formats."""
    use_cases = _runtime_use_cases()
    assert {"aether.runtimes.claude.install", "aether.runtimes.codex.install"} <= use_cases
    assert "aether.runtimes.claude.settings" not in use_cases
    # what the neutral use cases import to reach a runtime must stay below them
    below = {"aether.runtimes.registry", "aether.runtimes.adapter"}
    below |= {f"aether.runtimes.{name}.adapter" for name in ("claude", "codex")}
    assert not below & use_cases, below & use_cases
    assert _runtime_of("aether.runtimes.codex.hooks") == "codex"
    assert _runtime_of("aether.runtimes.roles") is None


def test_the_import_resolver_sees_every_spelling(tmp_path: Path) -> None:
    """The layering rules above are only as good as the import reading they rest on."""
    probe = tmp_path / "probe.py"  # read as if it were aether/ops/colony/probe.py
    probe.write_text(
        "from aether import cli\nfrom aether.ops.spawn import spawn\nfrom . import reset\n"
        "from .. import runtime_files\ndef f() -> None:\n    import aether.cli.common\n",
        encoding="utf-8",
    )
    assert _aether_imports(probe, "aether.ops.colony.probe") == {
        "aether.cli",
        "aether.ops.spawn.spawn",
        "aether.ops.colony.reset",
        "aether.ops.runtime_files",
        "aether.cli.common",
    }


def test_no_module_imports_itself_back() -> None:
    """No import circle, function-level imports included: each module can be read, changed
    and tested knowing only what it imports."""
    graph = {
        _module_name(path): {m for m in _aether_imports(path) if m != _module_name(path)}
        for path in PACKAGE.rglob("*.py")
    }
    circles = [sorted(c) for c in _strongly_connected(graph) if len(c) > 1]
    assert not circles, circles


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_importing_aether_and_the_cli_stays_light() -> None:
    """`import aether` pulls in nothing heavy; building the CLI does not import rich or yaml."""
    code = (
        "import sys; import aether; assert 'typer' not in sys.modules and 'pydantic' not in "
        "sys.modules, 'aether/__init__ must stay light'; import aether.cli.app as a; "
        "a.register(a.app); "
        "heavy = sorted(m for m in ('rich.console', 'yaml', 'http.client', 'litellm', 'httpx') "
        "if m in sys.modules); print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"imported at CLI start-up: {result.stdout.strip()}"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in readme.splitlines()
        if line.startswith("pip install") and "pytest" in line
    ]
    assert len(commands) == 1, commands
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert commands[0] in ci_lines


def test_readme_links_resolve() -> None:
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if "://" not in target:
            assert (REPO / target).exists(), f"README links to missing {target}"


def test_the_architecture_doc_lists_every_module_and_no_other() -> None:
    """docs/architecture.md has one table row per module: a newcomer finds every file there."""
    import re

    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(aether/[\w/]+\.py)` \|", text, flags=re.M)
    actual = sorted(str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py"))
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert sorted(listed) == actual
    mentioned = set(re.findall(r"`(aether/[\w/]+\.py)`", text))
    assert mentioned <= set(actual), sorted(mentioned - set(actual))


#: the CLI's commands for a runtime and the registry: where a runtime is named outside its package
RUNTIME_REGISTRATION = {
    "aether.runtimes.registry",
    "aether.cli.cmd_claude",
    "aether.cli.cmd_codex",
    "aether.cli.cmd_hook",
}
#: what imports a runtime by name and should not: empty since each runtime's adapter
#: (aether/runtimes/adapter.py) gives the neutral use cases what differs; the test below keeps
#: it so (a runtime package importing another would be a new entry)
NOT_YET_NEUTRAL: dict[str, list[str]] = {}


def test_a_third_runtime_is_one_more_package() -> None:
    """Outside a runtime's package only its CLI commands and the registry import it, so adding
    a runtime (opencode) is one package, its commands and a line in the registry — not edits
    across the tree. A runtime's package imports no other runtime. ``NOT_YET_NEUTRAL`` stays
    empty."""
    named: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        me = _module_name(path)
        mine = _runtime_of(me)
        theirs = {_runtime_of(m) for m in _aether_imports(path)} - {None, mine}
        if theirs:
            key = f"aether.runtimes.{mine}" if mine else me
            named[key] = sorted({*named.get(key, []), *(t for t in theirs if t)})
    for module in RUNTIME_REGISTRATION:
        assert named.pop(module, None), f"{module} no longer names a runtime: drop it"
    assert named == NOT_YET_NEUTRAL
