"""V: the behavior spec - check every reply against the behavior you are teaching, and the replies against each other.

Fine-tuning exists to make a model act a certain way. State that way in the config and
every assistant reply the model learns from (``weight`` not 0) is checked against it::

    [tool.ftkit.lint.behavior]
    reply-schema-file = "schemas/reply.schema.json"  # V001: replies are JSON matching this schema
    required-phrases = ["Is there anything else I can help with?"]   # V002
    required-in = "last-reply"                       # every-reply | last-reply | any-reply
    banned-phrases = ["unfortunately", "as per our policy"]          # V003
    banned-patterns = ["(?i)\\\\bASAP\\\\b"]
    max-chars = 800                                  # V004 (also min-chars, min/max-words, min/max-tokens)
    greeting = "required"                            # V005: required | forbidden | any
    sign-off = "forbidden"                           # V006: required | forbidden | any
    markdown = ["bullet-lists", "bold"]              # V007: the markdown replies may use ([] = none)

Each key is an option of the V rule that reads it (``ftkit rule V004`` lists them), so it
can also be set per rule under ``[tool.ftkit.lint.options.V004]``. A V001-V007 rule with
nothing configured checks nothing.

V008-V010 need no configuration: they measure how far the examples disagree with each
other (half the replies use bullet lists and half do not; 40% greet; three different
sign-offs) and report each inconsistency once, at the first example of the minority style.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Iterable, Mapping

import orjson

from toolkit.diagnostics import Severity, Span
from toolkit.linter.rule import (
    DatasetRule,
    ExampleContext,
    ExampleRef,
    ExampleRule,
    Finding,
    RuleOption,
    register,
)
from toolkit.linter.rules._textfix import preview, trainable_assistant, trainable_indexes


def _line(*messages: str) -> str:
    return '{"messages": [' + ", ".join(messages) + "]}"


def _user(text: str) -> str:
    return '{"role": "user", "content": "' + text + '"}'


def _assistant(text: str) -> str:
    return '{"role": "assistant", "content": "' + text + '"}'


def _replies(ctx: ExampleContext) -> Iterable[tuple[int, str]]:
    """``(index, text)`` of every trainable assistant reply with text (tool-call-only messages skipped)."""
    messages, texts = ctx.messages, ctx.texts
    for index in trainable_indexes(ctx):
        text = texts[index]
        if text or not messages[index].get("tool_calls"):
            yield index, text


def _compile_all(patterns: Iterable[str], *, code: str, option: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for pattern in patterns:
        try:
            out.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"{code}: option {option!r}: invalid regular expression {pattern!r}: {exc}") from None
    return tuple(out)


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A literal phrase, case-insensitive, not inside a longer word."""
    body = r"\s+".join(re.escape(part) for part in phrase.split())
    left = r"(?<!\w)" if phrase[:1].isalnum() else ""
    right = r"(?!\w)" if phrase[-1:].isalnum() else ""
    return re.compile(left + body + right, re.IGNORECASE)


# --------------------------------------------------------------------------- V001


@register
class ReplySchema(ExampleRule):
    code = "V001"
    name = "reply-schema"
    summary = "An assistant reply is not JSON matching the configured reply schema (`reply-schema` / `reply-schema-file`)."
    why = (
        "If the model must always answer in one JSON format, every training reply must be that format: "
        "a few free-text or off-schema replies teach it that the format is optional, and the parser "
        "downstream breaks in production. The examples assume a schema requiring `intent` and `reply` strings."
    )
    bad = _line(_user("Where is my order 5521?"), _assistant("Your order is on its way!"))
    good = _line(
        _user("Where is my order 5521?"),
        _assistant('{\\"intent\\": \\"order_status\\", \\"reply\\": \\"Your order is on its way!\\"}'),
    )
    example_options: ClassVar[dict[str, Any]] = {
        "reply-schema": {
            "type": "object",
            "required": ["intent", "reply"],
            "properties": {"intent": {"type": "string"}, "reply": {"type": "string"}},
            "additionalProperties": False,
        }
    }
    default_severity = Severity.ERROR
    options = (
        RuleOption("reply-schema", "dict", None, "A JSON Schema (draft 2020-12) every assistant reply must satisfy, inline."),
        RuleOption("reply-schema-file", "str", None, "Path to a JSON Schema file (relative to the working directory)."),
        RuleOption("allow-code-fence", "bool", False, "Accept replies wrapped in a ```json code fence."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        schema = self.opts["reply-schema"]
        path = self.opts["reply-schema-file"]
        if schema is not None and path is not None:
            raise ValueError(f"{self.code}: set either 'reply-schema' or 'reply-schema-file', not both")
        if path is not None:
            try:
                schema = orjson.loads(Path(path).read_bytes())
            except OSError as exc:
                raise ValueError(f"{self.code}: option 'reply-schema-file': cannot read {path}: {exc.strerror}") from None
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"{self.code}: option 'reply-schema-file': {path} is not valid JSON: {exc}") from None
        self._validator = None
        if schema is not None:
            import jsonschema

            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            try:
                cls.check_schema(schema)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"{self.code}: the reply schema is not a valid JSON Schema: {exc.message}") from None
            self._validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    _FENCE = re.compile(r"^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$")

    @property
    def inert(self) -> bool:
        return self._validator is None

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if self._validator is None:
            return
        for index, text in _replies(ctx):
            body = text
            if self.opts["allow-code-fence"]:
                fenced = self._FENCE.match(text)
                if fenced:
                    body = fenced.group(1)
            pointer = ctx.content_pointer(index)
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                yield Finding(
                    message=f"the assistant reply is not JSON ({str(exc).split(':')[0]}): {preview(text, 50)!r}",
                    pointer=pointer,
                    hint="every reply must be JSON matching the reply schema",
                )
                continue
            errors = sorted(self._validator.iter_errors(value), key=lambda e: (list(e.absolute_path), e.message))
            if not errors:
                continue
            described = "; ".join(
                (("/" + "/".join(str(p) for p in e.absolute_path) + ": ") if e.absolute_path else "") + e.message
                for e in errors[:3]
            )
            more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
            yield Finding(
                message=f"the assistant reply does not match the reply schema: {described}{more}",
                pointer=pointer,
                hint="fix the reply so that it validates against the configured schema",
            )


