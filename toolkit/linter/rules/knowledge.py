"""K rules: knowledge injection. Examples that teach facts belong in a RAG index, not in weights.

Per-example rules (K001-K006) share one analysis (:func:`toolkit.knowledge.analyze`, run once
per example and cached on the context): each reports the ungrounded spans of its kind in the
judged assistant turn, when that turn's knowledge score reaches ``threshold`` (warning) or
``error-threshold`` (error). Dataset rules find the same fact taught again and again across
paraphrased questions (K101) and conflicting facts for the same question (K102). With a
knowledge base (``--kb PATH``), K201 flags sentences that restate a KB passage and K202
reports specifics found in neither the KB nor the context.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable

from toolkit.diagnostics import Severity, Span
from toolkit.knowledge.analyze import (
    DEFAULT_ERROR_THRESHOLD,
    DEFAULT_THRESHOLD,
    KnowledgeOptions,
    KnowledgeResult,
    analyze_messages,
    content_words,
)
from toolkit.knowledge.extract import VALUE_KINDS, KnowledgeSpan, has_digit
from toolkit.linter.rule import DatasetRule, ExampleContext, ExampleRule, ExampleRef, Finding, RuleOption, register

_HINT = ("move the fact to your knowledge base (`ftkit route`), put its source in the context (system prompt or "
         "tool result), template the value, or mask the turn (weight 0)")

SHARED_OPTIONS: tuple[RuleOption, ...] = (
    RuleOption("threshold", "float", DEFAULT_THRESHOLD,
               "Knowledge score (0-1) of an assistant turn at which the rule reports a warning."),
    RuleOption("error-threshold", "float", DEFAULT_ERROR_THRESHOLD,
               "Knowledge score at which the report becomes an error."),
    RuleOption("every-turn", "bool", False,
               "Judge every assistant turn, not only the final one (each against the context before it)."),
    RuleOption("allow", "list[str]", [],
               "Facts that are part of the voice and never knowledge: the company's name, its public support address."),
    RuleOption("min-span-score", "float", 0.2, "Ignore specifics whose score (after modifiers) is below this."),
)


def knowledge_options(opts: dict[str, Any]) -> KnowledgeOptions:
    return KnowledgeOptions(
        threshold=float(opts.get("threshold", DEFAULT_THRESHOLD)),
        error_threshold=float(opts.get("error-threshold", DEFAULT_ERROR_THRESHOLD)),
        every_turn=bool(opts.get("every-turn", False)),
        allow=tuple(opts.get("allow") or ()),
        min_span_score=float(opts.get("min-span-score", 0.2)),
    )


def cached_analysis(ctx: ExampleContext, options: KnowledgeOptions) -> KnowledgeResult:
    """One analysis per example and option set, shared by every K rule."""
    cache = ctx.__dict__.setdefault("_knowledge_cache", {})
    result = cache.get(options.key)
    if result is None:
        result = analyze_messages(ctx.messages, ctx.texts, options)
        cache[options.key] = result
    return result


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def diagnostic_spans(spans: Iterable[KnowledgeSpan]) -> list[Span]:
    return [Span(s.start, s.end, s.text, pointer=s.pointer, label=s.kind, score=s.score) for s in spans]


class _SpansGate:
    """``gate(ctx)``: whether the example's knowledge analysis (for one option set) has any span.

    Without one no K001-K006 rule with these options reports; the engine then skips them all.
    """

    __slots__ = ("kopts",)

    def __init__(self, kopts: KnowledgeOptions) -> None:
        self.kopts = kopts

    def __call__(self, ctx: ExampleContext) -> bool:
        return bool(cached_analysis(ctx, self.kopts).spans)


_SPANS_GATES: dict[Any, _SpansGate] = {}


class _KnowledgeRule(ExampleRule):
    """Shared behaviour of K001-K006: report this rule's spans of each judged turn."""

    heuristic = True
    options = SHARED_OPTIONS
    what: ClassVar[str] = "specific"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.kopts = knowledge_options(self.opts)
        gate = _SPANS_GATES.get(self.kopts.key)
        if gate is None:
            gate = _SPANS_GATES[self.kopts.key] = _SpansGate(self.kopts)
        self.gate = gate  # shared by the K001-K006 rules with equal options (see ``ExampleRule.gate``)

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        result = cached_analysis(ctx, self.kopts)
        if not result.spans:
            return
        for turn in result.turns:
            if turn.score < self.kopts.threshold:
                continue
            mine = [s for s in turn.spans if s.rule == self.code]
            if not mine:
                continue
            shown = ", ".join(f"{_quote(s.text)} ({s.kind})" for s in mine[:4])
            more = f" and {len(mine) - 4} more" if len(mine) > 4 else ""
            reasons = sorted({s.reason for s in mine})
            severity = Severity.ERROR if turn.score >= self.kopts.error_threshold else Severity.WARNING
            yield Finding(
                message=f"assistant turn teaches {self.what} with nothing in its context to ground it: {shown}{more} "
                        f"(knowledge score {turn.score:.2f})",
                pointer=turn.pointer,
                hint=_HINT,
                spans=diagnostic_spans(mine),
                score=turn.score,
                severity=severity,
                extra={"reasons": reasons},
            )


