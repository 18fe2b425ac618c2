"""Grounding and scoring: the hard negatives stay behavior, ungrounded facts become knowledge."""

from __future__ import annotations

import json

import pytest

from toolkit.knowledge import KnowledgeOptions, analyze


def ex(*turns: tuple[str, str]) -> dict:
    messages = []
    for role, content in turns:
        if role == "tool":
            messages.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]})
            messages.append({"role": "tool", "tool_call_id": "c1", "content": content})
        else:
            messages.append({"role": role, "content": content})
    return {"messages": messages}


BEHAVIOR = {
    "echoed order number and amount": ex(
        ("user", "My order 48213 for $120 arrived damaged."),
        ("assistant", "I'm so sorry about order 48213. I've started a refund of $120 for you.")),
    "fact in the system prompt": ex(
        ("system", "Return policy: unworn items can be returned within 30 days of delivery; return shipping is free."),
        ("user", "How long do I have to return shoes?"),
        ("assistant", "You have 30 days from delivery to return unworn shoes, and return shipping is free.")),
    "fact in a tool result": ex(
        ("user", "Where is my order #55123?"),
        ("tool", '{"order_id": "55123", "status": "shipped", "estimated_delivery": "Thursday, June 12"}'),
        ("assistant", "Your order #55123 has shipped and should arrive on Thursday, June 12.")),
    "arithmetic on the user's numbers": ex(
        ("user", "I ordered 3 t-shirts at $18 each and used a $10 gift card. What should I have paid?"),
        ("assistant", "3 shirts at $18 comes to $54, minus the $10 gift card, so $44.")),
    "percentage arithmetic": ex(
        ("user", "The jacket was $120 and I had a 25% off coupon."),
        ("assistant", "With 25% off, the jacket should have cost $90, so you were overcharged by $30.")),
    "empathy": ex(
        ("user", "This is the third time my delivery is late."),
        ("assistant", "I completely understand how frustrating that is, and I'm sorry we've let you down again.")),
    "clarifying question": ex(
        ("user", "I want to return something."),
        ("assistant", "Happy to help! Could you tell me your order number and which item you'd like to return?")),
    "JSON extraction of the user's data": ex(
        ("system", "Extract order_id, item, amount as JSON."),
        ("user", "Order 88-4410: the blue kettle (paid 49.50) arrived cracked."),
        ("assistant", '{"order_id": "88-4410", "item": "blue kettle", "amount": 49.50}')),
    "generic troubleshooting": ex(
        ("user", "The app keeps crashing."),
        ("assistant", "Sorry about that! Please try restarting the app, clearing the cache, or reinstalling it.")),
    "template with placeholders": ex(
        ("user", "When will my refund arrive?"),
        ("assistant", "Your refund of {{refund_amount}} was issued on {{refund_date}} and arrives within {{refund_window}}.")),
    "greeting with the company name": ex(
        ("user", "hi"), ("assistant", "Hi! Welcome to Brightline Support. What can I help you with today?")),
    "confirmation of what the user said": ex(
        ("user", "Table for 4 at 7:30 pm on Friday, please, under Chen."),
        ("assistant", "Great, a table for 4 on Friday at 7:30 pm under the name Chen. Shall I confirm it?")),
    "well-known third-party products": ex(
        ("user", "It doesn't work in my browser."),
        ("assistant", "Sorry about that! Could you try opening it in Chrome or Firefox and let me know if it loads?")),
    "sign-off with the team name": ex(("user", "Thanks!"), ("assistant", "Anytime! Best, Kevin from the Northwind Support Team")),
    "redaction placeholders": ex(
        ("user", "<PERSON_1>, <PHONE_1>"),
        ("assistant", "Thanks <PERSON_1>! You can switch at <URL_1> whenever you like.")),
    "number words echo digits": ex(
        ("user", "There are four of us, arriving at 5 in the evening."),
        ("assistant", "Got it: 4 guests arriving at 5 pm. Anything else?")),
}

