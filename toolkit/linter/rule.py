"""The rule interface: every lint rule is a small, self-documenting class registered by code.

A rule declares its metadata as class attributes (code, kebab-case name, one-line summary,
why it hurts fine-tuning, a bad and a good example, options, default severity, whether it
is on by default, fix safety) and implements one of two shapes:

* :class:`ExampleRule` (``scope = "example"``): ``check(ctx)`` sees one example at a time
  and yields :class:`Finding` objects. Stateless, so it can run in worker processes.
* :class:`DatasetRule` (``scope = "dataset"``): ``observe(ctx)`` sees every example in
  order (and may yield findings at once); ``finish()`` yields findings that need the whole
  dataset (duplicates, conflicting answers, facts taught again and again).

Rules register themselves with :func:`register`; every module under ``toolkit.linter.rules``
is imported by :func:`load_all_rules`, so adding a rule is adding a module.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable, Iterator, Literal, Mapping

import orjson

from toolkit._cached import cached_property
from toolkit.diagnostics import Severity, Span
from toolkit.model import Example, content_text

Scope = Literal["example", "dataset"]
FixSafety = Literal["safe", "unsafe"]

FAMILIES: dict[str, str] = {
    "J": "syntax and encoding",
    "S": "schema and structure",
    "T": "tokens and length",
    "D": "duplicates and leakage",
    "P": "privacy and secrets",
    "Q": "text quality",
    "A": "assistant artifacts",
    "V": "voice and format consistency (behavior spec)",
    "K": "knowledge injection",
    "X": "ftkit meta (suppressions and baseline)",
}


@dataclass(frozen=True)
class RuleOption:
    """One configurable option of a rule, with its type, default and documentation."""

    name: str  # kebab-case, as written in config: [tool.ftkit.lint.options.CODE]
    type: Literal["int", "float", "bool", "str", "list[str]", "dict", "any"]
    default: Any
    description: str

    def coerce(self, value: Any, *, rule_code: str) -> Any:
        """Check a configured value's type; raise ``ValueError`` naming rule and option."""
        expected = {
            "int": (int,),
            "float": (int, float),
            "bool": (bool,),
            "str": (str,),
            "list[str]": (list,),
            "dict": (dict,),
            "any": (object,),
        }[self.type]
        if self.type in ("int", "float") and isinstance(value, bool):
            raise ValueError(f"{rule_code}: option {self.name!r} must be {self.type}, got a boolean")
        if not isinstance(value, expected):
            raise ValueError(f"{rule_code}: option {self.name!r} must be {self.type}, got {type(value).__name__}")
        if self.type == "list[str]" and not all(isinstance(v, str) for v in value):
            raise ValueError(f"{rule_code}: option {self.name!r} must be a list of strings")
        return float(value) if self.type == "float" else value


@dataclass
class Fix:
    """A change to a record: ``apply(record) -> new record``; ``safety`` says whether it alters meaning."""

    description: str
    safety: FixSafety
    apply: Any  # Callable[[dict], dict]; kept loose so fixes can be closures


@dataclass
class Finding:
    """What a rule reports; the engine turns it into a located :class:`~toolkit.diagnostics.Diagnostic`.

    ``at`` re-targets the finding to another example (dataset rules report on the
    example that repeats or conflicts, naming the first one in ``message``).
    """

    message: str
    pointer: str = ""
    hint: str | None = None
    spans: list[Span] = field(default_factory=list)
    score: float | None = None
    severity: Severity | None = None  # override the rule's configured severity
    fix: Fix | None = None
    at: "ExampleContext | ExampleRef | None" = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExampleRef:
    """A lightweight pointer to an example (what dataset rules keep instead of the whole record)."""

    file: str
    line: int
    fingerprint: str
    index: int


def fingerprint_of(record: Mapping[str, Any]) -> str:
    """An example's stable identity: ``metadata.id`` if present, else a hash of its content.

    The content hash ignores ``metadata`` so that editing provenance or suppressions does
    not change the identity (baselines survive such edits).
    """
    meta = record.get("metadata")
    if isinstance(meta, Mapping) and meta.get("id") not in (None, ""):
        return f"id:{meta['id']}"
    body = {k: v for k, v in record.items() if k != "metadata"}
    try:
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # records built in Python (library use) may hold what JSON files cannot: integers
        # beyond 64 bits, non-string keys, lone surrogates; the standard library serialises those
        import json

        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                               default=str).encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(canonical).hexdigest()
    return f"sha256:{digest[:16]}"


