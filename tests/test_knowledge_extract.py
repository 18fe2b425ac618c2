"""Span extraction and value normalisation behind the K rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.knowledge import extract_spans
from toolkit.knowledge import normalize as N


def kinds(text: str) -> list[tuple[str, str, str]]:
    return [(s.kind, s.text, s.value) for s in extract_spans(text)]


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (N.normalize_quantity("two", "weeks"), N.normalize_quantity("2", "week")),
        (N.normalize_quantity("30", "-day"), "30 days"),
        (N.normalize_quantity("thirty", "days"), "30 days"),
        (N.normalize_quantity("twenty-four", "hours"), "24 hours"),
        (N.normalize_money("$1,200"), "1200"),
        (N.normalize_money("$1,200.00"), "1200"),
        (N.normalize_money("1200 dollars"), "1200"),
        (N.normalize_money("USD 49.90"), "49.9"),
        (N.normalize_money("$2.5k"), "2500"),
        (N.normalize_time("7 pm"), "19:00"),
        (N.normalize_time("7:00 p.m."), "19:00"),
        (N.normalize_time("11:30 am"), "11:30"),
        (N.normalize_time("12 am"), "00:00"),
        (N.normalize_date("March 3rd"), "03-03"),
        (N.normalize_date("3 March 2024"), "03-03"),
        (N.normalize_date("2019-03-01"), "03-01"),
        (N.normalize_phone("+1 (415) 555-0172"), "4155550172"),
        (N.normalize_identifier("https://www.Example.com/Help/"), "example.com/help"),
    ],
)
def test_normalisation_makes_equal_values_equal(a, b):
    assert a == b


@given(st.integers(min_value=0, max_value=10**9))
def test_money_with_thousands_separators_round_trips(value):
    assert N.normalize_money(f"${value:,}") == str(value)
    assert N.normalize_money(f"{value} dollars") == str(value)


@given(st.integers(min_value=1, max_value=99))
def test_number_words_equal_digits(value):
    words = {v: k for k, v in N.NUMBER_WORDS.items() if "-" in k or " " not in k}
    if value in words:
        assert N.number_value(words[value]) == Decimal(value)
        assert N.normalize_quantity(words[value], "days") == N.normalize_quantity(str(value), "day")


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_extraction_never_crashes_and_spans_index_the_text(text):
    for span in extract_spans(text):
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start:span.end] == span.text
        assert 0.0 <= span.score <= 1.0


# --------------------------------------------------------------------------- extraction


def test_quantities_are_typed_and_normalised():
    found = kinds("It's $24.95, arrives in 3-5 business days, saves 20%, ships March 3rd at 7 pm, up to 5 users.")
    assert ("money", "$24.95", "24.95") in found
    assert ("duration", "3-5 business days", "3-5 business days") in found
    assert ("percent", "20%", "20") in found
    assert ("date", "March 3rd", "03-03") in found
    assert ("time", "7 pm", "19:00") in found
    assert ("count", "up to 5 users", "5") in found


def test_identifiers_and_contact_points():
    found = kinds("Call 1-800-555-0199, email billing@acme-example.com, see acme-example.com/pricing or use code SAVE20.")
    assert ("phone", "1-800-555-0199", "8005550199") in found
    assert ("email", "billing@acme-example.com", "billing@acme-example.com") in found
    assert ("url", "acme-example.com/pricing", "acme-example.com/pricing") in found
    assert ("promo_code", "SAVE20", "save20") in found


def test_ui_path_is_cut_to_the_path_and_generic_advice_is_not_a_procedure():
    assert ("ui_path", "Settings > Billing > Cancel subscription", "settings > billing > cancel subscription") in kinds(
        "Go to Settings > Billing > Cancel subscription and confirm.")
    assert not [k for k in kinds("Please restart the app and clear your browser cache.") if k[0].startswith("ui")]


def test_names_skip_sentence_starts_greetings_and_people():
    found = kinds("Hi Sarah, thanks for waiting. You'll want the Business Plus plan. How about Sino?")
    names = [(k, t) for k, t, _ in found if k in ("name", "plan")]
    assert names == [("plan", "Business Plus plan"), ("name", "Sino")]


def test_policy_and_account_statements():
    found = kinds("Unfortunately we don't ship to PO boxes. Your order #5521 has shipped.")
    assert ("policy", "we don't ship", "we don t ship") in found
    assert any(k == "account_fact" and t.startswith("Your order #5521 has shipped") for k, t, _ in found)


def test_template_placeholders_are_never_spans():
    assert kinds("Your refund of {{refund_amount}} arrives within {{refund_window}} at [STORE_NAME].") == []