# --------------------------------------------------------------------------- V002 / V003


@register
class RequiredPhrase(ExampleRule):
    code = "V002"
    name = "required-phrase"
    summary = "An assistant reply lacks a phrase or pattern the behavior spec requires."
    why = (
        "Whatever the model must always say (a disclosure, a closing question, a ticket reference) it "
        "learns only from replies that say it. Every reply without it teaches that it is optional. The "
        "examples assume `required-phrases = [\"Is there anything else I can help with?\"]`."
    )
    bad = _line(_user("Can I upgrade my plan?"), _assistant("Yes, open Billing and choose Upgrade."))
    good = _line(
        _user("Can I upgrade my plan?"),
        _assistant("Yes, open Billing and choose Upgrade. Is there anything else I can help with?"),
    )
    example_options: ClassVar[dict[str, Any]] = {"required-phrases": ["Is there anything else I can help with?"]}
    default_severity = Severity.WARNING
    options = (
        RuleOption("required-phrases", "list[str]", [], "Phrases every checked reply must contain (case-insensitive)."),
        RuleOption("required-patterns", "list[str]", [], "Regular expressions every checked reply must match."),
        RuleOption("required-in", "str", "every-reply", "Which replies: 'every-reply', 'last-reply' or 'any-reply' (one per example)."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        if self.opts["required-in"] not in ("every-reply", "last-reply", "any-reply"):
            raise ValueError(f"{self.code}: option 'required-in' must be 'every-reply', 'last-reply' or 'any-reply'")
        self._checks = [(p, _phrase_pattern(p)) for p in self.opts["required-phrases"] if p.strip()]
        self._checks += [
            (p.pattern, p) for p in _compile_all(self.opts["required-patterns"], code=self.code, option="required-patterns")
        ]

    @property
    def inert(self) -> bool:
        return not self._checks

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if not self._checks:
            return
        replies = [(i, t) for i, t in _replies(ctx) if t]
        if not replies:
            return
        mode = self.opts["required-in"]
        if mode == "last-reply":
            replies = replies[-1:]
        if mode == "any-reply":
            for label, pattern in self._checks:
                if not any(pattern.search(text) for _, text in replies):
                    yield Finding(
                        message=f"no assistant reply in this example contains {label!r}",
                        pointer=ctx.content_pointer(replies[-1][0]),
                        hint="the behavior spec requires it at least once per example",
                    )
            return
        for index, text in replies:
            missing = [label for label, pattern in self._checks if not pattern.search(text)]
            if missing:
                yield Finding(
                    message="the assistant reply lacks " + ", ".join(repr(m) for m in missing),
                    pointer=ctx.content_pointer(index),
                    hint="the behavior spec requires it in " + ("every reply" if mode == "every-reply" else "the last reply"),
                )


@register
class BannedPhrase(ExampleRule):
    code = "V003"
    name = "banned-phrase"
    summary = "An assistant reply uses a phrase or pattern the behavior spec bans."
    why = (
        "Phrases you never want from the model (blame, legalese, competitor names, 'unfortunately') are "
        "learned from the replies that use them, however few. The examples assume "
        "`banned-phrases = [\"unfortunately\", \"as per our policy\"]`."
    )
    bad = _line(
        _user("Why was I charged twice?"), _assistant("Unfortunately, as per our policy, double charges take 10 days to reverse.")
    )
    good = _line(_user("Why was I charged twice?"), _assistant("Sorry about that! I have reversed the second charge today."))
    example_options: ClassVar[dict[str, Any]] = {"banned-phrases": ["unfortunately", "as per our policy"]}
    default_severity = Severity.WARNING
    options = (
        RuleOption("banned-phrases", "list[str]", [], "Phrases no reply may contain (case-insensitive, whole words)."),
        RuleOption("banned-patterns", "list[str]", [], "Regular expressions no reply may match."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._checks = [(p, _phrase_pattern(p)) for p in self.opts["banned-phrases"] if p.strip()]
        self._checks += [
            (p.pattern, p) for p in _compile_all(self.opts["banned-patterns"], code=self.code, option="banned-patterns")
        ]

    @property
    def inert(self) -> bool:
        return not self._checks

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if not self._checks:
            return
        for index, text in _replies(ctx):
            if not text:
                continue
            pointer = ctx.content_pointer(index)
            spans = []
            labels = []
            for label, pattern in self._checks:
                hits = list(pattern.finditer(text))
                if hits:
                    labels.append(label)
                    spans.extend(Span(m.start(), m.end(), m.group(), pointer, label="banned") for m in hits)
            if spans:
                spans.sort(key=lambda s: (s.start, s.end))
                yield Finding(
                    message="the assistant reply uses banned " + ", ".join(repr(label) for label in labels),
                    pointer=pointer,
                    hint="rewrite the reply without it",
                    spans=spans,
                )


# --------------------------------------------------------------------------- V004


_WORDS = re.compile(r"\S+")


@register
class ReplyLength(ExampleRule):
    code = "V004"
    name = "reply-length"
    summary = "An assistant reply is shorter or longer than the behavior spec allows (characters, words or tokens)."
    why = (
        "Reply length is behavior: a model trained on 2,000-character replies writes essays in a chat "
        "widget. Bounds in the spec keep every example within the length you want the model to learn. "
        "Token counts are estimates with the named tiktoken encoding. The examples assume `max-chars = 200`."
    )
    bad = _line(
        _user("Do you have a student discount?"),
        _assistant(
            "Yes! We offer a student discount on all plans. You are eligible while you are enrolled at a college or "
            "university, and you can verify with your student e-mail address or a photo of your student card. The "
            "discount renews every year as long as you re-verify, and it can be combined with the annual billing option."
        ),
    )
    good = _line(_user("Do you have a student discount?"), _assistant("Yes, 50% off any plan with a valid student e-mail address."))
    example_options: ClassVar[dict[str, Any]] = {"max-chars": 200}
    default_severity = Severity.WARNING
    options = (
        RuleOption("min-chars", "int", None, "Fewest characters a reply may have."),
        RuleOption("max-chars", "int", None, "Most characters a reply may have."),
        RuleOption("min-words", "int", None, "Fewest words (white-space separated) a reply may have."),
        RuleOption("max-words", "int", None, "Most words a reply may have."),
        RuleOption("min-tokens", "int", None, "Fewest tokens a reply may have (estimate)."),
        RuleOption("max-tokens", "int", None, "Most tokens a reply may have (estimate)."),
        RuleOption("encoding", "str", "o200k_base", "tiktoken encoding for the token bounds."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        for low, high in (("min-chars", "max-chars"), ("min-words", "max-words"), ("min-tokens", "max-tokens")):
            a, b = self.opts[low], self.opts[high]
            for key, value in ((low, a), (high, b)):
                if value is not None and value < 0:
                    raise ValueError(f"{self.code}: option {key!r} must not be negative")
            if a is not None and b is not None and a > b:
                raise ValueError(f"{self.code}: option {low!r} ({a}) is greater than {high!r} ({b})")
        self._encoding = None
        if self.opts["min-tokens"] is not None or self.opts["max-tokens"] is not None:
            from toolkit.tokens import get_encoding

            try:
                self._encoding = get_encoding(self.opts["encoding"])
            except (KeyError, ValueError) as exc:
                raise ValueError(f"{self.code}: option 'encoding': {exc}") from None
        self._active = any(self.opts[k] is not None for k in ("min-chars", "max-chars", "min-words", "max-words", "min-tokens", "max-tokens"))

    @property
    def inert(self) -> bool:
        return not self._active

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if not self._active:
            return
        o = self.opts
        for index, text in _replies(ctx):
            measures = []
            chars = len(text)
            if o["min-chars"] is not None and chars < o["min-chars"]:
                measures.append(f"{chars:,} characters (minimum {o['min-chars']:,})")
            if o["max-chars"] is not None and chars > o["max-chars"]:
                measures.append(f"{chars:,} characters (maximum {o['max-chars']:,})")
            if o["min-words"] is not None or o["max-words"] is not None:
                words = len(_WORDS.findall(text))
                if o["min-words"] is not None and words < o["min-words"]:
                    measures.append(f"{words:,} words (minimum {o['min-words']:,})")
                if o["max-words"] is not None and words > o["max-words"]:
                    measures.append(f"{words:,} words (maximum {o['max-words']:,})")
            if self._encoding is not None:
                tokens = len(self._encoding.encode_ordinary(text))
                enc = o["encoding"]
                if o["min-tokens"] is not None and tokens < o["min-tokens"]:
                    measures.append(f"~{tokens:,} tokens, estimate with {enc} (minimum {o['min-tokens']:,})")
                if o["max-tokens"] is not None and tokens > o["max-tokens"]:
                    measures.append(f"~{tokens:,} tokens, estimate with {enc} (maximum {o['max-tokens']:,})")
            if measures:
                yield Finding(
                    message="the assistant reply has " + "; ".join(measures),
                    pointer=ctx.content_pointer(index),
                    hint="rewrite the reply within the behavior spec's length bounds",
                )


# --------------------------------------------------------------------------- greetings and sign-offs

DEFAULT_GREETING_PATTERNS = (
    r"(?i)^\W{0,3}(?:hi|hello|hey|hiya|howdy|dear|greetings|good (?:morning|afternoon|evening|day)|welcome"
    r"|thanks? (?:you )?(?:so much |very much )?for (?:reaching out|contacting|getting in touch|your (?:message|patience|e-?mail|question))"
    r"|hola|buenos d[ií]as|buenas tardes|bonjour|bonsoir|salut|hallo|guten (?:tag|morgen|abend)|moin|servus|ciao|buongiorno"
    r"|ol[aá]|oi|bom dia|hej|hoi|goedendag)\b",
)
DEFAULT_SIGN_OFF_PATTERNS = (
    r"(?i)(?:^|\n|[.!?]\s+)(?P<phrase>(?:best|kind|warm|warmest|many) (?:regards|wishes|thanks)|with (?:best |kind )?regards"
    r"|best|regards|sincerely(?: yours)?|yours (?:sincerely|truly)|cheers|thanks(?: again| so much)?|thank you(?: again| so much)?"
    r"|have a (?:great|nice|good|wonderful|lovely) (?:day|evening|weekend|one)|take care|talk soon|all the best"
    r"|cordialement|bien (?:à vous|cordialement)|mit freundlichen gr(?:ü|ue)(?:ß|ss)en|viele gr(?:ü|ue)(?:ß|ss)e|liebe gr(?:ü|ue)(?:ß|ss)e"
    r"|saludos(?: cordiales)?|atentamente|un saludo|cordiali saluti|distinti saluti|atenciosamente|abraços)"
    r"[ \t]*[,.!]*(?:[ \t]*\n?[ \t]*[^\n.!?]{1,40})?\s*\Z",
)

_CHOICES = ("required", "forbidden", "any")


class _ConventionRule(ExampleRule):
    """Base of V005/V006: a convention (required / forbidden / any) and its patterns."""

    mode_option: ClassVar[str]
    patterns_option: ClassVar[str]
    thing: ClassVar[str]

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        mode = self.opts[self.mode_option]
        if mode not in _CHOICES:
            raise ValueError(f"{self.code}: option {self.mode_option!r} must be one of {', '.join(_CHOICES)}, got {mode!r}")
        self._mode = mode
        self._patterns = _compile_all(self.opts[self.patterns_option], code=self.code, option=self.patterns_option)

    def _target(self, ctx: ExampleContext) -> tuple[int, str] | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _search(self, text: str) -> re.Match[str] | None:
        for pattern in self._patterns:
            match = pattern.search(text)
            if match:
                return match
        return None

    @property
    def inert(self) -> bool:
        return self._mode == "any"

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if self._mode == "any":
            return
        target = self._target(ctx)
        if target is None:
            return
        index, text = target
        match = self._search(text)
        pointer = ctx.content_pointer(index)
        if self._mode == "required" and match is None:
            yield Finding(
                message=f"the reply has no {self.thing}: {preview(text, 50)!r}",
                pointer=pointer,
                hint=f"the behavior spec requires a {self.thing} ({self.mode_option} = \"required\")",
            )
        elif self._mode == "forbidden" and match is not None:
            start = match.start("phrase") if "phrase" in match.re.groupindex and match.group("phrase") else match.start()
            found = text[start : match.end()]
            yield Finding(
                message=f"the reply has a {self.thing}: {preview(found.strip(), 40)!r}",
                pointer=pointer,
                hint=f"the behavior spec forbids a {self.thing} ({self.mode_option} = \"forbidden\")",
                spans=[Span(start, match.end(), found, pointer, label=self.thing)],
            )


def first_reply(ctx: ExampleContext) -> tuple[int, str] | None:
    """The example's first assistant message, if it is trainable and has text (the opening reply)."""
    for index, (message, text) in enumerate(zip(ctx.messages, ctx.texts)):
        if message.get("role") == "assistant":
            return (index, text) if trainable_assistant(message) and text else None
    return None


def last_reply(ctx: ExampleContext) -> tuple[int, str] | None:
    """The example's last assistant message, if it is trainable and has text (the closing reply)."""
    index = ctx.last_assistant_index
    if index is None:
        return None
    text = ctx.texts[index]
    return (index, text) if trainable_assistant(ctx.messages[index]) and text else None


@register
class GreetingConvention(_ConventionRule):
    code = "V005"
    name = "greeting-convention"
    summary = "The opening reply greets when the spec forbids it, or does not when the spec requires it."
    why = (
        "Whether the assistant opens with 'Hi!' is a convention the model copies from the data; a spec "
        "makes it deliberate. Checks the first assistant message of each example (when it is trainable). "
        "The examples assume `greeting = \"required\"`."
    )
    bad = _line(_user("My invoice shows the wrong VAT number."), _assistant("Thanks, I have corrected it and re-sent the invoice."))
    good = _line(
        _user("My invoice shows the wrong VAT number."),
        _assistant("Hi! Thanks, I have corrected it and re-sent the invoice."),
    )
    example_options: ClassVar[dict[str, Any]] = {"greeting": "required"}
    default_severity = Severity.WARNING
    options = (
        RuleOption("greeting", "str", "any", "'required', 'forbidden' or 'any' (no check)."),
        RuleOption("greeting-patterns", "list[str]", list(DEFAULT_GREETING_PATTERNS), "Regular expressions that recognise a greeting."),
    )
    mode_option = "greeting"
    patterns_option = "greeting-patterns"
    thing = "greeting"

    def _target(self, ctx: ExampleContext) -> tuple[int, str] | None:
        return first_reply(ctx)


@register
class SignOffConvention(_ConventionRule):
    code = "V006"
    name = "sign-off-convention"
    summary = "The closing reply signs off when the spec forbids it, or does not when the spec requires it."
    why = (
        "Sign-offs ('Best regards, Anna') are e-mail habits that look odd in chat, or a brand requirement "
        "the model must learn everywhere. Checks the last assistant message of each example. The examples "
        "assume `sign-off = \"forbidden\"`."
    )
    bad = _line(_user("Thanks, that worked!"), _assistant("Glad to hear it!\\n\\nBest regards,\\nAnna"))
    good = _line(_user("Thanks, that worked!"), _assistant("Glad to hear it!"))
    example_options: ClassVar[dict[str, Any]] = {"sign-off": "forbidden"}
    default_severity = Severity.WARNING
    options = (
        RuleOption("sign-off", "str", "any", "'required', 'forbidden' or 'any' (no check)."),
        RuleOption("sign-off-patterns", "list[str]", list(DEFAULT_SIGN_OFF_PATTERNS), "Regular expressions that recognise a sign-off at the end of a reply."),
    )
    mode_option = "sign-off"
    patterns_option = "sign-off-patterns"
    thing = "sign-off"

    def _target(self, ctx: ExampleContext) -> tuple[int, str] | None:
        return last_reply(ctx)

    def _search(self, text: str) -> re.Match[str] | None:
        # sign-offs live at the end: look at the tail only (fast, and no mid-text "thanks")
        tail_start = max(0, len(text) - 200)
        for pattern in self._patterns:
            match = pattern.search(text, tail_start)
            if match:
                return match
        return None


# --------------------------------------------------------------------------- V007 markdown

MARKDOWN_ELEMENTS: dict[str, re.Pattern[str]] = {
    "headings": re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE),
    "bullet-lists": re.compile(r"^[ \t]{0,6}[-*+•][ \t]+\S", re.MULTILINE),
    "numbered-lists": re.compile(r"^[ \t]{0,6}\d{1,3}[.)][ \t]+\S", re.MULTILINE),
    "tables": re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*(?::?-{3,}:?[ \t]*\|?)?[ \t]*$", re.MULTILINE),
    "code-blocks": re.compile(r"^[ \t]{0,3}(?:```|~~~)", re.MULTILINE),
    "inline-code": re.compile(r"(?<!`)`[^`\n]+`(?!`)"),
    "bold": re.compile(r"\*\*(?=\S)[^*\n]+(?<=\S)\*\*|(?<!\w)__(?=\S)[^_\n]+(?<=\S)__(?!\w)"),
    "italic": re.compile(r"(?<![*\w])\*(?=[^\s*])[^*\n]+(?<=[^\s*])\*(?![*\w])|(?<![_\w])_(?=[^\s_])[^_\n]+(?<=[^\s_])_(?![_\w])"),
    "links": re.compile(r"(?<!!)\[[^\]\n]+\]\([^)\s]+\)"),
    "images": re.compile(r"!\[[^\]\n]*\]\([^)\s]+\)"),
    "blockquotes": re.compile(r"^ {0,3}>[ \t]?\S", re.MULTILINE),
    "horizontal-rules": re.compile(r"^ {0,3}(?:-[ \t]*){3,}$|^ {0,3}(?:\*[ \t]*){3,}$|^ {0,3}(?:_[ \t]*){3,}$", re.MULTILINE),
}
_MARKDOWN_CUES = {
    "headings": "#", "bullet-lists": None, "numbered-lists": None, "tables": "|", "code-blocks": None,
    "inline-code": "`", "bold": None, "italic": None, "links": "](", "images": "![", "blockquotes": ">",
    "horizontal-rules": None,
}  # fmt: skip
_MD_ANY = re.compile(r"[#|`*_\[>~•]|^[ \t]*(?:[-+]|\d{1,3}[.)])[ \t]|^ {0,3}-[ \t]*-[ \t]*-", re.MULTILINE)


# Every match of _MD_ANY holds one of these characters or a digit (one-character tests are cheap).
_MD_ANY_CHARS = "#|`*_[>~•-+0123456789"


def markdown_elements(text: str) -> dict[str, list[re.Match[str]]]:
    """The markdown elements used in ``text``: element name -> its matches."""
    if not any(map(text.__contains__, _MD_ANY_CHARS)) or not _MD_ANY.search(text):
        return {}
    found: dict[str, list[re.Match[str]]] = {}
    for element, pattern in MARKDOWN_ELEMENTS.items():
        cue = _MARKDOWN_CUES[element]
        if cue is not None and cue not in text:
            continue
        hits = list(pattern.finditer(text))
        if hits:
            found[element] = hits
    if "tables" in found:
        found.pop("horizontal-rules", None)  # a table's separator row is not a rule
    if "code-blocks" in found:
        found.pop("inline-code", None)
    if "bold" in found and "italic" in found:
        bold_spans = [(m.start(), m.end()) for m in found["bold"]]
        found["italic"] = [m for m in found["italic"] if not any(s <= m.start() < e for s, e in bold_spans)]
        if not found["italic"]:
            del found["italic"]
    return found


@register
class MarkdownNotAllowed(ExampleRule):
    code = "V007"
    name = "markdown-not-allowed"
    summary = "An assistant reply uses markdown the behavior spec does not allow (`markdown = [...]`)."
    why = (
        "Markdown renders in some channels and shows as raw asterisks and pound signs in others (SMS, "
        "e-mail, many chat widgets). The model reproduces whatever formatting its examples use; list the "
        "elements your channel renders. Elements: " + ", ".join(MARKDOWN_ELEMENTS) + ". The examples assume "
        "`markdown = []` (plain text only)."
    )
    bad = _line(_user("How do I export my data?"), _assistant("## Export\\n\\n1. Open **Settings**\\n2. Choose Export"))
    good = _line(_user("How do I export my data?"), _assistant("Open Settings and choose Export."))
    example_options: ClassVar[dict[str, Any]] = {"markdown": []}
    default_severity = Severity.WARNING
    options = (
        RuleOption(
            "markdown",
            "list[str]",
            None,
            "Markdown elements replies may use ([] for plain text only; unset: no check). Known: "
            + ", ".join(MARKDOWN_ELEMENTS)
            + ".",
        ),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        allowed = self.opts["markdown"]
        if allowed is not None:
            unknown = sorted(set(allowed) - set(MARKDOWN_ELEMENTS))
            if unknown:
                raise ValueError(
                    f"{self.code}: option 'markdown': unknown element(s) {', '.join(unknown)}; known: {', '.join(MARKDOWN_ELEMENTS)}"
                )
        self._allowed = None if allowed is None else frozenset(allowed)

    @property
    def inert(self) -> bool:
        return self._allowed is None

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if self._allowed is None:
            return
        for index, text in _replies(ctx):
            used = markdown_elements(text)
            banned = {k: v for k, v in used.items() if k not in self._allowed}
            if not banned:
                continue
            pointer = ctx.content_pointer(index)
            spans = sorted(
                (Span(m.start(), m.end(), m.group(), pointer, label=element) for element, hits in banned.items() for m in hits),
                key=lambda s: (s.start, s.end),
            )
            yield Finding(
                message="the assistant reply uses markdown the spec does not allow: " + ", ".join(sorted(banned)),
                pointer=pointer,
                hint="allowed: " + (", ".join(sorted(self._allowed)) or "none (plain text)"),
                spans=spans[:50],
            )


# --------------------------------------------------------------------------- V008 - V010 consistency

_CONSISTENCY_OPTIONS = (
    RuleOption("min-share", "float", 0.2, "A style used by between this share and 1 minus it of the examples is inconsistent."),
    RuleOption("min-examples", "int", 20, "Do nothing until this many examples can be judged."),
)


def _share_text(count: int, total: int) -> str:
    return f"{count / total:.0%} ({count} of {total})"


class _Tally:
    """Counts examples with and without a style, remembering the first of each (bounded memory)."""

    __slots__ = ("yes", "no", "first_yes", "first_no")

    def __init__(self) -> None:
        self.yes = 0
        self.no = 0
        self.first_yes: ExampleRef | None = None
        self.first_no: ExampleRef | None = None

    def add(self, used: bool, ref: ExampleRef) -> None:
        if used:
            self.yes += 1
            if self.first_yes is None:
                self.first_yes = ref
        else:
            self.no += 1
            if self.first_no is None:
                self.first_no = ref

    @property
    def total(self) -> int:
        return self.yes + self.no

    def inconsistent(self, min_share: float) -> bool:
        return self.total > 0 and min_share <= self.yes / self.total <= 1 - min_share

    def minority(self) -> tuple[bool, ExampleRef | None]:
        """Whether the minority style is "used", and its first example (ties: the later-starting style)."""
        if self.yes < self.no or (self.yes == self.no and self._later_is_yes()):
            return True, self.first_yes
        return False, self.first_no

    def _later_is_yes(self) -> bool:
        return self.first_yes is not None and self.first_no is not None and self.first_yes.index > self.first_no.index


def _disagreement(tally: _Tally) -> float:
    """0 when everyone agrees, 1 at a 50/50 split."""
    share = tally.yes / tally.total
    return round(1.0 - abs(2 * share - 1), 4)


_FORMAT_FEATURES = ("bullet-lists", "numbered-lists", "headings", "bold", "tables", "code-blocks", "links")


@register
class InconsistentFormatting(DatasetRule):
    code = "V008"
    name = "inconsistent-formatting"
    summary = "Replies disagree on formatting: e.g. half use bullet lists and half do not (dataset-level)."
    why = (
        "When comparable replies are formatted in two ways, the model learns no convention and switches "
        "at random. Only replies long enough to need structure (`min-reply-chars`) are compared, so short "
        "answers do not count as 'no lists'. Each inconsistent element is reported once, at the first "
        "example of its minority style. The examples set `min-examples = 4` and `min-reply-chars = 60`."
    )
    bad = "\n".join(
        [
            _line(_user("How do I set up the router?"), _assistant("Here is how:\\n- Plug it in\\n- Hold reset for 5 seconds\\n- Connect to the Setup network")),
            _line(_user("How do I pair the remote?"), _assistant("Here is how:\\n- Hold the home key\\n- Wait for the light\\n- Press OK on the screen")),
            _line(_user("How do I update the firmware?"), _assistant("Open the app, tap Device, then tap Update and keep the router plugged in until the light turns green.")),
            _line(_user("How do I reset my password?"), _assistant("Open the sign-in page, tap Forgot password and follow the link that we e-mail to you right away.")),
        ]
    )  # fmt: skip
    good = "\n".join(
        [
            _line(_user("How do I set up the router?"), _assistant("Here is how:\\n- Plug it in\\n- Hold reset for 5 seconds\\n- Connect to the Setup network")),
            _line(_user("How do I pair the remote?"), _assistant("Here is how:\\n- Hold the home key\\n- Wait for the light\\n- Press OK on the screen")),
            _line(_user("How do I update the firmware?"), _assistant("Here is how:\\n- Open the app\\n- Tap Device, then Update\\n- Keep the router plugged in")),
            _line(_user("How do I reset my password?"), _assistant("Here is how:\\n- Open the sign-in page\\n- Tap Forgot password\\n- Follow the e-mailed link")),
        ]
    )  # fmt: skip
    example_options: ClassVar[dict[str, Any]] = {"min-examples": 4, "min-reply-chars": 60}
    heuristic = True
    default_severity = Severity.INFO
    options = (
        *_CONSISTENCY_OPTIONS,
        RuleOption("min-reply-chars", "int", 200, "Only examples whose replies total at least this many characters are compared."),
        RuleOption("elements", "list[str]", list(_FORMAT_FEATURES), "Markdown elements whose use is compared."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        unknown = sorted(set(self.opts["elements"]) - set(MARKDOWN_ELEMENTS))
        if unknown:
            raise ValueError(f"{self.code}: option 'elements': unknown element(s) {', '.join(unknown)}")
        self._tallies = {element: _Tally() for element in self.opts["elements"]}
        self._judged = 0

    def prepare(self, ctx: ExampleContext) -> frozenset[str] | None:
        """The markdown elements the replies use (``None`` when they are too short to judge)."""
        texts = [text for _, text in _replies(ctx) if text]
        if not texts or sum(len(t) for t in texts) < self.opts["min-reply-chars"]:
            return None
        return frozenset(markdown_elements("\n\n".join(texts)))

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        used = self.prepared(ctx)
        if used is None:
            return ()
        self._judged += 1
        ref = ctx.ref
        for element, tally in self._tallies.items():
            tally.add(element in used, ref)
        return ()

    def finish(self) -> Iterable[Finding]:
        if self._judged < self.opts["min-examples"]:
            return
        for element, tally in self._tallies.items():
            if not tally.inconsistent(self.opts["min-share"]):
                continue
            minority_uses, ref = tally.minority()
            name = element.replace("-", " ")
            yield Finding(
                message=f"{name} are used in {_share_text(tally.yes, tally.total)} of comparable replies; "
                f"this example is the first of the {'minority that uses them' if minority_uses else 'minority without them'}",
                hint=f"pick one convention for {name} and rewrite the others (or set it in the behavior spec: markdown = [...])",
                score=_disagreement(tally),
                at=ref,
                extra={"element": element, "share": round(tally.yes / tally.total, 4), "examples": tally.total},
            )


@register
class InconsistentGreeting(DatasetRule):
    code = "V009"
    name = "inconsistent-greeting"
    summary = "Some opening replies greet and others do not (dataset-level share of greetings)."
    why = (
        "A greeting in 40% of opening replies teaches the model to greet at random. Decide, then make the "
        "data agree (and state it in the spec: `greeting = \"required\"` or `\"forbidden\"`). The examples "
        "set `min-examples = 4`."
    )
    bad = "\n".join(
        [
            _line(_user("My parcel is late."), _assistant("Hi! I am sorry about that, let me check the tracking.")),
            _line(_user("The app crashes on start."), _assistant("Hello! Sorry about that, which phone do you use?")),
            _line(_user("I was charged twice."), _assistant("Sorry about that, I have refunded the second charge.")),
            _line(_user("Can I change my plan?"), _assistant("Yes, under Billing you can switch plans at any time.")),
        ]
    )  # fmt: skip
    good = "\n".join(
        [
            _line(_user("My parcel is late."), _assistant("Hi! I am sorry about that, let me check the tracking.")),
            _line(_user("The app crashes on start."), _assistant("Hello! Sorry about that, which phone do you use?")),
            _line(_user("I was charged twice."), _assistant("Hi! Sorry about that, I have refunded the second charge.")),
            _line(_user("Can I change my plan?"), _assistant("Hello! Yes, under Billing you can switch plans at any time.")),
        ]
    )  # fmt: skip
    example_options: ClassVar[dict[str, Any]] = {"min-examples": 4}
    heuristic = True
    default_severity = Severity.INFO
    options = (
        *_CONSISTENCY_OPTIONS,
        RuleOption("greeting-patterns", "list[str]", list(DEFAULT_GREETING_PATTERNS), "Regular expressions that recognise a greeting."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._patterns = _compile_all(self.opts["greeting-patterns"], code=self.code, option="greeting-patterns")
        self._tally = _Tally()

    def prepare(self, ctx: ExampleContext) -> bool | None:
        """Whether the opening reply greets (``None`` without one)."""
        target = first_reply(ctx)
        return None if target is None else any(p.search(target[1]) for p in self._patterns)

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        greets = self.prepared(ctx)
        if greets is not None:
            self._tally.add(greets, ctx.ref)
        return ()

    def finish(self) -> Iterable[Finding]:
        tally = self._tally
        if tally.total < self.opts["min-examples"] or not tally.inconsistent(self.opts["min-share"]):
            return
        minority_greets, ref = tally.minority()
        yield Finding(
            message=f"opening replies greet in {_share_text(tally.yes, tally.total)} of examples; this example is the "
            f"first of the minority {'that greets' if minority_greets else 'that does not greet'}",
            hint='make the examples agree, and state it in the behavior spec (greeting = "required" or "forbidden")',
            score=_disagreement(tally),
            at=ref,
            extra={"share": round(tally.yes / tally.total, 4), "examples": tally.total},
        )


_SIGN_OFF_NORMALIZE = re.compile(r"[^\w\s]+")


@register
class InconsistentSignOff(DatasetRule):
    code = "V010"
    name = "inconsistent-sign-off"
    summary = "Closing replies disagree on signing off: some do and some do not, or they use several different sign-offs."
    why = (
        "Mixed sign-offs ('Best regards', 'Cheers', none at all) teach the model to pick one at random. "
        "Both the share of replies that sign off and the variety of the sign-offs used are measured. The "
        "examples set `min-examples = 4`."
    )
    bad = "\n".join(
        [
            _line(_user("Thanks, it works now."), _assistant("Great to hear!\\n\\nBest regards,\\nAnna")),
            _line(_user("Got the refund, thanks."), _assistant("You are welcome!\\n\\nCheers,\\nTom")),
            _line(_user("All sorted, thank you."), _assistant("Happy to help!\\n\\nKind regards,\\nLea")),
            _line(_user("Perfect, thanks."), _assistant("Anytime!\\n\\nBest regards,\\nAnna")),
        ]
    )  # fmt: skip
    good = "\n".join(
        [
            _line(_user("Thanks, it works now."), _assistant("Great to hear!\\n\\nBest regards,\\nAnna")),
            _line(_user("Got the refund, thanks."), _assistant("You are welcome!\\n\\nBest regards,\\nTom")),
            _line(_user("All sorted, thank you."), _assistant("Happy to help!\\n\\nBest regards,\\nLea")),
            _line(_user("Perfect, thanks."), _assistant("Anytime!\\n\\nBest regards,\\nAnna")),
        ]
    )  # fmt: skip
    example_options: ClassVar[dict[str, Any]] = {"min-examples": 4}
    heuristic = True
    default_severity = Severity.INFO
    options = (
        *_CONSISTENCY_OPTIONS,
        RuleOption("sign-off-patterns", "list[str]", list(DEFAULT_SIGN_OFF_PATTERNS), "Regular expressions that recognise a sign-off."),
    )
    _MAX_FORMS = 1000

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._patterns = _compile_all(self.opts["sign-off-patterns"], code=self.code, option="sign-off-patterns")
        self._tally = _Tally()
        self._forms: dict[str, list[Any]] = {}  # normalised phrase -> [count, first ref, as written]

    def prepare(self, ctx: ExampleContext) -> tuple[str, str] | bool | None:
        """The closing reply's sign-off as ``(normalised key, phrase as written)``, ``False`` without one,
        ``None`` without a closing reply."""
        target = last_reply(ctx)
        if target is None:
            return None
        text = target[1]
        match = None
        for pattern in self._patterns:
            match = pattern.search(text, max(0, len(text) - 200))
            if match:
                break
        if match is None:
            return False
        phrase = match.groupdict().get("phrase") or match.group()
        return " ".join(_SIGN_OFF_NORMALIZE.sub(" ", phrase.casefold()).split()), phrase.strip()

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        sign_off = self.prepared(ctx)
        if sign_off is None:
            return ()
        self._tally.add(sign_off is not False, ctx.ref)
        if sign_off is not False:
            key, phrase = sign_off
            entry = self._forms.get(key)
            if entry is not None:
                entry[0] += 1
            elif len(self._forms) < self._MAX_FORMS:
                self._forms[key] = [1, ctx.ref, phrase]
        return ()

    def finish(self) -> Iterable[Finding]:
        tally = self._tally
        if tally.total < self.opts["min-examples"]:
            return
        min_share = self.opts["min-share"]
        if tally.inconsistent(min_share):
            minority_signs, ref = tally.minority()
            yield Finding(
                message=f"closing replies sign off in {_share_text(tally.yes, tally.total)} of examples; this example is "
                f"the first of the minority {'that signs off' if minority_signs else 'without a sign-off'}",
                hint='make the examples agree, and state it in the behavior spec (sign-off = "required" or "forbidden")',
                score=_disagreement(tally),
                at=ref,
                extra={"share": round(tally.yes / tally.total, 4), "examples": tally.total},
            )
        if tally.yes and len(self._forms) > 1:
            ranked = sorted(self._forms.values(), key=lambda e: (-e[0], e[1].index))
            top = ranked[0][0]
            if top / tally.yes <= 1 - min_share:
                listed = ", ".join(f"{e[2]!r} {e[0] / tally.yes:.0%}" for e in ranked[:5])
                second = ranked[1]
                yield Finding(
                    message=f"{len(self._forms)} different sign-offs are used ({listed}); this example is the first "
                    f"with {second[2]!r}",
                    hint="use one sign-off everywhere (or none)",
                    score=round(1.0 - top / tally.yes, 4),
                    at=second[1],
                    extra={"sign_offs": {e[2]: e[0] for e in ranked[:20]}},
                )
