"""Per-example knowledge analysis: extract specifics, ground them against context, score.

``analyze(record)`` looks at the final assistant turn (or every assistant turn), finds the
specifics it states (:mod:`toolkit.knowledge.extract`), drops the ones the context already
holds (the system prompt, the user's own words, tool results, earlier turns, arithmetic on
the user's numbers, the configured allow-list), applies modifiers (a fact-seeking user
question and time-volatile wording raise confidence; greetings, apologies, sign-offs and
clarifying questions lower it; the share of novel content words scales it) and combines
the remaining span scores into one knowledge score in [0, 1]:

    score = 1 - prod(1 - span_score)

so one strong specific or several weak ones make an example *knowledge*.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from toolkit._cached import cached_property
from toolkit._pattern_gate import PatternGate
from toolkit.diagnostics import pointer as make_pointer
from toolkit.knowledge import extract as X
from toolkit.knowledge import normalize as N
from toolkit.knowledge.extract import KnowledgeSpan
from toolkit.model import content_text

DEFAULT_THRESHOLD = 0.5
DEFAULT_ERROR_THRESHOLD = 0.85

_STOP = frozenset(
    """a an the and or but if then so to of in on at by for with from into about as is are was were be been being
    have has had do does did will would can could should may might must shall i you he she it we they me him her us
    them my your his its our their this that these those there here what which who whom whose when where why how
    all any both each few more most other some such no nor not only own same than too very just also now up down out
    off over under again further once get got let lets please thanks thank yes okay ok sure hi hello hey
    i'm you're it's we're they're i'll you'll we'll i've you've we've don't doesn't didn't can't won't isn't aren't
    that's there's what's let's one make made sure like know need want help see look""".split()
)
_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9'-]*")

FACT_QUESTION_RE = re.compile(
    r"\b(?:how much|how many|how long|how far|how soon|how late|how early|what(?:'s| is| are| was)? (?:the |your |their )?"
    r"(?:price|cost|fee|rate|limit|policy|deadline|hours|address|number|phone|url|website|email|difference|warranty|"
    r"minimum|maximum|charge|return|refund|shipping|delivery|plan|plans|options|tiers|name|location|rating|schedule|time)|"
    r"when (?:does|do|will|is|are|can|did)|where (?:is|are|can|do)|which (?:plan|one|tier|airline|option|restaurant|airport)|"
    r"what (?:plans|options|kinds?|types?|sizes|colou?rs|flavou?rs|brands|models|payment|time|day|airport|airline|genre)|"
    r"do (?:you|they|u) (?:have|offer|ship|accept|sell|carry|support|serve|take|allow|deliver|provide|charge|price|open|"
    r"do|work|include|need|require|play|stock)|does (?:it|the|this|that|your|their|he|she)|is (?:there|it|the|this|that)|"
    r"are (?:there|they|the|these|those|you open)|can (?:i|we|you) (?:return|cancel|get|use|pay|change|upgrade|downgrade|"
    r"bring|exchange|transfer|add|book|keep|combine|ship|order)|will (?:it|they|the|my)|what time|what day|"
    r"tell me (?:about|more|the)|any (?:fees?|charges?|discounts?)|is it (?:free|possible|available|included))\b",
    re.IGNORECASE,
)
YESNO_QUESTION_RE = re.compile(
    r"(?:^|[.!?]\s+|\b(?:and|but|also|so)\s+)(?:(?:do|does|is|are|can|will|has|have|would|could)\s+(?:you|they|it|the|this|that|there|these|those|u|i|we|he|she)\b"
    r"|(?:is|are)\s+(?:[\w'-]+\s+){1,3}(?:free|open|available|included|allowed|permitted|refundable|required|possible|"
    r"accessible|wheelchair accessible|unisex|furnished|kid-friendly|child-friendly|pet-friendly)\b)"
    r"(?![^?]*\b(?:help|check|look into|look up|tell me|send|assist|hear|repeat|confirm|see|find|do that|give me|book|reserve|make|transfer|connect|please)\b)[^?]*\?",
    re.IGNORECASE,
)
_YESNO_ANSWER_RE = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|no|nope|unfortunately|sadly|i'm afraid|afraid not|sure(?:,)? (?:they|it|we) (?:do|does|can|are|is)|"
    r"(?:they|it|we) (?:do|does|don't|doesn't|can|can't|are|aren't|is|isn't|will|won't)\b)",
    re.IGNORECASE,
)
_ASKED_KINDS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\bhow long\b|\bhow soon\b|\bhow many (?:days|hours|minutes|weeks)", re.I), ("duration",)),
    (re.compile(r"\bwhen\b|\bwhat (?:time|day|date)\b", re.I), ("date", "time", "duration")),
    (re.compile(r"\bhow much\b|\bprice\b|\bcost\b|\bfee\b|\bcharge\b", re.I), ("money", "percent")),
    (re.compile(r"\bhow many\b|\blimit\b|\bmax(?:imum)?\b", re.I), ("count",)),
    (re.compile(r"\bphone\b|\bnumber\b|\bcall\b", re.I), ("phone",)),
    (re.compile(r"\baddress\b|\bwhere\b|\blocat", re.I), ("address", "name")),
    (re.compile(r"\bwebsite\b|\blink\b|\burl\b|\bemail\b", re.I), ("url", "email")),
    (re.compile(r"\bwhich\b|\bwhat(?:'s| is) the name\b|\bcalled\b", re.I), ("name", "plan")),
)
_YESNO_LATER_RE = re.compile(r"(?:[,;]\s*|\b(?:and|but)\s+)((?:yes|no|yeah|nope|unfortunately|sadly)\b)", re.IGNORECASE)
_ACCOUNT_PRONOUN_RE = re.compile(
    r"\b(?:it|they)(?:'s| is| was| has| have| will| should)?(?: been| be| already| now| currently| just)*\s+"
    r"(?:shipped|delivered|in transit|out for delivery|dispatched|on (?:its|the) way|arriv(?:e|es|ing) (?:on|by|tomorrow|today)|"
    r"back-?ordered|declined|approved|expired|overdue|past due|suspended|locked|lost|delayed|posted|cleared)\b",
    re.IGNORECASE,
)
_ACCOUNT_TOPIC_RE = re.compile(r"\b(?:my|our)\s+(?:\w+\s+)?(?:order|package|parcel|shipment|delivery|refund|account|card|payment|claim|"
                               r"booking|reservation|ticket|bill|invoice|balance|subscription|return|loan|application)\b", re.IGNORECASE)

# The user's question patterns on ASCII text run as lowered twins, behind one RE2 scan that
# says which of them can match at all (most user turns match none).
_FACT_QUESTION_TWIN = X.lowered_twin(FACT_QUESTION_RE)
_ACCOUNT_TOPIC_TWIN = X.lowered_twin(_ACCOUNT_TOPIC_RE)
_YESNO_TWIN = X.lowered_twin(YESNO_QUESTION_RE)
_QUESTION_GATE = PatternGate([_FACT_QUESTION_TWIN, _ACCOUNT_TOPIC_TWIN, _YESNO_TWIN])
_CAN_ASK_FACT, _CAN_NAME_ACCOUNT, _CAN_ASK_YES_NO = range(3)


def _asks_yes_no(last_user: str, user_lower: str, possible: frozenset[int] | None = None) -> bool:
    """``YESNO_QUESTION_RE.search(last_user) is not None`` (``possible``: ``_QUESTION_GATE``'s answer if known)."""
    if not last_user.isascii():
        return YESNO_QUESTION_RE.search(last_user) is not None
    if possible is None:
        possible = _QUESTION_GATE.possible(user_lower)
    return _CAN_ASK_YES_NO in possible and _YESNO_TWIN.search(user_lower) is not None

CONFIRM_RE = re.compile(
    r"\b(?:confirm(?:ing|ed)?|to confirm|just to be sure|is that (?:right|correct|ok(?:ay)?)|correct\?|right\?|"
    r"you (?:want|would like|'d like|wish|need|asked)|you're (?:looking|asking)|so you|let me see if i (?:got|have)|"
    r"please verify|please check|to recap|to summari[sz]e|just checking|can you confirm|shall i|should i)\b",
    re.IGNORECASE,
)

_SIGN_OFF = re.compile(r"^\W*(?:best|regards|kind regards|best regards|warm regards|cheers|sincerely|thanks|thank you|"
                       r"take care|all the best)\b", re.IGNORECASE)
_CONDITIONAL_BEFORE = re.compile(r"\b(?:if|once|when|unless|until|after|whether|before)\s+$", re.IGNORECASE)
_FOLLOWING_WORDS = re.compile(r"\s+((?:[A-Za-z-]+\s+){0,2}[A-Za-z-]+)")
_COUNT_NOUN_RE = re.compile(r"[A-Za-z-]+$")
_CLAUSE_SPLIT = re.compile(r"[,;:]\s+|\s[-–—]\s")
_WEEKDAY_RE = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE)
_ORDINAL_WORDS = {i + 1: w for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth fifteenth "
    "sixteenth seventeenth eighteenth nineteenth twentieth".split())}
