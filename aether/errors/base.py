"""The root of the tree: ``AetherError`` (what is wrong, what it means, what to do) and
``CheckFailed``; the tree is described in aether/errors/__init__.py."""

from __future__ import annotations


class AetherError(Exception):
    """Base of every error aether reports to a user."""

    exit_code: int = 70
    #: a short stable name, used in ``--json`` error objects
    kind: str = "internal"

    def __init__(self, what: str, *, meaning: str = "", fix: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.meaning = meaning
        self.fix = fix

    def one_line(self) -> str:
        """The single line printed on stderr."""
        parts = [self.what.rstrip(".")]
        if self.meaning:
            parts.append(self.meaning.rstrip("."))
        if self.fix:
            parts.append(self.fix.rstrip("."))
        return ". ".join(parts) + "."

    def to_json(self) -> dict[str, object]:
        return {
            "ok": False,
            "error": {
                "kind": self.kind,
                "exit_code": self.exit_code,
                "message": self.what,
                "meaning": self.meaning,
                "fix": self.fix,
            },
        }


class CheckFailed(AetherError):
    """A check command found what it looks for (e.g. a migration is needed)."""

    exit_code = 1
    kind = "check_failed"
