"""Q: text quality - empty replies, outliers, loops, mojibake, languages, white space, Unicode, system prompts."""

from __future__ import annotations

import array
import hashlib
import heapq
import math
import re
import threading
import unicodedata
from typing import Any, Iterable, Mapping


import numpy as np

from toolkit.dedup import normalize_text
from toolkit.diagnostics import Severity, Span
from toolkit.linter.rule import (
    DatasetRule,
    ExampleContext,
    ExampleRef,
    ExampleRule,
    Finding,
    Fix,
    RuleOption,
    register,
)
from toolkit.linter.rules._textfix import map_message_texts, message_word_bytes, message_word_hashes, preview, trainable_assistant, trainable_indexes
from toolkit.pii import placeholder_pattern


def _line(*messages: str, extra: str = "") -> str:
    return '{"messages": [' + ", ".join(messages) + "]" + extra + "}"


def _user(text: str) -> str:
    return '{"role": "user", "content": "' + text + '"}'


def _assistant(text: str) -> str:
    return '{"role": "assistant", "content": "' + text + '"}'


def _system(text: str) -> str:
    return '{"role": "system", "content": "' + text + '"}'


# --------------------------------------------------------------------------- Q001


_VISIBLE = re.compile(r"[^\W_]", re.UNICODE)  # letters and digits


@register
class EmptyReply(ExampleRule):
    code = "Q001"
    name = "empty-reply"
    summary = "An assistant reply is empty, white space only, or near-empty (a few characters, punctuation only)."
    why = (
        "An empty trainable reply teaches the model to answer with nothing; a near-empty one ('.', 'ok', "
        "'...') teaches it to brush customers off. Assistant messages that only call tools are fine."
    )
    bad = _line(_user("My parcel arrived damaged, what now?"), _assistant("  "))
    good = _line(
        _user("My parcel arrived damaged, what now?"),
        _assistant("Sorry to hear that! Send me a photo of the damage and I will arrange a replacement."),
    )
    default_severity = Severity.WARNING
    options = (
        RuleOption("min-chars", "int", 3, "Replies with fewer letters and digits than this are near-empty ('ok', '.')."),
        RuleOption("trainable-only", "bool", True, "Check only replies the model learns from (weight != 0)."),
    )

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        minimum = self.opts["min-chars"]
        messages, texts = ctx.messages, ctx.texts
        indexes = trainable_indexes(ctx) if self.opts["trainable-only"] else \
            [index for index, message in enumerate(messages) if message.get("role") == "assistant"]
        for index in indexes:
            message, text = messages[index], texts[index]
            if message.get("tool_calls") or message.get("function_call"):
                continue
            # (long replies, the usual case, are neither: white space only is "not text.strip()")
            if len(text) >= 200 and not text.isspace():
                continue
            visible = len(_VISIBLE.findall(text, 0, 200)) if len(text) < 200 else minimum
            if not text.strip():
                yield Finding(
                    message="the assistant reply is empty" if not text else "the assistant reply is only white space",
                    pointer=ctx.content_pointer(index),
                    severity=Severity.ERROR,
                    hint="write the reply the agent should give, or drop the example",
                )
            elif visible < minimum and not placeholder_pattern().fullmatch(text.strip()):
                yield Finding(
                    message=f"the assistant reply is near-empty: {text.strip()!r}",
                    pointer=ctx.content_pointer(index),
                    hint=f"replies with fewer than {minimum} letters or digits teach terse non-answers",
                )


# --------------------------------------------------------------------------- Q002


def _assistant_chars(ctx: ExampleContext) -> int | None:
    total = None
    messages, texts = ctx.messages, ctx.texts
    for index in trainable_indexes(ctx):
        if not messages[index].get("tool_calls"):
            total = (total or 0) + len(texts[index])
    return total


def _median_and_spread(values: array.array) -> tuple[float, float]:
    """The median of ``values`` (doubles) and their median absolute deviation from it, or the
    mean absolute deviation when more than half of them equal the median (0.0 if all do).

    numpy over the stored doubles, not sorted Python lists: the same figures as the
    ``statistics`` module's (the middle value or the mean of the two middle ones; ``fmean``'s
    exact sum) at 8 bytes per value instead of ~70.
    """
    doubles = np.frombuffer(values, dtype=np.float64)
    median = float(np.median(doubles))
    deviations = np.abs(doubles - median)
    spread = float(np.median(deviations))
    if spread <= 0:
        spread = math.fsum(deviations) / len(deviations)
    return median, spread


