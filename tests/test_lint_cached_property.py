"""``toolkit._cached.cached_property`` behaves as ``functools.cached_property`` (without its lock)."""

from __future__ import annotations

import functools

from toolkit._cached import cached_property
from toolkit.linter.rule import ExampleContext


def _make(decorator):
    class Box:
        def __init__(self) -> None:
            self.calls = 0

        @decorator
        def value(self) -> list[int]:
            """The value."""
            self.calls += 1
            return [self.calls]

    return Box


def test_computes_once_and_caches_in_the_instance_dict_like_functools():
    for decorator in (functools.cached_property, cached_property):
        box = _make(decorator)()
        first = box.value
        assert box.value is first and box.calls == 1
        assert box.__dict__["value"] is first
        del box.value  # forgetting recomputes
        assert box.value == [2] and box.calls == 2
        box.value = [9]  # assignable
        assert box.value == [9]
        assert type(box).value.__doc__ == "The value."


def test_example_context_views():
    record = {"messages": [{"role": "user", "content": "hi"}, "junk", {"role": "assistant", "content": "hello"}]}
    ctx = ExampleContext(record)
    assert ctx.messages == [record["messages"][0], record["messages"][2]]
    assert ctx.messages is ctx.messages
    assert ctx.texts == ["hi", "hello"]
    assert ctx.last_assistant_index == 1
    ctx.__dict__["fingerprint"] = "id:x"  # the engine sets it directly
    assert ctx.fingerprint == "id:x"
