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
    """

    __slots__ = ("_set", "_groups", "_always", "_size")

    def __init__(self, groups: Sequence[Iterable[str]]) -> None:
        self._groups = tuple(tuple(dict.fromkeys(group)) for group in groups)
        self._size = len(self._groups)
        self._always = tuple(k for k, cues in enumerate(self._groups) if "" in cues)
        self._set = re2.Set.SearchSet()
        for cues in self._groups:
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
        return bool(self.found(text)) if self._always else self._match_any(text)

    def _match_any(self, text: str) -> bool:
        try:
            return self._set.Match(text) is not None
        except UnicodeEncodeError:
            return any(cue in text for cues in self._groups for cue in cues)

    def __len__(self) -> int:
        return self._size


def cue_set(cues: Iterable[str]) -> CueSet:
    """A :class:`CueSet` of one group: ``cue_set(cues).any_in(text)`` is ``any(c in text for c in cues)``."""
    return CueSet([tuple(cues)])
