"""Record classes: the ``@dataclass`` syntax without its import-time cost.

``dataclasses.dataclass`` writes the source of ``__init__``, ``__repr__``, ``__eq__`` (and, when
frozen, ``__setattr__``/``__delattr__``/``__hash__``) for every class and ``exec``s it: about
0.4-0.6 ms a class on the 2-core machine aether is measured on. aether defines ~70 small result
and value classes, and a ``pause`` or ``spawn`` process imported 23-28 of them: 10-13 ms of each
run, 7-9 % of a bare Typer process (docs/performance.md). ``record`` builds the same classes from
a handful of shared methods instead, in ~20 µs a class.

What it supports is what aether uses and nothing more: fields from class annotations, in order;
defaults and ``field(default_factory=...)``; ``frozen=True`` (assignment raises
``FrozenRecordError``, the instance is hashable); ``__eq__`` and ``__repr__`` over the fields;
``__post_init__``; ``replace()``. No inheritance between records, no ``ClassVar`` fields, no
keyword-only or positional-only fields. ``typing.dataclass_transform`` tells mypy to check the
generated constructors exactly as it checks dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["FrozenRecordError", "field", "record", "replace"]

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()


class FrozenRecordError(AttributeError):
    """Assignment to a field of a frozen record."""


class _FieldSpec:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None) -> None:
        self.default = default
        self.default_factory = default_factory


@overload
def field(*, default: _T) -> _T: ...
@overload
def field(*, default_factory: Callable[[], _T]) -> _T: ...
def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field's default (``default_factory`` is called once per instance)."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("give a default or a default_factory, not both")
    return _FieldSpec(default, default_factory)


#: one field: (name, default or _MISSING, default factory or None)
_Spec = tuple[str, Any, "Callable[[], Any] | None"]


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    spec: tuple[_Spec, ...] = cls.__record_fields__
    if len(args) > len(spec):
        raise TypeError(
            f"{cls.__qualname__}() takes {len(spec)} positional arguments, {len(args)} given"
        )
    setter = object.__setattr__
    for i, (name, default, factory) in enumerate(spec):
        if i < len(args):
            if name in kwargs:
                raise TypeError(f"{cls.__qualname__}() got multiple values for argument {name!r}")
            value = args[i]
        elif name in kwargs:
            value = kwargs.pop(name)
        elif factory is not None:
            value = factory()
        elif default is not _MISSING:
            value = default
        else:
            raise TypeError(f"{cls.__qualname__}() missing required argument: {name!r}")
        setter(self, name, value)
    if kwargs:
        raise TypeError(
            f"{cls.__qualname__}() got an unexpected keyword argument {next(iter(kwargs))!r}"
        )
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name, _, _ in type(self).__record_fields__)


def _repr(self: Any) -> str:
    parts = ", ".join(f"{name}={getattr(self, name)!r}" for name, _, _ in self.__record_fields__)
    return f"{type(self).__qualname__}({parts})"


def _eq(self: Any, other: object) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    same: bool = _values(self) == _values(other)
    return same


def _hash(self: Any) -> int:
    return hash(_values(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


def _build(cls: _C, frozen: bool) -> _C:
    if any(hasattr(base, "__record_fields__") for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__qualname__}: records do not inherit from records")
    spec: list[_Spec] = []
    defaulted = False
    # the class's own annotations, as inspect.get_annotations(cls) reads them on 3.11, without
    # importing inspect (~6 ms in a process that has not loaded Typer: the `aether serve` client)
    own: dict[str, Any] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, annotation in own.items():
        if "ClassVar" in str(annotation):
            raise TypeError(f"{cls.__qualname__}.{name}: ClassVar is not supported in a record")
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _FieldSpec):
            spec.append((name, value.default, value.default_factory))
            if value.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
        else:
            if isinstance(value, (list, dict, set)):
                # as dataclasses do: one shared mutable default is a bug waiting to happen
                raise TypeError(
                    f"{cls.__qualname__}.{name}: mutable default; use field(default_factory=...)"
                )
            spec.append((name, value, None))
        has_default = spec[-1][1] is not _MISSING or spec[-1][2] is not None
        if defaulted and not has_default:
            raise TypeError(
                f"{cls.__qualname__}: field {name!r} without a default follows one with a default"
            )
        defaulted = defaulted or has_default
    methods: dict[str, Any] = {"__init__": _init, "__repr__": _repr, "__eq__": _eq}
    if frozen:
        methods |= {"__setattr__": _frozen_setattr, "__delattr__": _frozen_delattr}
    for attr, method in methods.items():
        if attr not in cls.__dict__:
            setattr(cls, attr, method)
    if cls.__dict__.get("__hash__") is None:
        # like a dataclass: frozen records hash by value, mutable ones are unhashable
        cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    cls.__record_fields__ = tuple(spec)  # type: ignore[attr-defined]
    return cls


@overload
def record(cls: _C, /) -> _C: ...
@overload
def record(*, frozen: bool = False) -> Callable[[_C], _C]: ...
@dataclass_transform(field_specifiers=(field,))
def record(cls: Any = None, /, *, frozen: bool = False) -> Any:
    """Make ``cls`` a record: ``@record`` or ``@record(frozen=True)``."""
    if cls is not None:
        return _build(cls, frozen=False)
    return lambda c: _build(c, frozen=frozen)


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of the record ``obj`` with some fields changed (like ``dataclasses.replace``)."""
    spec: tuple[_Spec, ...] = type(obj).__record_fields__  # type: ignore[attr-defined]
    unknown = set(changes) - {name for name, _, _ in spec}
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {sorted(unknown)[0]!r}")
    values = {name: changes.get(name, getattr(obj, name)) for name, _, _ in spec}
    return type(obj)(**values)