class ExampleContext:
    """One example as rules see it: the raw record, its parsed :class:`Example`, and location.

    Derived views are computed once and shared by all rules.
    """

    __slots__ = ("file", "line", "index", "record", "__dict__")

    def __init__(self, record: Mapping[str, Any], *, file: str = "<input>", line: int = 0, index: int = 0) -> None:
        self.file = file
        self.line = line
        self.index = index
        self.record = record

    @cached_property
    def example(self) -> Example:
        return Example.from_dict(self.record)

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint_of(self.record)

    @cached_property
    def ref(self) -> ExampleRef:
        return ExampleRef(self.file, self.line, self.fingerprint, self.index)

    @cached_property
    def messages(self) -> list[Mapping[str, Any]]:
        """The raw message dicts (non-dict entries dropped: structure rules report those)."""
        raw = self.record.get("messages")
        # (the exact type first: an isinstance check against the Mapping ABC is several times slower)
        return [m for m in raw if type(m) is dict or isinstance(m, Mapping)] if isinstance(raw, list) else []

    @cached_property
    def texts(self) -> list[str]:
        """Plain text of each message in ``messages``, index-aligned."""
        return [content_text(m.get("content")) for m in self.messages]

    def iter_texts(self, roles: Iterable[str] | None = None) -> Iterator[tuple[int, str, str]]:
        """Yield ``(message_index, role, text)``, optionally for some roles only."""
        wanted = set(roles) if roles is not None else None
        for index, (message, text) in enumerate(zip(self.messages, self.texts)):
            role = message.get("role")
            if wanted is None or role in wanted:
                yield index, str(role), text

    def content_pointer(self, message_index: int) -> str:
        """Pointer to a message's text: ``/messages/i/content`` (or its first text part)."""
        content = self.messages[message_index].get("content") if message_index < len(self.messages) else None
        if isinstance(content, list):
            for part_index, part in enumerate(content):
                if isinstance(part, Mapping) and part.get("type") == "text":
                    return f"/messages/{message_index}/content/{part_index}/text"
        return f"/messages/{message_index}/content"

    @cached_property
    def last_assistant_index(self) -> int | None:
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].get("role") == "assistant":
                return index
        return None

    @cached_property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.record.get("metadata")
        return meta if isinstance(meta, Mapping) else {}


class Rule:
    """Base class for all rules. Subclass :class:`ExampleRule` or :class:`DatasetRule`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    why: ClassVar[str]  # why it hurts fine-tuning
    bad: ClassVar[str]  # a JSONL line (or short snippet) that triggers the rule
    good: ClassVar[str]  # the same example, fixed
    scope: ClassVar[Scope] = "example"
    default_severity: ClassVar[Severity] = Severity.WARNING
    default_enabled: ClassVar[bool] = True
    options: ClassVar[tuple[RuleOption, ...]] = ()
    fix_safety: ClassVar[FixSafety | None] = None
    heuristic: ClassVar[bool] = False  # reports a score in [0, 1] and spans
    # Options used when linting ``bad`` and ``good`` for the docs test (and shown in the docs):
    # for rules that only fire when configured, e.g. a behavior spec or ``{"kb": "path"}``
    # (relative paths are resolved from the project root, where the docs test runs).
    example_options: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        declared = {opt.name: opt for opt in self.options}
        values = {opt.name: opt.default for opt in self.options}
        for key, value in (options or {}).items():
            if key not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise ValueError(f"{self.code} ({self.name}): unknown option {key!r}; options: {known}")
            values[key] = declared[key].coerce(value, rule_code=self.code)
        self.opts: dict[str, Any] = values

    @property
    def family(self) -> str:
        return self.code.rstrip("0123456789")

    @property
    def inert(self) -> bool:
        """True when, with these options, the rule can never report (a V rule with nothing
        configured): the engine then leaves it out instead of calling it on every example."""
        return False

    @classmethod
    def documentation(cls) -> dict[str, Any]:
        """The rule's documentation as data (``ftkit rule CODE`` and the docs render this)."""
        return {
            "code": cls.code,
            "name": cls.name,
            "family": FAMILIES.get(cls.code.rstrip("0123456789"), ""),
            "summary": cls.summary,
            "why": cls.why,
            "bad": cls.bad,
            "good": cls.good,
            "scope": cls.scope,
            "default_severity": cls.default_severity.value,
            "default_enabled": cls.default_enabled,
            "fix": cls.fix_safety,
            "heuristic": cls.heuristic,
            "example_options": dict(cls.example_options),
            "options": [
                {"name": o.name, "type": o.type, "default": o.default, "description": o.description} for o in cls.options
            ],
        }


class ExampleRule(Rule):
    scope: ClassVar[Scope] = "example"
    #: Optional predicate shared (the same object) by several rules: when ``gate(ctx)`` is false,
    #: none of them reports on ``ctx``. The engine calls it once for a run of consecutive rules
    #: with the same gate and skips them all when it is false (the S/T rules share one: "the
    #: example has a validation problem"). It must be exact: a shortcut, never a filter.
    gate: Callable[[ExampleContext], bool] | None = None

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


