"""``record``: ``@dataclass`` that builds one function per class at import instead of three.

A dataclass execs a fresh ``__init__``, ``__repr__`` and ``__eq__`` for every
class it decorates, and every run of roost pays that for each record defined
on its path (most of ``roost_core.records``' import time). ``record`` keeps
the generated ``__init__`` and gives the class a shared ``__eq__`` and
``__repr__`` that read the fields at call time: the same results (fields in
order, ``compare``/``repr`` flags honoured, unhashable like a plain eq
dataclass), without the per-class compile. A class without a docstring gets
a short one (dataclass would build it from ``inspect.signature``).
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field, fields
from typing import Any, Callable, TypeVar, dataclass_transform, overload

T = TypeVar("T")


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = [f.name for f in fields(self) if f.compare]
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
    return f"{self.__class__.__qualname__}({shown})"


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(cls: None = None, /, *, frozen: bool = False, **options: Any) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(field,))
def record(cls: type[T] | None = None, /, **options: Any) -> Any:
    """``@record`` / ``@record(frozen=..., ...)``: a dataclass with shared eq and repr.

    A frozen record keeps dataclass's own eq and hash (its hash is built from them).
    """

    def wrap(klass: type[T]) -> type[T]:
        if not klass.__doc__:  # else dataclass computes one with inspect.signature (~1 ms a class)
            klass.__doc__ = f"The {klass.__name__} record."
        if options.get("frozen") or options.get("eq") is False or options.get("order"):
            return dataclass(klass, **options)
        own = klass.__dict__
        built = dataclass(klass, eq=False, repr=False, **options)
        if "__eq__" not in own:
            built.__eq__ = _eq  # type: ignore[assignment,method-assign]
            if "__hash__" not in own:
                built.__hash__ = None  # type: ignore[assignment]
        if "__repr__" not in own:
            built.__repr__ = _repr  # type: ignore[assignment,method-assign]
        return built

    return wrap if cls is None else wrap(cls)
