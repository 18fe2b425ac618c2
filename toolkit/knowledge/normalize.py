"""Value normalisation: make "two" = "2", "30-day" = "30 days", "$1,200.00" = "1200".

Grounding compares *values*, not strings: an assistant that says "$1,200" is echoing a
user who wrote "1200 dollars", and "a 30-day window" restates "30 days". Every function
here is pure and cheap; they run on every span of every example.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from toolkit._text import has_digit

# Number words -> values. Enough for support text ("two devices", "fourteen days",
# "twenty-four hours"); larger amounts are nearly always written in digits.
_UNITS = {
    "zero": 0, "no": None, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_SPECIAL = {"a dozen": 12, "dozen": 12, "a couple": 2, "a pair": 2, "half a dozen": 6, "once": 1, "twice": 2}

NUMBER_WORDS: dict[str, int] = {k: v for k, v in _UNITS.items() if v is not None}
NUMBER_WORDS.update(_TENS)
for _tens_word, _tens_value in _TENS.items():
    for _unit_word, _unit_value in list(_UNITS.items())[2:10]:
        NUMBER_WORDS[f"{_tens_word}-{_unit_word}"] = _tens_value + _unit_value  # type: ignore[operator]
        NUMBER_WORDS[f"{_tens_word} {_unit_word}"] = _tens_value + _unit_value  # type: ignore[operator]

# A regex alternation of number words, longest first so "twenty-four" wins over "twenty".
NUMBER_WORD_PATTERN = "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))

# Digits not glued to a ":" (the hour and minutes of "10:00" are a time, not the numbers 10 and 0).
_DIGITS = re.compile(r"(?<![\d:])-?\d[\d,]*(?:\.\d+)?(?![\d:])")
_UNIT_ALIASES = {
    "day": "days", "days": "days", "d": "days",
    "business day": "business days", "business days": "business days",
    "working day": "business days", "working days": "business days",
    "calendar day": "days", "calendar days": "days",
    "week": "weeks", "weeks": "weeks", "wk": "weeks", "wks": "weeks",
    "month": "months", "months": "months", "mo": "months", "mos": "months",
    "year": "years", "years": "years", "yr": "years", "yrs": "years",
    "hour": "hours", "hours": "hours", "hr": "hours", "hrs": "hours", "h": "hours",
    "minute": "minutes", "minutes": "minutes", "min": "minutes", "mins": "minutes",
    "second": "seconds", "seconds": "seconds", "sec": "seconds", "secs": "seconds",
    "night": "nights", "nights": "nights",
}


def fold(text: str) -> str:
    """Case-fold and NFKC-normalise (curly quotes, full-width digits, ligatures)."""
    return unicodedata.normalize("NFKC", text).casefold()


def number_value(token: str) -> Decimal | None:
    """The numeric value of a digit string or a number word: "1,200.50" -> 1200.5, "two" -> 2."""
    token = token.strip().casefold()
    if not token:
        return None
    if token in NUMBER_WORDS:
        return Decimal(NUMBER_WORDS[token])
    if token in _SPECIAL:
        return Decimal(_SPECIAL[token])
    if token in ("a", "an"):
        return Decimal(1)
    cleaned = token.replace(",", "").replace("_", "")
    try:
        return Decimal(cleaned)
    except (InvalidOperation, ValueError):
        return None


def canonical_number(value: Decimal) -> str:
    """A canonical string for a number: no trailing zeros, no exponent ("1200", "12.5")."""
    if value == value.to_integral_value():
        return str(int(value))
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def numbers_in(text: str) -> list[Decimal]:
    """Every number in ``text``: digits (with thousands separators) and number words."""
    found: list[Decimal] = []
    for match in _DIGITS.finditer(text) if has_digit(text) else ():
        value = number_value(match.group().lstrip("-"))
        if value is not None:
            found.append(value)
    lowered = text.casefold()
    if _NUMBER_WORD_HINT.search(lowered):
        for match in _NUMBER_WORD_RE.finditer(lowered):
            value = number_value(match.group())
            if value is not None:
                found.append(value)
    return found


_NUMBER_WORD_HINT = re.compile(r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|teen|twenty|thirty|forty|"
                               r"fifty|sixty|seventy|eighty|ninety|dozen|twice|once")


def word_trie(words: list[str]) -> str:
    """A regex alternation matching exactly ``words``, factored as a trie (faster than a flat alternation).

    Optional tails are greedy, so at each offset the longest word that fits is tried first,
    then shorter ones: the same choice as a flat alternation sorted longest first.
    """
    branches: dict[str, list[str]] = {}
    ends = False
    for word in words:
        if word:
            branches.setdefault(word[0], []).append(word[1:])
        else:
            ends = True
    if not branches:
        return ""
    parts = [re.escape(c) + word_trie(rest) for c, rest in sorted(branches.items())]
    if len(parts) == 1 and not ends:
        return parts[0]
    body = "(?:" + "|".join(parts) + ")"
    return body + "?" if ends else body


# (a trie of the same words as the flat alternation, longest first: the same matches, several times faster)
_NUMBER_WORD_RE = re.compile(r"\b" + word_trie(sorted(set(NUMBER_WORDS) | {"a dozen", "half a dozen", "dozen", "twice", "once"}))
                             + r"\b")


def normalize_unit(unit: str) -> str:
    """"day" / "Days" / "working day" -> "days" / "business days"."""
    unit = re.sub(r"[\s-]+", " ", unit.strip().casefold())
    return _UNIT_ALIASES.get(unit, unit)


def normalize_quantity(number: str, unit: str = "") -> str:
    """Canonical text of a quantity: ("30", "-day") -> "30 days", ("two", "weeks") -> "2 weeks"."""
    value = number_value(number)
    head = canonical_number(value) if value is not None else number.strip().casefold()
    unit = normalize_unit(unit.lstrip("- ")) if unit else ""
    return f"{head} {unit}".strip()


def normalize_money(text: str) -> str:
    """"$1,200.00" / "1200 dollars" / "USD 1,200" -> "1200" (currency dropped: the amount is the fact)."""
    match = _DIGITS.search(text)
    if not match:
        return fold(text)
    value = number_value(match.group().lstrip("-"))
    if value is None:
        return fold(text)
    lowered = text.casefold()
    if re.search(r"\d\s*k\b", lowered):
        value *= 1000
    elif "million" in lowered or re.search(r"\d\s*m\b", lowered):
        value *= 1_000_000
    if "cent" in lowered and "$" not in text and "percent" not in lowered:
        value = value / 100
    return canonical_number(value)


_TIME_RE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])?\.?\s*(m\.?)?", re.I)


def normalize_time(text: str) -> str:
    """"11:30 am" -> "11:30", "7 pm" -> "19:00", "19:00" -> "19:00"."""
    lowered = fold(text).replace(" ", "")
    if "noon" in lowered:
        return "12:00"
    if "midnight" in lowered:
        return "00:00"
    match = _TIME_RE.search(lowered)
    if not match:
        return lowered
    hour = int(match.group(1))
    minute = int(match.group(2) or 0)
    half = match.group(3)
    if half == "p" and hour < 12:
        hour += 12
    elif half == "a" and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}


def normalize_date(text: str) -> str:
    """"March 3rd" / "3 March" / "3/3" -> "03-03"; ISO dates keep their year; other dates fold."""
    lowered = fold(text).strip().rstrip(".,")
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", lowered)
    if iso:
        return f"{int(iso.group(2)):02d}-{int(iso.group(3)):02d}"
    month = day = None
    words = re.findall(r"[a-z]+|\d+", lowered)
    for word in words:
        if word in _MONTHS and month is None:
            month = _MONTHS[word]
        elif word.isdigit() and day is None and 1 <= int(word) <= 31:
            day = int(word)
    if month and day:
        return f"{month:02d}-{day:02d}"
    slash = re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/\d{2,4})?", lowered)
    if slash:
        return f"{int(slash.group(1)):02d}-{int(slash.group(2)):02d}"
    return re.sub(r"\s+", " ", lowered)


def normalize_identifier(text: str) -> str:
    """URLs, emails, codes: case-folded, scheme / ``www.`` / trailing slash and punctuation dropped."""
    lowered = fold(text).strip().rstrip(".,;:!?)")
    lowered = re.sub(r"^https?://", "", lowered)
    lowered = re.sub(r"^www\.", "", lowered)
    return lowered.rstrip("/")


def normalize_phone(text: str) -> str:
    """Digits only, without a leading country code 1 for 11-digit NANP numbers."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


def normalize_phrase(text: str) -> str:
    """Names and phrases: fold, drop punctuation, collapse spaces."""
    if text.isascii():
        # the same on ASCII, faster: NFKC keeps ASCII, casefold is lower(), str.split() splits on \s
        return " ".join(text.lower().translate(_ASCII_PUNCTUATION_TO_SPACE).split())
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", fold(text))).strip()


# ASCII characters that are neither word characters nor whitespace (what [^\w\s] replaces) -> " "
_ASCII_PUNCTUATION_TO_SPACE = {code: " " for code in range(128)
                               if not (chr(code).isalnum() or chr(code) == "_" or chr(code).isspace())}
