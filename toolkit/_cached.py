"""A lock-free ``cached_property`` for per-example objects.

Python 3.11's :class:`functools.cached_property` takes an ``RLock`` on every first access
(removed in 3.12). ftkit's per-example objects (``ExampleContext``, the knowledge analysis
contexts) are never shared between threads while their views are computed, and their first
accesses run tens of thousands of times per run, so the lock is pure overhead.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class cached_property(Generic[T]):  # noqa: N801 - a drop-in for functools.cached_property
    """Compute the value on first access and store it in the instance ``__dict__`` (which then
    shadows this non-data descriptor: later accesses are plain attribute look-ups)."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.attrname: str | None = None
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.attrname] = self.func(instance)
        return value