def _line(messages: list[tuple[str, str]], **extra: Any) -> str:
    import json

    record: dict[str, Any] = {"messages": [{"role": r, "content": c} for r, c in messages]}
    record.update(extra)
    return json.dumps(record, ensure_ascii=False)


@register
class UngroundedQuantity(_KnowledgeRule):
    code = "K001"
    name = "ungrounded-quantity"
    what = "quantities (prices, percentages, time windows, dates, limits)"
    summary = "An assistant turn states a price, percentage, duration, date or limit that its context does not contain."
    why = ("A number the model cannot read from its context must be memorised: fine-tuning learns it slowly and "
           "fuzzily, it goes stale when the price or window changes, and the model learns to state numbers it does "
           "not know (Gekhman et al. 2024). Echoes of the user, values in the system prompt or a tool result, and "
           "arithmetic on the user's numbers are grounded and not reported.")
    bad = _line([("user", "How long do I have to return my boots?"),
                 ("assistant", "You can return them within 30 days of delivery for a full refund of $89.")])
    good = _line([("system", "Return policy: items can be returned within 30 days of delivery."),
                  ("user", "How long do I have to return my boots? I paid $89."),
                  ("assistant", "You can return them within 30 days of delivery for a full refund of $89.")])


@register
class UngroundedIdentifier(_KnowledgeRule):
    code = "K002"
    name = "ungrounded-identifier"
    what = "identifiers or contact points (URLs, emails, phones, codes, versions, addresses)"
    summary = "An assistant turn gives a URL, email, phone number, SKU / version string, promo code or address the context lacks."
    why = ("Contact points and codes change and must be exact; a fine-tuned model reproduces them approximately "
           "(a wrong digit in a phone number) and keeps giving them after they change. Keep them in a knowledge base "
           "or the system prompt. What the user wrote is an echo and is grounded.")
    bad = _line([("user", "How do I reach billing?"),
                 ("assistant", "You can call our billing team at 1-800-555-0199 or email billing@acme-example.com.")])
    good = _line([("system", "Billing contact: 1-800-555-0199, billing@acme-example.com."),
                  ("user", "How do I reach billing?"),
                  ("assistant", "You can call our billing team at 1-800-555-0199 or email billing@acme-example.com.")])


@register
class UngroundedName(_KnowledgeRule):
    code = "K003"
    name = "ungrounded-name"
    what = "product, plan, feature or place names"
    summary = "An assistant turn names products, plans, features or places that appear nowhere in its context."
    why = ("Catalogue facts (which products exist, which plan is called what, which restaurant or airline a search "
           "returned) are lookups, not behavior. Training on them teaches the model to invent plausible names.")
    bad = _line([("user", "Which plan gives me single sign-on?"),
                 ("assistant", "You'll want the Business Plus plan; it adds SSO and audit logs.")])
    good = _line([("system", "Plans: Starter, Business, Business Plus (SSO, audit logs)."),
                  ("user", "Which plan gives me single sign-on?"),
                  ("assistant", "You'll want the Business Plus plan; it adds SSO and audit logs.")])