@register
class LengthOutlier(DatasetRule):
    code = "Q002"
    name = "length-outlier"
    summary = "An example's reply length is far from the rest of the dataset (robust z-score of log length)."
    why = (
        "A handful of replies ten times longer (pasted logs, whole policies, merged threads) or shorter "
        "than the rest pull the model's sense of a normal answer and dominate the token budget. Outliers "
        "are judged against the median and MAD of log reply length, so they cannot hide the way they do "
        "behind a mean and standard deviation, and must also be `min-ratio` times longer or shorter than the "
        "median, so a very uniform dataset does not flag replies that are merely half as long."
    )
    bad = "\n".join(
        [_line(_user(f"Where is order {n}?"), _assistant(f"Order {n} left our warehouse today and arrives in two days."))
         for n in range(101, 111)]
        + [_line(_user("Where is order 111?"), _assistant("Order 111 left our warehouse today. " + "Here is the full carrier log entry with every scan event. " * 40))]
    )  # fmt: skip
    good = "\n".join(
        _line(_user(f"Where is order {n}?"), _assistant(f"Order {n} left our warehouse today and arrives in two days."))
        for n in range(101, 112)
    )
    heuristic = True
    default_severity = Severity.WARNING
    options = (
        RuleOption("threshold", "float", 3.5, "Robust z-score (0.6745 * |x - median| / MAD of log length) to report."),
        RuleOption("min-ratio", "float", 3.0, "Also require the length to be at least this many times above or below the median."),
        RuleOption("direction", "str", "both", "Report replies that are too 'long', too 'short', or 'both'."),
        RuleOption("min-examples", "int", 10, "Do nothing on datasets with fewer examples that have replies."),
        RuleOption("max-reports", "int", 200, "Report at most this many outliers on each side (the most extreme)."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        if self.opts["direction"] not in ("both", "long", "short"):
            raise ValueError(f"{self.code}: option 'direction' must be 'both', 'long' or 'short'")
        # One float per example; refs only for the current extremes (bounded heaps).
        self._values = array.array("d")
        self._high: list[tuple[float, int, ExampleRef, int]] = []
        self._low: list[tuple[float, int, ExampleRef, int]] = []
        self._count = 0

    def prepare(self, ctx: ExampleContext) -> int | None:
        """The characters of the trainable replies (``None`` when there is no reply)."""
        return _assistant_chars(ctx)

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        chars = self.prepared(ctx)
        if chars is None:
            return ()
        value = math.log1p(chars)
        self._values.append(value)
        self._count += 1
        keep = self.opts["max-reports"]
        order = -self._count  # unique: entries never compare beyond it
        if len(self._high) < keep:
            heapq.heappush(self._high, (value, order, ctx.ref, chars))
            heapq.heappush(self._low, (-value, order, ctx.ref, chars))
            return ()
        # an example enters a full heap only if it beats the heap's least extreme entry (most do
        # not: no reference to it is made)
        if (value, order) > self._high[0][:2]:
            heapq.heapreplace(self._high, (value, order, ctx.ref, chars))
        if (-value, order) > self._low[0][:2]:
            heapq.heapreplace(self._low, (-value, order, ctx.ref, chars))
        return ()

    def finish(self) -> Iterable[Finding]:
        if len(self._values) < self.opts["min-examples"]:
            return
        median, mad = _median_and_spread(self._values)
        if mad <= 0:
            return
        typical = round(math.expm1(median))
        threshold = self.opts["threshold"]
        direction = self.opts["direction"]
        min_log_ratio = math.log(max(1.0, self.opts["min-ratio"]))
        found: list[Finding] = []
        sides = []
        if direction in ("both", "long"):
            sides.append((self._high, 1))
        if direction in ("both", "short"):
            sides.append((self._low, -1))
        for heap, sign in sides:
            for stored, _order, ref, chars in heap:
                value = stored if sign == 1 else -stored
                z = 0.6745 * (value - median) / mad
                # both: unusual for this dataset (z) and far from typical in absolute terms (ratio),
                # so a very uniform dataset does not flag replies that are merely half as long
                if z * sign < threshold or (value - median) * sign < min_log_ratio:
                    continue
                word = "longer" if sign == 1 else "shorter"
                found.append(
                    Finding(
                        message=f"assistant replies total {chars:,} characters, far {word} than the dataset's typical "
                        f"{typical:,} (median; robust z = {z:+.1f})",
                        hint="check for pasted logs or documents, merged threads, or truncated replies",
                        score=min(1.0, abs(z) / (2 * threshold)),
                        at=ref,
                        extra={"chars": chars, "median_chars": typical, "z": round(z, 2)},
                    )
                )
        found.sort(key=lambda f: (f.at.index if f.at else 0))  # type: ignore[union-attr]
        yield from found


# --------------------------------------------------------------------------- Q003

_PUNCT_TO_SPACE = str.maketrans({c: " " for c in ".,;:!?()[]{}\"“”«»…–—-/*#|`~"})
_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]?")
_CHAR_LOOP = re.compile(r"([^\W\d_]{1,4}?)\1{7,}", re.UNICODE)
_LETTER_RUN = re.compile(r"[^\W\d_]{8,}")  # a character loop lies inside one run of 8+ letters


# On lower-case ASCII letters: a loop found by _CHAR_LOOP in an ASCII text is, lower-cased, one of these.
_CHAR_LOOP_LOWER = re.compile(r"([a-z]{1,4}?)\1{7,}")
_CHAR_LOOP_LOWER_BYTES = re.compile(rb"([a-z]{1,4}?)\1{7,}")  # the same for an ASCII word given as bytes


# ASCII characters the normalised words of D001-D003 treat as punctuation and Q003 does not.
_KEPT_BY_Q003 = "$%&'+=@\\^"


def _shares_duplicate_words(text: str) -> bool:
    """``_all_clean_ascii([text])`` and no character of ``_KEPT_BY_Q003`` in it (one pass over the text)."""
    return text.isascii() and not text.encode("ascii").translate(None, _VISIBLE_ASCII_BUT_KEPT_BY_Q003)


def _repetition_words(ctx: ExampleContext, index: int, text: str) -> tuple[list[str] | list[bytes], bool]:
    """``text.lower().translate(_PUNCT_TO_SPACE).split()``: Q003's words of one message, and
    whether they are the duplicate rules' shared words (whose hashes ``message_word_hashes`` has).

    On clean ASCII text without the few characters only the duplicate rules' normalisation
    drops, those are the words the duplicate rules normalise anyway (shared, not recomputed),
    given as their ASCII bytes (``message_word_bytes``): n-gram counts and loop tests give the
    same answers on them.
    """
    if _shares_duplicate_words(text):
        shared = message_word_bytes(ctx)
        if shared is not None:
            return shared[index], True
    return text.lower().translate(_PUNCT_TO_SPACE).split(), False


def _repeated_share(words: list[str] | list[bytes], size: int) -> float:
    """The share of repeated ``size``-word n-grams of ``words`` (which has more than ``size`` words)."""
    distinct = len(set(zip(*(words[i:] for i in range(size)))))
    return 1.0 - distinct / (len(words) - size + 1 if size > 0 else 0)  # the number of n-grams


_NGRAM_MUL = np.uint64(0x9E3779B97F4A7C15)


def _repeated_share_bounds(word_hashes: list[bytes], size: int) -> list[float]:
    """Upper bounds of ``_repeated_share`` of texts given by their words' 64-bit hashes (each
    text has more than ``size`` words, ``size`` >= 1).

    Equal n-grams get equal combined hashes, so hashing can only merge distinct n-grams (a
    collision), never split equal ones: the share counted is never below the true one, from
    sorts of machine integers instead of sets of word tuples. All the replies of an example
    in one pass: the n-gram keys of the concatenation, each
    text's own run of them (the windows that straddle two texts are left out) sorted in place,
    and the distinct keys of every run counted by one ``reduceat``: a few numpy calls per
    example instead of a dozen per reply.
    """
    if not word_hashes:
        return []
    hashes = np.frombuffer(b"".join(word_hashes), dtype="<u8")
    total = hashes.size - size + 1
    keys = hashes[:total] * _NGRAM_MUL
    for k in range(1, size):  # uint64 arithmetic wraps silently
        if k > 1:
            keys *= _NGRAM_MUL
        keys += hashes[k : k + total]
    counts: list[int] = []
    marks: list[int] = []  # per text: the first window, the last window
    start = 0
    for text in word_hashes:
        count = (len(text) >> 3) - size + 1
        keys[start : start + count].sort()
        counts.append(count)
        marks.append(start)
        marks.append(start + count - 1)
        start += count + size - 1
    # changes[j]: window j + 1 differs from window j; a text's distinct keys are 1 + its changes
    # from its first window up to its last (each text has 2+ windows, so the marks increase).
    changes = keys[1:] != keys[:-1]
    marks.pop()  # the last text's changes run to the end of the array
    found = np.add.reduceat(changes, marks, dtype=np.intp).tolist()
    return [1.0 - (found[2 * i] + 1) / count for i, count in enumerate(counts)]


# Words known to hold no character loop, and the other words seen (see _may_hold_loop); a word
# given as ASCII bytes is its own entry (bytes never equal a str).
_LOOP_FREE: set[str | bytes] = set()
_LOOP_SUSPECTS: set[str | bytes] = set()


def _may_hold_loop(word: str | bytes) -> bool:
    """False only when no character loop lies in ``word`` (a lower-cased word of a reply).

    A loop is 8+ letters, so it needs a word that long; in an ASCII word the lower-case loop
    pattern decides (lower-casing keeps a repeated unit repeated). The whole word need not
    be the loop: "pleaseeeeeeeee" holds one. A non-ASCII word stays a suspect (lower-casing
    can change lengths there); the full search on the original text decides.
    """
    if len(word) < 8:
        return False
    if isinstance(word, bytes):  # (the ASCII bytes of a word)
        return _CHAR_LOOP_LOWER_BYTES.search(word) is not None
    return not word.isascii() or _CHAR_LOOP_LOWER.search(word) is not None


def _has_loop_suspect(words: list[str] | list[bytes]) -> bool:
    """``any(_may_hold_loop(word) for word in words)``, answered per distinct word once."""
    # Set tests over a list run as one C loop each, with the words' cached string hashes.
    if _LOOP_FREE.issuperset(words):
        return False
    if not _LOOP_SUSPECTS.isdisjoint(words):
        return True
    if len(_LOOP_FREE) + len(_LOOP_SUSPECTS) > 500_000:  # a pure function of the word: clearing only costs time
        _LOOP_FREE.clear()
        _LOOP_SUSPECTS.clear()
    found = False
    for word in words:
        if word not in _LOOP_FREE:
            if _may_hold_loop(word):
                _LOOP_SUSPECTS.add(word)
                found = True
            else:
                _LOOP_FREE.add(word)
    return found


def _char_loop(text: str) -> re.Match[str] | None:
    """``_CHAR_LOOP.search(text)``, searched only inside runs of 8+ letters (same match, less scanning)."""
    for run in _LETTER_RUN.finditer(text):
        found = _CHAR_LOOP.search(text, run.start(), run.end())
        if found:
            return found
    return None


@register
class Repetition(ExampleRule):
    code = "Q003"
    name = "repetition"
    summary = "A reply repeats itself: the same phrase, sentence or characters over and over (a generation loop)."
    why = (
        "Loops come from degenerate generations or broken exports. A model trained on them learns that "
        "repeating itself is an acceptable way to fill a reply, the failure mode that is hardest to fix later."
    )
    bad = _line(
        _user("Can I get a refund?"),
        _assistant(
            "I can help you with that. I can help you with that. I can help you with that. "
            "I can help you with that. I can help you with that. I can help you with that."
        ),
    )
    good = _line(
        _user("Can I get a refund?"),
        _assistant("I can help you with that. Which order would you like refunded, and what went wrong with it?"),
    )
    heuristic = True
    default_severity = Severity.WARNING
    options = (
        RuleOption("threshold", "float", 0.5, "Share of repeated word n-grams (0-1) from which a reply is a loop."),
        RuleOption("ngram", "int", 3, "Word n-gram size for the repetition share."),
        RuleOption("min-words", "int", 12, "Replies shorter than this are not scored by n-grams."),
        RuleOption("max-sentence-repeats", "int", 3, "The same sentence (3+ words) this many times is a loop."),
    )

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        size = self.opts["ngram"]
        texts = ctx.texts
        replies = []
        for index in trainable_indexes(ctx):
            text = texts[index]
            if len(text) >= 24:
                words, shared = _repetition_words(ctx, index, text)
                replies.append((index, text, words, shared and size >= 1 and len(words) > size))
        # Below the sentence-scan and reporting gate the share decides nothing (a character loop
        # scores 0.9 regardless): an upper bound, of all the replies at once, settles most replies.
        bounds = iter(_repeated_share_bounds([message_word_hashes(ctx, index) for index, _, _, bounded in replies if bounded], size))
        for index, text, words, bounded in replies:
            share = 0.0
            if len(words) > size:
                if bounded:
                    share = next(bounds)
                    if share >= min(0.15, self.opts["threshold"]):
                        share = _repeated_share(words, size)
                else:
                    share = _repeated_share(words, size)
            # A sentence repeated three times shows up as repeated n-grams: skip the sentence
            # scan (the costly part) for the vast majority of replies that have few repeats.
            sentence, repeats, span = self._repeated_sentence(text) if share >= 0.15 else ("", 0, None)
            if len(words) < self.opts["min-words"]:
                share = 0.0
            # a loop of a 1-4 letter unit ("hahahaha", "pleaseeeeeeee") lies inside one word of 8+ letters
            loop = _char_loop(text) if _has_loop_suspect(words) else None
            if not (share >= self.opts["threshold"] or repeats >= self.opts["max-sentence-repeats"] or loop):
                continue  # nothing to report on this reply
            pointer = ctx.content_pointer(index)
            reasons = []
            spans: list[Span] = []
            if share >= self.opts["threshold"]:
                reasons.append(f"{share:.0%} of its {size}-word phrases are repeats")
            if repeats >= self.opts["max-sentence-repeats"]:
                reasons.append(f"the sentence {preview(sentence, 40)!r} appears {repeats} times")
                if span:
                    spans.append(Span(span[0], span[1], text[span[0] : span[1]], pointer, label="repeated-sentence"))
            if loop:
                reasons.append(f"{loop.group(1)!r} repeats {len(loop.group()) // len(loop.group(1))} times in a row")
                spans.append(Span(loop.start(), loop.end(), loop.group(), pointer, label="character-loop"))
            if reasons:
                score = max(share, min(1.0, repeats / (2 * self.opts["max-sentence-repeats"])), 0.9 if loop else 0.0)
                yield Finding(
                    message="the assistant reply repeats itself: " + "; ".join(reasons),
                    pointer=pointer,
                    hint="regenerate or rewrite the reply; loops are usually broken generations",
                    score=round(min(1.0, score), 4),
                    spans=spans,
                )

    @staticmethod
    def _repeated_sentence(text: str) -> tuple[str, int, tuple[int, int] | None]:
        counts: dict[str, int] = {}
        first: dict[str, tuple[int, int]] = {}
        for match in _SENTENCE.finditer(text):
            key = " ".join(match.group().lower().split()).strip(" .!?")
            if key.count(" ") < 2:
                continue
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, match.span())
        if not counts:
            return "", 0, None
        key = max(counts, key=lambda k: (counts[k], k))
        return key, counts[key], first[key]


