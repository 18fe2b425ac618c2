"""The code table of ``ftkit validate``: every check, documented as data.

Three families (shared with the linter, whose J/S/T rules wrap these checks):

* **J** - the file cannot be read as JSON Lines (produced by :mod:`toolkit.io.jsonl`).
* **S** - a record breaks the target's schema or a structural rule the schema cannot say.
* **T** - token figures: too long, nothing to train on, chat-template tokens in the text.

Each entry says what the check finds (``summary``), why a provider or the trained model
suffers from it (``why``), how to fix it (``hint``) and gives a ``bad`` and ``good`` line.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.diagnostics import Severity

_U = '{"role": "user", "content": "Where is my order?"}'
_A = '{"role": "assistant", "content": "Let me check that for you."}'


@dataclass(frozen=True)
class Check:
    """Documentation of one validate code."""

    code: str
    name: str  # kebab-case
    summary: str
    why: str
    hint: str
    bad: str
    good: str
    severity: Severity = Severity.ERROR
    scope: str = "example"  # "line" (J), "example", or "dataset"

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "name": self.name,
            "summary": self.summary,
            "why": self.why,
            "hint": self.hint,
            "bad": self.bad,
            "good": self.good,
            "severity": self.severity.value,
            "scope": self.scope,
        }


_CHECKS = [
    # ------------------------------------------------------------------ J: syntax and encoding
    Check("J001", "invalid-json", "The line is not valid JSON.",
          "Providers reject the whole upload when one line does not parse; most tools stop at the first bad line and hide the rest.",
          "fix the JSON syntax at the column shown (often an unescaped quote or newline inside a string)",
          '{"messages": [{"role": "user", "content": "Hi"}', '{"messages": [{"role": "user", "content": "Hi"}]}', scope="line"),
    Check("J002", "not-an-object", "The line is valid JSON but not an object (an array, string, number, ...).",
          "Each line of a fine-tuning file is one example object; anything else is rejected.",
          "write exactly one JSON object per line",
          '[{"role": "user", "content": "Hi"}]', '{"messages": [{"role": "user", "content": "Hi"}]}', scope="line"),
    Check("J003", "truncated-line", "The last line ends before its JSON is complete.",
          "A cut-off file (interrupted export or copy) loses its last example and is rejected by providers.",
          "re-export the file, or delete the partial last line",
          '{"messages": [{"role": "user", "cont', '{"messages": [{"role": "user", "content": "Hi"}]}', scope="line"),
    Check("J004", "not-utf8", "The line holds bytes that are not UTF-8.",
          "Providers require UTF-8; Windows-1252 or Latin-1 exports turn accents into rejected bytes or mojibake.",
          "re-encode the file as UTF-8 (e.g. `iconv -f cp1252 -t utf-8`)",
          '{"messages": [{"role": "user", "content": "caf\\xe9"}]}  (raw byte 0xE9)',
          '{"messages": [{"role": "user", "content": "café"}]}', scope="line"),
    Check("J005", "git-lfs-pointer", "The file is a Git LFS pointer, not the data.",
          "A clone without `git lfs pull` holds a three-line pointer; uploading it trains on nothing.",
          "run `git lfs pull` to fetch the real file",
          "version https://git-lfs.github.com/spec/v1", '{"messages": [...]}', scope="line"),
    Check("J006", "utf8-bom", "The file starts with a UTF-8 byte order mark.",
          "Many trainers read the BOM as part of the first key and reject or mis-read line 1 (Azure OpenAI is the exception: it documents files with a BOM).",
          "remove the BOM (`ftkit lint --fix`), unless the target is Azure OpenAI",
          "\\ufeff{\"messages\": [...]}", '{"messages": [...]}', severity=Severity.INFO, scope="line"),
    Check("J007", "crlf-line-endings", "Lines end in CRLF (\\r\\n).",
          "Harmless for ftkit and most providers, but tools that split on \\n leave a stray \\r at the end of each record.",
          "convert line endings to LF (`ftkit lint --fix`)",
          '{"messages": [...]}\\r\\n', '{"messages": [...]}\\n', severity=Severity.INFO, scope="line"),
    # ------------------------------------------------------------------ S: schema and structure
    Check("S001", "schema-violation", "The record does not match the target's JSON Schema (a wrong type, a missing or unexpected key, a bad value).",
          "Providers validate every line on upload and reject the file for one bad record; an unexpected key usually means the data was written for another format.",
          "compare the record with schemas/<target>.schema.json; `ftkit convert` writes each target's exact layout",
          '{"messages": [' + _U + ', {"role": "assistant", "content": 42}]}', '{"messages": [' + _U + ", " + _A + "]}"),
    Check("S002", "unknown-role", "A message role (or ShareGPT `from`, Vertex role) that the target does not accept.",
          "Providers reject unknown roles; helpdesk names like `agent` or `customer` must be mapped to user/assistant first.",
          "map roles to the target's names (customer -> user, agent -> assistant; Vertex: model; ShareGPT: human/gpt)",
          '{"messages": [{"role": "customer", "content": "Hi"}, ' + _A + "]}", '{"messages": [' + _U + ", " + _A + "]}"),
    Check("S003", "no-messages", "The record has no conversation: the list of messages (contents, conversations) is missing or empty.",
          "An example without messages teaches nothing and is rejected; a different top-level key usually means the file is in another format.",
          "check --format (try --format auto), or convert the file with `ftkit convert`",
          '{"conversations": [{"from": "human", "value": "Hi"}]}  (validated as openai)', '{"messages": [' + _U + ", " + _A + "]}"),
    Check("S004", "system-position", "A system (or developer) message that is not at the start of the conversation.",
          "Several providers reject a system message after the first turn; chat templates render it at the top anyway, so its position in the data misleads.",
          "move the system message to the first position (or merge several into one)",
          '{"messages": [' + _U + ', {"role": "system", "content": "Be brief."}, ' + _A + "]}",
          '{"messages": [{"role": "system", "content": "Be brief."}, ' + _U + ", " + _A + "]}"),
    Check("S005", "role-order", "Roles are out of the order the target requires (e.g. two user turns in a row, a conversation that starts with the assistant).",
          "Bedrock, Vertex, Mistral, Together and ShareGPT trainers require user and assistant turns to alternate and reject or mis-train on other orders.",
          "merge consecutive turns of the same speaker and start with the user",
          '{"messages": [' + _U + ", " + _U + ", " + _A + "]}", '{"messages": [' + _U + ", " + _A + "]}"),
    Check("S006", "last-not-assistant", "The conversation does not end with an assistant (model, gpt) turn.",
          "The final assistant turn is what the model learns to produce; trailing user turns are wasted tokens and several providers reject them.",
          "end every example with the assistant reply you want the model to learn (drop trailing user turns)",
          '{"messages": [' + _U + ", " + _A + ", " + _U + "]}", '{"messages": [' + _U + ", " + _A + "]}"),
    Check("S007", "empty-content", "A message whose text is empty or only whitespace (and that calls no tool).",
          "Empty assistant turns teach the model to answer with nothing; empty user turns are usually lost attachments or system events.",
          "fill in or drop the empty message",
          '{"messages": [' + _U + ', {"role": "assistant", "content": " "}]}', '{"messages": [' + _U + ", " + _A + "]}"),
    Check("S008", "tool-call-unanswered", "An assistant tool call that no tool message answers before the conversation moves on.",
          "Providers pair every tool call with its result by id; an unanswered call teaches the model to ignore its tools' results.",
          "add a tool message with the call's tool_call_id right after the assistant message that made the call",
          '{"messages": [' + _U + ', {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}, ' + _A + "]}",
          '{"messages": [' + _U + ', {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "{}"}, ' + _A + "]}"),
    Check("S009", "tool-result-orphan", "A tool message whose tool_call_id matches no earlier tool call (or that answers a call twice).",
          "A result without its call is rejected by OpenAI-style providers and teaches the model results appear from nowhere.",
          "set tool_call_id to the id of the assistant tool call it answers, or drop the message",
          '{"messages": [' + _U + ', {"role": "tool", "tool_call_id": "c9", "content": "{}"}, ' + _A + "]}",
          '{"messages": [' + _U + ", " + _A + "]}"),
    Check("S010", "tool-call-id-duplicate", "Two tool calls in one example share an id.",
          "Results are matched to calls by id; a duplicate makes the pairing ambiguous and providers reject it.",
          "give every tool call in the example its own id",
          '... "tool_calls": [{"id": "c1", ...}, {"id": "c1", ...}] ...', '... "tool_calls": [{"id": "c1", ...}, {"id": "c2", ...}] ...'),
    Check("S011", "tool-arguments-invalid", "A tool call's arguments are not a JSON-encoded object.",
          "OpenAI-style formats carry arguments as a JSON string; a string that does not parse (or parses to a non-object) is rejected or trains the model to emit broken calls.",
          "encode the arguments object with json.dumps and store that string",
          '"function": {"name": "lookup", "arguments": "{order: 1}"}', '"function": {"name": "lookup", "arguments": "{\\"order\\": 1}"}'),
    Check("S012", "tool-arguments-mismatch", "A tool call's arguments do not match the declared tool's parameters schema.",
          "The model learns to call tools with arguments your code will reject (missing required fields, wrong types).",
          "make the arguments satisfy the tool's `parameters` schema, or fix the schema",
          '"arguments": "{\\"order_id\\": 17}"  with parameters {"order_id": {"type": "string"}}', '"arguments": "{\\"order_id\\": \\"17\\"}"',
          severity=Severity.ERROR),
    Check("S013", "tool-undeclared", "A tool call names a function that the example's tools do not declare.",
          "Without the definition in `tools` the model learns to call a function it will never be shown, and the arguments cannot be checked.",
          "add the function to the example's `tools` list (type function, name, description, parameters)",
          '{"messages": [..., {"role": "assistant", "tool_calls": [{"function": {"name": "refund", ...}}]}], "tools": [{"type": "function", "function": {"name": "lookup"}}]}',
          '... "tools": [{"type": "function", "function": {"name": "refund", "parameters": {...}}}]', severity=Severity.WARNING),
    Check("S014", "function-name-invalid", "A function name that is not 1-64 letters, digits, underscores or dashes.",
          "Providers reject tool and call names outside ^[a-zA-Z0-9_-]{1,64}$.",
          "rename the function (e.g. `look up order` -> `lookup_order`)",
          '"function": {"name": "look up order"}', '"function": {"name": "lookup_order"}'),
    Check("S015", "tool-schema-invalid", "A declared tool is unusable: its parameters are not a valid JSON Schema, or two tools share a name.",
          "Providers reject invalid parameter schemas; duplicate names make calls ambiguous.",
          "make `parameters` a valid JSON Schema object (type object, properties, required) and give each tool its own name",
          '"parameters": {"type": "obj"}', '"parameters": {"type": "object", "properties": {}}'),
    Check("S016", "weight-invalid", "A `weight` that is not the integer 0 or 1.",
          "OpenAI and Mistral accept only 0 (do not train) or 1 (train); other values are rejected.",
          "use 0 to exclude an assistant message from training and 1 (or no weight) to include it",
          '{"role": "assistant", "content": "...", "weight": 0.5}', '{"role": "assistant", "content": "...", "weight": 0}'),
    Check("S017", "weight-not-assistant", "A `weight` on a message that is not from the assistant.",
          "Only assistant messages are trained on, so weight is only allowed there; providers reject it elsewhere.",
          "remove weight from system, user and tool messages",
          '{"role": "user", "content": "Hi", "weight": 1}', '{"role": "user", "content": "Hi"}'),
    Check("S018", "unsupported-feature", "The record uses a feature the target does not accept (a role, images, weights or tools it has no field for).",
          "The provider rejects the file, or silently drops what it does not support.",
          "remove the feature, or choose a target that supports it",
          '{"messages": [{"role": "developer", "content": "Be brief."}, ...]}  (target together)', '{"messages": [{"role": "system", "content": "Be brief."}, ...]}'),
    Check("S019", "tool-call-id-format", "A tool call id in a format the target rejects (Mistral: exactly 9 letters or digits).",
          "Mistral's tokenizer validates call ids and rejects the example.",
          "rewrite ids to 9 alphanumeric characters, consistently in the call and its tool message",
          '"id": "call_abc123"', '"id": "abc123XYZ"'),
    Check("S020", "preference-output", "A preference example whose outputs are not exactly one assistant message each, or whose prompt does not end with the user.",
          "OpenAI DPO compares one assistant reply against another for the same prompt; other shapes are rejected or compare nothing.",
          "put the prompt (ending in a user message) in input.messages and one assistant message in each output",
          '{"input": {"messages": [' + _U + ']}, "preferred_output": [' + _A + ", " + _A + '], "non_preferred_output": [' + _A + "]}",
          '{"input": {"messages": [' + _U + ']}, "preferred_output": [' + _A + '], "non_preferred_output": [{"role": "assistant", "content": "No."}]}'),
    Check("S021", "preference-identical", "The preferred and non-preferred outputs are identical.",
          "A pair with no difference carries no preference signal and only adds noise and cost.",
          "drop the pair or write a genuinely worse non-preferred reply",
          '"preferred_output": [X], "non_preferred_output": [X]', '"preferred_output": [X], "non_preferred_output": [Y]', severity=Severity.WARNING),
    Check("S022", "too-few-examples", "The file holds fewer examples than the target's minimum.",
          "Providers refuse to start a job below their minimum (OpenAI and Azure OpenAI: 10, Fireworks: 3); an empty file trains nothing.",
          "add examples (50-100 well-made ones is a common starting point)",
          "a file with 5 examples for --format openai", "a file with at least 10 examples", scope="dataset"),
    Check("S023", "too-many-examples", "The file holds more examples than the target accepts.",
          "Providers reject datasets above their documented maximum (Fireworks: 3,000,000).",
          "split the data or sample it down", "4,000,000 examples for --format fireworks", "3,000,000 examples or fewer", scope="dataset"),
    Check("S024", "file-too-large", "The file is larger than the target's documented upload limit.",
          "The upload fails after a long transfer (OpenAI, Azure OpenAI, Mistral: 512 MB per file; Together: 100 GB).",
          "split the file, or use the provider's multi-part upload API", "a 600 MB file for --format openai",
          "two 300 MB files", severity=Severity.WARNING, scope="dataset"),
    Check("S025", "bom-missing", "The file has no UTF-8 byte order mark, which Azure OpenAI's documentation asks for.",
          "Azure OpenAI documents training files as UTF-8 with a BOM; most uploads work without one, so this is information only.",
          "write the file with a BOM (`ftkit convert --to azure` does)", '{"messages": [...]}', "\\ufeff{\"messages\": [...]}",
          severity=Severity.INFO, scope="dataset"),
    # ------------------------------------------------------------------ T: tokens and length
    Check("T001", "example-too-long", "An example has more tokens than the model's per-example training limit (or --max-tokens).",
          "Providers truncate or reject long examples; truncation cuts off the end, which is the assistant reply the model should learn.",
          "shorten the example (fewer turns, trimmed tool results), split it into windows, or raise --max-tokens if the limit is yours",
          "an example of ~70,000 tokens for gpt-4o-mini (limit 65,536)", "the same conversation split into two windows"),
    Check("T002", "no-trainable-tokens", "The example has assistant messages but none is trained on (all have weight 0 or are empty).",
          "An example with zero trainable tokens costs money and teaches nothing; usually a weighting bug.",
          "set weight 1 (or remove weight) on the assistant replies to learn from, or drop the example",
          '{"messages": [' + _U + ', {"role": "assistant", "content": "Hi", "weight": 0}]}', '{"messages": [' + _U + ', {"role": "assistant", "content": "Hi"}]}'),
    Check("T003", "special-token-leak", "Text contains chat-template control tokens (<|im_start|>, <|endoftext|>, [INST], <<SYS>>, <start_of_turn>, ...).",
          "These strings were left by a previous template or export; the model learns to emit them, and some trainers treat them as real control tokens and split the example.",
          "remove the template markup from the text (keep only what the speaker wrote)",
          '{"role": "assistant", "content": "Sure!<|im_end|>"}', '{"role": "assistant", "content": "Sure!"}'),
]

CHECKS: dict[str, Check] = {check.code: check for check in _CHECKS}
NAMES: dict[str, str] = {check.name: check.code for check in _CHECKS}


def check_doc(code: str) -> Check:
    """The documentation of a validate code (``KeyError`` if unknown)."""
    return CHECKS[code]


def name_of(code: str) -> str | None:
    check = CHECKS.get(code)
    return check.name if check else None
