"""Which of several regular expressions can match an ASCII text, answered by one scan of it.

The knowledge extractor runs dozens of Python regular expressions over every assistant
reply, and on most replies most of them match nothing; finding that out costs a pass of
Python's backtracking engine per pattern (or a scan for where each could start). RE2's
multi-pattern set reads the text once, in linear time, and says which patterns match
somewhere in it.

RE2 lacks lookarounds and backreferences and reads ``\\b``, ``\\w``, ``\\d`` and ``\\s``
in ASCII, so a Python pattern is not handed over as it is: :func:`re2_superset` rewrites
it, from Python's own parse tree, into an RE2 pattern that matches wherever the Python one
does on ASCII text (character classes spelt out over ASCII with Python's meaning,
assertions RE2 cannot express dropped, lazy and possessive repeats made plain). It may
match where the Python pattern does not; never the reverse. So a :class:`PatternGate`
answer "cannot match" is exact, and "may match" is settled by the Python pattern itself.
"""

from __future__ import annotations

import re
import re._constants as _C
import re._parser as _P
from typing import Sequence

import re2

_ASCII = [chr(code) for code in range(128)]
# Python's meaning of the class shorthands for str patterns, restricted to ASCII.
_CATEGORY_MEMBERS: dict[object, frozenset[str]] = {}
for _category, _shorthand in ((_C.CATEGORY_DIGIT, r"\d"), (_C.CATEGORY_NOT_DIGIT, r"\D"),
                              (_C.CATEGORY_WORD, r"\w"), (_C.CATEGORY_NOT_WORD, r"\W"),
                              (_C.CATEGORY_SPACE, r"\s"), (_C.CATEGORY_NOT_SPACE, r"\S")):
    _CATEGORY_MEMBERS[_category] = frozenset(ch for ch in _ASCII if re.fullmatch(_shorthand, ch))
_LINEBREAK_CATEGORIES = {_C.CATEGORY_LINEBREAK: frozenset("\n"), _C.CATEGORY_NOT_LINEBREAK: frozenset(_ASCII) - {"\n"}}
_CATEGORY_MEMBERS.update(_LINEBREAK_CATEGORIES)
_REPEAT_LIMIT = 1000  # RE2 refuses counted repetitions above this


class UnsupportedPattern(ValueError):
    """The pattern holds a construct :func:`re2_superset` does not know how to widen."""


def _ascii_class(members: frozenset[str] | set[str]) -> str:
    """An RE2 character class matching exactly ``members`` (ASCII characters); never matches if empty."""
    if not members:
        return r"[^\x00-\x{10FFFF}]"
    codes = sorted(ord(ch) for ch in members)
    parts: list[str] = []
    start = previous = codes[0]
    for code in codes[1:] + [-1]:
        if code == previous + 1:
            previous = code
            continue
        parts.append(f"\\x{start:02x}" if start == previous else f"\\x{start:02x}-\\x{previous:02x}")
        start = previous = code
    return "[" + "".join(parts) + "]"


def _class_members(items: list, ignore_case: bool) -> frozenset[str]:
    """The ASCII characters a Python ``IN`` node (a bracketed class) matches."""
    negate = bool(items) and items[0][0] is _C.NEGATE
    members: set[str] = set()
    for op, value in items[1:] if negate else items:
        if op is _C.LITERAL:
            if value < 128:
                members.add(chr(value))
        elif op is _C.RANGE:
            members.update(chr(code) for code in range(value[0], min(value[1], 127) + 1))
        elif op is _C.CATEGORY:
            members |= _CATEGORY_MEMBERS[value]
        else:
            raise UnsupportedPattern(f"class item {op}")
    if ignore_case:
        members |= {ch.swapcase() for ch in members if ch.isascii() and ch.isalpha()}
    return frozenset(_ASCII) - members if negate else frozenset(members)


