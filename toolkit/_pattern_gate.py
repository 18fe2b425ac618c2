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
import re._compiler as _Compiler
import re._parser as _P
from typing import Sequence

import re2

_ASCII = [chr(code) for code in range(128)]
_REPEAT_LIMIT = 1000  # RE2 refuses counted repetitions above this
_SINGLE_CHARACTER = (_C.LITERAL, _C.NOT_LITERAL, _C.ANY, _C.IN)


class UnsupportedPattern(ValueError):
    """The pattern holds a construct the rewrite cannot widen (or, for :func:`re2_exact`, keep exact)."""


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


_MEMBERS: dict[tuple[str, int], frozenset[str]] = {}


def _ascii_members(node, state, flags: int) -> frozenset[str]:
    """The ASCII characters a one-character node (literal, class, dot) matches, asked of Python's
    own engine: its case folding under IGNORECASE ("ſ" matches "s", "ı" matches "I") included."""
    op, value = node
    ignore_case = flags & re.IGNORECASE
    if op is _C.LITERAL and value < 128:  # most nodes: answered without the engine
        ch = chr(value)
        return frozenset({ch.lower(), ch.upper()}) if ignore_case and ch.isalpha() else frozenset(ch)
    key = (repr(node), flags & (re.IGNORECASE | re.DOTALL))
    members = _MEMBERS.get(key)
    if members is None:
        single = _Compiler.compile(_P.SubPattern(state, [node]), flags)
        members = _MEMBERS[key] = frozenset(ch for ch in _ASCII if single.fullmatch(ch))
    return members


def _emit(items, state, flags: int, exact: bool) -> str:
    """RE2 source for a Python parse (sub)tree: widened where RE2 cannot say the same, or (``exact``)
    :class:`UnsupportedPattern` there."""

    def unsupported(what: str) -> str:
        if exact:
            raise UnsupportedPattern(f"{what}: RE2 cannot say exactly the same")
        return ""  # dropped: wider

    out: list[str] = []
    for op, value in items:
        if op in _SINGLE_CHARACTER:
            out.append(_ascii_class(_ascii_members((op, value), state, flags)))
        elif op is _C.BRANCH:
            out.append("(?:" + "|".join(_emit(branch.data, state, flags, exact) for branch in value[1]) + ")")
        elif op is _C.SUBPATTERN:
            _group, add_flags, del_flags, sub = value
            out.append("(?:" + _emit(sub.data, state, (flags | add_flags) & ~del_flags, exact) + ")")
        elif op is _C.ATOMIC_GROUP:
            out.append(unsupported("an atomic group") or "(?:" + _emit(value.data, state, flags, exact) + ")")
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            low, high, sub = value
            if op is _C.POSSESSIVE_REPEAT:
                unsupported("a possessive repeat")  # (wider as a plain one)
            body = "(?:" + _emit(sub.data, state, flags, exact) + ")"
            if low > _REPEAT_LIMIT or (high is not _C.MAXREPEAT and high > _REPEAT_LIMIT):
                unsupported("a repeat count over 1000")
                low = min(low, _REPEAT_LIMIT)  # fewer required repeats, no upper bound: wider
                high = _C.MAXREPEAT
            count = ("*" if low == 0 else "+" if low == 1 else f"{{{low},}}") if high is _C.MAXREPEAT \
                else f"{{{low},{high}}}"
            out.append(body + count + ("?" if op is _C.MIN_REPEAT else ""))
        elif op is _C.AT:
            if value is _C.AT_BOUNDARY:
                out.append(r"\b")  # ASCII text: Python's word characters are RE2's
            elif value is _C.AT_NON_BOUNDARY:
                out.append(r"\B")
            elif value is _C.AT_BEGINNING_STRING or (value is _C.AT_BEGINNING and not flags & re.MULTILINE):
                out.append(r"\A")
            elif value is _C.AT_END_STRING:
                out.append(r"\z")
            else:
                # "$" (also before a final newline) and the multi-line anchors
                out.append(unsupported(f"the anchor {value}"))
        elif op in (_C.ASSERT, _C.ASSERT_NOT):
            out.append(unsupported("a lookaround"))
        elif op is _C.GROUPREF:
            out.append(unsupported("a backreference") or r"[\x00-\x7f]*")  # it matches some text
        elif op is _C.GROUPREF_EXISTS:
            unsupported("a conditional group")
            _group, yes, no = value
            out.append("(?:" + _emit(yes.data, state, flags, exact) + "|"
                       + (_emit(no.data, state, flags, exact) if no else "") + ")")
        else:
            raise UnsupportedPattern(f"{op} in pattern")
    return "".join(out)


def _parsed(pattern: re.Pattern[str]):
    if not isinstance(pattern.pattern, str):
        raise UnsupportedPattern("bytes pattern")
    if pattern.flags & re.ASCII:
        raise UnsupportedPattern("re.ASCII patterns are not needed here")
    return _P.parse(pattern.pattern, pattern.flags)


def re2_superset(pattern: re.Pattern[str]) -> str:
    """RE2 source matching, on ASCII text, everywhere ``pattern`` matches (possibly more).

    Raises :class:`UnsupportedPattern` for a construct it cannot widen (none in Python 3.11's
    parse trees are known; the check guards future ones). Bytes patterns are not supported.
    """
    parsed = _parsed(pattern)
    return _emit(parsed.data, parsed.state, parsed.state.flags, exact=False)


def re2_exact(pattern: re.Pattern[str]) -> "re2._Regexp":
    """``pattern`` as an RE2 bytes pattern with the same matches on ASCII text (as bytes).

    RE2 chooses among alternatives and repeats as Python does (leftmost-first, greedy or
    lazy), so for a pattern without lookarounds, backreferences, atomic or possessive parts,
    end anchors or empty matches, ``re2_exact(p).finditer(text.encode())`` gives the spans of
    ``p.finditer(text)`` for ASCII ``text``, in linear time. Raises :class:`UnsupportedPattern`
    for any other pattern.
    """
    parsed = _parsed(pattern)
    if parsed.getwidth()[0] == 0:
        raise UnsupportedPattern("the pattern can match empty text (finditer steps differ)")
    return re2.compile(_emit(parsed.data, parsed.state, parsed.state.flags, exact=True).encode("ascii"))


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
        # state cache grows as new kinds of text come and is dropped and rebuilt when full, so
        # memory stays bounded: 16 MiB is as fast as more on 120,000 benchmark replies (the
        # knowledge gate: 3.6 us a reply; 8 MiB: 4.8 us, 4 MiB: 9.2 us).
        options.max_mem = 16 << 20
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