_ORDINAL_WORDS.update({30: "thirtieth"})
_GENERIC_NAME_WORDS = frozenset(
    """restaurant restaurants cafe café grill bar pub kitchen bistro house inn hotel hotels motel resort airport international
    station terminal depot center centre plaza street avenue road mall store shop market park theater theatre cinema
    company inc ltd llc co corp group services service airlines airline air lines express club the and of de la
    plan tier edition pro plus premium basic standard app""".split()
)

_CLOCK_VALUE = re.compile(r"\d\d:\d\d")  # a normalised time ("16:15")
_MONTH_DAY_VALUE = re.compile(r"\d\d-\d\d")  # a normalised date ("03-14")
_ORDINAL_DAY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")

_NUMERIC_KINDS = frozenset({"money", "percent", "count", "number", "rating"})
_STATEMENT_KINDS = frozenset({"policy", "availability"})


@dataclass
class KnowledgeOptions:
    """Settings of the analysis (the K rules expose them as rule options)."""

    threshold: float = DEFAULT_THRESHOLD  # score at which an example is knowledge (warning)
    error_threshold: float = DEFAULT_ERROR_THRESHOLD  # score at which a K rule reports an error
    every_turn: bool = False  # judge every assistant turn, not only the final one
    trainable_turns: bool = False  # judge every assistant turn a trainer learns from (weight != 0)
    allow: tuple[str, ...] = ()  # allow-listed facts that are part of the voice (company name, support address)
    min_span_score: float = 0.2  # ignore spans whose final score is below this
    ground_on_assistant: bool = True  # earlier assistant turns ground confirmations and questions (never statements)

    @classmethod
    def coerce(cls, options: "KnowledgeOptions | Mapping[str, Any] | None") -> "KnowledgeOptions":
        if options is None:
            return _DEFAULT_OPTIONS
        if isinstance(options, KnowledgeOptions):
            return options
        values: dict[str, Any] = {}
        for key, value in options.items():
            name = key.replace("-", "_")
            if name not in cls.__dataclass_fields__:
                raise ValueError(f"unknown knowledge option {key!r}")
            values[name] = tuple(value) if name == "allow" else value
        return cls(**values)

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.threshold, self.error_threshold, self.every_turn, self.allow, self.min_span_score, self.ground_on_assistant,
                self.trainable_turns)


