"""toolkit.pii: detection and typed, numbered redaction of personal data and secrets."""

from __future__ import annotations

import re
import string

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from toolkit.pii import KINDS, PiiMatch, Redactor, find_pii, iban_valid, luhn_valid, may_contain_pii, placeholder_pattern

# --------------------------------------------------------------------------- the redaction corpus

PARTICIPANTS = ["Jane Doe", "Marco Rossi", "Priya Natarajan"]

# (text, values that must be gone after redaction)
CORPUS: list[tuple[str, list[str]]] = [
    ("Hi, I'm Jane Doe and my e-mail is jane.doe@gmail.com.", ["Jane", "Doe", "jane.doe@gmail.com"]),
    ("Jane here again, please use JANE.DOE@GMAIL.COM or j.doe+orders@work-mail.co.uk", ["Jane", "JANE.DOE@GMAIL.COM", "j.doe+orders@work-mail.co.uk"]),
    ("US: call me at (415) 555-0132 or 415.555.0199", ["555-0132", "555.0199"]),
    ("UK: my mobile is 07911 123456, landline 020 7946 0958, intl +44 20 7946 0958", ["07911 123456", "7946 0958"]),
    ("DE: Telefon 030 12345678 oder +49 30 901820", ["12345678", "901820"]),
    ("FR: appelez-moi au 01 23 45 67 89 ou au 06 12 34 56 78", ["01 23 45 67 89", "06 12 34 56 78"]),
    ("IN: my number is +91 98765 43210", ["98765 43210"]),
    ("AU: ring me on (02) 9876 5432 or 0412 345 678", ["9876 5432", "0412 345 678"]),
    ("BR: meu celular é (11) 98765-4321", ["98765-4321"]),
    ("Card 4111 1111 1111 1111, amex 3782 822463 10005, mc 5555-5555-5555-4444", ["4111 1111 1111 1111", "3782 822463 10005", "5555-5555-5555-4444"]),
    ("Visa without spaces 4012888888881881 exp 12/27", ["4012888888881881"]),
    ("IBANs: DE89 3704 0044 0532 0130 00, GB82WEST12345698765432 and FR1420041010050500013M02606", ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606"]),
    ("Marco Rossi wrote: Marco can't log in from 192.168.10.24 or 2001:db8::ff00:42:8329", ["Marco", "Rossi", "192.168.10.24", "2001:db8::ff00:42:8329"]),
    ("Priya says the reset link https://app.example.com/reset?token=9f8e7d6c5b4a3 fails", ["Priya", "token=9f8e7d6c5b4a3"]),
    ("keys: sk-proj-4f9Qw2LmZx81RtYuIoP3asDf AKIAIOSFODNN7EXAMPLE ghp_abcdefghijklmnopqrstuvwxyz0123456789", ["sk-proj-4f9Qw2LmZx81RtYuIoP3asDf", "AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"]),
    ("Authorization: Bearer abcdefghijklmnop1234; password: Hunter2!x", ["abcdefghijklmnop1234", "Hunter2!x"]),
    ("Ship to 221B Baker Street, London NW1 6XE please", ["221B Baker Street", "NW1 6XE"]),
    ("Lieferung an Hauptstraße 5, 10115 Berlin", ["Hauptstraße 5", "10115 Berlin"]),
]  # fmt: skip

# Must survive redaction byte for byte.
UNTOUCHED = [
    "Your order #12345678 total is $1,234.56 and ships on 2024-03-15 at 10:30.",
    "Order 9876543210 was split into 2 parcels of 3 x 250 g.",
    "Order number is 0123456789; invoice INV-2024-000123; tracking 1Z999AA10123456784.",
    "Ticket 4587-2231 was closed on 03/15/2024; refund of €49.99 (EUR 1 234 567,00 in total).",
    "An invalid card number 4111 1111 1111 1112 and an invalid IBAN DE89 3704 0044 0532 0130 01 stay.",
    "Version 10.0.19041.1 of the app, build 2024.03, runs at 10:30:45 every day.",
    "See https://example.com/help/billing?utm_source=chat for details, 2,500,000 users agree.",
    "Call us at any time, we will help. I will call you back.",
    "You have 15 days, 3 hours and 20 minutes left; code 123456 expires at 14:00.",
]


def test_corpus_has_nothing_left() -> None:
    for text, values in CORPUS:
        out = Redactor(names=PARTICIPANTS).redact(text)
        for value in values:
            assert value.lower() not in out.lower(), (text, out, value)
        assert placeholder_pattern().search(out), out


@pytest.mark.parametrize("text", UNTOUCHED)
def test_order_numbers_prices_dates_untouched(text: str) -> None:
    assert find_pii(text, names=PARTICIPANTS) == []
    assert Redactor(names=PARTICIPANTS).redact(text) == text


def test_exact_placeholders_and_consistent_numbering() -> None:
    redactor = Redactor(names=["Jane Doe"])
    first = redactor.redact("Jane Doe (jane@x.org, 020 7946 0958) asked.")
    second = redactor.redact("Thanks Jane, I wrote to JANE@X.ORG and bob@y.org; call +44 20 7946 0958.")
    assert first == "<PERSON_1> (<EMAIL_1>, <PHONE_1>) asked."
    assert second == "Thanks <PERSON_1>, I wrote to <EMAIL_1> and <EMAIL_2>; call <PHONE_1>."
    assert redactor.counts == {"person": 2, "email": 3, "phone": 2}
    # a new conversation starts numbering again
    assert Redactor().redact("bob@y.org") == "<EMAIL_1>"


def test_every_kind_has_its_placeholder() -> None:
    text = (
        "sk-ant-api03-abcdefghijklmnopqrstuv https://x.io/a?session=77 a@b.co DE89370400440532013000 "
        "4111111111111111 10.0.0.1 +1 415 555 0132 742 Evergreen Terrace Jane"
    )
    out = Redactor(names=["Jane"]).redact(text)
    assert out == (
        "<SECRET_1> <URL_1> <EMAIL_1> <IBAN_1> <CARD_1> <IP_1> <PHONE_1> <ADDRESS_1> <PERSON_1>"
    )
    assert Redactor(names=["Jane"], numbered=False).redact("Jane, a@b.co") == "<PERSON>, <EMAIL>"


def test_names_first_name_alone_and_case() -> None:
    redactor = Redactor(names=["Will Smith", "Ann-Marie O'Neil"])
    out = redactor.redact("Will Smith said Will would call. I will call Smith and Ann-Marie O'Neil; ann-marie? Ann-Marie!")
    assert out == "<PERSON_1> said <PERSON_1> would call. I will call <PERSON_1> and <PERSON_2>; ann-marie? <PERSON_2>!"
    # a name inside an e-mail address is part of the address, not a separate person
    assert Redactor(names=["Will"]).redact("will@x.com") == "<EMAIL_1>"


def test_known_participant_details_always_redacted() -> None:
    redactor = Redactor(emails=["Support.Desk@acme.example"], phones=["+44 (0)20 7946 0321"])
    out = redactor.redact("write to support.desk@acme.example or call 020-7946-0321")
    assert out == "write to <EMAIL_1> or call <PHONE_1>"


def test_kinds_filter_and_unknown_kind() -> None:
    text = "mail a@b.co or call 020 7946 0958"
    assert [m.kind for m in find_pii(text, kinds=["email"])] == ["email"]
    assert Redactor(kinds=["phone"]).redact(text) == "mail a@b.co or call <PHONE_1>"
    with pytest.raises(ValueError, match="unknown PII kind"):
        find_pii(text, kinds=["ssn"])


def test_secret_values_only() -> None:
    matches = find_pii("api_key=AbC123xyz789 and Authorization: Bearer abcdefghijklmnopqrstu")
    assert [(m.kind, m.text) for m in matches] == [("secret", "AbC123xyz789"), ("secret", "abcdefghijklmnopqrstu")]
    # prose about passwords is not a secret
    assert find_pii("Your password is expired, please reset it.") == []


def test_urls_without_tokens_stay() -> None:
    assert find_pii("https://acme.example/help/returns and www.acme.example/pricing?lang=en") == []
    found = find_pii("https://user:pw@acme.example/ and https://acme.example/d/3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b")
    assert [m.kind for m in found] == ["url", "url"]


def test_checksums() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("DE89 3704 0044 0532 0130 00") and not iban_valid("DE89 3704 0044 0532 0130 01")
    assert not iban_valid("XX89370400440532013000")


# --------------------------------------------------------------------------- hypothesis

_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " .,;:!?@+-()#/$€\n", max_size=160)