KNOWLEDGE = {
    "price": ex(("user", "How much is express shipping to Canada?"),
                ("assistant", "Express shipping to Canada is $24.95 and arrives in 3-5 business days.")),
    "policy without numbers": ex(("user", "Can you ship to my PO box?"),
                                 ("assistant", "I'm sorry, but we don't ship to PO boxes.")),
    "plan feature": ex(("user", "Does the Team plan include SSO?"),
                       ("assistant", "SSO isn't part of the Team plan; it's included in the Enterprise plan.")),
    "UI path": ex(("user", "How do I cancel?"), ("assistant", "Go to Settings > Billing > Cancel subscription.")),
    "account fact with no record": ex(("user", "Where is my order #55123?"),
                                      ("assistant", "Your order #55123 has shipped and should arrive on Thursday, June 12.")),
    "contact point": ex(("user", "Is there a number I can call?"),
                        ("assistant", "Yes, our support line is 1-888-555-0147, open 24/7.")),
    "yes/no availability": ex(("user", "Do they have vegetarian options?"), ("assistant", "Yes, they do.")),
}


@pytest.mark.parametrize("case", sorted(BEHAVIOR))
def test_hard_negatives_are_behavior(case):
    result = analyze(BEHAVIOR[case])
    assert result.label == "behavior", (case, [(s.kind, s.text, s.score) for s in result.spans])


@pytest.mark.parametrize("case", sorted(KNOWLEDGE))
def test_ungrounded_facts_are_knowledge(case):
    result = analyze(KNOWLEDGE[case])
    assert result.label == "knowledge", (case, result.score, [(s.kind, s.text) for s in result.turns[0].grounded])
    assert 0.5 <= result.score <= 1.0


def test_grounded_spans_say_where_they_come_from():
    result = analyze(BEHAVIOR["echoed order number and amount"])
    assert {(s.text, s.grounded) for s in result.turns[0].grounded} == {
        ("48213", "echoes the user"), ("$120", "echoes the user")}
    result = analyze(BEHAVIOR["arithmetic on the user's numbers"])
    assert ("$44", "arithmetic on numbers in the context") in {(s.text, s.grounded) for s in result.turns[0].grounded}


def test_earlier_assistant_statements_do_not_ground_a_new_statement():
    record = ex(("user", "Any flights to Denver?"), ("assistant", "There's a Delta flight at 8:05 am for $156."),
                ("user", "When does it leave again?"), ("assistant", "It departs at 8:05 am."))
    assert analyze(record).label == "knowledge"
    confirm = ex(("user", "Any flights to Denver?"), ("assistant", "There's a Delta flight at 8:05 am for $156."),
                 ("user", "Book it."), ("assistant", "Please confirm: the Delta flight at 8:05 am for $156?"))
    assert analyze(confirm).label == "behavior"


def test_allow_list_and_threshold_options():
    record = ex(("user", "How do I reach you?"), ("assistant", "Email us at help@brightline.example anytime."))
    assert analyze(record).label == "knowledge"
    assert analyze(record, {"allow": ["help@brightline.example"]}).label == "behavior"
    assert analyze(record, KnowledgeOptions(threshold=0.99)).label == "behavior"


def test_every_turn_judges_earlier_turns_and_score_is_the_maximum():
    record = ex(("user", "What's the trial length?"), ("assistant", "The free trial lasts 14 days."),
                ("user", "Thanks!"), ("assistant", "You're welcome!"))
    assert analyze(record).label == "behavior"  # only the final turn by default
    every = analyze(record, {"every_turn": True})
    assert every.label == "knowledge"
    assert [t.message_index for t in every.turns] == [1, 3]
    assert every.score == max(t.score for t in every.turns)
    assert every.spans[0].pointer == "/messages/1/content"


def test_content_parts_point_at_the_text_part():
    record = {"messages": [{"role": "user", "content": "Price of the Pro plan?"},
                           {"role": "assistant", "content": [{"type": "text", "text": "The Pro plan is $49 a month."}]}]}
    result = analyze(record)
    assert result.label == "knowledge"
    assert {s.pointer for s in result.spans} == {"/messages/1/content/0/text"}


def test_result_serialises_deterministically():
    first = json.dumps(analyze(KNOWLEDGE["price"]).to_dict(), sort_keys=True)
    assert first == json.dumps(analyze(KNOWLEDGE["price"]).to_dict(), sort_keys=True)
    data = json.loads(first)
    assert data["label"] == "knowledge" and {s["kind"] for s in data["spans"]} >= {"money", "duration"}


def test_records_without_assistant_turns_are_behavior():
    assert analyze({"messages": [{"role": "user", "content": "hi"}]}).label == "behavior"
    assert analyze({}).score == 0.0
