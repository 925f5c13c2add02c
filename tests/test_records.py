"""aether.records behaves like the dataclasses it replaced (the parts aether uses)."""

from __future__ import annotations

import pytest

from aether.records import FrozenRecordError, field, record, replace


@record(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


@record
class Box:
    name: str
    items: list[int] = field(default_factory=list)
    label: str = field(default="box")


def test_constructs_from_positional_and_keyword_arguments() -> None:
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2)
    assert Point(1).y == 0
    assert Box("a").label == "box"
    assert [name for name, _, _ in Point.__record_fields__] == ["x", "y", "tags"]  # type: ignore[attr-defined]


def test_default_factory_is_called_per_instance() -> None:
    a, b = Box("a"), Box("b")
    a.items.append(1)
    assert b.items == []
    assert "items" not in Box.__dict__  # like a dataclass: no shared class attribute


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing required argument: 'x'"),
        ((1, 2, (), 4), {}, "takes 3 positional arguments, 4 given"),
        ((1,), {"x": 2}, "multiple values for argument 'x'"),
        ((1,), {"z": 2}, "unexpected keyword argument 'z'"),
    ],
)
def test_bad_arguments_raise_type_error(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[arg-type]


def test_frozen_records_refuse_assignment_and_hash_by_value() -> None:
    p = Point(1, 2)
    with pytest.raises(FrozenRecordError):
        p.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.y
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert len({Point(1, 2), Point(1, 2), Point(2, 1)}) == 2


def test_mutable_records_compare_by_value_and_are_unhashable() -> None:
    b = Box("a")
    b.items.append(3)
    assert b == Box("a", [3])
    assert b != Box("a", [4])
    same_values: object = ("a", [3], "box")
    assert b != same_values
    with pytest.raises(TypeError):
        hash(b)


def test_repr_names_every_field() -> None:
    assert repr(Point(1)) == "Point(x=1, y=0, tags=())"


def test_replace_copies_with_changes() -> None:
    p = Point(1, 2, ("a",))
    assert replace(p, y=5) == Point(1, 5, ("a",))
    assert p == Point(1, 2, ("a",))
    with pytest.raises(TypeError, match="no field 'z'"):
        replace(p, z=1)


def test_post_init_runs_after_the_fields_are_set() -> None:
    @record
    class Checked:
        n: int

        def __post_init__(self) -> None:
            if self.n < 0:
                raise ValueError("negative")

    assert Checked(1).n == 1
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="'b' without a default"):

        @record
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]


def test_record_inheritance_is_refused() -> None:
    with pytest.raises(TypeError, match="do not inherit"):

        @record
        class Child(Box):
            extra: int = 0


def test_a_mutable_plain_default_is_refused() -> None:
    with pytest.raises(TypeError, match="mutable default"):

        @record
        class Shared:
            items: list[int] = []  # noqa: RUF012
