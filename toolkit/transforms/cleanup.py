"""Strip quoted email history, signatures and mobile footers from turn text.

Email-channel tickets carry the whole thread again under every reply ("On Mon, 3 Jun
2024 at 10:02, Jane <jane@example.com> wrote:" followed by ``>`` lines, Outlook's
"-----Original Message-----" / "From: ... Sent: ..." blocks), plus signatures ("-- " on its
own line, "Sent from my iPhone", "Best regards,\\nJane Doe\\nAcme Inc."). Trained on, a model
learns to hallucinate old threads and sign with a stranger's name. This step removes them
and collapses the blank lines left behind.

The rules are conservative: a sign-off is only removed at the *end* of a message and only
when it is followed by a short name block (or ends with a comma), so "Thanks!" at the end
of a customer's question stays. Text that is entirely quoted becomes empty; the merge step
then drops the empty turn and counts it.
"""

from __future__ import annotations

import re

from toolkit.model import Conversation, Speaker
from toolkit.transforms.base import ConvertReport, Step, evolve

# Everything from one of these lines on is quoted history.
_QUOTE_HEADERS = [
    # "On Mon, Jan 5, 2024 at 10:02 AM Jane Doe <jane@x.com> wrote:" (Gmail; may wrap onto 2 lines)
    r"^[ \t]*On\b[^\n]{0,200}(?:\n[^\n]{0,120})?\bwrote:[ \t]*$",
    # French, German, Spanish, Dutch, Italian, Portuguese clients
    r"^[ \t]*Le\b[^\n]{0,200}(?:\n[^\n]{0,120})?a écrit ?:[ \t]*$",
    r"^[ \t]*Am\b[^\n]{0,200}(?:\n[^\n]{0,120})?schrieb[^\n]{0,120}:[ \t]*$",
    r"^[ \t]*El\b[^\n]{0,200}(?:\n[^\n]{0,120})?escribió:[ \t]*$",
    r"^[ \t]*Op\b[^\n]{0,200}(?:\n[^\n]{0,120})?schreef[^\n]{0,120}:[ \t]*$",
    r"^[ \t]*Il giorno\b[^\n]{0,200}(?:\n[^\n]{0,120})?ha scritto:[ \t]*$",
    r"^[ \t]*Em\b[^\n]{0,200}(?:\n[^\n]{0,120})?escreveu:[ \t]*$",
    # Outlook
    r"^[ \t]*-{2,}[ \t]*Original Message[ \t]*-{2,}[ \t]*$",
    r"^[ \t]*_{10,}[ \t]*\n[ \t]*From:",
    r"^[ \t]*From:[ \t]+[^\n]+\n[ \t]*(?:Sent|Date):[ \t]+[^\n]+\n(?:[ \t]*(?:To|Cc|Subject):[^\n]*\n?)+",
    # Helpdesk reply markers (Zendesk, Freshdesk, Help Scout)
    r"^[ \t]*##-[^\n]*reply above this line[^\n]*-##",
    r"^[ \t]*-{2,}[ \t]*Reply above this line[ \t]*-{2,}",
]
_QUOTE_HEADER_RE = re.compile("|".join(f"(?:{p})" for p in _QUOTE_HEADERS), re.IGNORECASE | re.MULTILINE)

# "-- " (RFC 3676 signature separator) or a bare "--" line: everything after it is signature.
_SIG_SEPARATOR_RE = re.compile(r"^--[ \t]?$", re.MULTILINE)

# Mobile / mail-client footers, removed wherever they stand alone on a line.
_FOOTER_RE = re.compile(
    r"^[ \t]*(?:Sent from my (?:iPhone|iPad|Android|Samsung[^\n]*|Galaxy[^\n]*|BlackBerry[^\n]*|mobile device|phone)"
    r"|Sent from (?:Mail|Outlook) for [^\n]+|Sent from Yahoo Mail[^\n]*|Get Outlook for (?:iOS|Android)"
    r"|Sent via [^\n]{1,40}|Von meinem iPhone gesendet|Envoyé de mon iPhone|Enviado desde mi iPhone)[ \t.]*$\n?",
    re.IGNORECASE | re.MULTILINE,
)

_QUOTED_LINE_RE = re.compile(r"^[ \t]*>[^\n]*(?:\n|$)", re.MULTILINE)

