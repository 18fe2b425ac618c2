"""Which groups of literal cues occur in a text, answered by one scan of it.

Many rules first ask "does this text hold any of these substrings?" before running their
real patterns, and most texts hold none. Asked with ``in`` tests, that is one pass over the
text per cue; with dozens of cues per rule and several rules it costs more than the rules.
RE2's multi-pattern set (google-re2) compiles all the groups into one automaton that reads
the text once and reports every group with a cue anywhere in it, overlaps included.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import re2


class CueSet:
    """Groups of literal substrings; :meth:`found` gives the groups with at least one in a text.

    Matching is exact and case-sensitive (lower-case the text and the cues for a
    case-insensitive test). A group without cues is never found; an empty-string cue is
    found in every text, as ``"" in text`` is.

    ``lowered_ascii=True`` answers, for ASCII texts only, what a plain set answers for
    ``text.lower()``, without lower-casing: ``lower()`` maps A-Z to a-z and nothing else on
    ASCII, so a cue occurs in the lower-cased text exactly when it occurs in the text ignoring
    ASCII case, and a cue that is not ASCII or not lower-case occurs in neither. (RE2's case
    folding pairs an ASCII letter with a non-ASCII one only, e.g. k with the Kelvin sign,
    which an ASCII text does not hold.)
    """

    __slots__ = ("_set", "_groups", "_always")

    def __init__(self, groups: Sequence[Iterable[str]], *, lowered_ascii: bool = False) -> None:
        self._groups = tuple(tuple(dict.fromkeys(group)) for group in groups)
        self._always = tuple(k for k, cues in enumerate(self._groups) if "" in cues)
        options = re2.Options()
        if lowered_ascii:
            options.case_sensitive = False
        self._set = re2.Set.SearchSet(options)
        for cues in self._groups:
            if lowered_ascii:
                cues = tuple(cue for cue in cues if cue.isascii() and cue == cue.lower())
            # every group gets a pattern so that set indexes are group indexes; "[^\s\S]" never matches
            self._set.Add("|".join(re2.escape(cue) for cue in cues if cue) or r"[^\s\S]")
        self._set.Compile()

    @property
    def groups(self) -> tuple[tuple[str, ...], ...]:
        """The cue groups, in the order given (duplicates within a group dropped)."""
        return self._groups

    def found(self, text: str) -> frozenset[int]:
        """The indexes of the groups with at least one cue in ``text``."""
        try:
            matched = self._set.Match(text)
        except UnicodeEncodeError:  # a lone surrogate, which UTF-8 (RE2's input) cannot hold
            return frozenset(k for k, cues in enumerate(self._groups) if any(cue in text for cue in cues))
        if self._always:
            return frozenset(matched or ()) | frozenset(self._always)
        return frozenset(matched) if matched else frozenset()

    def any_in(self, text: str) -> bool:
        """Whether ``text`` holds any cue of any group."""
        return bool(self.found(text))

    def __len__(self) -> int:
        return len(self._groups)


def cue_set(cues: Iterable[str]) -> CueSet:
    """A :class:`CueSet` of one group: ``cue_set(cues).any_in(text)`` is ``any(c in text for c in cues)``."""
    return CueSet([tuple(cues)])