class DatasetRule(Rule):
    """A rule that sees every example in order (``observe``) and reports at the end (``finish``).

    ``prepare(ctx)``: the per-example part of the work that needs no other example (a
    MinHash signature, a knowledge analysis, normalised text, a hash of the system prompt).
    The engine runs it in worker processes next to the example rules (on the same context,
    so caches on ``ctx`` are shared with them) and ``observe`` gets the result through
    :meth:`prepared`. The result must be picklable and should be small (a key, a hash, a
    count): it travels back to the main process, whose time bounds the whole run.

    A rule that overrides ``prepare`` must not read the record in ``observe``: the engine
    passes a context *without it* (``ctx.record`` is ``None``), holding only ``file``,
    ``line``, ``index``, ``fingerprint``, ``ref`` and :meth:`prepared`. That keeps the main
    process from parsing examples. A rule without ``prepare`` gets the whole record (the
    workers then send every record back: slower).
    ``observe`` called outside the engine (on a full context) still works: :meth:`prepared`
    computes ``prepare`` when the engine has not.

    ``prepare_many(ctxs)`` prepares a chunk of examples at once (the engine calls it per
    worker chunk); override it when batching is faster (D002 hashes a chunk with numpy).
    """

    scope: ClassVar[Scope] = "dataset"

    def prepare(self, ctx: ExampleContext) -> Any:
        return None

    def prepare_many(self, ctxs: list[ExampleContext]) -> list[Any]:
        """``prepare`` of each context, in order."""
        return [self.prepare(ctx) for ctx in ctxs]

    @property
    def has_prepare(self) -> bool:
        return type(self).prepare is not DatasetRule.prepare

    def prepared(self, ctx: ExampleContext) -> Any:
        """This rule's ``prepare`` result for ``ctx`` (from a worker if the engine ran it there)."""
        store = ctx.__dict__.get("_prepared")
        if store is not None and self.code in store:
            return store[self.code]
        return self.prepare(ctx)

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self) -> Iterable[Finding]:
        return ()


_REGISTRY: dict[str, type[Rule]] = {}
_BY_NAME: dict[str, str] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: add a rule to the registry (codes and names must be unique)."""
    for attr in ("code", "name", "summary", "why", "bad", "good"):
        if not getattr(cls, attr, None):
            raise TypeError(f"rule {cls.__name__} lacks {attr!r}")
    if cls.code in _REGISTRY and _REGISTRY[cls.code] is not cls:
        raise TypeError(f"duplicate rule code {cls.code}")
    if cls.name in _BY_NAME and _BY_NAME[cls.name] != cls.code:
        raise TypeError(f"duplicate rule name {cls.name}")
    _REGISTRY[cls.code] = cls
    _BY_NAME[cls.name] = cls.code
    return cls


def load_all_rules() -> dict[str, type[Rule]]:
    """Import every module in ``toolkit.linter.rules`` and return the registry, sorted by code."""
    import importlib
    import pkgutil

    import toolkit.linter.rules as package

    global _RULES_IMPORTED
    if not _RULES_IMPORTED:  # walking the package costs ~1 ms; the engine asks for the registry per finding
        for module in pkgutil.iter_modules(package.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{module.name}")
        _RULES_IMPORTED = True
    return dict(sorted(_REGISTRY.items(), key=lambda item: _code_sort_key(item[0])))


_RULES_IMPORTED = False


def _code_sort_key(code: str) -> tuple[str, int]:
    family = code.rstrip("0123456789")
    return family, int(code[len(family):] or 0)


def resolve_code(code_or_name: str) -> str:
    """Accept a rule code (``P001``) or kebab-case name (``pii-email``); return the code."""
    rules = load_all_rules()
    if code_or_name.upper() in rules:
        return code_or_name.upper()
    if code_or_name in _BY_NAME:
        return _BY_NAME[code_or_name]
    raise KeyError(code_or_name)


def select_codes(selectors: Iterable[str]) -> set[str]:
    """Expand selectors (codes, names, family prefixes like ``K`` or ``P0``, ``ALL``) to codes.

    Raises ``KeyError`` for a selector that matches no rule.
    """
    rules = load_all_rules()
    chosen: set[str] = set()
    for selector in selectors:
        if selector.upper() == "ALL":
            chosen.update(rules)
            continue
        if selector in _BY_NAME:
            chosen.add(_BY_NAME[selector])
            continue
        prefix = selector.upper()
        matched = {code for code in rules if code.startswith(prefix)}
        if not matched:
            raise KeyError(selector)
        chosen.update(matched)
    return chosen