@register
class PolicyStatement(_KnowledgeRule):
    code = "K004"
    name = "policy-statement"
    what = "policy or availability statements"
    summary = "An assistant turn states a policy or availability fact (what is offered, allowed, included) with no source in view."
    why = ("\"We don't ship to PO boxes\", \"that plan doesn't include SSO\", \"refunds aren't possible after "
           "activation\": policies are facts even without a number. They change, differ by region and tier, and "
           "belong in the knowledge base the model is given at run time.")
    bad = _line([("user", "Can you ship to my PO box?"),
                 ("assistant", "I'm sorry, but we don't ship to PO boxes. Could you give me a street address instead?")])
    good = _line([("system", "Shipping policy: we don't ship to PO boxes; a street address is required."),
                  ("user", "Can you ship to my PO box?"),
                  ("assistant", "I'm sorry, but we don't ship to PO boxes. Could you give me a street address instead?")])


@register
class ProductProcedure(_KnowledgeRule):
    code = "K005"
    name = "product-procedure"
    what = "product-specific procedures (UI paths, named buttons and menus)"
    summary = "An assistant turn gives a product-specific procedure (Settings > Billing > Cancel, a named button) the context lacks."
    why = ("UI paths and button names are product documentation: they change with every redesign, and a model that "
           "memorised them sends users to menus that no longer exist. Generic advice (restart, clear the cache) is "
           "behavior and is not reported.")
    bad = _line([("user", "How do I download my invoices?"),
                 ("assistant", "Go to Account > Billing > Invoice history and click the Download PDF button.")])
    good = _line([("user", "How do I download my invoices?"),
                  ("assistant", "Sorry for the trouble! Could you try signing out and back in, then clearing your browser cache?")])


@register
class AccountFact(_KnowledgeRule):
    code = "K006"
    name = "account-fact"
    what = "account or order facts"
    summary = "An assistant turn states an account or order fact (status, delivery date, balance) with no tool result or record in view."
    why = ("\"Your package shipped yesterday\" is only true for one customer on one day. Without the lookup in the "
           "context the example teaches the model to make up order statuses; include the tool call and its result, "
           "or mask the turn.")
    bad = _line([("user", "Where is my order #5521?"),
                 ("assistant", "Your order #5521 has shipped and will arrive on March 14.")])
    good = _line([("user", "Where is my order #5521?"),
                  ("tool", '{"order": "5521", "status": "shipped", "eta": "March 14"}'),
                  ("assistant", "Your order #5521 has shipped and will arrive on March 14.")])


# --------------------------------------------------------------------------- dataset rules

# Words that, when two contexts differ in them, explain different answers to one question.
_CONDITION_WORDS = frozenset(
    """gold silver bronze platinum premium basic pro plus free starter business enterprise team personal student
    member members non-member guest vip international domestic overseas local express standard overnight economy
    priority weekend weekday holiday holidays sale clearance refurbished used new opened unopened damaged defective
    digital physical subscription annual monthly yearly trial canada usa europe australia california texas york
    state country region online store in-store receipt gift warranty extended bulk wholesale retail""".split()
)
_CONDITIONAL = re.compile(r"\b(?:if|unless|depending|depends|for (?:gold|silver|bronze|premium|members|orders|items)|"
                          r"only for|except|provided that|as long as|when you|once you)\b", re.IGNORECASE)


# A cheap test that a text may hold a value-like specific (dataset rules skip the analysis otherwise).
_VALUE_HINT = re.compile(
    r"\d|@|www\.|\.[a-z]{2,4}\b/|[a-z,;:(] +[A-Z]|(?i:\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety|hundred|dozen)\b)"
)