# --------------------------------------------------------------------------- Q004


@register
class Mojibake(ExampleRule):
    code = "Q004"
    name = "mojibake"
    summary = "Text is mojibake: UTF-8 decoded with the wrong codec ('cafÃ©', 'â€™'); ftfy can repair it."
    why = (
        "Mojibake comes from exports that decoded UTF-8 as Windows-1252 or Latin-1. The model learns to "
        "write 'donâ€™t' and 'â‚¬'. The repair (ftfy's fix_encoding) only reverses the wrong decoding, so "
        "it is a safe fix."
    )
    bad = _line(_user("Is the cafÃ© open on Sunday?"), _assistant("Yes, we donâ€™t close on Sundays."))
    good = _line(_user("Is the café open on Sunday?"), _assistant("Yes, we don’t close on Sundays."))
    heuristic = True
    default_severity = Severity.WARNING
    fix_safety = "safe"

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        texts = ctx.texts
        if all(map(str.isascii, texts)):
            return ()  # the usual case: ASCII text is never mojibake
        return self._check(ctx)

    def _check(self, ctx: ExampleContext) -> Iterable[Finding]:
        for index, text in enumerate(ctx.texts):
            if not text or text.isascii():
                continue
            import ftfy  # imported on the first non-ASCII text: it costs ~30 ms of every start
            from ftfy import badness

            if not badness.is_bad(text):
                continue
            fixed = ftfy.fix_encoding(text)
            if fixed == text:
                continue
            pointer = ctx.content_pointer(index)
            spans = _diff_spans(text, fixed, pointer)
            role = ctx.messages[index].get("role")
            yield Finding(
                message=f"mojibake in the {role} message: {preview(spans[0].text if spans else text, 30)!r} "
                f"should read {preview(_first_change(text, fixed), 30)!r}",
                pointer=pointer,
                hint="`ftkit lint --fix` repairs it (ftfy.fix_encoding)",
                score=round(min(1.0, 0.5 + badness.badness(text) / max(1, len(text)) * 10), 4),
                spans=spans,
                fix=Fix(
                    "repair mojibake with ftfy.fix_encoding",
                    "safe",
                    lambda record, i=index: map_message_texts(record, ftfy.fix_encoding, indices=[i]),
                ),
            )


