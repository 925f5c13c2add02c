"""Read a YAML profile defensively: size limit, duplicate keys, alias bombs, non-mapping tops.

PyYAML's ``safe_load`` keeps the last of two equal keys (so a typo'd second ``builder:`` line
silently wins) and expands aliases without limit (a 1 KB "billion laughs" file becomes
gigabytes). Here the document is *composed* first — a node graph in which an alias is a shared
reference, so nothing is expanded yet — and checked before any Python object is built:

* every mapping's scalar keys are unique (merge keys ``<<`` excepted),
* the fully expanded size (nodes counted through every alias) stays under ``MAX_EXPANDED_NODES``
  and no anchor refers to itself,
* the top level is a mapping.

The pure-Python loader is used on purpose: libyaml's composer recurses in C and crashes the
process on a deeply nested file (measured: a segmentation fault at 100 000 levels), whereas the
Python composer raises ``RecursionError``, which becomes a clean error. This module runs only on
a cache miss (see ``aether.routing.cache``), so its speed does not matter to ``aether route``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aether.bounded_read import FileTooLarge, read_regular
from aether.errors import (
    ProfileAliasBomb,
    ProfileMissing,
    ProfileNotMapping,
    ProfileSyntax,
    ProfileTooLarge,
)

#: a real profile is a few KB; anything near this is a mistake or an attack
MAX_PROFILE_BYTES = 1 << 20
#: nodes after expanding every alias; the default profile has a few hundred
MAX_EXPANDED_NODES = 100_000


def read_profile_bytes(path: Path) -> bytes:
    """The file's bytes, refusing a missing, special or oversized file before reading it all."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ProfileMissing(
            f"{path}: no model profile here",
            meaning="aether cannot tell which model each caste should run on",
            fix="run `aether profile init` to write the documented default",
        ) from None
    except OSError as exc:
        raise ProfileMissing(f"{path}: cannot read the model profile ({exc.strerror})") from None
    if path.is_dir():
        raise ProfileSyntax(f"{path}: is a directory, not a model profile")
    if st.st_size > MAX_PROFILE_BYTES:
        raise ProfileTooLarge(
            f"{path}: the profile is {st.st_size} bytes (limit {MAX_PROFILE_BYTES})",
            meaning="a model profile is a few kilobytes; this is not one",
            fix="restore the profile from a backup or run `aether profile init --force`",
        )
    try:
        return read_regular(path, limit=MAX_PROFILE_BYTES)
    except FileTooLarge:  # grew between stat and read
        raise ProfileTooLarge(f"{path}: the profile is over {MAX_PROFILE_BYTES} bytes") from None
    except OSError as exc:
        raise ProfileMissing(f"{path}: cannot read the model profile ({exc.strerror})") from None


def _mark(node: Any) -> str:
    mark = getattr(node, "start_mark", None)
    if mark is None:
        return ""
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _check_graph(root: Any, path: Path) -> None:
    """Duplicate keys, expansion budget and self-reference, without expanding anything."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    sizes: dict[int, int] = {}
    on_stack: set[int] = set()
    # iterative post-order walk: (node, children_done)
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_stack.discard(key)
            sizes[key] = _expanded_size(node, sizes, path, MappingNode, SequenceNode)
            continue
        if key in sizes:
            continue
        if key in on_stack:
            raise ProfileAliasBomb(
                f"{path}: {_mark(node)}: a YAML anchor refers to itself",
                meaning="the document would be infinitely large; nothing was loaded",
                fix="remove the recursive alias",
            )
        on_stack.add(key)
        if isinstance(node, MappingNode):
            _check_unique_keys(node, path, ScalarNode)
        stack.append((node, True))
        for child in _children(node, MappingNode, SequenceNode):
            if id(child) not in sizes:
                stack.append((child, False))


def _expanded_size(
    node: Any, sizes: dict[int, int], path: Path, mapping: type[Any], sequence: type[Any]
) -> int:
    """Nodes under ``node`` with every alias expanded (its children's sizes are known)."""
    total = 1
    for child in _children(node, mapping, sequence):
        total += sizes[id(child)]
        if total > MAX_EXPANDED_NODES:
            raise ProfileAliasBomb(
                f"{path}: {_mark(node)}: YAML aliases expand past {MAX_EXPANDED_NODES} nodes",
                meaning="this looks like an alias bomb (billion laughs); nothing was read",
                fix="write the values out instead of nesting anchors and aliases",
            )
    return total


def _check_unique_keys(node: Any, path: Path, scalar: type[Any]) -> None:
    """A mapping's scalar keys are unique (merge keys ``<<`` excepted)."""
    seen: dict[str, Any] = {}
    for key_node, _value in node.value:
        if isinstance(key_node, scalar) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                raise ProfileSyntax(
                    f"{path}: {_mark(key_node)}: duplicate key {key_node.value!r} "
                    f"(first at {_mark(seen[key_node.value])})",
                    meaning="which of the two values is meant cannot be known",
                    fix="delete one of them",
                )
            seen[key_node.value] = key_node


def _children(node: Any, mapping: type[Any], sequence: type[Any]) -> list[Any]:
    if isinstance(node, mapping):
        out: list[Any] = []
        for k, v in node.value:
            out.append(k)
            out.append(v)
        return out
    if isinstance(node, sequence):
        return list(node.value)
    return []


def parse_profile_yaml(data: bytes, path: Path) -> dict[str, Any]:
    """Parse profile bytes into a mapping, or raise a one-line error naming file and place."""
    import yaml

    loader = yaml.SafeLoader(_decoded(data, path))
    try:
        try:
            result = _checked_document(loader, path)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise ProfileSyntax(
            f"{path}: {where}{problem}",
            meaning="the YAML cannot be parsed; nothing was changed",
            fix="fix the line shown (indentation and quoting are the usual causes)",
        ) from None
    except yaml.YAMLError as exc:
        raise ProfileSyntax(f"{path}: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ProfileSyntax(
            f"{path}: the YAML is nested too deeply",
            meaning="a model profile is a few levels deep; this is not one",
        ) from None
    if not isinstance(result, dict):  # pragma: no cover - guarded by the node check above
        raise ProfileNotMapping(f"{path}: the top level is not a mapping")
    bad = [k for k in result if not isinstance(k, str)]
    if bad:
        raise ProfileSyntax(f"{path}: top-level key {bad[0]!r} is not a string")
    return result


def _decoded(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileSyntax(
            f"{path}: not UTF-8 text (byte {exc.start})",
            fix="save the profile as UTF-8",
        ) from None


def _checked_document(loader: Any, path: Path) -> Any:
    """Compose the document, check its node graph, and only then build Python objects."""
    import yaml

    node = loader.get_single_node()
    if node is None:
        raise ProfileNotMapping(
            f"{path}: the profile is empty",
            fix="run `aether profile init --force` to write the documented default",
        )
    _check_graph(node, path)
    if not isinstance(node, yaml.MappingNode):
        kind = {"tag:yaml.org,2002:seq": "a list", "tag:yaml.org,2002:str": "a string"}
        raise ProfileNotMapping(
            f"{path}: {_mark(node)}: the top level is "
            f"{kind.get(node.tag, 'a ' + node.tag.rsplit(':', 1)[-1])}, not a mapping",
            meaning="a profile maps keys such as `models:` and `castes:` to values",
            fix="see docs/routing.md for the format",
        )
    return loader.construct_document(node)
