"""Personal data and secrets in free text: detection and typed, numbered redaction.

Used by the converter's redaction transform and by the linter's privacy (P) rules, so
both agree on what counts as personal data.

Kinds (``PiiMatch.kind`` and the placeholder each becomes):

=========  ================  ==============================================================
kind       placeholder       what
=========  ================  ==============================================================
secret     ``<SECRET_n>``    API keys and tokens (``sk-...``, ``AKIA...``, ``ghp_...``,
                             ``xox?-...``, Stripe, Google, GitLab keys, JWTs, ``Bearer ...``,
                             private-key blocks, ``password: ...`` / ``api_key=...`` values)
url        ``<URL_n>``       links carrying credentials, tokens or query ids (user:pass@,
                             a query string other than tracking/paging parameters, or an
                             opaque token-like path segment); plain help-page links stay
email      ``<EMAIL_n>``     e-mail addresses
iban       ``<IBAN_n>``      IBANs with a valid country length and ISO 13616 mod-97 check
card       ``<CARD_n>``      payment card numbers with a card-brand prefix and a valid Luhn
                             check digit (invalid Luhn numbers are left alone)
ip         ``<IP_n>``        IPv4 and IPv6 addresses
phone      ``<PHONE_n>``     phone numbers, recognised by ``phonenumbers`` (Google's
                             libphonenumber metadata) over several regions, not by a regex
address    ``<ADDRESS_n>``   street addresses where detectable (US/UK style "12 Main Street",
                             German "Hauptstraße 5", French "12 rue de la Paix")
person     ``<PERSON_n>``    the participants' own names, known from the export's metadata
                             (full name, and each part of it alone, e.g. the first name)
=========  ================  ==============================================================

Order numbers, prices, dates, times and quantities are left untouched: phone candidates
preceded by order/ticket/invoice words or ``#``, next to a currency, or shaped like dates
are rejected, and a bare run of digits with no separators counts as a phone number only
when it carries a trunk or international prefix or phone words ("call", "tel", "mobile")
stand right before it.

Detection is built for the lint hot path: precompiled patterns, and cheap pre-checks
(``@`` present, a digit present, ...) before any costly step; ``phonenumbers`` runs only on
digit runs that look like phone numbers.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
import re2
from phonenumbers import Leniency

from toolkit._text import has_digit

__all__ = [
    "KINDS",
    "DEFAULT_REGIONS",
    "PiiMatch",
    "find_pii",
    "may_contain_pii",
    "Redactor",
    "luhn_valid",
    "iban_valid",
    "placeholder_pattern",
]

# Detection order doubles as priority when two matches overlap: a secret inside a URL
# makes the whole URL a secret-bearing URL only if the URL detector claims it first, so
# secrets come first (the most dangerous), then the container kinds, then the rest.
KINDS: tuple[str, ...] = ("secret", "url", "email", "iban", "card", "ip", "phone", "address", "person")
_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}

# Regions whose national formats are tried for numbers written without a country code.
DEFAULT_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN", "AU", "BR", "CA", "ES", "IT", "NL", "MX")


@dataclass(frozen=True)
class PiiMatch:
    """One piece of personal data or secret found in a text: ``text[start:end]``."""

    start: int
    end: int
    kind: str
    text: str


# --------------------------------------------------------------------------- checksums


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by payment card numbers; ``digits`` holds digits only."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


# ISO 13616 lengths per country (SWIFT IBAN registry).
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_valid(iban: str) -> bool:
    """Whether ``iban`` (spaces allowed) has its country's length and a valid mod-97 check."""
    compact = iban.replace(" ", "").replace("\u00a0", "").upper()
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is None or len(compact) != expected or not compact[2:4].isdigit() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


# --------------------------------------------------------------------------- patterns

