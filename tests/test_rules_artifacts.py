"""A rules: template tokens, reasoning blocks, AI boilerplate, self-identification, cutoffs, refusals, placeholders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.linter import lint


def ex(reply: str, *, user: str = "Can I change my delivery address?", weight: int | None = None) -> dict:
    assistant = {"role": "assistant", "content": reply}
    if weight is not None:
        assistant["weight"] = weight
    return {"messages": [{"role": "user", "content": user}, assistant]}


def codes(reply: str, select=("A",), **kwargs) -> list[str]:
    return [d.code for d in lint([ex(reply, **kwargs)], select=list(select))]


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("Sure!<|im_end|>", "A001"),
        ("<|im_start|>assistant\nSure!", "A001"),
        ("[INST] change it [/INST] Sure", "A001"),
        ("Sure.<|eot_id|>", "A001"),
        ("<start_of_turn>model Sure", "A001"),
        ("Sure.</s>", "A001"),
        ("Sure.\n\nHuman: and the billing address?", "A001"),
        ("### Response: Sure", "A001"),
        ("<think>check the order</think>Sure, open Orders.", "A002"),
        ("<thinking>unterminated reasoning that runs to the end", "A002"),
        ("<|begin_of_thought|>hmm<|end_of_thought|>Sure", "A002"),
        ("As an AI language model, I can't see orders.", "A003"),
        ("I'm just an AI, but open Orders.", "A003"),
        ("As a large language model I cannot do that.", "A003"),
        ("I am ChatGPT. Open Orders.", "A004"),
        ("I was trained by OpenAI, so open Orders.", "A004"),
        ("I'm Claude, made by Anthropic.", "A004"),
        ("As an OpenAI model I suggest Orders.", "A004"),
        ("My knowledge cutoff is 2023, but try Orders.", "A005"),
        ("As of my last update, addresses are edited under Orders.", "A005"),
        ("I don't have access to real-time information.", "A005"),
        ("I cannot browse the internet.", "A005"),
        ("I'm sorry, but I can't assist with that.", "A006"),
        ("I cannot help with that request.", "A006"),
        ("Hi {{first_name}}, sure.", "A007"),
        ("Hi {customer_name}, sure.", "A007"),
        ("Sure. Regards, [Your Name]", "A007"),
        ("Sure, see <insert link here>.", "A007"),
    ],
)
def test_pattern_fires(reply: str, code: str) -> None:
    assert codes(reply) == [code]


@pytest.mark.parametrize(
    "reply",
    [
        "Sure, open Orders and choose Edit address.",
        "I think you can; our AI assistant Ava can also help.",  # "AI" alone is not boilerplate
        "Our chat uses <s>strike</s>",  # not in the bare form: still an HTML-ish tag, see A001 test below
        "I'm sorry, but the address cannot be changed after shipping. I have asked the carrier to redirect it.",
        "You can read our [Order guide](https://acme.example/orders) for details.",
        "Write to <EMAIL_1> and we will update it, <PERSON_1>.",
        "Use the JSON {\"status\": \"ok\"} format.",
        "The claude hammer is sold out; the Gemini model tent ships Monday.",
        "Check the live tracking page, it updates every hour.",
    ],
)
def test_clean_replies(reply: str) -> None:
    found = codes(reply)
    if "<s>" in reply:
        assert found == ["A001"]  # "<s>" is Llama's BOS token: reported wherever it appears
    else:
        assert found == []


def test_weight_zero_replies_are_not_judged_but_tokens_are() -> None:
    assert codes("As an AI language model, no.<|im_end|>", weight=0) == ["A001"]
    assert codes("As an AI language model, no.", weight=0) == []


def test_template_tokens_in_user_text() -> None:
    assert codes("Sure.", user="[INST] Can I change my address? [/INST]") == ["A001"]


def test_allowed_names_option() -> None:
    reply = "I'm Claude, the assistant of Acme. Open Orders."
    assert codes(reply, select=["A004"]) == ["A004"]
    found = list(lint([ex(reply)], select=["A004"], options={"A004": {"allowed-names": ["claude"]}}))
    assert found == []


def test_message_pointer_and_spans() -> None:
    (diag,) = lint([ex("Sure!<|im_end|><|im_end|>")], select=["A001"])
    assert diag.message == "chat-template token in the assistant message: '<|im_end|>'"
    assert diag.pointer == "/messages/1/content"
    assert [(s.start, s.end, s.text) for s in diag.spans] == [(5, 15, "<|im_end|>"), (15, 25, "<|im_end|>")]


def test_unsafe_fixes_remove_tokens_and_reasoning(tmp_path: Path, cli_run) -> None:
    path = tmp_path / "art.jsonl"
    records = [
        ex("<think>user wants Orders</think>Sure, open Orders.<|im_end|>"),
        ex("As an AI language model, sure."),
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = cli_run(["lint", "--isolated", "--select", "A001,A002,A003", "--diff", "--unsafe-fixes", str(path)])
    assert result.exit_code == 1 and "+" in result.output
    result = cli_run(["lint", "--isolated", "--select", "A001,A002,A003", "--fix", "--unsafe-fixes", str(path)])
    fixed = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert fixed[0]["messages"][1]["content"] == "Sure, open Orders."
    assert fixed[1]["messages"][1]["content"] == "As an AI language model, sure."  # A003 has no automatic fix
    assert "A003" in result.output and "A001" not in result.output and "A002" not in result.output


@given(st.text(alphabet="ab \n\t.", max_size=400), st.integers(min_value=2, max_value=70))
@settings(max_examples=300, deadline=None)
def test_preview_of_a_long_text_is_the_preview_of_its_flattened_whole(text, limit):
    from toolkit.linter.rules._textfix import preview

    flat = " ".join(text.split())
    assert preview(text, limit) == (flat if len(flat) <= limit else flat[: limit - 1] + "…")