@given(_TEXT)
@settings(max_examples=300, deadline=None)
def test_matches_are_sorted_disjoint_and_exact(text: str) -> None:
    matches = find_pii(text, names=["Jane Doe"])
    previous_end = -1
    for match in matches:
        assert isinstance(match, PiiMatch) and match.kind in KINDS
        assert match.start >= previous_end and match.end > match.start
        assert text[match.start : match.end] == match.text
        previous_end = match.end


_PII_PIECES = st.sampled_from([
    "call +44 20 7946 0958", "jane@example.com", "sk-" + "a" * 24, "AKIA" + "B" * 16, "ghp_" + "c" * 36,
    "password: hunter22", "https://x.io/reset?token=abc123", "www.site.com/?id=7", "IP 10.0.0.1", "Bearer " + "d" * 20,
    "DE89 3704 0044 0532 0130 00", "4111 1111 1111 1111", "12 Main Street", "Hauptstraße 5", "١٢٣", "Ünïcode",
    "PASSWORD = Secr3t!", "İ", "api_key=abcdef12", "your password is expired", "password", ": 'hunter22'", "token is x",
])


@given(st.lists(st.one_of(_TEXT, _PII_PIECES), max_size=4))
@settings(max_examples=300, deadline=None)
def test_the_quick_test_never_misses_what_find_pii_finds(pieces: list[str]) -> None:
    text = " ".join(pieces)
    kinds = [k for k in KINDS if k != "person"]
    if find_pii(text, kinds):
        assert may_contain_pii(text, kinds)
        assert may_contain_pii("\n".join(["nothing here", text, "nor here"]), tuple(kinds))
    for kind in kinds:
        if find_pii(text, [kind]):
            assert may_contain_pii(text, [kind]), kind