def _emit(items, flags: int) -> str:
    """RE2 source for a Python parse (sub)tree, widened where RE2 cannot say the same."""
    ignore_case = bool(flags & re.IGNORECASE)
    out: list[str] = []
    for op, value in items:
        if op is _C.LITERAL:
            ch = chr(value)
            if ignore_case and ch.isascii() and ch.isalpha():
                out.append(_ascii_class({ch.lower(), ch.upper()}))
            else:
                out.append(re2.escape(ch))
        elif op is _C.NOT_LITERAL:
            excluded = {chr(value)}
            if ignore_case:
                excluded |= {chr(value).swapcase()}
            out.append(_ascii_class(frozenset(_ASCII) - excluded))
        elif op is _C.ANY:
            out.append(_ascii_class(frozenset(_ASCII) if flags & re.DOTALL else frozenset(_ASCII) - {"\n"}))
        elif op is _C.IN:
            out.append(_ascii_class(_class_members(list(value), ignore_case)))
        elif op is _C.BRANCH:
            out.append("(?:" + "|".join(_emit(branch.data, flags) for branch in value[1]) + ")")
        elif op is _C.SUBPATTERN:
            _group, add_flags, del_flags, sub = value
            out.append("(?:" + _emit(sub.data, (flags | add_flags) & ~del_flags) + ")")
        elif op is _C.ATOMIC_GROUP:
            out.append("(?:" + _emit(value.data, flags) + ")")  # atomic only removes matches
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            low, high, sub = value
            body = "(?:" + _emit(sub.data, flags) + ")"
            if low > _REPEAT_LIMIT:
                low = _REPEAT_LIMIT  # fewer required repeats: wider
            if high is _C.MAXREPEAT or high > _REPEAT_LIMIT:
                out.append(body + ("*" if low == 0 else "+" if low == 1 else f"{{{low},}}"))
            else:
                out.append(body + f"{{{low},{high}}}")
        elif op is _C.AT:
            if value is _C.AT_BOUNDARY:
                out.append(r"\b")  # ASCII text: Python's word characters are RE2's
            elif value is _C.AT_NON_BOUNDARY:
                out.append(r"\B")
            elif value is _C.AT_BEGINNING_STRING or (value is _C.AT_BEGINNING and not flags & re.MULTILINE):
                out.append(r"\A")
            # "$" (also before a final newline), "\Z" and multi-line anchors: dropped (wider)
        elif op in (_C.ASSERT, _C.ASSERT_NOT):
            pass  # lookarounds only remove matches: dropped (wider)
        elif op is _C.GROUPREF:
            out.append(r"[\x00-\x7f]*")  # a backreference matches some text
        elif op is _C.GROUPREF_EXISTS:
            _group, yes, no = value
            out.append("(?:" + _emit(yes.data, flags) + "|" + (_emit(no.data, flags) if no else "") + ")")
        else:
            raise UnsupportedPattern(f"{op} in pattern")
    return "".join(out)


def re2_superset(pattern: re.Pattern[str]) -> str:
    """RE2 source matching, on ASCII text, everywhere ``pattern`` matches (possibly more).

    Raises :class:`UnsupportedPattern` for a construct it cannot widen (none in Python 3.11's
    parse trees are known; the check guards future ones). Bytes patterns are not supported.
    """
    if not isinstance(pattern.pattern, str):
        raise UnsupportedPattern("bytes pattern")
    if pattern.flags & re.ASCII:
        raise UnsupportedPattern("re.ASCII patterns are not needed here")
    parsed = _P.parse(pattern.pattern, pattern.flags)
    return _emit(parsed.data, parsed.state.flags)


class PatternGate:
    """Which of ``patterns`` may match an ASCII text, from one linear-time RE2 scan.

    ``possible(text)`` is a superset of ``{k for k, p in enumerate(patterns) if p.search(text)}``
    for every ASCII ``text``: a pattern left out cannot match. Not for non-ASCII text.
    """

    __slots__ = ("_set", "_patterns")

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self._patterns = tuple(patterns)
        options = re2.Options()
        # RE2::Set would report "no match" if its DFA could not be built at all: give it room. The
        # state cache grows as new kinds of text come (~17 MB over 200,000 replies for the
        # knowledge gate) and is dropped and rebuilt when full, so memory stays bounded.
        options.max_mem = 64 << 20
        self._set = re2.Set.SearchSet(options)
        for pattern in self._patterns:
            self._set.Add(re2_superset(pattern))
        self._set.Compile()

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        return self._patterns

    def possible(self, ascii_text: str) -> frozenset[int]:
        """Indexes of the patterns that may match ``ascii_text`` (the rest cannot)."""
        found = self._set.Match(ascii_text)
        return frozenset(found) if found else frozenset()
