"""Plain-text and HTML chat transcripts -> conversations.

Message lines (a time stamp is optional; a line's style need not match the others):

* ``[10:02] Name: text``, ``[10:02:33 AM] Name: text``, ``[2024-03-01 10:02] Name: text``
* ``(01:51:14 PM) Name: text``, ``10:02 Name: text``, ``2024-03-01 10:02:11 Name: text``
* ``( 1m 13s ) Name: text`` (time since the chat started: kept as ``metadata.offset_seconds``)
* ``Name: text``, and ``time | Name | text`` rows (HTML tables)

System lines - ``*** Eric joined the chat ***``, ``--- Chat started ---`` or ``[10:02] *** Eric left ***``,
and lines such as ``Eric has joined the chat`` - become :attr:`Speaker.SYSTEM` turns. Any other
non-blank line continues the previous message (multi-line messages keep their line breaks).

One file may hold several transcripts: a new one starts after a separator line (``---``,
``===``, ``***`` alone), at a header line (``Chat #1234``, ``Conversation ID: abc``,
``Transcript 3``) or after two blank lines (``split_blank_lines``). Header lines before the
first message such as ``Date: 2024-03-01``, ``Email: ...``, ``Subject: ...`` become metadata
(a date turns clock times into ISO 8601 times).

Who is who: names given in ``agents`` (or matching ``agent_pattern``) are agents, names in
``bot_names`` (or matching ``bot_pattern``) are bots, everyone else is the customer. Without
``agents``, a name that says what it is (``Agent``, ``Support``, ``Operator`` ... ``Customer``,
``Visitor`` ... ``Bot``) is taken at its word, and someone announced by ``X joined the chat`` is an
agent; each guess is recorded in ``turn.metadata["role_from"]`` and a warning asks for ``--agent``.

HTML transcripts are converted to text first (one message per block or table row; ``<hr>``
separates transcripts). Text files stream line by line; an HTML file is converted whole.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from toolkit.model import Conversation, Participant, Speaker, Turn
from toolkit.readers.base import (
    R_NO_MESSAGES,
    Reader,
    ReaderError,
    ReaderOption,
    Sample,
    add_participant,
    text_lines,
)
from toolkit.readers.html import html_to_text, structured_chat_lines
from toolkit.io.jsonl import open_binary

_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?"
_DATE = r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}\.\d{1,2}\.\d{2,4}"
_STAMP = rf"(?:(?:{_DATE})[ T,]\s*)?{_CLOCK}(?:\s?(?:Z|UTC|GMT|[+-]\d{{2}}:?\d{{2}}))?"
_OFFSET = r"(?:\d+\s*h\s*)?(?:\d+\s*m\s*)?\d+\s*s"
_NAME = r"[^\s:\[\]()|*<>{}\"][^:\[\]|<>{}\"]{0,47}?"

_BRACKETED = re.compile(rf"^\s*[\[(]\s*(?P<stamp>{_STAMP}|{_OFFSET})\s*[\])]\s*(?:[-\u2013\u2014]\s+)?(?P<rest>.*)$")
_BARE_STAMP = re.compile(rf"^\s*(?P<stamp>{_STAMP})\s*(?:\s[-\u2013\u2014]\s|\s)\s*(?P<rest>.*)$")
# "Eric (10:02 AM): text" / "Eric [10:02]: text"
_NAME_STAMP = re.compile(rf"^(?P<name>{_NAME})\s*[\[(]\s*(?P<stamp>{_STAMP}|{_OFFSET})\s*[\])]\s*:\s?(?P<text>.*)$")
_SPEAKER = re.compile(rf"^(?P<name>{_NAME})\s*:\s(?P<text>.*)$|^(?P<name2>{_NAME})\s*:$")
_PIPE_ROW = re.compile(rf"^\s*(?:(?P<stamp>{_STAMP}|{_OFFSET})\s*\|\s*)?(?P<name>{_NAME})\s*\|\s*(?P<text>.+)$")
_SYSTEM_STARS = re.compile(r"^\s*(\*{2,}|-{2,}|={2,})\s*(?P<text>\S.*?)\s*(\*{2,}|-{2,}|={2,})\s*$")
_SYSTEM_WORDS = re.compile(
    r"^(?P<who>.{1,60}?)\s+(?:has\s+)?(?:joined|left|entered|exited|disconnected|transferred|"
    r"(?:has\s+)?ended|closed|accepted|was\s+assigned|is\s+now\s+(?:chatting|handling))\b.*$",
    re.IGNORECASE,
)
_SYSTEM_PHRASES = re.compile(
    r"^(chat|conversation|session)\s+(started|ended|closed|transferred|was\s+transferred|has\s+ended|began)\b.*$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^\s*(-{3,}|={3,}|\*{3,}|_{3,}|#{3,}|~{3,})\s*$")
_HEADER = re.compile(
    r"^\s*(?:#+\s*|={2,}\s*|-{2,}\s*)?(?P<kind>chat|conversation|transcript|ticket|session)\b\s*(?:(?:id|no\.?|number)\b\s*)?"
    r"[:#]?\s*(?P<id>[A-Za-z0-9][\w.-]*)?\s*(?:={2,}|-{2,})?\s*$",
    re.IGNORECASE,
)
_META = re.compile(
    r"^\s*(?P<key>date|started|start(?:ed)? at|(?:chat|conversation|session) started(?: at)?|ended|end(?:ed)? at|email|e-mail|phone|department|channel|subject|"
    r"rating|tags|url|page|duration|location|ip|browser|os|visitor email|customer email|customer id|visitor id|"
    r"language|status|id)\s*:\s*(?P<value>.*)$",
    re.IGNORECASE,
)
_AGENT_WORDS = re.compile(r"^(agent|support|operator|rep|representative|staff|admin|advisor|adviser|helpdesk|"
                          r"customer\s+service|customer\s+support|specialist|technician|concierge)\b", re.IGNORECASE)
_CUSTOMER_WORDS = re.compile(r"^(customer|visitor|user|client|guest|caller|member|me)\b", re.IGNORECASE)
_BOT_WORDS = re.compile(r"(\bbot\b|chatbot|virtual\s+assistant|auto[- ]?reply|automated|\bai\b)", re.IGNORECASE)
_GREETING = re.compile(r"(how (can|may) i (help|assist)|welcome to|thanks? (you )?for (contacting|reaching out|chatting)|"
                       r"you'?re (now )?chatting with|my name is \w+ (and|from)|this is \w+ from)", re.IGNORECASE)
_NOT_NAMES = re.compile(r"^(https?|ftp|mailto|note|ps|p\.s|re|fw|fwd|tip|warning|step\s*\d+|q|a|http)$", re.IGNORECASE)


@dataclass
class _Message:
    name: str | None
    text: list[str]
    line: int
    stamp: str | None = None
    system: bool = False


@dataclass
class _Transcript:
    line: int
    header_id: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    messages: list[_Message] = field(default_factory=list)
    stamped: int = 0  # messages with a time stamp


class TranscriptReader(Reader):
    name = "transcript"
    description = "plain-text or HTML chat transcripts"
    options = (
        ReaderOption("agents", "list[str]", [], "speaker names that are agents (case-insensitive); repeatable --agent"),
        ReaderOption("agent_pattern", "str", None, "regular expression: speaker names matching it are agents"),
        ReaderOption("bot_names", "list[str]", [], "speaker names that are bots"),
        ReaderOption("bot_pattern", "str", None, "regular expression: speaker names matching it are bots"),
        ReaderOption("split_blank_lines", "int", 2, "this many blank lines in a row start a new transcript (0: never)"),
        ReaderOption("date", "str", None, "date (YYYY-MM-DD) to combine with clock times when the transcript has none"),
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._agents = {a.casefold().strip() for a in self.opts["agents"]}
        self._bots = {b.casefold().strip() for b in self.opts["bot_names"]}
        self._agent_re = _compile(self.opts["agent_pattern"], "agent_pattern")
        self._bot_re = _compile(self.opts["bot_pattern"], "bot_pattern")

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        if sample.kind == "html":
            return 70
        if sample.kind != "text" or sample.name.lower().endswith((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".csv", ".tsv")):
            return 0
        lines = [line for line in sample.text.splitlines()[:60] if line.strip()]
        if not lines:
            return 0
        hits = sum(1 for line in lines if _parse_line(line) is not None)
        ratio = hits / len(lines)
        return 80 if ratio >= 0.5 else 50 if ratio >= 0.25 else 0

    # ------------------------------------------------------------------ reading

    def read_file(self, path, name) -> Iterator[Conversation]:
        lower = name.lower()
        head = b""
        with open_binary(path) as stream:
            head = stream.read(2048)
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if lower.endswith((".html", ".htm", ".html.gz", ".htm.gz")) or stripped.startswith((b"<!doctype html", b"<html")) or b"<body" in stripped[:1024]:
            lines: Iterable[tuple[int, str]] = self._html_lines(path, name)
        else:
            lines = text_lines(path, name)
        stem = _stem(name)
        count = 0
        for transcript in self._split(lines):
            count += 1
            conversation = self._conversation(transcript, name, stem, count)
            if conversation is not None:
                yield conversation
        if count == 0:
            self.skip(name, 1, R_NO_MESSAGES, "no transcript lines found")

    def _html_lines(self, path, name) -> Iterator[tuple[int, str]]:
        with open_binary(path) as stream:
            raw = stream.read()
        html = raw.decode("utf-8-sig", errors="replace")
        structured = structured_chat_lines(html)
        if structured is not None:
            lines = structured
        else:
            html = re.sub(r"<hr\b[^>]*>", "<p>---</p>", html, flags=re.IGNORECASE)
            lines = html_to_text(html).split("\n")
        for number, line in enumerate(lines, start=1):
            yield number, line

    def _split(self, lines: Iterable[tuple[int, str]]) -> Iterator[_Transcript]:
        current: _Transcript | None = None
        blanks = 0
        split_after = self.opts["split_blank_lines"]
        for number, line in lines:
            if not line.strip():
                blanks += 1
                if split_after and blanks >= split_after and current is not None and current.messages:
                    yield current
                    current = None
                continue
            pending_blanks, blanks = blanks, 0
            if _SEPARATOR.match(line):
                if current is not None and current.messages:
                    yield current
                current = None
                continue
            header = _HEADER.match(line)
            if header and (header.group("id") or not _SPEAKER.match(line.strip())):
                if current is not None and current.messages:
                    yield current
                current = _Transcript(line=number, header_id=header.group("id"))
                continue
            if current is None:
                current = _Transcript(line=number)
            meta = _META.match(line)
            if meta and not current.messages:
                current.meta[meta.group("key").lower()] = meta.group("value").strip()
                continue
            parsed = _parse_line(line)
            if parsed is not None and current.messages and parsed[2] is None and not parsed[3]:
                # An untimed "Word: text" inside a transcript whose messages are timed, by a name
                # not seen before, is more likely text ("Note: ...") than a new speaker.
                known = {m.name for m in current.messages}
                if current.stamped == len(current.messages) and parsed[0] not in known:
                    parsed = None
            if parsed is None:
                if current.messages and not current.messages[-1].system:
                    message = current.messages[-1]
                    if pending_blanks:
                        message.text.append("")
                    message.text.append(line.rstrip())
                else:
                    # Text before any message that is not a header: keep it as a system line
                    # rather than lose it (it is reported as such in the turn's metadata).
                    current.messages.append(_Message(None, [line.strip()], number, system=True))
                continue
            name, text, stamp, system = parsed
            current.messages.append(_Message(name, [text] if text else [], number, stamp=stamp, system=system))
            if stamp is not None:
                current.stamped += 1
        if current is not None and current.messages:
            yield current

    # ------------------------------------------------------------------ roles

    def _conversation(self, transcript: _Transcript, file: str, stem: str, index: int) -> Conversation | None:
        cid = transcript.header_id or transcript.meta.get("id") or f"{stem}-{index}"
        conversation = Conversation(id=str(cid), source={"file": file, "record": transcript.line, "format": "transcript"})
        started = next((v for k, v in transcript.meta.items() if "start" in k), None)
        date = _date(transcript.meta.get("date") or started) or self.opts["date"]
        for key in ("subject", "channel", "status", "language"):
            if transcript.meta.get(key):
                setattr(conversation, key, transcript.meta[key])
        if transcript.meta.get("tags"):
            conversation.tags = [t.strip() for t in re.split(r"[,;]", transcript.meta["tags"]) if t.strip()]
        if transcript.meta.get("rating"):
            conversation.csat = transcript.meta["rating"]
        for key in ("customer id", "visitor id"):
            if transcript.meta.get(key):
                conversation.customer_id = transcript.meta[key]
        extra_meta = {k: v for k, v in transcript.meta.items() if k not in ("subject", "channel", "status", "language", "tags", "rating", "id")}
        if extra_meta:
            conversation.metadata["header"] = extra_meta
        joined: list[str] = []
        for message in transcript.messages:
            if message.system:
                line = " ".join(message.text)
                who = _SYSTEM_WORDS.match(line.strip("* -="))
                if who and re.search(r"joined|entered|accepted|assigned|now\s+(chatting|handling)", line, re.IGNORECASE):
                    name = who.group("who").strip().casefold()
                    if name not in joined:
                        joined.append(name)
        names: list[str] = []
        first_text: dict[str, str] = {}
        for message in transcript.messages:
            if message.name and message.name not in names:
                names.append(message.name)
                first_text[message.name] = " ".join(message.text)
        roles = self._roles(names, joined, first_text)
        if any(source not in ("given", "name") for _, source in roles.values()):
            self.report.warn("transcript: agents were not named; roles were guessed from join events, greetings and "
                             "positions (see turn metadata role_from; pass --agent NAME or --agent-pattern)")
        for message in transcript.messages:
            text = "\n".join(message.text).strip("\n")
            if message.system:
                turn = Turn(speaker=Speaker.SYSTEM, text=text.strip(), metadata={"line": message.line})
            else:
                speaker, source = roles[message.name]  # type: ignore[index]
                turn = Turn(speaker=speaker, text=text, author=message.name, metadata={"line": message.line})
                if source != "given":
                    turn.metadata["role_from"] = source
                add_participant(conversation, Participant(name=message.name, kind=speaker))
            if message.stamp:
                _set_time(turn, message.stamp, date)
            conversation.turns.append(turn)
        if date:
            conversation.created_at = next((t.time for t in conversation.turns if t.time), date)
        for key in ("email", "e-mail", "visitor email", "customer email", "phone"):
            value = transcript.meta.get(key)
            if value:
                customer = next((p for p in conversation.participants if p.kind is Speaker.CUSTOMER), None)
                attr = "phone" if key == "phone" else "email"
                if customer is not None and getattr(customer, attr) is None:
                    setattr(customer, attr, value)
                else:
                    add_participant(conversation, Participant(kind=Speaker.CUSTOMER, **{attr: value}))
        if not any(t.speaker is not Speaker.SYSTEM for t in conversation.turns):
            self.skip(file, transcript.line, R_NO_MESSAGES, f"transcript {cid} has only system lines")
            return None
        return conversation

    def _roles(self, names: list[str], joined: list[str], first_text: dict[str, str]) -> dict[str, tuple[Speaker, str]]:
        """Speaker and how it was decided (``given``, ``name``, ``joined``, ``greeting``, ``other``, ``position``)."""
        roles: dict[str, tuple[Speaker, str]] = {}
        guessing = not self._agents and self._agent_re is None
        for name in names:
            folded = name.casefold().strip()
            base = re.sub(r"\s*\([^)]*\)$", "", folded)  # "Eric (Support)" is Eric
            if {folded, base} & self._bots or (self._bot_re is not None and self._bot_re.search(name)):
                roles[name] = (Speaker.BOT, "given")
            elif {folded, base} & self._agents or (self._agent_re is not None and self._agent_re.search(name)):
                roles[name] = (Speaker.AGENT, "given")
            elif _BOT_WORDS.search(name) and not self._bots and self._bot_re is None:
                roles[name] = (Speaker.BOT, "name")
            elif not guessing:
                roles[name] = (Speaker.CUSTOMER, "given")
            elif _AGENT_WORDS.match(name):
                roles[name] = (Speaker.AGENT, "name")
            elif _CUSTOMER_WORDS.match(name):
                roles[name] = (Speaker.CUSTOMER, "name")
            elif folded in joined and (len(joined) == 1 or joined.index(folded) > 0):
                # The first to join opened the chat (the customer); later joiners were brought in.
                roles[name] = (Speaker.AGENT, "joined")
            elif folded in joined:
                roles[name] = (Speaker.CUSTOMER, "joined")
            elif _GREETING.search(first_text.get(name, "")):
                roles[name] = (Speaker.AGENT, "greeting")
        unknown = [name for name in names if name not in roles]
        if unknown:
            kinds = {speaker for speaker, _ in roles.values()}
            if Speaker.CUSTOMER in kinds and Speaker.AGENT not in kinds:
                fill = {name: (Speaker.AGENT, "other") for name in unknown}
            elif Speaker.AGENT in kinds:
                fill = {name: (Speaker.CUSTOMER, "other") for name in unknown}
            else:
                first = unknown[0]
                fill = {name: ((Speaker.CUSTOMER if name == first else Speaker.AGENT), "position") for name in unknown}
            roles.update(fill)
        return roles


# --------------------------------------------------------------------------- line parsing


def _parse_line(line: str) -> tuple[str | None, str, str | None, bool] | None:
    """``(name, text, stamp, is_system)`` for a message or system line, else ``None``."""
    text = line.strip()
    stamp = None
    match = _BRACKETED.match(text)
    if match:
        stamp, text = match.group("stamp").strip(), match.group("rest").strip()
    else:
        bare = _BARE_STAMP.match(text)
        if bare and (_SPEAKER.match(bare.group("rest").strip()) or _is_system(bare.group("rest").strip())):
            stamp, text = bare.group("stamp").strip(), bare.group("rest").strip()
    if stamp is None:
        named = _NAME_STAMP.match(text)
        if named and _plausible_name(named.group("name")):
            return named.group("name").strip(), named.group("text").strip(), named.group("stamp").strip(), False
    if _is_system(text):
        star = _SYSTEM_STARS.match(text)
        return None, (star.group("text") if star else text), stamp, True
    pipe = _PIPE_ROW.match(text) if "|" in text else None
    if pipe and _plausible_name(pipe.group("name")):
        return pipe.group("name").strip(), pipe.group("text").strip(), stamp or (pipe.group("stamp") or None), False
    speaker = _SPEAKER.match(text)
    if speaker:
        name = (speaker.group("name") or speaker.group("name2") or "").strip()
        if _plausible_name(name):
            return name, (speaker.group("text") or "").strip(), stamp, False
    if stamp is not None and text:
        return None, text, stamp, True  # a timed line without a speaker: a system event
    return None


def _is_system(text: str) -> bool:
    if _SYSTEM_STARS.match(text) or _SYSTEM_PHRASES.match(text):
        return True
    if _SPEAKER.match(text):
        return False
    return bool(_SYSTEM_PHRASES.match(text) or (_SYSTEM_WORDS.match(text) and len(text) < 100 and
                re.search(r"\b(chat|conversation|session|room)\b", text, re.IGNORECASE)))


def _plausible_name(name: str) -> bool:
    name = name.strip()
    if not name or len(name) > 48 or _NOT_NAMES.match(name):
        return False
    if "://" in name or "@" in name and " " in name:
        return False
    words = name.split()
    return len(words) <= 4 and not name[0].isdigit() or bool(re.fullmatch(r"[\w.@+-]+", name))


def _offset_seconds(stamp: str) -> int | None:
    match = re.fullmatch(r"(?:(\d+)\s*h\s*)?(?:(\d+)\s*m\s*)?(\d+)\s*s", stamp.strip())
    if not match:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _set_time(turn: Turn, stamp: str, date: str | None) -> None:
    offset = _offset_seconds(stamp)
    if offset is not None:
        turn.metadata["offset_seconds"] = offset
        return
    iso = _iso(stamp, date)
    if iso:
        turn.time = iso
    else:
        turn.metadata["clock"] = stamp


def _iso(stamp: str, date: str | None) -> str | None:
    match = re.match(rf"^(?:(?P<date>{_DATE})[ T,]\s*)?(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::(?P<s>\d{{2}}))?\s?(?P<ampm>[AaPp])?", stamp)
    if not match:
        return None
    day = _date(match.group("date")) if match.group("date") else date
    if not day:
        return None
    hour = int(match.group("h"))
    if match.group("ampm"):
        hour = hour % 12 + (12 if match.group("ampm").lower() == "p" else 0)
    if hour > 23:
        return None
    utc = "Z" if re.search(r"(Z|UTC|GMT|[+-]00:?00)$", stamp.strip()) else ""
    return f"{day}T{hour:02d}:{match.group('m')}:{match.group('s') or '00'}{utc}"


def _date(text: str | None) -> str | None:
    if not text:
        return None
    match = re.search(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        return match.group(0)
    match = re.search(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", text)  # US style month/day/year
    if match:
        month, day, year = match.groups()
        if len(year) == 2:
            year = f"20{year}"
        if 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
            return f"{year}-{int(month):02d}-{int(day):02d}"
    return None


def _compile(pattern: str | None, option: str):
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ReaderError(f"option {option}: invalid regular expression {pattern!r}: {exc}") from exc


def _stem(name: str) -> str:
    base = os.path.basename(name).strip("<>")
    for suffix in (".gz", ".txt", ".log", ".html", ".htm"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base or "transcript"