# (literal cues, pattern): a pattern runs only when one of its cues occurs in the text
# (cues of the last one are matched against the lower-cased text), which keeps the common
# case - no secret at all - to a few substring tests.
_SECRET_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (("PRIVATE KEY-----",), re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )*PRIVATE KEY-----")),
    (("sk-",), re.compile(r"(?<![\w-])sk-(?:proj-|ant-(?:api\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    (
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"),
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
    ),
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])")),
    (("github_pat_",), re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}")),
    (("glpat-",), re.compile(r"(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,}")),
    (("xox",), re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}")),
    (("_live_", "_test_"), re.compile(r"(?<![A-Za-z0-9_])(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    (("AIza",), re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}")),
    (("eyJ",), re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    # Only the credential after "Bearer"/"Basic", and only the value of key=value pairs.
    (("Bearer", "Basic"), re.compile(r"\b(?:Bearer|Basic)\s+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)")),
)
_SECRET_ASSIGNMENT_KEYS = (
    r"\b(?:password|passwd|pwd|passcode|api[_-]?key|api[_-]?secret|secret[_-]?key|client[_-]?secret|"
    r"access[_-]?token|auth[_-]?token|private[_-]?key)\b"
)
_SECRET_ASSIGNMENT_VALUE = r"\"?\s*(?:[:=]|\bis\b)\s*[\"']?(?P<v>[^\s\"',;<>]{6,})"
_SECRET_ASSIGNMENT = re.compile("(?i)" + _SECRET_ASSIGNMENT_KEYS + _SECRET_ASSIGNMENT_VALUE)
# The fast path: find the key words in the lower-cased text (a case-sensitive scan is several
# times faster than an IGNORECASE one), then match the value after each.
_SECRET_ASSIGNMENT_KEY_LOWER = re.compile(_SECRET_ASSIGNMENT_KEYS)
_SECRET_ASSIGNMENT_VALUE_AT = re.compile(_SECRET_ASSIGNMENT_VALUE, re.IGNORECASE)

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`]+")
_URL_TRAILING = ".,;:!?)]}'\""
# Query parameters that identify nothing about a person: tracking, paging, display.
_BENIGN_PARAMS = frozenset(
    {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "ref", "lang", "hl", "locale",
     "page", "p", "q", "query", "search", "sort", "order", "view", "tab", "section", "v", "ver", "version",
     "format", "theme", "source", "from", "s", "category", "topic", "article"}
)  # fmt: skip
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_OPAQUE_SEGMENT = re.compile(r"^(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}$|^[0-9a-fA-F]{24,}$")

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]){11,30}\b")

_CARD = re.compile(r"(?<![\d.,/-])(?:\d[ -]?){12,18}\d(?![\d.,]\d|[\d/-])")

_IPV4 = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[\w]+)?(?![\w:])")
_VERSION_BEFORE = re.compile(r"(?i)(?:\bv|version|release|build)\s*$")

# A digit run that might be a phone number: optional "+", 7-15 digits with separators.
_PHONE_CANDIDATE = re.compile(r"(?<![\w#/$€£¥@.,-])(?:\+|\b00)?\(?\d[\d \u00a0().\-/]{5,22}\d(?![\w]|[.,]\d)")
_ORDER_CONTEXT = re.compile(
    r"(?i)(?:#|\b(?:order|orders|ord|invoice|inv|ticket|case|ref|reference|tracking|track|confirmation|conf|"
    r"booking|reservation|account|acct|acc|customer|member|policy|claim|serial|sku|item|product|model|part|"
    r"transaction|txn|receipt|shipment|parcel|package|rma|sn|upc|ean|isbn|pin|cvv|zip|postcode)\b)"
    r"[\s.:#-]*(?:(?:no|nr|number|num|id|code)\b\.?)?[\s.:#-]*(?:is\s*)?$"
)
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:call|called|calling|phone|phoned|tel|telephone|mobile|cell|cellphone|fax|whatsapp|sms|text|"
    r"texted|ring|dial|reach|contact|number|no|nr|mob|handy|téléphone|portable|telefon|telefone|celular)\b[^\d\n]{0,24}$"
)
_CURRENCY_NEAR = re.compile(r"(?i)^\s*(?:[$€£¥₹]|usd|eur|gbp|inr|aud|cad|brl|chf|dollars?|euros?|pounds?|rupees?|reais)")
_CURRENCY_BEFORE = re.compile(r"(?i)(?:[$€£¥₹]|usd|eur|gbp|inr|aud|cad|brl|chf)\s*$")
_DATE_SHAPE = re.compile(r"^\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?:\s+\d{1,2})?\s*$")

_STREET_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Ter|Parkway|Pkwy|"
    r"Highway|Hwy|Circle|Cir|Square|Sq|Crescent|Close|Grove|Gardens|Mews|Row|Walk|Hill|Trail|Trl|Alley"
)
_ADDRESS_PATTERNS: tuple[re.Pattern[str], ...] = (
    # 221B Baker Street, Apt 4, Springfield, IL 62704
    re.compile(
        r"\b\d{1,5}[A-Za-z]?(?:-\d{1,4})?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z'-]+\.?\s+){1,4}(?:" + _STREET_TYPES + r")\b\.?"
        r"(?:\s+[NS][EW]?\b\.?)?"
        r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|#)\.?\s*[A-Za-z0-9-]{1,6})?"
        r"(?:,\s*[A-Z][A-Za-z'-]+(?:\s[A-Z][A-Za-z'-]+){0,2},?\s+(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}))?"
    ),
    # Hauptstraße 5, Musterstr. 12a, Lindenweg 3 (10115 Berlin)
    re.compile(
        r"\b[A-ZÄÖÜ][a-zäöüß-]+(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer)\s+\d{1,4}[a-z]?\b"
        r"(?:,?\s+\d{5}\s+[A-ZÄÖÜ][a-zäöüß-]+)?"
    ),
    # 12 rue de la Paix, 75002 Paris
    re.compile(
        r"(?i)\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai|cours|route)"
        r"\s+(?:d[eu']\s?|de la\s|des\s)?[A-Za-zÀ-ÿ'-]+(?:\s+[A-ZÀ-Ý][A-Za-zÀ-ÿ'-]+){0,3}(?:,?\s+\d{5}\s+[A-ZÀ-Ý][A-Za-zÀ-ÿ-]+)?"
    ),
)
_PLACEHOLDER = re.compile(r"<(?:SECRET|URL|EMAIL|IBAN|CARD|IP|PHONE|ADDRESS|PERSON)(?:_\d+)?>")


def placeholder_pattern() -> re.Pattern[str]:
    """The pattern matching ftkit's redaction placeholders (``<EMAIL_1>``, ``<PHONE>``, ...)."""
    return _PLACEHOLDER


# --------------------------------------------------------------------------- detectors


_SECRET_CUES = tuple(sorted({cue for cues, _ in _SECRET_PATTERNS for cue in cues}))
# The cues, arranged so that a text without any costs a few fast tests: cues holding "_" or
# "-" are searched only when that character occurs (a one-character ``in`` is a memchr); the
# AWS key prefixes (all "A" + three letters) and "Bearer"/"Basic" with one regular expression
# each (the engine jumps from one "A" or "B" to the next).
_SECRET_CUE_GATED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("_", tuple(c for c in _SECRET_CUES if "_" in c)),
    ("-", tuple(c for c in _SECRET_CUES if "-" in c and "_" not in c)),
    ("J", ("eyJ",)),
    ("x", ("xox",)),
)
_SECRET_CUE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile("A(?:" + "|".join(re.escape(c[1:]) for c in _SECRET_CUES if c.startswith("A")) + ")"),
    re.compile("B(?:" + "|".join(re.escape(c[1:]) for c in _SECRET_CUES if c.startswith("B")) + ")"),
)
_ASSIGNMENT_WORDS = ("pass", "pwd", "key", "secret", "token")  # lower-case; every assignment key holds one


def _has_secret_cue(text: str) -> bool:
    """Whether ``text`` holds one of :data:`_SECRET_CUES`."""
    for gate, cues in _SECRET_CUE_GATED:
        if gate in text and any(map(text.__contains__, cues)):
            return True
    return any(pattern.search(text) for pattern in _SECRET_CUE_PATTERNS)


# On ASCII text one RE2 scan rules out most texts before _passes_cue_tests, whose tests take
# several passes (a lower-casing, a dozen substring tests, and the assignment detector wherever
# prose says "password" or "token"). A screen is a necessary condition of those tests for the
# kinds wanted: a digit, "@", a secret's cue, "http"/"www." in any case, or an assignment whose
# value holds something besides the letters a-z (_find_assignments skips such values as prose).
# Python's \s, \w and \b are wider than RE2's beyond ASCII, hence ASCII text only.
_ASCII_SPACE = r"[\t-\r\x1c-\x1f ]"  # Python's \s on ASCII text (RE2's \s lacks \v and \x1c-\x1f)
_ASCII_VALUE_CHAR = r"""[^\t-\r\x1c-\x1f "',;<>]"""
_ASCII_VALUE_CHAR_BUT_A_TO_Z = r"""[^\t-\r\x1c-\x1f "',;<>a-z]"""
_ASSIGNMENT_SCREEN = (
    "(?i:" + _SECRET_ASSIGNMENT_KEYS + '"?' + _ASCII_SPACE + r"*(?:[:=]|\bis\b)" + _ASCII_SPACE + "*[\"']?)"
    + _ASCII_VALUE_CHAR + "*" + _ASCII_VALUE_CHAR_BUT_A_TO_Z
)
_ASCII_SCREENS: dict[frozenset[str], re2._Regexp] = {}


def _ascii_screen(wanted: frozenset[str]) -> re2._Regexp:
    """An RE2 pattern found in every ASCII text that :func:`_passes_cue_tests` accepts for ``wanted``."""
    screen = _ASCII_SCREENS.get(wanted)
    if screen is None:
        alternatives: list[str] = []
        if wanted & _DIGIT_KINDS:
            alternatives.append("[0-9]")
        if "email" in wanted:
            alternatives.append("@")
        if "secret" in wanted:
            alternatives.extend(re2.escape(cue) for cue in _SECRET_CUES)
            alternatives.append(_ASSIGNMENT_SCREEN)
        if "url" in wanted:
            alternatives.append(r"(?i:http|www\.)")
        screen = _ASCII_SCREENS[wanted] = re2.compile("|".join(alternatives) or r"[^\s\S]")
    return screen


def may_contain_pii(text: str, kinds: Iterable[str] | None = None) -> bool:
    """A quick test: ``False`` only when :func:`find_pii` (without ``names``/``extra``) finds nothing.

    It looks for what every detector needs before it matches anything (a secret's cue, a
    ``password: ...``-style assignment, ``http``/``www.``, ``@``, a digit), so a caller can
    test many texts joined by white space and skip them all at once.
    """
    wanted = _check_kinds(kinds)
    # (searched as bytes: RE2 reads UTF-8, and for a str the wrapper converts offsets both ways)
    if text.isascii() and _ascii_screen(wanted).search(text.encode("ascii")) is None:
        return False
    return _passes_cue_tests(text, wanted)


def _passes_cue_tests(text: str, wanted: frozenset[str]) -> bool:
    """:func:`may_contain_pii` for any text, without the ASCII screen."""
    if wanted & _DIGIT_KINDS and has_digit(text):
        return True
    if "email" in wanted and "@" in text:
        return True
    if "secret" in wanted and _has_secret_cue(text):
        return True
    if "secret" in wanted or "url" in wanted:
        lowered = text.lower()
        if "secret" in wanted and any(map(lowered.__contains__, _ASSIGNMENT_WORDS)):
            # Prose says "password" often: run the assignment detector itself (cheap on the few
            # places a key word occurs). Unless lower-casing moved offsets, texts joined by
            # white space hold an assignment wherever one of them does.
            if len(lowered) != len(text) or next(iter(_find_assignments(text, lowered)), None) is not None:
                return True
        # a link starts with "http://", "https://" or "www." (the first two hold a colon)
        if "url" in wanted and ((":" in text and "http" in lowered) or "www." in lowered):
            return True
    return False


def _find_secrets(text: str, lowered: str | None = None) -> Iterable[tuple[int, int]]:
    if _has_secret_cue(text):
        yield from _find_cued_secrets(text)
    if lowered is None:
        lowered = text.lower()
    if any(map(lowered.__contains__, _ASSIGNMENT_WORDS)):
        yield from _find_assignments(text, lowered)


def _find_cued_secrets(text: str) -> Iterable[tuple[int, int]]:
    for cues, pattern in _SECRET_PATTERNS:
        if not any(cue in text for cue in cues):
            continue
        for match in pattern.finditer(text):
            if "v" in pattern.groupindex:
                yield match.start("v"), match.end("v")
            else:
                yield match.start(), match.end()


# Every assignment key holds one of _ASSIGNMENT_WORDS at most this many characters from its start
# ("private_key": "key" at 8).
_ASSIGNMENT_WORD_OFFSET = 8


def _assignment_keys(lowered: str) -> Iterator[re.Match[str]]:
    """``_SECRET_ASSIGNMENT_KEY_LOWER.finditer(lowered)``, searched only from where a key can start.

    A key starts at most ``_ASSIGNMENT_WORD_OFFSET`` characters before one of the words every
    key holds, so each search starts there (not at the previous match): the same matches as a
    full scan, without scanning the prose between keys.
    """
    position = 0
    search = _SECRET_ASSIGNMENT_KEY_LOWER.search
    found = [(at, word) for at, word in zip(map(lowered.find, _ASSIGNMENT_WORDS), _ASSIGNMENT_WORDS) if at >= 0]
    upcoming = [at for at, _ in found]  # the next place of each word that occurs
    words = [word for _, word in found]
    while upcoming:
        key = search(lowered, max(position, min(upcoming) - _ASSIGNMENT_WORD_OFFSET))
        if key is None:
            return
        yield key
        position = key.end()
        # a later key holds its word after this one's end: look again only for words seen before it
        for slot, at in enumerate(upcoming):
            if at < position:
                upcoming[slot] = lowered.find(words[slot], position)
        if -1 in upcoming:
            kept = [(at, word) for at, word in zip(upcoming, words) if at >= 0]
            upcoming, words = [at for at, _ in kept], [word for _, word in kept]


def _find_assignments(text: str, lowered: str) -> Iterable[tuple[int, int]]:
    if len(lowered) == len(text):
        matches: Iterable[re.Match[str] | None] = (
            _SECRET_ASSIGNMENT_VALUE_AT.match(text, key.end()) for key in _assignment_keys(lowered)
        )
    else:  # lower-casing changed the length (rare Unicode): offsets would not line up
        matches = _SECRET_ASSIGNMENT.finditer(text)
    for match in matches:
        if match is None:
            continue
        value = match.group("v")
        # "password: <EMAIL_1>" or "your password is expired" is prose, not a credential:
        # skip placeholders and plain lower-case words without digits or symbols.
        if _PLACEHOLDER.fullmatch(value) or (value.isalpha() and value.islower()):
            continue
        yield match.start("v"), match.end("v")


def _url_is_sensitive(url: str) -> bool:
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
    except ValueError:
        return False
    if parts.username or parts.password:
        return True
    if parts.query:
        for key, _value in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() not in _BENIGN_PARAMS:
                return True
        # a query that does not parse as key=value pairs (e.g. "?abc123token") is opaque
        if "=" not in parts.query and len(parts.query) >= 8:
            return True
    if parts.fragment and ("=" in parts.fragment or _OPAQUE_SEGMENT.match(parts.fragment)):
        return True
    for segment in parts.path.split("/"):
        if segment and (_UUID.search(segment) or _OPAQUE_SEGMENT.match(segment)):
            return True
    return False


def _find_urls(text: str, lowered: str | None = None) -> Iterable[tuple[int, int]]:
    if lowered is None:
        lowered = text.lower()
    if "http" not in lowered and "www." not in lowered:
        return
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _URL_TRAILING:
            # keep a closing bracket that belongs to the URL (wiki-style links)
            if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
                break
            end -= 1
        if end > start and _url_is_sensitive(text[start:end]):
            yield start, end


def _find_emails(text: str) -> Iterable[tuple[int, int]]:
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield match.span()


def _find_ibans(text: str) -> Iterable[tuple[int, int]]:
    for match in _IBAN.finditer(text):
        candidate = match.group()
        # the pattern is greedy over trailing groups; try shorter prefixes ending on a group
        compact_len = _IBAN_LENGTHS.get(candidate[:2])
        if compact_len is None:
            continue
        count = 0
        for index, char in enumerate(candidate):
            if char.isalnum():
                count += 1
                if count == compact_len:
                    if iban_valid(candidate[: index + 1]):
                        yield match.start(), match.start() + index + 1
                    break


_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|3(?:0[0-5]|[68])|35|6(?:011|5|4[4-9]|22)|62|81)")


def _find_cards(text: str) -> Iterable[tuple[int, int]]:
    for match in _CARD.finditer(text):
        raw = match.group()
        digits = raw.replace(" ", "").replace("-", "")
        if not 13 <= len(digits) <= 19 or not _CARD_PREFIX.match(digits) or len(set(digits)) < 2:
            continue
        # separators, if any, must group the digits like a card does (4-4-4-4, 4-6-5, ...)
        groups = re.split(r"[ -]", raw)
        if len(groups) > 1 and not all(1 <= len(g) <= 6 for g in groups):
            continue
        if luhn_valid(digits):
            yield match.span()


def _find_ips(text: str) -> Iterable[tuple[int, int]]:
    if "." in text:
        for match in _IPV4.finditer(text):
            if _VERSION_BEFORE.search(text, 0, match.start()):
                continue
            yield match.span()
    if text.count(":") >= 2:
        for match in _IPV6.finditer(text):
            candidate = match.group().split("%", 1)[0]
            if candidate.count(":") < 2 or not any(c.isalpha() for c in candidate) and "::" not in candidate:
                # "10:30:45" is a time, not an address; a real IPv6 has hex letters or "::"
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            yield match.span()


def _find_phones(text: str, regions: tuple[str, ...]) -> Iterable[tuple[int, int]]:
    for match in _PHONE_CANDIDATE.finditer(text):
        raw = match.group()
        digit_count = sum(ch.isdigit() for ch in raw)
        if not 7 <= digit_count <= 15:
            continue
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 8]
        if _ORDER_CONTEXT.search(before) and not raw.startswith("+"):
            continue
        if _CURRENCY_BEFORE.search(before) or _CURRENCY_NEAR.match(after) or _DATE_SHAPE.match(raw):
            continue
        international = raw.startswith("+") or raw.startswith("00")
        separated = any(not ch.isdigit() for ch in raw.lstrip("+"))
        if not international and not separated and not raw.startswith("0") and not _PHONE_CONTEXT.search(before):
            # a bare digit run without prefix or phone words is more likely an id than a phone
            continue
        for offset, piece in _phone_pieces(raw):
            spans = _match_phone(piece, regions)
            if spans:
                for span in spans:
                    yield match.start() + offset + span[0], match.start() + offset + span[1]
                break


_GROUP_GAP = re.compile(r"[ \u00a0]+")


def _phone_pieces(raw: str) -> Iterable[tuple[int, str]]:
    """The candidate itself, then with up to two space-separated groups cut from either end.

    The candidate pattern is greedy: "+1 415 555 0132 742 Evergreen" or "qty 3 020 7946 0958"
    pull a neighbouring number in, and libphonenumber rejects the whole run.
    """
    yield 0, raw
    gaps = [m.span() for m in _GROUP_GAP.finditer(raw)]
    for cut in gaps[::-1][:2]:
        piece = raw[: cut[0]]
        if sum(ch.isdigit() for ch in piece) >= 7:
            yield 0, piece
    for cut in gaps[:2]:
        piece = raw[cut[1] :]
        if sum(ch.isdigit() for ch in piece) >= 7:
            yield cut[1], piece


@functools.lru_cache(maxsize=8192)
def _match_phone(raw: str, regions: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Phone numbers inside one candidate digit run (cached: support numbers repeat a lot)."""
    tried = regions if not raw.startswith("+") else regions[:1]
    for region in tried:
        found = [
            (m.start, m.end)
            for m in phonenumbers.PhoneNumberMatcher(raw, region, leniency=Leniency.STRICT_GROUPING)
        ]
        if found:
            return tuple(found)
    if _PHONE_SHAPE.match(raw):
        # Written unmistakably as a phone number ("(977) 625-2661", "+44 ..."), but not a valid
        # one: an unassigned area code, a made-up test number. Still personal data in intent.
        for region in tried:
            found = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(raw, region, leniency=Leniency.POSSIBLE)]
            if found:
                return tuple(found)
    return ()


# Shapes that only phone numbers take: "(415) 555-0132", "415-555-0132", "+44 20 7946 0958".
_PHONE_SHAPE = re.compile(
    r"^(?:\(\d{2,5}\)[ \u00a0]?\d{3,4}[ \u00a0.-]\d{3,4}|\d{3}([-.])\d{3}\1\d{4}|\+\d{1,3}[ \u00a0.-]\(?\d{1,5}\)?(?:[ \u00a0.-]\d{2,5}){1,4})$"
)


def _find_addresses(text: str) -> Iterable[tuple[int, int]]:
    for pattern in _ADDRESS_PATTERNS:
        for match in pattern.finditer(text):
            yield match.start(), match.end()


class _NameMatcher:
    """Finds participants' names: full names (case-insensitive) and their parts (as capitalised)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.owner: dict[str, int] = {}  # casefolded form -> participant number (0-based)
        full_forms: list[str] = []
        part_forms: list[str] = []
        participants: list[str] = []
        for name in names:
            cleaned = " ".join(str(name).split())
            if not cleaned:
                continue
            key = cleaned.casefold()
            if key in self.owner:
                continue
            number = len(participants)
            participants.append(cleaned)
            self.owner[key] = number
            full_forms.append(cleaned)
            for part in re.split(r"[\s,]+", cleaned):
                part = part.strip(".'\"()")
                # single letters and initials say nothing about a person
                if len(part) < 2 or not any(c.isalpha() for c in part):
                    continue
                if part.casefold() not in self.owner:
                    self.owner[part.casefold()] = number
                    part_forms.append(part)
        self.participants = participants
        alternatives: list[str] = []
        for form in sorted(set(full_forms), key=lambda s: (-len(s), s)):
            if " " in form:
                alternatives.append("(?i:" + r"\s+".join(re.escape(p) for p in form.split()) + ")")
        for form in sorted(set(part_forms) | {f for f in full_forms if " " not in f}, key=lambda s: (-len(s), s)):
            # "Will" as a name must not eat the verb "will": match parts as written or all caps
            variants = {form, form.upper(), form[:1].upper() + form[1:]}
            alternatives.extend(re.escape(v) for v in sorted(variants, key=lambda s: (-len(s), s)))
        self.pattern = (
            re.compile(r"(?<![\w@.])(?:" + "|".join(alternatives) + r")(?![\w@]|\.\w)") if alternatives else None
        )

    def finditer(self, text: str) -> Iterable[tuple[int, int]]:
        if self.pattern is None:
            return
        for match in self.pattern.finditer(text):
            yield match.span()

    def number_of(self, text: str) -> int:
        return self.owner.get(" ".join(text.split()).casefold(), len(self.participants))


_NAME_CACHE: dict[tuple[str, ...], _NameMatcher] = {}


def _name_matcher(names: Iterable[str]) -> _NameMatcher:
    key = tuple(names)
    matcher = _NAME_CACHE.get(key)
    if matcher is None:
        if len(_NAME_CACHE) > 256:
            _NAME_CACHE.clear()
        matcher = _NAME_CACHE[key] = _NameMatcher(key)
    return matcher


# --------------------------------------------------------------------------- public API


# Kinds whose detectors need a digit in the text.
_DIGIT_KINDS = frozenset({"iban", "card", "ip", "phone", "address"})
_ALL_KINDS = frozenset(KINDS)
_KINDS_CACHE: dict[tuple[str, ...], frozenset[str]] = {}


def _check_kinds(kinds: Iterable[str] | None) -> frozenset[str]:
    if kinds is None:
        return _ALL_KINDS
    if type(kinds) is tuple:  # the linter asks with the same tuple for every text
        cached = _KINDS_CACHE.get(kinds)
        if cached is not None:
            return cached
    chosen = frozenset(kinds)
    unknown = chosen - set(KINDS)
    if unknown:
        raise ValueError(f"unknown PII kind(s): {', '.join(sorted(unknown))}; known: {', '.join(KINDS)}")
    if type(kinds) is tuple and len(_KINDS_CACHE) < 64:
        _KINDS_CACHE[kinds] = chosen
    return chosen


def find_pii(
    text: str,
    kinds: Iterable[str] | None = None,
    names: Iterable[str] = (),
    *,
    regions: Sequence[str] = DEFAULT_REGIONS,
    extra: Iterable[tuple[str, re.Pattern[str]]] = (),
) -> list[PiiMatch]:
    """Find personal data and secrets in ``text``.

    ``kinds`` limits the search (default: all of :data:`KINDS`; ``person`` needs ``names``).
    ``names`` are the participants' own names. ``extra`` adds ``(kind, pattern)`` pairs
    (known e-mails or phones of the participants, say). Overlapping matches are resolved
    by kind priority (the order of :data:`KINDS`), then by length; the result is sorted by
    position and never overlaps.
    """
    if not text:
        return []
    wanted = _check_kinds(kinds)
    candidates: list[tuple[int, int, int, str]] = []  # (priority, start, end, kind)

    def add(kind: str, spans: Iterable[tuple[int, int]]) -> None:
        rank = _PRIORITY[kind]
        for start, end in spans:
            if end > start:
                candidates.append((rank, start, end, kind))

    for kind, pattern in extra:
        if kind in wanted:
            add(kind, (m.span() for m in pattern.finditer(text)))
    lowered = text.lower() if "secret" in wanted or "url" in wanted else None
    if "secret" in wanted:
        add("secret", _find_secrets(text, lowered))
    if "url" in wanted:
        add("url", _find_urls(text, lowered))
    if "email" in wanted:
        add("email", _find_emails(text))
    if wanted & _DIGIT_KINDS and has_digit(text):
        if "iban" in wanted:
            add("iban", _find_ibans(text))
        if "card" in wanted:
            add("card", _find_cards(text))
        if "ip" in wanted:
            add("ip", _find_ips(text))
        if "phone" in wanted:
            add("phone", _find_phones(text, tuple(regions)))
        if "address" in wanted:
            add("address", _find_addresses(text))
    if "person" in wanted and names:
        add("person", _name_matcher(names).finditer(text))
    if not candidates:
        return []
    candidates.sort(key=lambda c: (c[0], -(c[2] - c[1]), c[1]))
    taken: list[tuple[int, int, str]] = []
    for _rank, start, end, kind in candidates:
        if any(start < t_end and t_start < end for t_start, t_end, _ in taken):
            continue
        taken.append((start, end, kind))
    taken.sort()
    return [PiiMatch(start, end, kind, text[start:end]) for start, end, kind in taken]


def _flexible_digits(value: str) -> re.Pattern[str] | None:
    digits = re.sub(r"\D", "", value)
    if len(digits) < 6:
        return None
    # a known phone number written with any separators, with or without its country code
    body = r"[\s().\-/]*".join(re.escape(d) for d in digits[-9:])
    return re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s().\-/]*)?(?:0[\s().\-/]*)?\d{0,6}[\s().\-/]*" + body + r"(?!\d)")


class Redactor:
    """Replace personal data with typed, numbered placeholders, consistently.

    One instance per conversation: the same value always gets the same placeholder
    (``jane@x.com`` is ``<EMAIL_1>`` everywhere in the conversation; the second distinct
    address is ``<EMAIL_2>``); a participant's first name alone maps to the same
    ``<PERSON_n>`` as their full name.

    ``names``, ``emails`` and ``phones`` are the participants' own details known from the
    export's metadata: they are always redacted, even where a detector would not fire.
    ``numbered=False`` writes bare ``<EMAIL>`` placeholders.
    """

    def __init__(
        self,
        kinds: Iterable[str] | None = None,
        names: Iterable[str] = (),
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        *,
        numbered: bool = True,
        regions: Sequence[str] = DEFAULT_REGIONS,
    ) -> None:
        self.kinds = _check_kinds(kinds)
        self.names = tuple(" ".join(str(n).split()) for n in names if n and str(n).strip())
        self.numbered = numbered
        self.regions = tuple(regions)
        self._names = _name_matcher(self.names)
        extra: list[tuple[str, re.Pattern[str]]] = []
        for email in emails:
            if email and str(email).strip():
                extra.append(("email", re.compile(r"(?<![\w.%+-])" + re.escape(str(email).strip()) + r"(?![\w-])", re.I)))
        for phone in phones:
            pattern = _flexible_digits(str(phone)) if phone else None
            if pattern is not None:
                extra.append(("phone", pattern))
        self._extra = tuple(extra)
        self._numbers: dict[str, dict[str, int]] = {}
        self.counts: dict[str, int] = {}  # kind -> replacements made (for reports)

    def find(self, text: str) -> list[PiiMatch]:
        """What :meth:`redact` would replace in ``text``."""
        return find_pii(text, self.kinds, self.names, regions=self.regions, extra=self._extra)

    def _key(self, match: PiiMatch) -> str:
        text = match.text
        if match.kind == "person":
            return f"#{self._names.number_of(text)}"
        if match.kind in ("card", "iban"):
            return re.sub(r"[\s-]", "", text).upper()
        if match.kind == "phone":
            digits = re.sub(r"\D", "", text)
            # "+44 20 7946 0958" and "020 7946 0958" are the same number: compare the tail
            return digits[-9:]
        return text.casefold()

    def placeholder(self, match: PiiMatch) -> str:
        """The placeholder for one match, numbering new values in order of appearance."""
        label = match.kind.upper()
        self.counts[match.kind] = self.counts.get(match.kind, 0) + 1
        if not self.numbered:
            return f"<{label}>"
        seen = self._numbers.setdefault(match.kind, {})
        key = self._key(match)
        number = seen.get(key)
        if number is None:
            number = seen[key] = len(seen) + 1
        return f"<{label}_{number}>"

    def redact(self, text: str) -> str:
        """``text`` with every match replaced by its placeholder."""
        if not text:
            return text
        matches = self.find(text)
        if not matches:
            return text
        out: list[str] = []
        position = 0
        for match in matches:
            out.append(text[position : match.start])
            out.append(self.placeholder(match))
            position = match.end
        out.append(text[position:])
        return "".join(out)

    def mapping(self) -> dict[str, dict[str, int]]:
        """The numbering so far: kind -> normalised value -> number (for audit, keep private)."""
        return {kind: dict(values) for kind, values in self._numbers.items()}