@given(_TEXT)
@settings(max_examples=200, deadline=None)
def test_redaction_is_idempotent(text: str) -> None:
    once = Redactor(names=["Jane Doe"]).redact(text)
    assert Redactor(names=["Jane Doe"]).redact(once) == once


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@given(
    prefix=st.sampled_from(["4", "51", "55", "37", "6011"]),
    digits=st.text(alphabet="0123456789", min_size=14, max_size=14),
    sep=st.sampled_from(["", " ", "-"]),
    bad=st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_cards_found_only_with_valid_luhn(prefix: str, digits: str, sep: str, bad: bool) -> None:
    body = (prefix + digits)[:15]
    number = _luhn_complete(body)
    if bad:
        number = number[:-1] + str((int(number[-1]) + 1) % 10)
    written = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    text = f"Please charge {written} today."
    kinds = [m.kind for m in find_pii(text, kinds=["card"])]
    assert kinds == ([] if bad else ["card"]), written


def _iban(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    return f"{country}{98 - number % 97:02d}{bban}"


@given(
    country=st.sampled_from([("DE", 18), ("GB", 18), ("FR", 23), ("NL", 14), ("ES", 20)]),
    data=st.data(),
    spaced=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_generated_ibans_are_found(country: tuple[str, int], data: st.DataObject, spaced: bool) -> None:
    code, length = country
    bban = data.draw(st.text(alphabet="0123456789", min_size=length, max_size=length))
    iban = _iban(code, bban)
    assert iban_valid(iban)
    written = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if spaced else iban
    assert [m.text for m in find_pii(f"Refund to {written} please", kinds=["iban"])] == [written]


_PHONE_CASES = [
    (region, kind, fmt)
    for region in ("US", "GB", "DE", "FR", "IN", "AU", "BR")
    for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)
    for fmt in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL)
]


@pytest.mark.parametrize(("region", "kind", "fmt"), _PHONE_CASES)
def test_libphonenumber_example_numbers_are_found(region: str, kind: int, fmt: int) -> None:
    number = phonenumbers.example_number_for_type(region, kind)
    written = phonenumbers.format_number(number, fmt)
    text = f"You can reach me on {written} after five."
    found = find_pii(text, kinds=["phone"])
    assert [m.text for m in found] == [written], (region, written)
    assert written not in Redactor().redact(text)


@given(
    order=st.integers(min_value=1000, max_value=10**12),
    cents=st.integers(min_value=0, max_value=10**8),
    year=st.integers(min_value=1990, max_value=2035),
    month=st.integers(min_value=1, max_value=12),
    day=st.integers(min_value=1, max_value=28),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
    qty=st.integers(min_value=1, max_value=10_000),
    word=st.sampled_from(["order", "Order #", "invoice", "ticket", "tracking number", "ref", "Case"]),
    currency=st.sampled_from(["$", "€", "£", "USD ", "EUR "]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_business_numbers_are_not_pii(
    order: int, cents: int, year: int, month: int, day: int, hour: int, minute: int, qty: int, word: str, currency: str
) -> None:
    price = f"{currency}{cents // 100:,}.{cents % 100:02d}"
    text = (
        f"Your {word} {order} of {qty} items costs {price}; it ships on {year}-{month:02d}-{day:02d} "
        f"({day:02d}/{month:02d}/{year}) at {hour:02d}:{minute:02d}."
    )
    found = [m for m in find_pii(text) if m.kind in ("phone", "card", "iban", "ip")]
    assert found == [], (text, found)


def test_placeholders_are_not_redetected() -> None:
    text = "Write to <EMAIL_1> or call <PHONE_2>, <PERSON_1> said."
    assert find_pii(text, names=["Person"]) == []
    assert re.fullmatch(placeholder_pattern(), "<CARD_12>")


# --------------------------------------------------------------------------- real corpora


def _strings(value, out):
    if isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)
    elif isinstance(value, str):
        out.append(value)
    return out


def test_abcd_customer_details_are_found_and_ids_kept(corpora):
    import json

    texts = _strings(json.loads((corpora / "abcd" / "abcd_sample.json").read_text(encoding="utf-8")), [])
    joined = "\n".join(texts)
    assert "(977) 625-2661" in joined and "cminh730@email.com" in joined and "Order ID: 3348917502" in joined
    redacted = "\n".join(Redactor().redact(t) for t in texts)
    for value in ("(977) 625-2661", "cminh730@email.com", "aphoenix939@email.com"):
        assert value not in redacted
    # order ids and dates are not personal data
    assert "Order ID: 3348917502" in redacted and "2019-11-06" in redacted


def test_sgd_phone_numbers_and_street_addresses(corpora):
    import json

    texts = []
    for name in ("dev_dialogues_001.json", "dev_dialogues_002.json"):
        for dialogue in json.loads((corpora / "sgd" / name).read_text(encoding="utf-8")):
            texts.extend(turn["utterance"] for turn in dialogue["turns"])
    kinds = [m.kind for t in texts for m in find_pii(t)]
    assert kinds.count("phone") >= 4 and kinds.count("address") >= 20
    assert set(kinds) <= {"phone", "address", "email"}
    found = {m.text for t in texts for m in find_pii(t)}
    assert {"408-247-8880", "415-775-7644", "605 Post Street"} <= found


_KEY_PIECES = st.sampled_from(["password", "passwd", "pwd", "passcode", "api_key", "apikey", "api-secret", "secret_key",
                               "client_secret", "access-token", "auth_token", "private_key", "privatekey", "passes",
                               "monkey", "bypass", "tokens", "key", " is ", ": ", "=", " ", "_", "x"])


@given(st.lists(_KEY_PIECES, max_size=14))
@settings(max_examples=400, deadline=None)
def test_assignment_keys_are_found_as_a_full_scan_finds_them(pieces: list[str]) -> None:
    from toolkit.pii import _SECRET_ASSIGNMENT_KEY_LOWER, _assignment_keys

    text = "".join(pieces)
    assert [m.span() for m in _assignment_keys(text)] == [m.span() for m in _SECRET_ASSIGNMENT_KEY_LOWER.finditer(text)]


@given(st.text(alphabet="AKISGPDROANBzeyJxosk_-lvtBasicBearerPRIVATE KEY", max_size=24))
@settings(max_examples=500, deadline=None)
def test_the_secret_cue_test_is_a_substring_test(text: str) -> None:
    from toolkit.pii import _SECRET_CUES, _has_secret_cue

    assert _has_secret_cue(text) == any(cue in text for cue in _SECRET_CUES)


# --------------------------------------------------------------------------- the ASCII screen of may_contain_pii


def test_the_screen_classes_are_pythons_on_ascii() -> None:
    import re2

    from toolkit.pii import _ASCII_SPACE

    for char in map(chr, range(128)):
        assert (re.fullmatch(r"\s", char) is not None) == (re2.fullmatch(_ASCII_SPACE, char) is not None), repr(char)
        # the screen's \b is RE2's: it must agree with Python's wherever the text is ASCII
        assert (re.fullmatch(r"\w", char) is not None) == (re2.fullmatch(r"\w", char) is not None), repr(char)


def _any_case(words: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(words).flatmap(
        lambda word: st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
            lambda upper: "".join(c.upper() if u else c for c, u in zip(word, upper))
        )
    )


_SPACE_PIECES = st.sampled_from(["", " ", "  ", "\n", "\t", "\x0b", "\x0c", "\r", "\x1c", "\x1f", "\x85", "\xa0", "\u2003"])
_ASSIGNMENT_PIECES = st.tuples(
    _any_case(["password", "passwd", "pwd", "passcode", "api_key", "api-key", "apikey", "api_secret", "secret-key",
               "client_secret", "access_token", "auth-token", "privatekey", "passes", "monkey", "token", "key"]),
    st.sampled_from(["", '"', "'"]),
    _SPACE_PIECES,
    st.sampled_from([":", "=", "is", "IS", "iS", "is:", "ist", "", "->"]),
    _SPACE_PIECES,
    st.sampled_from(["", '"', "'"]),
    st.text(alphabet="abcxyzXYZ09_-.!/\"',;<>é<>ı ", max_size=10),
).map("".join)
_SCREEN_PIECES = st.one_of(
    _ASSIGNMENT_PIECES,
    _any_case(["http://a.io/x?id=7", "https://b.io", "http", "www.site.com/?id=7", "www", "mailto", "sk-", "akia", "eyj",
               "bearer", "basic", "xox", "ghp_", "_live_", "glpat-", "private key-----", "aiza"]),
    _PII_PIECES,
    st.text(alphabet="abcXYZ :=@.'\"\x0b\u00e9\u0130\u212a", max_size=12),
)
_SCREEN_KINDS = st.sampled_from([None, ("secret", "url", "email", "iban", "card", "ip", "phone", "address"), ("secret",),
                                 ("url",), ("email",), ("phone",), ("person",), ("secret", "url"), ()])


@given(st.lists(st.tuples(_SCREEN_PIECES, _SPACE_PIECES), max_size=6), _SCREEN_KINDS)
@settings(max_examples=1500, deadline=None)
def test_the_ascii_screen_never_changes_the_quick_test(pieces: list[tuple[str, str]], kinds: tuple[str, ...] | None) -> None:
    from toolkit.pii import _check_kinds, _passes_cue_tests

    text = "".join(piece + space for piece, space in pieces)
    expected = _passes_cue_tests(text, _check_kinds(kinds))
    assert may_contain_pii(text, kinds) == expected
    ascii_only = text.encode("ascii", "ignore").decode()
    assert may_contain_pii(ascii_only, kinds) == _passes_cue_tests(ascii_only, _check_kinds(kinds))