_DEFAULT_OPTIONS = KnowledgeOptions()


@dataclass
class TurnResult:
    """The analysis of one assistant message."""

    message_index: int
    pointer: str
    score: float
    spans: list[KnowledgeSpan]  # ungrounded specifics (what the turn teaches)
    grounded: list[KnowledgeSpan]  # specifics the context already holds (with ``grounded`` set)
    modifiers: dict[str, float] = field(default_factory=dict)
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_index": self.message_index,
            "pointer": self.pointer,
            "score": round(self.score, 4),
            "spans": [s.to_dict() for s in self.spans],
            "grounded": [s.to_dict() for s in self.grounded],
            "modifiers": {k: round(v, 4) for k, v in sorted(self.modifiers.items())},
        }


@dataclass
class KnowledgeResult:
    """The knowledge analysis of one example.

    ``score`` in [0, 1] (the highest turn score), ``label`` is ``"knowledge"`` when the
    score reaches the threshold, else ``"behavior"``; ``spans`` are the ungrounded
    specifics of all judged turns; ``turns`` holds the per-turn detail.
    """

    score: float
    label: str
    spans: list[KnowledgeSpan]
    turns: list[TurnResult]
    threshold: float = DEFAULT_THRESHOLD

    @property
    def is_knowledge(self) -> bool:
        return self.label == "knowledge"

    def spans_for(self, rule: str) -> list[KnowledgeSpan]:
        return [s for s in self.spans if s.rule == rule]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "label": self.label,
            "threshold": self.threshold,
            "spans": [s.to_dict() for s in self.spans],
            "turns": [t.to_dict() for t in self.turns],
        }


# --------------------------------------------------------------------------- context


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A tiny suffix stripper so "codes" = "code", "returns" = "return", "shipping" = "ship"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def content_words(text: str) -> list[str]:
    """Lower-cased, crudely stemmed content words (no stop words, at least 3 characters)."""
    tokens, table = _tokens(text.lower())
    try:
        return list(filter(None, map(table.__getitem__, tokens)))
    except KeyError:  # a token not seen before: stem the new ones, then look up again
        _learn(table, tokens)
        return list(filter(None, map(table.__getitem__, tokens)))


def content_word_set(text: str) -> set[str]:
    """``set(content_words(text))``, looking up each distinct token once."""
    tokens, table = _tokens(text.lower())
    distinct = set(tokens)
    try:
        # (not ``distinct.issubset(table)``: that copies the whole table into a set first)
        stems = set(map(table.__getitem__, distinct))
    except KeyError:  # a token not seen before: stem the new ones, then look up again
        _learn(table, distinct)
        stems = set(map(table.__getitem__, distinct))
    stems.discard("")
    return stems


def _tokens(lowered: str) -> tuple[list, dict]:
    """The ``_TOKEN_RE`` tokens of lower-cased text, and the stem table for their type.

    ASCII text without apostrophes or hyphens (tokens are then the maximal runs of a-z0-9)
    is split as bytes, several times faster than the pattern; its tokens are bytes, looked
    up in a table of their own.
    """
    if lowered.isascii() and "'" not in lowered and "-" not in lowered:
        return lowered.encode("ascii").translate(_NON_TOKEN_BYTES).split(), _CONTENT_STEM_BYTES
    return _TOKEN_RE.findall(lowered), _CONTENT_STEM


def _learn(table: dict, tokens) -> None:
    """Add the stem ("" for a stop word or a word under 3 characters) of each new token to ``table``."""
    if len(table) > _CONTENT_STEM_LIMIT:
        table.clear()  # bound memory on huge vocabularies; the table is only a cache
    for token in tokens:
        if token not in table:
            word = token.decode("ascii") if isinstance(token, bytes) else token
            table[token] = _stem(word) if len(word) >= 3 and word not in _STOP else ""


_NON_TOKEN_BYTES = bytes(code if (97 <= code <= 122 or 48 <= code <= 57) else 32 for code in range(256))
_CONTENT_STEM_BYTES: dict[bytes, str] = {}
# token -> its stem, or "" for a stop word or a word under 3 characters (a cache of content_words)
_CONTENT_STEM: dict[str, str] = {}
_CONTENT_STEM_LIMIT = 1 << 17


