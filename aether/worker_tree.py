"""The colony's workers as a tree: who spawned whom.

A worker's ``parent_id`` names the worker that spawned it. Under an agent runtime the root of
each tree is the record of a session's main agent (the queen): its subagents hang under it, and
theirs under them (queen → prime → builder). A worker spawned from outside (``aether spawn``)
is a root of its own. A parent compacted out of the state (``workers.history.jsonl``) leaves
its children as roots. Pure: no disk, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aether.state.model import Worker

#: deeper levels are drawn indented as this depth (a runaway chain stays readable)
MAX_DEPTH = 8


def tree_order(workers: Sequence[Worker]) -> list[tuple[int, Worker]]:
    """``workers`` in tree order — each followed by its children, in the order they were
    recorded — with each one's depth (0 for a root)."""
    ids = {w.id for w in workers}
    children: dict[str, list[Worker]] = {}
    roots: list[Worker] = []
    for w in workers:
        if w.parent_id and w.parent_id in ids and w.parent_id != w.id:
            children.setdefault(w.parent_id, []).append(w)
        else:
            roots.append(w)
    out: list[tuple[int, Worker]] = []
    seen: set[str] = set()

    def visit(worker: Worker, depth: int) -> None:
        if worker.id in seen:  # a cycle written by hand: each worker once
            return
        seen.add(worker.id)
        out.append((depth, worker))
        for child in children.get(worker.id, []):
            visit(child, depth + 1)

    for root in roots:
        visit(root, 0)
    for w in workers:  # members of a cycle that no root reaches
        if w.id not in seen:
            visit(w, 0)
    return out


def descendants(workers: Iterable[Worker], root_id: str) -> list[Worker]:
    """Every worker below ``root_id``, in tree order (not the root itself)."""
    listed = list(workers)
    rows = tree_order(listed)
    out: list[Worker] = []
    inside_depth: int | None = None
    for depth, w in rows:
        if inside_depth is not None:
            if depth <= inside_depth:
                break
            out.append(w)
        elif w.id == root_id:
            inside_depth = depth
    return out


def indent(depth: int) -> str:
    """The prefix a tree row is drawn with at ``depth`` (plain text, no box characters)."""
    depth = min(depth, MAX_DEPTH)
    return "" if depth == 0 else "  " * (depth - 1) + "└ "
