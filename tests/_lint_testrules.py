"""Test-only rules registered for the duration of one test (engine tests must not depend on
the real rule families, which other modules own and tune)."""

from __future__ import annotations

from typing import Iterable

from toolkit.diagnostics import Severity, Span
from toolkit.linter import rule as rule_module
from toolkit.linter.fixes import drop_record_fix, text_fix
from toolkit.linter.rule import DatasetRule, ExampleContext, ExampleRule, Finding, RuleOption

_OK = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'


class Shout(ExampleRule):
    code = "X901"
    name = "test-shout"
    summary = "Assistant text contains the shouted word."
    why = "Test rule."
    bad = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "SHOUT"}]}'
    good = _OK
    default_severity = Severity.ERROR
    fix_safety = "safe"
    heuristic = True
    options = (RuleOption("word", "str", "SHOUT", "the word"),)

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        word = self.opts["word"]
        for index, role, text in ctx.iter_texts(["assistant"]):
            at = text.find(word)
            if at >= 0:
                pointer = ctx.content_pointer(index)
                yield Finding(
                    f"assistant shouts {word!r}",
                    pointer=pointer,
                    score=0.75,
                    spans=[Span(at, at + len(word), word, pointer, label="shout")],
                    fix=text_fix("lower-case the shout", lambda t, w=word: t.replace(w, w.lower()), roles=("assistant",)),
                )


class DupReply(DatasetRule):
    code = "X902"
    name = "test-dup-reply"
    summary = "Two examples have the same assistant reply."
    why = "Test rule."
    bad = _OK + "\n" + _OK
    good = _OK
    default_severity = Severity.WARNING
    fix_safety = "unsafe"

    def __init__(self, options=None):
        super().__init__(options)
        self.seen: dict[str, object] = {}
        self.later: list[tuple[object, object]] = []

    #: pids of the processes that ran prepare() (the engine runs it in workers when it can)
    prepare_pids: set = set()

    def prepare(self, ctx: ExampleContext):
        import os

        reply = ctx.texts[ctx.last_assistant_index] if ctx.last_assistant_index is not None else ""
        return reply, os.getpid()

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        reply, pid = self.prepared(ctx)
        DupReply.prepare_pids.add(pid)
        if reply in self.seen:
            self.later.append((ctx.ref, self.seen[reply]))
        else:
            self.seen[reply] = ctx.ref
        return ()

    def finish(self) -> Iterable[Finding]:
        for ref, first in self.later:
            yield Finding(f"same reply as line {first.line}", at=ref, fix=drop_record_fix("drop the duplicate"))


class Crash(ExampleRule):
    code = "X903"
    name = "test-crash"
    summary = "Always crashes."
    why = "Test rule."
    bad = _OK
    good = _OK
    default_enabled = False

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        raise ZeroDivisionError("boom")


TEST_RULES = (Shout, DupReply, Crash)


def install() -> None:
    for cls in TEST_RULES:
        rule_module.register(cls)


def uninstall() -> None:
    for cls in TEST_RULES:
        rule_module._REGISTRY.pop(cls.code, None)
        rule_module._BY_NAME.pop(cls.name, None)