class Context:
    """What the model can see before an assistant turn, indexed for grounding.

    ``sources`` are ``(source, text)`` pairs: "system prompt", "user", "tool result",
    "earlier assistant turn". Derived indexes are built lazily, only when a span needs them.
    """

    def __init__(self, sources: Sequence[tuple[str, str]]) -> None:
        self.sources = [(name, text) for name, text in sources if text]

    def _numbers_of(self, text: str) -> list[Decimal]:
        """``N.numbers_in(text)`` for a source text, computed once (several indexes need it)."""
        cache = self.__dict__.setdefault("_numbers_cache", {})
        found = cache.get(text)
        if found is None:
            found = cache[text] = N.numbers_in(text)
        return found

    @cached_property
    def folded(self) -> list[tuple[str, str]]:
        return [(name, N.fold(text)) for name, text in self.sources]

    @cached_property
    def phrases(self) -> list[tuple[str, str]]:
        return [(name, " " + N.normalize_phrase(text) + " ") for name, text in self.sources]

    @cached_property
    def digits(self) -> list[tuple[str, str]]:
        return [(name, "|".join(_NON_DIGIT.sub("", m) for m in _PHONEISH.findall(text))) for name, text in self.sources]

    @cached_property
    def numbers(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, text in self.sources:
            for value in self._numbers_of(text):
                found.setdefault(N.canonical_number(value), name)
            if name == "tool result" and text.lstrip()[:1] in "[{":
                # "three vegan options" counts the items of a list in the tool result
                for length in _json_list_lengths(text):
                    found.setdefault(str(length), name)
        return found

    @cached_property
    def record_numbers(self) -> set[str]:
        """Numbers of tool results, including the lengths of their JSON lists."""
        found: set[str] = set()
        for name, text in self.sources:
            if name == "tool result":
                found.update(N.canonical_number(v) for v in self._numbers_of(text))
                if text.lstrip()[:1] in "[{":
                    found.update(str(n) for n in _json_list_lengths(text))
        return found

    @cached_property
    def number_nouns(self) -> dict[tuple[str, str], str]:
        """(number, noun stem) pairs of the context: "two passengers" -> ("2", "passenger")."""
        found: dict[tuple[str, str], str] = {}
        for name, text in self.sources:
            for start in X._number_starts(text):
                token = X._NUM_AT.match(text, start)
                if token is None:
                    continue
                value = N.number_value(token.group())
                following = _FOLLOWING_WORDS.match(text, token.end())
                if value is None or following is None:
                    continue
                number = N.canonical_number(value)
                for word in following.group(1).lower().split():
                    found.setdefault((number, _stem(word)), name)
        return found

    @cached_property
    def number_values(self) -> list[tuple[Decimal, str]]:
        values: list[tuple[Decimal, str]] = []
        seen: set[Decimal] = set()
        for name, text in self.sources:
            if name == "earlier assistant turn":
                continue
            for value in self._numbers_of(text):
                if value not in seen and len(values) < 40:
                    seen.add(value)
                    values.append((value, name))
        return values

    @cached_property
    def derived(self) -> dict[str, str]:
        """Numbers computable from two context numbers (sum, difference, product, ratio, percentage)."""
        out: dict[str, str] = {}
        values = self.number_values
        total = sum((v for v, _ in values), Decimal(0))
        if len(values) > 1:
            out.setdefault(_canon(total), "arithmetic on numbers in the context")
        for i, (a, _) in enumerate(values):
            for b, _ in values[i + 1:]:
                candidates = [a + b, abs(a - b), a * b]
                if b:  # ratios, percentages of, discounts, tips / taxes, percentage changes
                    candidates += [a / b, a * b / 100, a - a * b / 100, a + a * b / 100, abs(a - b) / b * 100]
                if a:
                    candidates += [b / a, b * a / 100, b - b * a / 100, b + b * a / 100, abs(a - b) / a * 100]
                for c in candidates:
                    out.setdefault(_canon(c), "arithmetic on numbers in the context")
        if 2 < len(values) <= 8:
            # one more step ("3 shirts at $18 minus a $10 gift card"): (a op b) op c
            pairs = [(a, b) for i, (a, _) in enumerate(values) for b, _ in values[i + 1:]]
            for a, b in pairs:
                for ab in (a + b, abs(a - b), a * b):
                    for c, _ in values:
                        for v in (ab + c, abs(ab - c), ab * c):
                            out.setdefault(_canon(v), "arithmetic on numbers in the context")
        return out

    @cached_property
    def times(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, text in self.sources:
            for m in X.TIME_RE.finditer(text):
                found.setdefault(N.normalize_time(m.group()), name)
        return found

    @cached_property
    def dates(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, text in self.sources:
            lowered = text.lower()
            if not X.may_hold_date(text, lowered):
                continue
            for m in X._twin_finditer(X.DATE_RE, X.DATE_TWIN, text, lowered if text.isascii() else None):
                found.setdefault(N.normalize_date(m.group()), name)
        return found

    @cached_property
    def words(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for name, text in self.sources:
            out.setdefault(name, set()).update(content_words(text))
        return out

    @cached_property
    def all_words(self) -> set[str]:
        """The content words of every source (the union of :attr:`words`)."""
        if "words" in self.__dict__:
            merged: set[str] = set()
            for words in self.words.values():
                merged |= words
            return merged
        # one tokenisation of all sources (no token spans the line break between two) and one stem per distinct token
        return content_word_set("\n".join(text for _, text in self.sources))

    @cached_property
    def has_record(self) -> bool:
        """Whether a tool result (or a record pasted into the system prompt) is in view."""
        return any(name == "tool result" for name, _ in self.sources)

    def find_text(self, needle: str, *, exclude: Iterable[str] = ()) -> str | None:
        if not needle:
            return None
        skip = set(exclude)
        for name, text in self.folded:
            if name not in skip and needle in text:
                return name
        return None

    def find_phrase(self, phrase: str, *, exclude: Iterable[str] = ()) -> str | None:
        if not phrase:
            return None
        needle = f" {phrase} "
        skip = set(exclude)
        for name, text in self.phrases:
            if name not in skip and needle in text:
                return name
        return None

    def find_digits(self, digits: str) -> str | None:
        if len(digits) < 7:
            return None
        for name, text in self.digits:
            if digits in text:
                return name
        return None


_PHONEISH = re.compile(r"\+?[\d(][\d()+. -]{5,}\d")
_NON_DIGIT = re.compile(r"\D")


def _json_list_lengths(text: str) -> list[int]:
    try:
        import orjson

        data = orjson.loads(text)
    except Exception:  # not JSON: nothing to count
        return []
    lengths: list[int] = []
    stack = [data]
    while stack and len(lengths) < 50:
        item = stack.pop()
        if isinstance(item, list):
            lengths.append(len(item))
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return lengths


def _canon(value: Decimal) -> str:
    try:
        return N.canonical_number(value.quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return ""


def _source_label(name: str) -> str:
    return {"user": "echoes the user", "system prompt": "stated in the system prompt", "tool result": "in a tool result",
            "earlier assistant turn": "stated earlier in the conversation"}.get(name, name)


# --------------------------------------------------------------------------- grounding


def ground_span(span: KnowledgeSpan, ctx: Context, allow: Sequence[str] = (), *, partial: bool = False) -> str | None:
    """Where the context already holds ``span`` (a short reason), or ``None`` when it does not.

    ``partial`` (confirmations) lets a multi-word name be grounded by its distinctive words
    ("Kiku Sushi" confirms a user who asked for "Kiku").
    """
    text_folded = N.fold(span.text)
    for item in allow:
        folded = N.fold(item)
        if folded and (folded in text_folded or text_folded in folded):
            return "allow-listed"
    kind = span.kind
    if kind in _NUMERIC_KINDS:
        noun = _COUNT_NOUN_RE.search(span.text) if kind == "count" else None
        if noun and span.value.isdigit() and int(span.value) <= 12:
            # "1 passenger" is not grounded by any "1" in the context: small numbers are everywhere
            src = ctx.number_nouns.get((span.value, _stem(noun.group().lower())))
            if not src and (partial or span.value in ctx.record_numbers):
                # a confirmation restates the user's number; structured records hold bare numbers
                src = "tool result" if span.value in ctx.record_numbers else ctx.numbers.get(span.value)
            if src:
                return _source_label(src)
            return None
        src = ctx.numbers.get(span.value)
        if src:
            return _source_label(src)
        if kind in ("money", "number", "percent", "count") and ctx.number_values:
            derived = ctx.derived.get(span.value)
            if derived:
                return derived
        src = ctx.find_text(text_folded)
        return _source_label(src) if src else None
    if kind == "duration":
        nums = [N.canonical_number(v) for v in N.numbers_in(span.text) if True]
        if nums and all(n in ctx.numbers for n in nums) and any(ch.isdigit() for ch in span.text + span.value):
            return _source_label(ctx.numbers[nums[0]])
        if nums and all(n in ctx.numbers for n in nums):
            return _source_label(ctx.numbers[nums[0]])
        src = ctx.find_text(text_folded)
        return _source_label(src) if src else None
    if kind == "time":
        src = ctx.times.get(span.value) or ctx.find_text(text_folded)
        if not src and _CLOCK_VALUE.fullmatch(span.value):
            hour, minute = (int(x) for x in span.value.split(":"))
            other = f"{(hour + 12) % 24:02d}:{minute:02d}"  # "4:15 pm" = "4:15 in the evening" (read as 04:15)
            src = ctx.times.get(other)
        if not src and _CLOCK_VALUE.fullmatch(span.value):
            # "4:15 pm" = "4:15 in the evening" = "16:15"; "3:30 pm" = "half past 3"
            hour, minute = (int(x) for x in span.value.split(":"))
            twelve = hour % 12 or 12
            hours = {str(hour), str(twelve), str(twelve + 12 if twelve < 12 else 0)}
            src = next((ctx.numbers[h] for h in hours if h in ctx.numbers), None)
            if src and minute:
                minute_ok = str(minute) in ctx.numbers or f"{minute:02d}" in ctx.numbers or (
                    (minute == 30 and ctx.find_text("half")) or (minute in (15, 45) and ctx.find_text("quarter")))
                if not minute_ok:
                    src = None
            if src:
                src = src if src != "earlier assistant turn" else None
        return _source_label(src) if src else None
    if kind == "date":
        src = ctx.dates.get(span.value) or ctx.find_text(text_folded)
        if not src and _MONTH_DAY_VALUE.fullmatch(span.value):
            month, day = span.value.split("-")
            src = ctx.find_text(f"-{month}-{day}")
            if not src:
                day_number = int(day)
                ordinal = _ORDINAL_WORDS.get(day_number, "")
                for name, folded in ctx.folded:
                    if re.search(rf"\b{day_number}(?:st|nd|rd|th)\b", folded) or (ordinal and re.search(rf"\b{ordinal}\b", folded)):
                        src = name
                        break
        ordinal_day = _ORDINAL_DAY.search(span.text)
        if not src and ordinal_day and not _MONTH_DAY_VALUE.fullmatch(span.value):
            src = ctx.find_text(ordinal_day.group().casefold())
        if not src:
            weekday = _WEEKDAY_RE.search(span.text)
            if weekday:
                src = ctx.find_text(weekday.group().casefold())
        return _source_label(src) if src else None
    if kind == "phone":
        src = ctx.find_digits(span.value) or ctx.find_text(text_folded)
        return _source_label(src) if src else None
    if kind in ("url", "email", "code", "promo_code", "version"):
        src = ctx.find_text(span.value) or ctx.find_text(text_folded)
        return _source_label(src) if src else None
    if kind in ("address", "name", "plan", "ui_path", "ui_element"):
        phrase = N.normalize_phrase(span.text)
        src = ctx.find_phrase(phrase)
        if not src and kind == "ui_path":
            steps = [N.normalize_phrase(s) for s in re.split(r"\s*(?:>|→|->|»|›)\s*", span.text)]
            if steps and all(ctx.find_phrase(s) for s in steps if s):
                src = ctx.find_phrase(steps[-1])
        if not src and partial and kind in ("name", "plan") and len(phrase.split()) > 1:
            # "Kiku Sushi" echoes a user who said "Kiku"; "SFO International Airport" echoes "SFO"
            distinctive = [w for w in phrase.split() if w not in _GENERIC_NAME_WORDS and len(w) > 2]
            if distinctive:
                found = [ctx.find_phrase(w) for w in distinctive]
                hits = [f for w, f in zip(distinctive, found) if f and len(w) >= 4]
                if hits and len(hits) * 2 >= len(distinctive):
                    src = hits[0]
        if not src and kind in ("name", "plan") and len(phrase.split()) > 1:
            # every word of "Standard Accord" is in the record ({"type": "Standard", "car_name": "Accord"})
            words = [w for w in phrase.split() if w not in _GENERIC_NAME_WORDS]
            found = [ctx.find_phrase(w) for w in words]
            if words and all(found):
                src = found[0]
        if not src and kind == "plan":
            # "the Pro plan" is grounded by a context that names "Pro"
            core = N.normalize_phrase(X._PLAN_SUFFIX.sub("", span.text))
            if core and core != phrase:
                src = ctx.find_phrase(core)
        return _source_label(src) if src else None
    if kind in _STATEMENT_KINDS:
        return _ground_statement(span, ctx)
    if kind == "account_fact":
        status = X.ACCOUNT_STATUS_WORD_RE.findall(span.text)
        if status:
            src = ctx.find_phrase(N.normalize_phrase(status[-1]), exclude=("earlier assistant turn",))
            if src:
                return _source_label(src)
            return None
        if ctx.has_record:
            return "a record is in view"
        return None
    return None


def _ground_statement(span: KnowledgeSpan, ctx: Context) -> str | None:
    """A policy statement is grounded when the system prompt, a tool result or an earlier turn says it."""
    best_name, best = None, 0.0
    for words in (span.extra.get("sentence_words"), span.extra.get("clause_words")):
        if not words:
            continue
        for name, vocab in ctx.words.items():
            if name == "user":
                continue  # the user asking "do you ship to PO boxes?" does not ground the answer
            share = sum(1 for w in words if w in vocab) / len(words)
            if share > best:
                best_name, best = name, share
    if best_name and best >= 0.6:
        return _source_label(best_name)
    return None


# --------------------------------------------------------------------------- analysis


def _message_dicts(record: Mapping[str, Any] | Any) -> list[Mapping[str, Any]]:
    if hasattr(record, "to_dict") and not isinstance(record, Mapping):
        record = record.to_dict()
    messages = record.get("messages") if isinstance(record, Mapping) else None
    return [m for m in messages if isinstance(m, Mapping)] if isinstance(messages, list) else []


def _tool_call_text(message: Mapping[str, Any]) -> str:
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return ""
    parts = []
    for call in calls:
        if isinstance(call, Mapping):
            fn = call.get("function")
            if isinstance(fn, Mapping):
                parts.append(f"{fn.get('name', '')} {fn.get('arguments', '')}")
    return "\n".join(parts)


def _source_of(role: Any) -> str | None:
    if role in ("system", "developer"):
        return "system prompt"
    if role == "user":
        return "user"
    if role in ("tool", "function", "ipython"):
        return "tool result"
    if role == "assistant":
        return "earlier assistant turn"
    return None


def judged_turns(messages: Sequence[Mapping[str, Any]], candidates: list[int], *, every_turn: bool = False,
                 trainable_turns: bool = False) -> list[int]:
    """Which assistant turns (indexes into ``messages``) are judged: final, every, or every trainable one."""
    if every_turn:
        return candidates
    if trainable_turns:
        return [i for i in candidates if messages[i].get("weight") != 0]
    return candidates[-1:]


def analyze(record: Mapping[str, Any] | Any, options: KnowledgeOptions | Mapping[str, Any] | None = None) -> KnowledgeResult:
    """Analyse one example (a record dict or an :class:`~toolkit.model.Example`).

    Returns a :class:`KnowledgeResult`: the knowledge score in [0, 1], the label
    ("knowledge" when the score reaches ``options.threshold``), the ungrounded spans, and
    per-turn detail. Only the final assistant turn is judged unless ``every_turn`` (all assistant
    turns) or ``trainable_turns`` (all assistant turns without ``weight: 0``) is set.
    """
    messages = _message_dicts(record)
    return analyze_messages(messages, [content_text(m.get("content")) for m in messages], options)


def analyze_messages(messages: Sequence[Mapping[str, Any]], texts: Sequence[str],
                     options: KnowledgeOptions | Mapping[str, Any] | None = None) -> KnowledgeResult:
    """:func:`analyze` for an example's message dicts and their plain texts (index-aligned), as
    the linter's example context already holds them."""
    opts = KnowledgeOptions.coerce(options)
    targets = [i for i, m in enumerate(messages) if m.get("role") == "assistant" and texts[i].strip()]
    targets = judged_turns(messages, targets, every_turn=opts.every_turn, trainable_turns=opts.trainable_turns)
    turns: list[TurnResult] = []
    for index in targets:
        sources: list[tuple[str, str]] = []
        for j in range(index):
            name = _source_of(messages[j].get("role"))
            if name is None or (name == "earlier assistant turn" and not opts.ground_on_assistant):
                continue
            sources.append((name, texts[j]))
            if messages[j].get("role") == "assistant":
                call_text = _tool_call_text(messages[j])
                if call_text:
                    sources.append(("tool result", call_text))
        # tool calls made in this very turn were decided from the context; their arguments ground it
        own_calls = _tool_call_text(messages[index])
        if own_calls:
            sources.append(("tool result", own_calls))
        last_user = next((texts[j] for j in range(index - 1, -1, -1) if messages[j].get("role") == "user"), "")
        strict = Context([(n, t) for n, t in sources if n != "earlier assistant turn"])
        full = Context(sources) if opts.ground_on_assistant and len(strict.sources) != len(sources) else None
        turns.append(analyze_turn(texts[index], strict, last_user, opts, index, messages[index].get("content"), full))
    spans = [s for t in turns for s in t.spans]
    score = max((t.score for t in turns), default=0.0)
    label = "knowledge" if score >= opts.threshold and spans else "behavior"
    return KnowledgeResult(score=score, label=label, spans=spans, turns=turns, threshold=opts.threshold)


def _pointer_for(index: int, content: Any) -> str:
    if isinstance(content, list):
        for part_index, part in enumerate(content):
            if isinstance(part, Mapping) and part.get("type") == "text":
                return make_pointer("messages", index, "content", part_index, "text")
    return make_pointer("messages", index, "content")


def analyze_turn(text: str, ctx: Context, last_user: str, opts: KnowledgeOptions = _DEFAULT_OPTIONS,
                 message_index: int = -1, content: Any = None, full: Context | None = None) -> TurnResult:
    """Analyse one assistant message against its context (see :func:`analyze`).

    ``ctx`` holds what the assistant did not write (system prompt, user turns, tool results);
    ``full`` adds earlier assistant turns. A statement is grounded only by ``ctx``: a fact the
    assistant stated before is still taught by the assistant (earlier turns are trained on
    too). ``full`` grounds confirmations and questions ("So that's 2 tickets at 6:40 am?").
    """
    ptr = _pointer_for(message_index, content) if message_index >= 0 else ""
    candidates = X.extract_spans(text)
    folded = X.search_folded
    user_lower = last_user.lower() if last_user else ""
    if last_user and last_user.isascii():
        # their lowered twins, run only when the RE2 scan says they can match
        can_match = _QUESTION_GATE.possible(user_lower)
        # (the yes/no pattern ends with a question mark: no need to run it on a message without one)
        yesno_question = "?" in last_user and _asks_yes_no(last_user, user_lower, can_match)
        account_topic = _CAN_NAME_ACCOUNT in can_match and _ACCOUNT_TOPIC_TWIN.search(user_lower) is not None
        fact_question = ("?" in last_user and _CAN_ASK_FACT in can_match
                         and _FACT_QUESTION_TWIN.search(user_lower) is not None) or yesno_question
    else:
        yesno_question = bool(last_user) and "?" in last_user and _asks_yes_no(last_user, user_lower)
        account_topic = folded(_ACCOUNT_TOPIC_RE, last_user or "", user_lower)
        fact_question = bool(last_user and "?" in last_user and folded(FACT_QUESTION_RE, last_user, user_lower)) \
            or yesno_question
    # A yes/no answer to a yes/no question about the product states availability or policy.
    if yesno_question and not account_topic:
        first = X.sentences(text)[0]
        sentence = text[first[0]:first[1]]
        answer = _YESNO_ANSWER_RE.match(sentence)
        if answer is None:
            clause = _YESNO_LATER_RE.search(sentence)
            if clause:
                first = (first[0] + clause.start(1), first[1])
                sentence = text[first[0]:first[1]]
                answer = _YESNO_ANSWER_RE.match(sentence)
        if re.search(r"\bare you\s+(?:still\s+)?(?:there|here|a |an |human|real|sure|able|ok|okay|busy|available to)", last_user, re.IGNORECASE):
            answer = None
        if answer and not X.GREETING_RE.match(sentence) and not re.search(
                r"\b(?:don't know|do not know|not sure|no idea|can't say|cannot say)\b", sentence, re.IGNORECASE):
            candidates.append(KnowledgeSpan(first[0], first[1], sentence, "availability", N.normalize_phrase(sentence),
                                            0.5, "a yes/no answer to a question about what is offered or allowed",
                                            sentence=first))
    if account_topic:
        for m in _ACCOUNT_PRONOUN_RE.finditer(text):
            candidates.append(KnowledgeSpan(m.start(), m.end(), m.group(), "account_fact", N.normalize_phrase(m.group()),
                                            0.5, "an account or order fact (status)"))
    bounds = X.sentences(text)
    if not candidates:  # nothing specific: no need to index the context at all
        return TurnResult(message_index, ptr, 0.0, [], [], {"fact_question": 1.2 if fact_question else 1.0}, text)
    novel_share = 0.0
    words = content_words(text)
    if words:
        context_words = ctx.all_words
        novel_share = (len(words) - sum(map(context_words.__contains__, words))) / len(words)
    novelty_factor = 0.85 + 0.3 * novel_share if words else 1.0
    modifiers = {"fact_question": 1.2 if fact_question else 1.0, "novelty": novelty_factor, "novel_share": novel_share}
    ungrounded: list[KnowledgeSpan] = []
    grounded: list[KnowledgeSpan] = []
    sentence_cache: dict[tuple[int, int], _SentenceInfo] = {}
    turn_confirms: bool | None = None  # computed when a span first needs it
    asked = _AskedKinds(last_user, user_lower)
    starts = [a for a, _ in bounds]
    for span in candidates:
        if span.kind == "account_fact" and _CONDITIONAL_BEFORE.search(text, max(0, span.start - 12), span.start):
            continue  # "if the claim is approved ..." is not a statement of fact
        span.message_index = message_index
        span.pointer = ptr
        # the sentence holding the span's start (else keep the extractor's)
        at = bisect_right(starts, span.start) - 1
        if at >= 0 and span.start < bounds[at][1]:
            span.sentence = bounds[at]
        info = sentence_cache.get(span.sentence)
        if info is None:
            info = sentence_cache[span.sentence] = _SentenceInfo(text, span.sentence)
        if span.kind in _STATEMENT_KINDS:
            a, b = span.sentence
            breaks = [a] + [m.end() for m in _CLAUSE_SPLIT.finditer(text, a, b)] + [b]
            clause_words: list[str] = []
            for left, right in zip(breaks, breaks[1:]):
                if left <= span.start < right:
                    clause_words = content_words(text[left:right])
            span.extra["sentence_words"] = info.words
            span.extra["clause_words"] = clause_words if len(clause_words) >= 2 else []
        confirming = info.confirm
        if not confirming:
            if turn_confirms is None:
                turn_confirms = _turn_confirms(text, bounds)
            confirming = turn_confirms
        where = ground_span(span, ctx, opts.allow, partial=confirming)
        if where is None and full is not None and confirming:
            where = ground_span(span, full, opts.allow, partial=True)
        if where is not None:
            span.grounded = where
            grounded.append(span)
            continue
        score = span.score
        if span.kind == "number" and span.value.replace(".", "").isdigit() and Decimal(span.value) <= 10:
            score = min(score, 0.15)  # list markers, "step 2", small counts
        score *= modifiers["fact_question"]
        if asked.asks_for(span.kind):
            score *= 1.12  # the span is what the user asked for ("how long?" -> "26 minutes")
        if info.volatile:
            score *= 1.15
        if span.start < info.greeting_end:
            score *= 0.35  # inside a greeting, apology or sign-off clause
        if info.question and "offered" not in span.reason and span.kind not in ("availability",):
            score *= 0.75
        if info.generic and span.kind in ("ui_element", "ui_path"):
            score *= 0.5
        score *= novelty_factor
        span.score = max(0.0, min(1.0, score))
        if span.score < opts.min_span_score:
            span.grounded = "below the minimum span score"
            grounded.append(span)
            continue
        ungrounded.append(span)
    # "Yes." has no words to ground: it is grounded when everything else the answer states is.
    yes_no = [sp for sp in ungrounded if sp.reason.startswith("a yes/no answer")]
    if yes_no and len(yes_no) == len(ungrounded) and any(g.grounded and g.grounded != "below the minimum span score"
                                                          for g in grounded):
        for span in yes_no:
            span.grounded = "the rest of the answer is grounded"
            grounded.append(span)
        ungrounded = []
    ungrounded = _dedupe(ungrounded)
    product = 1.0
    for span in ungrounded:
        product *= 1.0 - span.score
    score = 1.0 - product if ungrounded else 0.0
    for span in ungrounded:
        span.extra.pop("sentence_words", None)
    for span in grounded:
        span.extra.pop("sentence_words", None)
    for span in ungrounded + grounded:
        span.extra.pop("clause_words", None)
    return TurnResult(message_index, ptr, score, ungrounded, grounded, modifiers, text)


class _AskedKinds:
    """Which kinds of specific the user's last message asks for ("how long" -> duration).

    Each question pattern runs only when a span of one of its kinds needs the answer.
    """

    def __init__(self, last_user: str, user_lower: str) -> None:
        self.last_user, self.user_lower = last_user, user_lower
        self._found: dict[int, bool] = {}

    def asks_for(self, kind: str) -> bool:
        if not self.last_user:
            return False
        for index, (regex, kinds) in enumerate(_ASKED_KINDS):
            if kind in kinds:
                found = self._found.get(index)
                if found is None:
                    found = self._found[index] = X.search_folded(regex, self.last_user, self.user_lower)
                if found:
                    return True
        return False


def _turn_confirms(text: str, bounds: list[tuple[int, int]]) -> bool:
    """Whether the turn opens with a confirmation or ends by asking the user to confirm.

    Such a turn restates what was agreed: earlier assistant turns ground all of it
    ("I'm booking X at Y. Is that correct?").
    """
    last_sentence = text[bounds[-1][0]:bounds[-1][1]] if bounds else ""
    return bool(X.search_folded(CONFIRM_RE, text[: bounds[0][1]] if bounds else "") or (
        last_sentence.rstrip().endswith("?") and X.search_folded(CONFIRM_RE, last_sentence)))


class _SentenceInfo:
    """What the modifiers need to know about one sentence of a turn, each computed on first use."""

    def __init__(self, text: str, bounds: tuple[int, int]) -> None:
        self.bounds = bounds
        self.sentence = text[bounds[0]:bounds[1]]
        self.question = self.sentence.rstrip().endswith("?")

    @cached_property
    def greeting_end(self) -> int:
        """Where a greeting, apology or sign-off clause opening the sentence ends (-1: none)."""
        sentence = self.sentence
        opener = X.GREETING_RE.match(sentence)
        if not opener:
            return -1
        brk = X.CLAUSE_BREAK_RE.search(sentence, opener.end())
        end = self.bounds[0] + (brk.start() if brk else len(sentence))
        if _SIGN_OFF.match(sentence) and len(sentence.split()) <= 10:
            end = self.bounds[1]  # "Best, Kevin from the Northwind team" is all sign-off
        return end

    @cached_property
    def confirm(self) -> bool:
        return self.question or X.search_folded(CONFIRM_RE, self.sentence)

    @cached_property
    def volatile(self) -> bool:
        return X.search_folded(X.VOLATILE_RE, self.sentence)

    @cached_property
    def generic(self) -> bool:
        return X._GENERIC_ADVICE.search(self.sentence) is not None

    @cached_property
    def words(self) -> list[str]:
        return content_words(self.sentence)


def _dedupe(spans: list[KnowledgeSpan]) -> list[KnowledgeSpan]:
    """Drop a statement span that only repeats what a value span inside it already counts, keep order."""
    spans.sort(key=lambda s: (s.start, -s.end, s.kind))
    out: list[KnowledgeSpan] = []
    seen: set[tuple[int, int, str]] = set()
    for span in spans:
        key = (span.start, span.end, span.rule)
        if key in seen:
            continue
        seen.add(key)
        out.append(span)
    return out