def _diff_spans(before: str, after: str, pointer: str) -> list[Span]:
    """The differing region between ``before`` and its repair (one span: from first to last change)."""
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end_b, end_a = len(before), len(after)
    while end_b > start and end_a > start and before[end_b - 1] == after[end_a - 1]:
        end_b -= 1
        end_a -= 1
    return [Span(start, end_b, before[start:end_b], pointer, label="mojibake")] if end_b > start else []


def _first_change(before: str, after: str) -> str:
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end_b, end_a = len(before), len(after)
    while end_b > start and end_a > start and before[end_b - 1] == after[end_a - 1]:
        end_b -= 1
        end_a -= 1
    return after[start:end_a]


# --------------------------------------------------------------------------- Q005

_IDENTIFIER: Any = None
_IDENTIFIER_LOCK = threading.Lock()
# Pairs langid confuses on short support messages: a mismatch inside a group is not reported.
_CLOSE_LANGUAGES = [
    {"no", "nb", "nn", "da", "sv"}, {"hr", "sr", "bs", "sl"}, {"id", "ms"}, {"cs", "sk"}, {"es", "gl", "ca", "pt"},
    {"af", "nl"}, {"ru", "uk", "be", "bg", "mk"}, {"hi", "mr", "ne"}, {"fa", "ar", "ur"}, {"zh", "ja"}, {"lb", "de"},
    {"it", "la"}, {"fr", "wa", "oc"},
]  # fmt: skip
_CLOSE = {lang: frozenset(group) for group in _CLOSE_LANGUAGES for lang in group}
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_STRIP_FOR_LANGID = re.compile(r"https?://\S+|<[A-Z_]+(?:_\d+)?>|\S+@\S+|`[^`]*`|```[\s\S]*?```")