_SIGNOFF_RE = re.compile(
    r"^[ \t]*(?:(?:best|kind|warm|warmest|many|with)?[ \t]*(?:regards|wishes)|best|cheers|thanks(?: again| a lot| so much)?"
    r"|thank you(?: so much)?|many thanks|sincerely|yours(?: sincerely| truly)?|all the best|talk soon|take care|br"
    r"|mit freundlichen grüßen|viele grüße|beste grüße|lg|cordialement|bien à vous|saludos|un saludo|atentamente"
    r"|met vriendelijke groet|groeten|cordiali saluti|atenciosamente)[ \t]*[,!.]?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_MAX_SIGNOFF_TAIL = 4  # name, title, company, phone
_MAX_SIGNOFF_LINE = 60


def strip_quoted(text: str) -> str:
    """Remove quoted email history (reply headers and everything after, ``>`` lines)."""
    match = _QUOTE_HEADER_RE.search(text)
    if match:
        text = text[: match.start()]
    return _QUOTED_LINE_RE.sub("", text)


def strip_signature(text: str, *, signoffs: bool = True) -> str:
    """Remove a ``-- `` signature block, mobile footers and (optionally) a closing sign-off block."""
    match = _SIG_SEPARATOR_RE.search(text)
    if match:
        text = text[: match.start()]
    text = _FOOTER_RE.sub("", text)
    if signoffs:
        # Repeat until stable: "Thanks,\nBest regards,\nJane" has two sign-off lines.
        while True:
            stripped = _strip_signoff(text)
            if stripped == text.rstrip():
                break
            text = stripped
    return text


def _strip_signoff(text: str) -> str:
    stripped = text.rstrip()
    lines = stripped.split("\n")
    # Look at the last few lines for a sign-off phrase followed by a short name block.
    for back in range(1, min(_MAX_SIGNOFF_TAIL + 1, len(lines)) + 1):
        index = len(lines) - back
        if index == 0:
            break  # never strip the whole message
        line = lines[index]
        if not _SIGNOFF_RE.fullmatch(line):
            continue
        tail = [t for t in lines[index + 1 :] if t.strip()]
        if tail and all(len(t.strip()) <= _MAX_SIGNOFF_LINE and not t.rstrip().endswith("?") for t in tail):
            return "\n".join(lines[:index]).rstrip()
        if not tail and line.rstrip().endswith(","):
            return "\n".join(lines[:index]).rstrip()
        break
    return stripped


def strip_author_signature(text: str, author: str | None) -> str:
    """Remove a trailing name block that starts with the turn author's own name.

    "...anything else?\n\nMarco Rossi\nBrightBank Customer Care" loses its last paragraph when
    the turn's author is "Marco Rossi" (or "Marco"). Only a short final paragraph (at most
    four lines of at most 60 characters) is considered, so prose that merely mentions the
    author stays.
    """
    if not author or not author.strip():
        return text
    body = text.rstrip()
    cut = body.rfind("\n\n")
    if cut <= 0:
        return text
    lines = [line.strip() for line in body[cut + 2 :].split("\n") if line.strip()]
    if not lines or len(lines) > _MAX_SIGNOFF_TAIL or any(len(line) > _MAX_SIGNOFF_LINE for line in lines):
        return text
    first = lines[0].lstrip("-–— ").casefold()
    full = " ".join(author.split()).casefold()
    given = full.split()[0]
    if first == full or first == given or first.startswith(full + " ") or first.startswith(full + ",") \
            or (len(given) >= 3 and (first.startswith(given + " ") or first.startswith(given + ","))
                and len(first.split()) <= 4):
        return body[:cut].rstrip()
    return text


def tidy(text: str) -> str:
    """Trim trailing spaces on lines and collapse runs of blank lines left by removals."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


class StripQuotedText(Step):
    """Remove quoted history, signatures, footers and sign-offs from customer and agent turns.

    ``quotes``, ``signatures`` and ``signoffs`` switch the parts on and off; ``speakers``
    limits the step to some speakers (default: customer and agent turns). Turns whose text
    changed are counted as the ``stripped-quotes-or-signature`` adjustment.
    """

    name = "strip-quotes"

    def __init__(
        self,
        *,
        quotes: bool = True,
        signatures: bool = True,
        signoffs: bool = True,
        speakers: tuple[Speaker, ...] = (Speaker.CUSTOMER, Speaker.AGENT),
    ):
        self.quotes = quotes
        self.signatures = signatures
        self.signoffs = signoffs
        self.speakers = speakers

    def clean(self, text: str, author: str | None = None) -> str:
        original = text
        if self.quotes:
            text = strip_quoted(text)
        if self.signatures:
            text = strip_signature(text, signoffs=self.signoffs)
            if self.signoffs:
                text = strip_author_signature(text, author)
        return tidy(text) if text != original else text

    def process(self, conversation: Conversation, report: ConvertReport) -> Conversation:
        turns = []
        changed = 0
        for turn in conversation.turns:
            if turn.speaker in self.speakers and turn.text:
                text = self.clean(turn.text, turn.author)
                if text != turn.text:
                    changed += 1
                    turn = evolve(turn, text=text)
            turns.append(turn)
        report.adjust("stripped-quotes-or-signature", changed)
        return evolve(conversation, turns=turns)