_NUMBER_WORD_LOWER = re.compile(_VALUE_HINT.pattern.split("(?i:", 1)[1][:-1])
_PATH_AFTER_DOMAIN = re.compile(r"\.[a-z]{2,4}\b/")
_SPACED_CAPITAL = re.compile(r"[A-Z](?<= [A-Z])")  # a capital after a space (lookbehind last: the scan skips ahead)
_AFTER_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz,;:(")
# _VALUE_HINT's number words in lower-cased ASCII text, split by the character before the word
# (a space, another non-word character, or none) so that each scan has a prefix to look for
_HINT_NUMBER_TRIE = "(?:" + _NUMBER_WORD_LOWER.pattern[len(r"\b(?:"):-len(r")\b")] + ")"
_HINT_NUMBER_AFTER_SPACE = re.compile(" " + _HINT_NUMBER_TRIE + r"\b")
_HINT_NUMBER_AFTER_OTHER = re.compile("[^ a-z0-9_]" + _HINT_NUMBER_TRIE + r"\b")
_HINT_NUMBER_AT_START = re.compile(_HINT_NUMBER_TRIE + r"\b")


def _value_hint(text: str) -> bool:
    """``_VALUE_HINT.search(text) is not None``, faster.

    Each alternative is tested on its own, cheapest first: substring tests for "@" and
    "www.", the digit test of the extractor, the URL path only when there is a "/", a
    capital after spaces after a lower-case letter (or ``,;:(``) from the few capitals
    after a space, and on ASCII text the number words in lower case (IGNORECASE has no
    special folds there) from the characters that can precede a word.
    """
    if "@" in text or "www." in text or has_digit(text):
        return True
    if "/" in text and _PATH_AFTER_DOMAIN.search(text):
        return True
    for capital in _SPACED_CAPITAL.finditer(text):
        k = capital.start() - 1
        while k > 0 and text[k] == " ":
            k -= 1
        if text[k] in _AFTER_LOWER:
            return True
    if not text.isascii():
        return _VALUE_HINT.search(text) is not None
    lowered = text.lower()
    return bool(_HINT_NUMBER_AFTER_SPACE.search(lowered) or _HINT_NUMBER_AFTER_OTHER.search(lowered)
                or _HINT_NUMBER_AT_START.match(lowered))


def _question_words(ctx: ExampleContext, message_index: int) -> frozenset[str]:
    for index in range(message_index - 1, -1, -1):
        message = ctx.messages[index]
        if message.get("role") == "user":
            return frozenset(content_words(ctx.texts[index]))
    return frozenset()


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class _Facts:
    """What the dataset rules keep of one example (computed by ``prepare``, possibly in a worker)."""

    message_index: int
    pointer: str
    question: frozenset[str]
    facts: tuple[tuple[str, str, str, bool], ...]  # (kind, value, text, stated with a condition)
    conditions: frozenset[str]


class _FactDatasetRule(DatasetRule):
    heuristic = True
    options_base: ClassVar[tuple[RuleOption, ...]] = (
        RuleOption("similarity", "float", 0.3,
                   "Content-word Jaccard similarity at which two user questions count as the same question."),
        RuleOption("allow", "list[str]", [], "Facts that are part of the voice (never reported)."),
        RuleOption("max-per-fact", "int", 200, "Examples remembered per fact or question word (bounds memory)."),
    )

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.kopts = KnowledgeOptions(allow=tuple(self.opts.get("allow") or ()), min_span_score=0.2)

    def prepare(self, ctx: ExampleContext) -> _Facts | None:
        """The facts the final assistant turn teaches (only turns that reach the knowledge threshold).

        Computed once per example and option set: K101 and K102 share it through the context.
        """
        cache = ctx.__dict__.setdefault("_ftkit_facts", {})
        key = self.kopts.key
        if key not in cache:
            cache[key] = self._facts(ctx)
        return cache[key]

    def _facts(self, ctx: ExampleContext) -> _Facts | None:
        last = ctx.last_assistant_index
        if last is None:
            return None
        # Facts need both a value hint in the final assistant text and value spans in a turn that
        # teaches facts. Both tests are pure, so their order does not change the answer: the hint
        # (a scan of the text) goes first only when it can spare the analysis; when K001-K006 already left the
        # analysis on the context, the spans rule out most examples first.
        analysed = self.kopts.key in ctx.__dict__.get("_knowledge_cache", ())
        if not analysed and not _value_hint(ctx.texts[last]):
            return None  # no digit, address, number word or mid-sentence name: no value to repeat
        result = cached_analysis(ctx, self.kopts)
        if not result.turns:
            return None
        turn = result.turns[-1]
        if turn.score < DEFAULT_THRESHOLD:
            return None  # only turns that teach facts feed the dataset rules
        spans = [s for s in turn.spans if s.kind in VALUE_KINDS and s.kind != "number" and s.score >= 0.3]
        if not spans:
            return None
        if analysed and not _value_hint(ctx.texts[last]):
            return None
        text = ctx.texts[turn.message_index]
        facts = tuple((s.kind, s.value, s.text, bool(_CONDITIONAL.search(text[s.sentence[0]:s.sentence[1]])))
                      for s in spans)
        conditions = frozenset(w for t in ctx.texts[:turn.message_index] for w in content_words(t) if w in _CONDITION_WORDS)
        return _Facts(turn.message_index, turn.pointer, _question_words(ctx, turn.message_index), facts, conditions)


@register
class RepeatedFact(_FactDatasetRule):
    code = "K101"
    name = "repeated-fact"
    summary = "The same fact is taught again and again in answers to paraphrased questions (the memorisation target)."
    why = ("Fine-tuning memorises what it sees repeatedly: the same price or window stated in many answers to "
           "similar questions is exactly how a fact gets burned into the weights, and why it is then hard to "
           "update. Serve it from a knowledge base instead and keep a few examples that show how to use it.")
    bad = (_line([("user", "How long is the return window?"), ("assistant", "You have 30 days to return it.")]) + "\n"
           + _line([("user", "What is the return window for shoes?"), ("assistant", "Shoes can be returned within 30 days.")]) + "\n"
           + _line([("user", "How long is your return window for jackets?"), ("assistant", "Jackets have a 30-day return window.")]))
    good = (_line([("system", "Returns: 30 days."), ("user", "How long is the return window?"),
                   ("assistant", "You have 30 days to return it.")]))
    options = _FactDatasetRule.options_base + (
        RuleOption("min-count", "int", 3, "How many examples must teach the fact before it is reported."),
    )

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        # fact key -> [(ref, question words, text shown, pointer)]
        self._seen: dict[tuple[str, str], list[tuple[ExampleRef, frozenset[str], str, str]]] = defaultdict(list)

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        facts = self.prepared(ctx)
        if facts is None:
            return ()
        seen_keys: set[tuple[str, str]] = set()
        for kind, value, text, _ in facts.facts:
            key = (kind, value)
            if key in seen_keys:
                continue
            seen_keys.add(key)
            bucket = self._seen[key]
            if len(bucket) < self.opts["max-per-fact"]:
                bucket.append((ctx.ref, facts.question, text, facts.pointer))
        return ()

    def finish(self) -> Iterable[Finding]:
        min_count = max(2, int(self.opts["min-count"]))
        threshold = float(self.opts["similarity"])
        for (kind, value), items in sorted(self._seen.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            if len(items) < min_count:
                continue
            # greedy clustering of the questions that received this fact
            clusters: list[list[tuple[ExampleRef, frozenset[str], str, str]]] = []
            for item in items:
                for cluster in clusters:
                    if any(_jaccard(item[1], other[1]) >= threshold for other in cluster):
                        cluster.append(item)
                        break
                else:
                    clusters.append([item])
            for cluster in clusters:
                if len(cluster) < min_count:
                    continue
                first = cluster[0][0]
                for ref, _, text, ptr in cluster[1:]:
                    yield Finding(
                        message=f"the same fact {_quote(text)} ({kind}) is taught in {len(cluster)} answers to similar "
                                f"questions (first at line {first.line}); fine-tuning will memorise it",
                        pointer=ptr,
                        hint="keep one or two examples and serve the fact from a knowledge base (`ftkit route`)",
                        score=min(1.0, 0.5 + 0.1 * len(cluster)),
                        at=ref,
                        extra={"fact": {"kind": kind, "value": value}, "count": len(cluster),
                               "first": {"file": first.file, "line": first.line}},
                    )


@register
class ConflictingFacts(_FactDatasetRule):
    code = "K102"
    name = "conflicting-facts"
    summary = "Answers to the same question state different values (two return windows for \"can I return this?\")."
    why = ("Conflicting supervision teaches the model that either value is fine, so it will pick one at random "
           "at run time. If a condition explains the difference (membership tier, region, product type), say it "
           "in the context; otherwise fix the stale answer.")
    bad = (_line([("user", "How long is the return window?"), ("assistant", "You have 30 days to return it.")]) + "\n"
           + _line([("user", "How long is the return window?"), ("assistant", "You have 14 days to return it.")]))
    good = (_line([("user", "How long is the return window? I'm a gold member."), ("assistant", "You have 30 days to return it.")]) + "\n"
            + _line([("user", "How long is the return window? I'm a bronze member."), ("assistant", "You have 14 days to return it.")]))
    options = _FactDatasetRule.options_base

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self._entries: list[tuple[ExampleRef, frozenset[str], dict[str, dict[str, str]], frozenset[str]]] = []
        self._postings: dict[str, list[int]] = defaultdict(list)

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        facts = self.prepared(ctx)
        if facts is None or not facts.question:
            return ()
        question = facts.question
        values: dict[str, dict[str, str]] = defaultdict(dict)
        for kind, value, text, conditional in facts.facts:
            if not conditional:  # an answer that states its own condition does not conflict
                values[kind].setdefault(value, text)
        if not values:
            return ()
        findings: list[Finding] = []
        candidates: dict[int, int] = defaultdict(int)
        for word in question:
            for other in self._postings.get(word, ()):
                candidates[other] += 1
        # Jaccard >= 0.5 needs at least half of this question's words in common: prune before computing it.
        need = max(1, (len(question) + 1) // 2)
        threshold = max(0.5, float(self.opts["similarity"]))
        reported: set[str] = set()
        for other in sorted(o for o, shared in candidates.items() if shared >= need):
            ref, other_q, other_values, other_cond = self._entries[other]
            if _jaccard(question, other_q) < threshold:
                continue
            if facts.conditions != other_cond:
                continue  # a condition in the context explains a different answer
            for kind, mine in values.items():
                theirs = other_values.get(kind)
                if not theirs or kind in reported or set(mine) & set(theirs):
                    continue
                reported.add(kind)
                my_text = next(iter(mine.values()))
                their_text = next(iter(theirs.values()))
                findings.append(Finding(
                    message=f"conflicting facts: this answer says {_quote(my_text)} ({kind}) where line {ref.line} "
                            f"says {_quote(their_text)} for a similar question, and no condition in the context explains it",
                    pointer=facts.pointer,
                    hint="make the answers agree, or state the condition (tier, region, product) in the context",
                    score=0.8,
                    extra={"conflicts_with": {"file": ref.file, "line": ref.line}, "kind": kind},
                ))
        entry = len(self._entries)
        self._entries.append((ctx.ref, question, {k: dict(v) for k, v in values.items()}, facts.conditions))
        cap = int(self.opts["max-per-fact"])
        for word in question:
            posting = self._postings[word]
            if len(posting) < cap:
                posting.append(entry)
        return findings


# --------------------------------------------------------------------------- knowledge base rules


class _KbRule(ExampleRule):
    heuristic = True

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.kopts = KnowledgeOptions(allow=tuple(self.opts.get("allow") or ()))
        self._kb = None
        if self.opts.get("kb"):
            from toolkit.knowledge.kb import load_kb

            self._kb = load_kb(self.opts["kb"])


@register
class KbOverlap(_KbRule):
    code = "K201"
    name = "kb-overlap"
    summary = "An assistant sentence restates a knowledge-base passage that is not in the example's context (needs --kb)."
    why = ("If the answer is in your knowledge base, the model should learn to use the passage it is given, not to "
           "recite it from memory: either ground the example (put the passage in the context, the RAFT recipe) or "
           "route it out of the fine-tuning set.")
    example_options: ClassVar[dict[str, Any]] = {"kb": "samples/kb"}
    bad = _line([("user", "When do promo codes expire?"),
                 ("assistant", "All promo codes expire after 7 days, so use it soon.")])
    good = _line([("system", "FAQ: promo codes expire after 7 days."), ("user", "When do promo codes expire?"),
                  ("assistant", "All promo codes expire after 7 days, so use it soon.")])
    options = (
        RuleOption("kb", "str", "", "Knowledge base: a folder of Markdown / text / HTML docs, a JSONL of documents, or ABCD-style guidelines JSON."),
        RuleOption("min-similarity", "float", 0.35, "Share of a sentence's content words (or its specifics) a passage must contain."),
        RuleOption("every-turn", "bool", False, "Check every assistant turn, not only the final one."),
        RuleOption("allow", "list[str]", [], "Facts that are part of the voice (never reported)."),
    )

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if self._kb is None:
            return
        from toolkit.knowledge.kb import kb_matches

        for match in kb_matches(ctx.record, self._kb, min_similarity=float(self.opts["min-similarity"]),
                                every_turn=bool(self.opts["every-turn"])):
            yield Finding(
                message=f"assistant sentence restates knowledge-base passage {match.source!r} that is not in the "
                        f"context (similarity {match.similarity:.2f}): {_quote(match.sentence, 60)}",
                pointer=match.pointer,
                hint="ground the example (`ftkit route --ground --kb ...` inserts the passage) or route it to the KB",
                spans=[Span(match.start, match.end, match.sentence, pointer=match.pointer, label="kb-overlap",
                            score=match.similarity)],
                score=match.similarity,
                extra={"source": match.source, "passage": match.passage_text[:300]},
            )


@register
class UnverifiableSpecific(_KbRule):
    code = "K202"
    name = "unverifiable-specific"
    summary = "A specific the assistant states is found in neither the knowledge base nor the context (needs --kb)."
    why = ("A price, window or name that no source supports may be a typo, a stale value or an agent's guess; "
           "fine-tuning on it teaches the model to state unsupported specifics. Check it and add it to the KB, or fix it.")
    example_options: ClassVar[dict[str, Any]] = {"kb": "samples/kb"}
    bad = _line([("user", "When do promo codes expire?"),
                 ("assistant", "Promo codes expire after 45 days.")])
    good = _line([("user", "When do promo codes expire?"),
                  ("assistant", "Let me look that up for you: which code do you have?")])
    default_severity = Severity.INFO
    options = (
        RuleOption("kb", "str", "", "Knowledge base (see K201)."),
        RuleOption("every-turn", "bool", False, "Check every assistant turn, not only the final one."),
        RuleOption("allow", "list[str]", [], "Facts that are part of the voice (never reported)."),
    )

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if self._kb is None:
            return
        opts = KnowledgeOptions(allow=self.kopts.allow, every_turn=bool(self.opts["every-turn"]))
        result = cached_analysis(ctx, opts)
        for turn in result.turns:
            missing = [s for s in turn.spans if s.kind in VALUE_KINDS and s.kind != "number" and not self._kb.contains(s)]
            if not missing:
                continue
            shown = ", ".join(f"{_quote(s.text)} ({s.kind})" for s in missing[:4])
            yield Finding(
                message=f"unverifiable: {shown} appear(s) in neither the knowledge base nor the context",
                pointer=turn.pointer,
                hint="check the value; add it to the knowledge base if it is right",
                spans=diagnostic_spans(missing),
                score=max(s.score for s in missing),
            )