def _identifier() -> Any:
    """py3langid's bundled model (offline), with normalised probabilities; loaded once per process."""
    global _IDENTIFIER
    if _IDENTIFIER is None:
        with _IDENTIFIER_LOCK:
            if _IDENTIFIER is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _IDENTIFIER


def detect_language(text: str, min_letters: int = 40) -> tuple[str, float] | None:
    """``(iso 639-1 code, probability)`` of ``text`` by py3langid, or ``None`` if too short to tell."""
    # 300 characters identify a language as well as 3,000 do, at a tenth of the cost
    cleaned = _STRIP_FOR_LANGID.sub(" ", text[:400])[:300]
    if len(_LETTER.findall(cleaned)) < min_letters:
        return None
    lang, prob = _identifier().classify(cleaned)
    return str(lang), float(prob)


@register
class MixedLanguage(ExampleRule):
    code = "Q005"
    name = "mixed-language"
    summary = "A reply is in a different language than the customer's message (or than metadata.language)."
    why = (
        "A reply in another language than the question teaches the model to switch languages on "
        "customers, usually a sign of a wrong translation, a template in the default language, or two "
        "threads merged. Detection is py3langid (offline); short messages and easily confused languages "
        "(Danish/Norwegian, Spanish/Portuguese, ...) are not judged. Off by default (loading the language "
        "model takes about a second): enable it with `extend-select = [\"Q005\"]`."
    )
    bad = _line(
        _user("Hola, necesito cambiar la dirección de envío de mi pedido, ¿cómo puedo hacerlo?"),
        _assistant("Hi there! You can change the shipping address under Orders, then choose Edit address."),
    )
    good = _line(
        _user("Hola, necesito cambiar la dirección de envío de mi pedido, ¿cómo puedo hacerlo?"),
        _assistant("¡Hola! Puedes cambiar la dirección de envío en Pedidos y luego elegir Editar dirección."),
    )
    heuristic = True
    default_severity = Severity.WARNING
    # Off by default: loading the language model costs ~1 s per process and each judged
    # message ~40 us, too much for the pre-commit path. Opt in with `extend-select = ["Q005"]`.
    default_enabled = False
    options = (
        RuleOption("min-letters", "int", 40, "Messages with fewer letters are too short to judge."),
        RuleOption("min-confidence", "float", 0.6, "Both languages must be detected at least this confidently (0-1)."),
        RuleOption("allowed-pairs", "list[str]", [], "Customer/reply language pairs that are fine, e.g. 'de/en'."),
        RuleOption("all-replies", "bool", False, "Judge every reply, not only each example's last one (slower)."),
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._allowed = {tuple(p.lower().split("/", 1)) for p in self.opts["allowed-pairs"] if "/" in p}

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        minimum, confidence = self.opts["min-letters"], self.opts["min-confidence"]
        declared = ctx.metadata.get("language")
        declared = str(declared).split("-")[0].split("_")[0].lower() if isinstance(declared, str) and declared else None
        user_lang: tuple[str, float] | None = None
        judged_user = False
        last_user: str | None = None
        final = None if self.opts["all-replies"] else ctx.last_assistant_index
        for index, (message, text) in enumerate(zip(ctx.messages, ctx.texts)):
            role = message.get("role")
            if role == "user":
                # judged lazily: only if an assistant reply follows that is long enough to judge
                user_lang, judged_user = None, False
                last_user = text
                continue
            if not trainable_assistant(message) or len(text) < minimum or (final is not None and index != final):
                continue
            reply = detect_language(text, minimum)
            if reply is None or reply[1] < confidence:
                continue
            expected, source = None, ""
            if declared:
                expected, source = declared, "metadata.language"
            else:
                if not judged_user and last_user is not None:
                    user_lang, judged_user = detect_language(last_user, minimum), True
                if user_lang is not None and user_lang[1] >= confidence:
                    expected, source = user_lang[0], "the customer's message"
            if expected is None or expected == reply[0] or reply[0] in _CLOSE.get(expected, ()):
                continue
            if (expected, reply[0]) in self._allowed:
                continue
            yield Finding(
                message=f"the assistant reply is in {reply[0]!r} (p={reply[1]:.2f}) but {source} is in {expected!r}",
                pointer=ctx.content_pointer(index),
                hint="reply in the customer's language, or fix metadata.language",
                score=round(reply[1] * (user_lang[1] if user_lang and not declared else 1.0), 4),
            )


# --------------------------------------------------------------------------- Q006 / Q007

_TRAILING_LINE_SPACE = re.compile(r"[ \t]+(?=\n)")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def normalize_whitespace(text: str) -> str:
    """CRLF to LF, no trailing spaces on lines, at most one blank line in a row, no leading/trailing space."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRAILING_LINE_SPACE.sub("", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


def _whitespace_suspect(text: str) -> bool:
    """Whether a non-empty text may have a problem Q006 reports (else it surely has none)."""
    return (text[0].isspace() or text[-1].isspace() or "\r" in text
            or ("\n" in text and (" \n" in text or "\t\n" in text or "\n\n\n" in text)))


@register
class Whitespace(ExampleRule):
    code = "Q006"
    name = "whitespace"
    summary = "Message text has leading/trailing white space, trailing spaces on lines, CR line ends or runs of blank lines."
    why = (
        "Stray white space is learned as part of the reply: the model starts answers with a space or "
        "newline (a different first token than the trainer's template expects) and pads replies with "
        "blank lines. Normalising it changes no meaning, so the fix is safe."
    )
    bad = _line(_user("Do you ship to Canada?"), _assistant("\\n Yes, we ship to Canada.  \\n\\n\\n\\nDelivery takes a week. "))
    good = _line(_user("Do you ship to Canada?"), _assistant("Yes, we ship to Canada.\\n\\nDelivery takes a week."))
    default_severity = Severity.WARNING
    fix_safety = "safe"
    options = (
        RuleOption("roles", "list[str]", ["system", "developer", "user", "assistant"], "Message roles to check."),
    )

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        # Most examples have no message with a white-space problem: settle them without a generator.
        roles = self.opts["roles"]
        for message, text in zip(ctx.messages, ctx.texts):
            if text and _whitespace_suspect(text) and message.get("role") in roles:
                return self._check(ctx)
        return ()

    def _check(self, ctx: ExampleContext) -> Iterable[Finding]:
        roles = self.opts["roles"]
        for index, (message, text) in enumerate(zip(ctx.messages, ctx.texts)):
            if not text or message.get("role") not in roles:
                continue
            if not _whitespace_suspect(text):
                continue
            problems = []
            if text != text.strip():
                problems.append("leading or trailing white space")
            if "\r" in text:
                problems.append("carriage returns")
            unified = text.replace("\r\n", "\n").replace("\r", "\n")
            if _TRAILING_LINE_SPACE.search(unified):
                problems.append("trailing spaces on lines")
            if _MANY_NEWLINES.search(unified):
                problems.append("runs of blank lines")
            if not problems:
                continue
            yield Finding(
                message=f"the {message.get('role')} message has " + ", ".join(problems),
                pointer=ctx.content_pointer(index),
                hint="`ftkit lint --fix` normalises it",
                fix=Fix(
                    "normalise white space",
                    "safe",
                    lambda record, i=index: map_message_texts(record, normalize_whitespace, indices=[i]),
                ),
            )


_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069\ufffd]")
_INVISIBLE_NAMES = {
    "\u00ad": "soft hyphen", "\u200b": "zero-width space", "\u2060": "word joiner", "\ufeff": "byte order mark",
    "\ufffd": "replacement character (data already lost)",
}  # fmt: skip


# Printable ASCII, tab, LF and CR: the ASCII characters _INVISIBLE does not match.
_VISIBLE_ASCII = bytes([9, 10, 13, *range(32, 127)])
# Deleting these from a text leaves nothing exactly when Q003 can share the duplicate rules' words.
_VISIBLE_ASCII_BUT_KEPT_BY_Q003 = bytes(c for c in _VISIBLE_ASCII if chr(c) not in _KEPT_BY_Q003)


def _all_clean_ascii(texts: list[str]) -> bool:
    """Whether every text is ASCII without an invisible or control character (Q007 has nothing to
    say), tested on the texts joined (one encode and translate)."""
    return all(map(str.isascii, texts)) and not "".join(texts).encode("ascii").translate(None, _VISIBLE_ASCII)


def normalize_unicode(text: str) -> str:
    """NFC, without invisible formatting and control characters (tabs, newlines kept)."""
    cleaned = _INVISIBLE.sub(lambda m: "" if m.group() != "\ufffd" else m.group(), text)
    return unicodedata.normalize("NFC", cleaned)


@register
class UnicodeNormalization(ExampleRule):
    code = "Q007"
    name = "unicode-normalization"
    summary = "Text is not NFC-normalised or holds invisible characters (zero-width spaces, BOMs, controls, bidi marks, U+FFFD)."
    why = (
        "The same word in two Unicode forms is two different token sequences, and invisible characters "
        "(pasted from web pages and PDFs) are tokens the model learns to emit. NFC and removing "
        "invisible characters change nothing a reader sees, so the fix is safe; U+FFFD marks text that "
        "was lost in an earlier decoding and is reported, not removed."
    )
    bad = _line(_user("Can I pay by invoice?"), _assistant("Yes,\u200b you can pay by invoice after the first order."))
    good = _line(_user("Can I pay by invoice?"), _assistant("Yes, you can pay by invoice after the first order."))
    default_severity = Severity.WARNING
    fix_safety = "safe"

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if _all_clean_ascii(ctx.texts):
            return ()  # the usual case: plain ASCII text, nothing to normalise
        return self._check(ctx)

    def _check(self, ctx: ExampleContext) -> Iterable[Finding]:
        for index, text in enumerate(ctx.texts):
            if not text:
                continue
            invisible = _INVISIBLE.findall(text) if not text.isascii() or _INVISIBLE.search(text) else []
            not_nfc = not text.isascii() and not unicodedata.is_normalized("NFC", text)
            if not invisible and not not_nfc:
                continue
            problems = []
            if not_nfc:
                problems.append("not NFC-normalised")
            if invisible:
                names = sorted({_INVISIBLE_NAMES.get(c, f"U+{ord(c):04X}") for c in invisible})
                problems.append(f"{len(invisible)} invisible or control character(s): " + ", ".join(names))
            pointer = ctx.content_pointer(index)
            fixable = normalize_unicode(text) != text
            yield Finding(
                message=f"the {ctx.messages[index].get('role')} message is " + "; ".join(problems),
                pointer=pointer,
                hint="`ftkit lint --fix` normalises to NFC and removes invisible characters" if fixable else None,
                spans=[Span(m.start(), m.end(), m.group(), pointer, label="invisible") for m in _INVISIBLE.finditer(text)][:20],
                fix=Fix(
                    "normalise to NFC and remove invisible characters",
                    "safe",
                    lambda record, i=index: map_message_texts(record, normalize_unicode, indices=[i]),
                )
                if fixable
                else None,
            )


# --------------------------------------------------------------------------- Q008


@register
class SystemPromptVaries(DatasetRule):
    code = "Q008"
    name = "system-prompt-varies"
    summary = "The system prompt differs across the dataset (or is missing in some examples)."
    why = (
        "A dataset that should teach one behavior should condition it on one system prompt, the one you "
        "will deploy with. Variants split what the model learns across prompts it will never see in "
        "production, and examples without the prompt teach the behavior unconditioned. Each variant "
        "other than the most common is reported once, at its first example."
    )
    bad = "\n".join(
        [
            _line(_system("You are Acme's friendly support assistant."), _user("Hi, where is my order?"), _assistant("Let me check that for you.")),
            _line(_system("You are Acme's friendly support assistant."), _user("Can I return shoes?"), _assistant("Yes, within 30 days.")),
            _line(_system("You are a terse helpdesk bot. Answer in one line."), _user("Do you ship abroad?"), _assistant("Yes, to 40 countries.")),
        ]
    )  # fmt: skip
    good = "\n".join(
        [
            _line(_system("You are Acme's friendly support assistant."), _user("Hi, where is my order?"), _assistant("Let me check that for you.")),
            _line(_system("You are Acme's friendly support assistant."), _user("Can I return shoes?"), _assistant("Yes, within 30 days.")),
            _line(_system("You are Acme's friendly support assistant."), _user("Do you ship abroad?"), _assistant("Yes, to 40 countries.")),
        ]
    )  # fmt: skip
    default_severity = Severity.WARNING
    options = (
        RuleOption("max-variants", "int", 1, "How many distinct system prompts are expected (missing counts as one)."),
        RuleOption("max-reports", "int", 50, "Report at most this many variants (the most used first)."),
    )
    # Memory stays small when every example has its own prompt (one with a date or a name in
    # it): counts for up to _COUNT_LIMIT variants, locations and previews for the first
    # _LOCATE_LIMIT only (reports name at most `max-reports` anyway).
    _COUNT_LIMIT = 200_000
    _LOCATE_LIMIT = 2_000

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._counts: dict[bytes, int] = {}
        self._where: dict[bytes, tuple[ExampleRef, str | None, str]] = {}  # key -> (first ref, preview, pointer)
        self._last: tuple[str | None, str, tuple[bytes, str | None, str]] = (None, "", (b"", None, "/messages"))
        self._total = 0
        self._uncounted = 0

    def prepare(self, ctx: ExampleContext) -> tuple[bytes, str | None, str]:
        """``(key of the normalised system prompt or b"" for none, its preview, its pointer)``."""
        prompt, where = None, "/messages"
        for index, (message, text) in enumerate(zip(ctx.messages, ctx.texts)):
            if message.get("role") in ("system", "developer"):
                prompt, where = text, ctx.content_pointer(index)
                break
        if prompt is None:
            return b"", None, where
        if prompt == self._last[0] and where == self._last[1]:
            # Datasets repeat one prompt: skip normalising it again, and hand back the same
            # tuple (pickled once per chunk on its way to the main process).
            return self._last[2]
        value = (hashlib.blake2b(normalize_text(prompt).encode(), digest_size=12).digest(), preview(prompt, 50), where)
        self._last = (prompt, where, value)
        return value

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        key, shown, where = self.prepared(ctx)
        self._total += 1
        count = self._counts.get(key)
        if count is not None:
            self._counts[key] = count + 1
        elif len(self._counts) < self._COUNT_LIMIT:
            self._counts[key] = 1
            if len(self._where) < self._LOCATE_LIMIT:
                self._where[key] = (ctx.ref, shown, where)
        else:
            self._uncounted += 1
        return ()

    def finish(self) -> Iterable[Finding]:
        if len(self._counts) <= self.opts["max-variants"]:
            return
        located = sorted(self._where, key=lambda k: (-self._counts[k], self._where[k][0].index))
        common = located[0]
        common_ref, common_preview, _ = self._where[common]
        distinct = f"{len(self._counts):,}" + ("+" if self._uncounted else "")
        common_desc = f"{common_preview!r}" if common_preview is not None else "no system prompt"
        reports = located[1 : 1 + self.opts["max-reports"]]
        for key in sorted(reports, key=lambda k: self._where[k][0].index):
            ref, text, where = self._where[key]
            count = self._counts[key]
            what = f"system prompt {text!r}" if text is not None else "no system prompt"
            yield Finding(
                message=f"{what} is used by {count} of {self._total} examples; the most common, {common_desc} "
                f"(line {common_ref.line}), by {self._counts[common]} ({distinct} variants in all)",
                pointer=where,
                hint="use the one system prompt you will deploy with in every example",
                at=ref,
                extra={"variants": len(self._counts), "examples_with_variant": count},
            )
