"""Per-record validation: schema, the structural rules a schema cannot say, and token figures.

:class:`RecordChecker` checks one record (a dict) for one target and returns every problem
as a :class:`~toolkit.diagnostics.Diagnostic` plus the record's token figures. It keeps no
state between records, so chunks of a file can be checked in worker processes.

Speed: a JSON Schema check per record is the slow part of validation (about 1 ms for a
record with tools), so records of the OpenAI-style targets go through a hand-written
*conservative* mirror of the schema first (string or text-part contents, tools, tool calls
and results, weights: about 70 us with token counting). It only says "valid" for shapes it
fully understands and otherwise defers to the real schema; problems are always reported by
the schema itself, so both paths report the same diagnostics (a hypothesis test checks
that the mirror never accepts what the schema rejects).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import orjson
from toolkit.config import load_schema
from toolkit.diagnostics import Diagnostic, Severity, Span, pointer
from toolkit.tokens.counting import TOKENS_FOR_TOOLS, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, TOKENS_PER_REPLY, TOKENS_PER_TOOL_CALL
from toolkit.tokens.encodings import get_encoding
from toolkit.tokens.models import encoding_for_model, max_example_tokens
from toolkit.validation.codes import CHECKS
from toolkit.validation.detect import detect_target
from toolkit.validation.targets import Target, get_target

#: Chat-template control tokens that must not appear in training text (T003).
SPECIAL_TOKEN_RE = re.compile(
    r"<\|[A-Za-z][A-Za-z0-9_]{0,40}\|>"  # <|im_start|> <|endoftext|> <|eot_id|> <|fim_suffix|> <|start_header_id|> ...
    r"|\[/?INST\]|<</?SYS>>"  # Llama 2 / Mistral v1
    r"|<(?:start|end)_of_turn>"  # Gemma
    r"|\[/?(?:AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|SYSTEM_PROMPT)\]"  # Mistral v3+
    r"|<\uff5c(?:begin|end)\u2581of\u2581sentence\uff5c>"  # DeepSeek
)
_OPENAI_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
FUNCTION_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

_MAIN_LIST = {"openai": "messages", "mistral": "messages", "vertex": "contents", "bedrock": "messages",
              "sharegpt": "conversations", "openai-dpo": "input"}
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 60) -> str:
    text = orjson.dumps(value, default=str).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Figures:
    """Token figures of one record (estimates made with ``encoding``)."""

    total: int = 0
    prompt: int = 0
    trainable: int = 0


class _Msg:
    """One turn, normalised for counting and scanning: its texts (with pointers) and whether it trains."""

    __slots__ = ("texts", "trainable", "extra")

    def __init__(self, texts: list[tuple[str, str]], trainable: bool, extra: int = 0) -> None:
        self.texts = texts  # (pointer, text)
        self.trainable = trainable
        self.extra = extra  # fixed overhead tokens besides TOKENS_PER_MESSAGE


def _content_texts(content: Any, base: str | tuple) -> list[tuple[Any, str]]:
    """Text fields of a message content with their locations (string, or the text parts of a list).

    A location is a pointer string or a tuple of pointer tokens (turned into a pointer only
    when a problem is reported: most texts never need one).
    """
    if isinstance(content, str):
        return [(base, content)]
    if isinstance(content, list):
        if isinstance(base, tuple):
            return [((*base, k, "text"), part["text"]) for k, part in enumerate(content)
                    if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)]
        return [(f"{base}/{k}/text", part["text"]) for k, part in enumerate(content)
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)]
    return []


def _joined(content: Any) -> str:
    """The text a counter sees: a string, or the text parts joined by newlines (as toolkit.model.content_text)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str))
    return ""


def _report_empty(add, role: str, message_location: tuple) -> None:
    """S007 for an empty message: an error for the assistant's, a warning for the others."""
    add("S007", f"{role} message is empty", pointer(*message_location, "content"),
        severity=Severity.ERROR if role == "assistant" else Severity.WARNING)


def _has_non_text_part(content: Any) -> bool:
    return isinstance(content, list) and any(isinstance(p, dict) and p.get("type") not in ("text", None) for p in content)


def _collector(out: list[Diagnostic], file: str | None, line: int | None):
    """``add(code, message, pointer="", *, hint=None, severity=None, spans=None)``: append a
    diagnostic for this record to ``out``, with the check's documented severity, hint and name
    unless given."""

    def add(code: str, message: str, ptr: str = "", *, hint: str | None = None,
            severity: Severity | None = None, spans: list[Span] | None = None) -> None:
        doc = CHECKS[code]
        out.append(Diagnostic(code=code, message=message, severity=severity or doc.severity, file=file, line=line,
                              pointer=ptr, hint=hint if hint is not None else doc.hint, name=doc.name,
                              spans=spans or []))

    return add


class RecordChecker:
    """Validate records for one target. Build once, call :meth:`check` per record."""

    def __init__(
        self,
        target: str = "openai",
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        encoding: str | None = None,
        count_tokens: bool = True,
        limit_only: bool = False,
    ) -> None:
        self.target: Target = get_target(target)
        # limit_only: the caller wants the T001 verdict, not the figures (``ftkit lint``); records
        # whose UTF-8 size proves them under the limit are not tokenized and get no figures.
        self.limit_only = limit_only
        self.model = model
        self.encoding_name = encoding or (encoding_for_model(model) if model else "o200k_base")
        self.count_tokens = count_tokens
        self.limit, self.limit_source = self._limit(max_tokens)
        self.schema = load_schema(self.target.schema)
        # JSON Schema validators are built on first use: most records pass the fast mirror
        # (_fast_valid), and importing jsonschema costs ~40 ms of every `ftkit lint` start.
        self._schema_validator: Any = None
        self._branch_validators: dict[str, Any] = {}
        self._param_validators: dict[bytes, Any] = {}
        self._encoding = None

    # ------------------------------------------------------------------ setup

    def _limit(self, max_tokens: int | None) -> tuple[int | None, str]:
        if max_tokens is not None:
            return max_tokens, "set by --max-tokens"
        if self.model:
            limit = max_example_tokens(self.model)
            if limit is not None:
                return limit, f"of {self.model}"
        if self.target.default_max_tokens:
            return self.target.default_max_tokens, f"({self.target.default_max_tokens_note})"
        return None, ""

    @property
    def encoding(self):
        if self._encoding is None:
            self._encoding = get_encoding(self.encoding_name)
        return self._encoding

    # ------------------------------------------------------------------ entry point

    def check(self, record: Any, file: str | None = None, line: int | None = None) -> tuple[list[Diagnostic], Figures | None]:
        """Every problem of one record, and its token figures (``None`` when not counted)."""
        out, parsed = self.check_structure(record, file, line)
        if parsed is None or not self.count_tokens:
            return out, None
        tokens, figures = self.check_tokens(parsed, file, line)
        return out + tokens, figures

    def check_structure(self, record: Any, file: str | None = None, line: int | None = None) -> tuple[list[Diagnostic], Any]:
        """The problems of one record that need no token count, and what :meth:`check_tokens` needs
        (``None`` for a record that is not an object). :meth:`check` is the two in turn; the linter
        calls them apart so its S rules and T001 share one pass over the record."""
        out: list[Diagnostic] = []
        add = _collector(out, file, line)
        if not isinstance(record, dict):
            add("S001", f"record must be a JSON object, got {json_type(record)}")
            return out, None
        if not self._fast_valid(record):
            self._schema_problems(record, add)
        family = self.target.family
        msgs: list[_Msg] = []
        if family == "openai":
            msgs = self._openai_record(record, add)
        elif family == "dpo":
            msgs = self._dpo_record(record, add)
        elif family == "vertex":
            msgs = self._vertex_record(record, add)
        elif family == "bedrock":
            msgs = self._bedrock_record(record, add)
        elif family == "sharegpt":
            msgs = self._sharegpt_record(record, add)
        elif family == "alpaca":
            msgs = self._alpaca_record(record, add)
        elif family == "trl":
            msgs = self._trl_record(record, add)
        self._special_tokens(msgs, add)
        return out, (msgs, record, family)

    def check_tokens(self, parsed: Any, file: str | None = None, line: int | None = None) -> tuple[list[Diagnostic], Figures | None]:
        """T001 for a record :meth:`check_structure` parsed, and its token figures (``None`` when
        ``limit_only`` and its size proves it under the limit)."""
        msgs, record, family = parsed
        if self.limit_only and self._surely_under_limit(msgs, record, family):
            return [], None
        out: list[Diagnostic] = []
        add = _collector(out, file, line)
        figures = self._count(msgs, record.get("tools") if family == "openai" else None)
        if family == "dpo" and isinstance(record.get("input"), dict) and record["input"].get("tools"):
            figures = self._count(msgs, record["input"]["tools"])
        if self.limit is not None and figures.total > self.limit:
            main = _MAIN_LIST.get(self.target.schema)
            add("T001", f"example has ~{figures.total:,} tokens (estimate, {self.encoding_name}), over the "
                        f"{self.limit:,}-token limit {self.limit_source}", pointer(main) if main else "")
        return out, figures

    # ------------------------------------------------------------------ schema

    def _fast_valid(self, record: dict) -> bool:
        """True only when the record is certainly valid under the target schema (OpenAI-style layouts).

        A hand-written mirror of schemas/openai.schema.json and schemas/mistral.schema.json for the
        shapes real files use (string or text-part contents, tools, tool calls and results,
        weights). Anything it does not fully understand (images, legacy functions, unknown keys)
        returns False and goes to the JSON Schema, which then reports the exact problems.
        """
        schema = self.target.schema
        if schema != "openai" and schema != "mistral":
            return False
        mistral = schema == "mistral"
        for key in record:
            if key == "messages":
                continue
            if key == "metadata":
                if type(record[key]) is not dict:
                    return False
            elif key == "tools":
                if not _fast_tools(record[key], mistral):
                    return False
            elif key == "parallel_tool_calls" and not mistral:
                if type(record[key]) is not bool:
                    return False
            else:
                return False  # functions (legacy), unknown keys: let the schema decide
        messages = record.get("messages")
        if type(messages) is not list or not messages:
            return False
        for m in messages:
            if type(m) is not dict:
                return False
            role = m.get("role")
            if len(m) == 2 and type(m.get("content")) is str and (
                    role == "user" or role == "assistant" or role == "system" or (role == "developer" and not mistral)):
                continue  # {"role", "content": str} (most messages): what the branches below accept
            if role == "assistant":
                if not _fast_assistant(m, mistral):
                    return False
            elif role == "user" or role == "system" or (role == "developer" and not mistral):
                if not _fast_text(m.get("content")) or "content" not in m:
                    return False
                for key in m:
                    if key != "role" and key != "content" and not (key == "name" and type(m[key]) is str and m[key]):
                        return False
            elif role == "tool":
                tcid = m.get("tool_call_id")
                if type(tcid) is not str or not tcid or (mistral and not _MISTRAL_ID.match(tcid)):
                    return False
                if not _fast_text(m.get("content")) or "content" not in m:
                    return False
                for key in m:
                    if key == "role" or key == "content" or key == "tool_call_id":
                        continue
                    if mistral and key == "name" and type(m[key]) is str and FUNCTION_NAME_RE.match(m[key]):
                        continue
                    return False
            else:
                return False
        return True

    @property
    def _validator(self) -> Any:
        if self._schema_validator is None:
            from jsonschema import Draft202012Validator

            if self.target.family == "trl":
                defs = self.schema["$defs"]
                for branch, key in zip(self.schema["oneOf"], ("messages", "text", "prompt-completion", "preference")):
                    self._branch_validators[key] = Draft202012Validator({**branch, "$defs": defs})
            self._schema_validator = Draft202012Validator(self.schema)
        return self._schema_validator

    def _schema_problems(self, record: dict, add) -> None:
        validator = self._validator
        if self.target.family == "trl":
            branch = _trl_branch(record)
            validator = self._branch_validators.get(branch, validator) if branch else validator
            if branch is None:
                add("S003", "the record is none of TRL's layouts: messages, text, prompt+completion, or chosen+rejected",
                    hint=self._format_hint(record))
                return
        seen: set[tuple[str, str, str]] = set()
        unsupported: set[tuple] = set()
        for error in validator.iter_errors(record):
            for leaf in _leaves(error):
                part = self._image_part(leaf, record)
                if part is not None:
                    # one clear problem per image part instead of the schema's three
                    if part not in unsupported:
                        unsupported.add(part)
                        add("S018", f"{self.target.name} does not accept image content parts", pointer(*part),
                            hint="send text only to this target (describe the image in words, or drop the part)")
                    continue
                for code, message, ptr, hint in self._map_error(leaf, record):
                    key = (code, ptr, message)
                    if key not in seen:
                        seen.add(key)
                        add(code, message, ptr, hint=hint)

    def _image_part(self, error, record: dict) -> tuple | None:
        """The path of an image content part when the target takes text only, else None."""
        if self.target.images:
            return None
        path = list(error.absolute_path)
        for k in range(len(path) - 1):
            if path[k] == "content" and isinstance(path[k + 1], int):
                node: Any = record
                try:
                    for token in path[: k + 2]:
                        node = node[token]
                except (KeyError, IndexError, TypeError):
                    return None
                if isinstance(node, dict) and node.get("type") in ("image_url", "input_audio", "file"):
                    return tuple(path[: k + 2])
        return None

    def _format_hint(self, record: Mapping[str, Any]) -> str | None:
        guess = detect_target(record)
        if self.target.family == "trl" and guess == "openai":
            return None  # TRL reads OpenAI-style messages records too
        if guess and guess != self.target.schema and guess != self.target.name:
            return f"this record looks like {guess}: use --format {guess} (or --format auto), or convert it with `ftkit convert`"
        return None

    def _map_error(self, error, record: dict) -> Iterable[tuple[str, str, str, str | None]]:
        path = list(error.absolute_path)
        ptr = pointer(*path)
        last = path[-1] if path else None
        kind = error.validator
        instance = error.instance
        tname = self.target.name
        main = _MAIN_LIST.get(self.target.schema)
        field = f"'{last}'" if isinstance(last, str) else (f"item {last}" if last is not None else "record")
        if kind == "required":
            match = re.search(r"'([^']+)' is a required property", error.message)
            key = match.group(1) if match else "?"
            if not path and key == main:
                yield "S003", f"no '{main}' list: the record has no conversation for {tname}", pointer(main), self._format_hint(record)
            else:
                yield "S001", f"missing required key '{key}'", pointer(*path, key), None
            return
        if kind == "additionalProperties" and isinstance(instance, dict):
            allowed = set((error.schema or {}).get("properties", {}))
            for key in instance:
                if key in allowed:
                    continue
                where = pointer(*path, key)
                if key == "weight":
                    if not self.target.weight:
                        yield "S018", f"{tname} has no per-message weight", where, "remove weight (this target trains on every assistant turn)"
                    else:
                        yield "S017", "weight is only allowed on assistant messages", where, None
                elif not path:
                    fallback = ("remove the key; put provenance under 'metadata'" if "metadata" in allowed
                                else f"{tname} accepts no other top-level keys: keep provenance in a separate file")
                    yield "S001", f"unexpected top-level key '{key}' ({tname} does not accept it)", where, \
                        self._format_hint(record) or fallback
                else:
                    yield "S001", f"unexpected key '{key}'", where, f"{tname} rejects keys it does not define; remove it"
            return
        if kind in ("enum", "const") and last in ("role", "from"):
            allowed = error.validator_value if kind == "enum" else [error.validator_value]
            yield "S002", f"{last} {_short(instance)} is not accepted by {tname}; use one of: {', '.join(map(str, allowed))}", ptr, None
            return
        if last == "weight":
            yield "S016", f"weight must be the integer 0 or 1, got {_short(instance)}", ptr, None
            return
        if kind == "pattern" and last == "name":
            yield "S014", f"function name {_short(instance)} is not 1-64 letters, digits, '_' or '-'", ptr, None
            return
        if kind == "pattern" and last in ("id", "tool_call_id"):
            yield "S019", f"tool call id {_short(instance)} must be exactly 9 letters or digits for {tname}", ptr, None
            return
        if kind == "minItems" and isinstance(instance, list):
            if path == [main] and not instance:
                yield "S003", f"'{main}' is empty", ptr, None
            else:
                yield "S001", f"{field} must have at least {error.validator_value} item(s), has {len(instance)}", ptr, None
            return
        if kind == "type":
            expected = error.validator_value
            expected = " or ".join(expected) if isinstance(expected, list) else expected
            yield "S001", f"{field} must be {_article(expected)}, got {json_type(instance)}", ptr, None
            return
        if kind == "_any_type":
            yield "S001", f"{field} must be {error.message}, got {json_type(instance)}", ptr, None
            return
        if kind == "_any_required":
            yield "S001", f"{field} needs {error.message}", ptr, None
            return
        if kind in ("minProperties", "maxProperties") and self.target.family == "vertex":
            yield "S001", "a part holds exactly one of text, fileData, functionCall, functionResponse", ptr, None
            return
        if kind == "enum":
            yield "S001", f"{field} must be one of {', '.join(map(_short, error.validator_value))}; got {_short(instance)}", ptr, None
            return
        if kind == "const":
            yield "S001", f"{field} must be {_short(error.validator_value)}, got {_short(instance)}", ptr, None
            return
        if kind == "minLength":
            yield "S001", f"{field} must not be empty", ptr, None
            return
        if kind == "oneOf" and not path and self.target.family == "trl":
            yield "S003", "the record is none of TRL's layouts: messages, text, prompt+completion, or chosen+rejected", "", None
            return
        message = error.message
        if len(message) > 160:
            message = message[:157] + "..."
        yield "S001", f"{field}: {message}", ptr, None

    # ------------------------------------------------------------------ OpenAI-style messages

    def _openai_messages(self, messages: Any, base: tuple, add, *, tools: Any, functions: Any = None,
                         last_rule: bool = True, weights: bool = True) -> list[_Msg]:
        """Structure, tool pairing and counting view of an OpenAI-style message list at ``base``."""
        target = self.target
        if not isinstance(messages, list):
            return []
        declared = self._declared_tools(tools, functions, add, base_is_input=bool(base))
        msgs: list[_Msg] = []
        sequence: list[tuple[int, str, dict]] = []
        calls: dict[str, list] = {}  # id -> [message index, call index, answered]
        zero_weight = False  # an assistant message has weight 0 (then T002 looks for one that trains)
        for i, m in enumerate(messages):
            if type(m) is not dict and not isinstance(m, dict):  # (the exact type first: the common case)
                continue
            role = m.get("role")
            if type(role) is not str and not isinstance(role, str):
                continue
            if target.roles and role not in target.roles and role in _OPENAI_ROLES:
                if not self._schema_flags_role(role):
                    add("S002", f"role '{role}' is not accepted by {target.name}; use one of: {', '.join(sorted(target.roles))}",
                        pointer(*base, i, "role"))
            content = m.get("content")
            if type(content) is str and len(m) == 2:
                # Only "role" and "content" (most messages): no calls, results, name or weight to
                # check, so what the general path below does reduces to this.
                if (not content or content.isspace()) and role in ("system", "developer", "user", "assistant"):
                    _report_empty(add, role, (*base, i))
                msgs.append(_Msg([((*base, i, "content"), content)], role == "assistant"))
                if role in _OPENAI_ROLES:
                    sequence.append((i, role, m))
                continue
            mp = (*base, i)
            tool_calls = m.get("tool_calls") if isinstance(m.get("tool_calls"), list) else None
            # emptiness
            if type(content) is str:
                empty = not content or content.isspace()
            elif role in ("system", "developer", "user", "assistant") and not _has_non_text_part(content) and \
                    (isinstance(content, list) or (content is None and "content" in m)):
                empty = not _joined(content).strip()
            else:
                empty = False
            if empty and role in ("system", "developer", "user", "assistant") and not tool_calls \
                    and not isinstance(m.get("function_call"), dict):
                _report_empty(add, role, mp)
            # tool calls
            texts = [((*mp, "content"), content)] if type(content) is str else _content_texts(content, (*mp, "content"))
            extra = 0
            if role == "assistant" and tool_calls:
                for j, call in enumerate(tool_calls):
                    if not isinstance(call, dict):
                        continue
                    cp = (*mp, "tool_calls", j)
                    cid = call.get("id")
                    if isinstance(cid, str) and cid:
                        if cid in calls:
                            add("S010", f"tool call id '{cid}' is used twice in this example", pointer(*cp, "id"))
                        else:
                            calls[cid] = [i, j, False]
                    fn = call.get("function") if isinstance(call.get("function"), dict) else {}
                    name = fn.get("name")
                    args = fn.get("arguments")
                    texts.append(((*cp, "function", "name"), name if isinstance(name, str) else ""))
                    if isinstance(args, str):
                        texts.append(((*cp, "function", "arguments"), args))
                    elif args is not None:
                        texts.append(((*cp, "function", "arguments"), orjson.dumps(args).decode()))
                    extra += TOKENS_PER_TOOL_CALL
                    self._check_call(name, args, pointer(*cp, "function", "arguments"), declared, add)
            if role == "assistant" and isinstance(m.get("function_call"), dict):
                fc = m["function_call"]
                self._check_call(fc.get("name"), fc.get("arguments"), pointer(*mp, "function_call", "arguments"), declared, add)
            if role == "tool":
                tcid = m.get("tool_call_id")
                if isinstance(tcid, str) and tcid:
                    entry = calls.get(tcid)
                    if entry is None:
                        add("S009", f"tool result for call id '{tcid}', which no earlier assistant message made",
                            pointer(*mp, "tool_call_id"))
                    elif entry[2]:
                        add("S009", f"a second tool result for call id '{tcid}'", pointer(*mp, "tool_call_id"))
                    else:
                        entry[2] = True
            if m.get("name"):
                extra += TOKENS_PER_NAME
            trainable = role == "assistant" and (m.get("weight") != 0 if weights else True)
            if role == "assistant" and m.get("weight") == 0:
                zero_weight = True
            msgs.append(_Msg(texts, trainable, extra))
            if role in _OPENAI_ROLES:
                sequence.append((i, role, m))
        last_index = sequence[-1][0] if sequence else -1
        for cid, (i, j, answered) in calls.items():
            if not answered and i != last_index:
                add("S008", f"tool call '{cid}' gets no tool result before the conversation continues",
                    pointer(*base, i, "tool_calls", j))
        self._order(sequence, base, add, last_rule=last_rule)
        if weights and zero_weight:
            assistants = [m for _, r, m in sequence if r == "assistant"]
            if not any(
                m.get("weight") != 0 and (_joined(m.get("content")).strip() or m.get("tool_calls") or _has_non_text_part(m.get("content")))
                for m in assistants
            ):
                zero = sum(1 for m in assistants if m.get("weight") == 0)
                why = f"{zero} of {len(assistants)} assistant message(s) have weight 0, the rest are empty" if zero < len(assistants) \
                    else f"all {len(assistants)} assistant message(s) have weight 0"
                add("T002", f"nothing to train on: {why}", pointer(*base) if base else "")
        return msgs

    def _schema_flags_role(self, role: str) -> bool:
        """Whether the target's schema already rejects this role (then the schema's S002 stands)."""
        roles = self.schema.get("$defs", {}).get("message", {}).get("properties", {}).get("role", {}).get("enum")
        return roles is not None and role not in roles

    def _order(self, sequence: list[tuple[int, str, dict]], base: tuple, add, *, last_rule: bool) -> None:
        """System position, first turn, alternation and last turn for OpenAI-style roles."""
        t = self.target
        turns = [entry for entry in sequence if entry[1] != "system" and entry[1] != "developer"]
        # unless all system messages lead, the first turn is not where their count puts it
        if t.system_first and turns and turns[0] is not sequence[len(sequence) - len(turns)]:
            started = turns[0][0]
            for i, role, _ in sequence:
                if i > started and (role == "system" or role == "developer"):
                    add("S004", f"{role} message after the conversation started (message {i})", pointer(*base, i),
                        severity=t.system_first)
        if turns and t.first_user and turns[0][1] != "user":
            add("S005", f"the conversation starts with '{turns[0][1]}'; {t.name} requires the first turn to be the user's",
                pointer(*base, turns[0][0], "role"), severity=t.first_user)
        if t.alternate:
            previous: tuple[int, str, dict] | None = None
            for current in turns:
                if previous is not None:
                    problem = _alternation_problem(previous[1], previous[2], current[1])
                    if problem:
                        add("S005", f"{problem} (messages {previous[0]} and {current[0]}); {t.name} requires user and assistant turns to alternate",
                            pointer(*base, current[0], "role"), severity=t.alternate)
                previous = current
        if last_rule and t.last_assistant and not (turns and turns[-1][1] == "assistant"):
            if not any(role == "assistant" for _, role, _ in turns):
                add("S006", "the example has no assistant message", pointer(*base) if base else "/messages", severity=t.last_assistant)
            else:
                add("S006", f"the last message is from '{turns[-1][1]}', not the assistant", pointer(*base, turns[-1][0]),
                    severity=t.last_assistant)

    def _declared_tools(self, tools: Any, functions: Any, add, *, base_is_input: bool) -> dict[str, Any] | None:
        """name -> parameters (or None) for the tools an example declares; ``None`` when it declares none."""
        if not isinstance(tools, list) and not isinstance(functions, list):
            return None
        declared: dict[str, Any] = {}
        prefix = ("input",) if base_is_input else ()
        entries: list[tuple[tuple, Any]] = []
        for k, tool in enumerate(tools if isinstance(tools, list) else []):
            fn = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(fn, dict):
                entries.append(((*prefix, "tools", k, "function"), fn))
        for k, fn in enumerate(functions if isinstance(functions, list) else []):
            if isinstance(fn, dict):
                entries.append(((*prefix, "functions", k), fn))
        for where, fn in entries:
            name = fn.get("name")
            if not isinstance(name, str):
                continue
            if name in declared:
                add("S015", f"two tools are named '{name}'", pointer(*where, "name"))
                continue
            params = fn.get("parameters")
            declared[name] = self._param_validator(params, pointer(*where, "parameters"), add) if isinstance(params, dict) else None
        return declared

    def _param_validator(self, params: dict, where: str, add, *, report: bool = True):
        key = orjson.dumps(params, option=orjson.OPT_SORT_KEYS)
        cached = self._param_validators.get(key)
        if cached is not None:
            if cached is False:
                if report:
                    add("S015", "the tool's parameters are not a valid JSON Schema", where)
                return None
            return cached
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        try:
            cls = validator_for(params, default=Draft202012Validator)
            cls.check_schema(params)
            validator = cls(params)
        except SchemaError as exc:
            if len(self._param_validators) < 512:
                self._param_validators[key] = False
            if report:
                add("S015", f"the tool's parameters are not a valid JSON Schema: {exc.message[:120]}", where)
            return None
        if len(self._param_validators) < 512:
            self._param_validators[key] = validator
        return validator

    def _check_call(self, name: Any, args: Any, where: str, declared: dict[str, Any] | None, add, *, parsed: Any = None,
                    name_ptr: str | None = None) -> None:
        """Arguments parse to an object and match the declared tool; the function is declared."""
        name_ptr = name_ptr or where.rsplit("/", 1)[0] + "/name"
        value = parsed
        if parsed is None:
            if not isinstance(args, str):
                return  # the schema reports a non-string
            try:
                value = orjson.loads(args)
            except orjson.JSONDecodeError as exc:
                add("S011", f"arguments are not valid JSON: {exc.msg} at character {exc.pos}", where)
                return
            if not isinstance(value, dict):
                add("S011", f"arguments must encode a JSON object, got {json_type(value)}", where)
                return
        if not isinstance(name, str):
            return
        if declared is None:
            add("S013", f"calls '{name}' but the example declares no tools", name_ptr)
            return
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            add("S013", f"calls '{name}', which the example's tools do not declare (declared: {known})", name_ptr)
            return
        validator = declared[name]
        if validator is not None:
            error = next(iter(validator.iter_errors(value)), None)
            if error is not None:
                at = "/".join(str(p) for p in error.absolute_path)
                add("S012", f"arguments do not match the parameters of '{name}'{f' at {at}' if at else ''}: {error.message[:150]}", where)

    # ------------------------------------------------------------------ families

    def _openai_record(self, record: dict, add) -> list[_Msg]:
        messages = record.get("messages")
        if record.get("parallel_tool_calls") is False and isinstance(messages, list):
            for i, m in enumerate(messages):
                calls = m.get("tool_calls") if isinstance(m, dict) else None
                if isinstance(calls, list) and len(calls) > 1:
                    add("S018", f"parallel_tool_calls is false, but this assistant message makes {len(calls)} calls at once",
                        pointer("messages", i, "tool_calls"),
                        hint="split the calls into separate assistant turns, or set parallel_tool_calls to true")
        return self._openai_messages(messages, ("messages",), add, tools=record.get("tools"),
                                     functions=record.get("functions"), weights=self.target.weight)

    def _dpo_record(self, record: dict, add) -> list[_Msg]:
        data = record.get("input")
        if not isinstance(data, dict):
            return []
        msgs = self._openai_messages(data.get("messages"), ("input", "messages"), add, tools=data.get("tools"),
                                     last_rule=False, weights=False)
        for m in msgs:
            m.trainable = False
        messages = data.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[-1], dict) and messages[-1].get("role") not in ("user", "tool"):
            add("S020", f"the prompt ends with '{messages[-1].get('role')}'; it must end with the user message the outputs answer",
                pointer("input", "messages", len(messages) - 1))
        declared = self._declared_tools(data.get("tools"), None, lambda *a, **k: None, base_is_input=True)
        outputs = {}
        for key in ("preferred_output", "non_preferred_output"):
            out = record.get(key)
            if not isinstance(out, list):
                continue
            outputs[key] = out
            if len(out) != 1:
                add("S020", f"{key} holds {len(out)} messages; it must hold exactly one assistant message", pointer(key))
            for k, m in enumerate(out):
                if not isinstance(m, dict):
                    continue
                mp = (key, k)
                if not _joined(m.get("content")).strip() and not m.get("tool_calls"):
                    add("S007", "assistant message is empty", pointer(*mp, "content"))
                texts = _content_texts(m.get("content"), pointer(*mp, "content"))
                extra = 0
                for j, call in enumerate(m.get("tool_calls") if isinstance(m.get("tool_calls"), list) else []):
                    if isinstance(call, dict) and isinstance(call.get("function"), dict):
                        fn = call["function"]
                        cp = (*mp, "tool_calls", j, "function")
                        texts.append((pointer(*cp, "name"), fn.get("name") if isinstance(fn.get("name"), str) else ""))
                        if isinstance(fn.get("arguments"), str):
                            texts.append((pointer(*cp, "arguments"), fn["arguments"]))
                        extra += TOKENS_PER_TOOL_CALL
                        self._check_call(fn.get("name"), fn.get("arguments"), pointer(*cp, "arguments"), declared, add)
                msgs.append(_Msg(texts, True, extra))
        if len(outputs) == 2 and outputs["preferred_output"] == outputs["non_preferred_output"]:
            add("S021", "preferred_output and non_preferred_output are identical", "/non_preferred_output")
        return msgs

    def _vertex_record(self, record: dict, add) -> list[_Msg]:
        t = self.target
        msgs: list[_Msg] = []
        system = record.get("systemInstruction")
        if isinstance(system, dict) and isinstance(system.get("parts"), list):
            texts = [(pointer("systemInstruction", "parts", k, "text"), p["text"]) for k, p in enumerate(system["parts"])
                     if isinstance(p, dict) and isinstance(p.get("text"), str)]
            msgs.append(_Msg(texts, False))
        declared: dict[str, Any] | None = None
        tools = record.get("tools")
        if isinstance(tools, list):
            declared = {}
            for k, tool in enumerate(tools):
                for n, fn in enumerate(tool.get("functionDeclarations") or [] if isinstance(tool, dict) else []):
                    if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                        where = pointer("tools", k, "functionDeclarations", n)
                        if fn["name"] in declared:
                            add("S015", f"two tools are named '{fn['name']}'", where + "/name")
                            continue
                        params = fn.get("parameters")
                        # Vertex parameters are an OpenAPI subset (types may be upper case): check arguments only
                        # when they also form a valid JSON Schema, never report the schema itself.
                        declared[fn["name"]] = self._param_validator(params, where, add, report=False) if isinstance(params, dict) else None
        contents = record.get("contents")
        if not isinstance(contents, list):
            return msgs
        turns: list[tuple[int, str]] = []
        pending: dict[str, tuple[int, int]] = {}
        for i, c in enumerate(contents):
            if not isinstance(c, dict) or not isinstance(c.get("role"), str):
                continue
            role = c["role"]
            parts = c.get("parts") if isinstance(c.get("parts"), list) else []
            texts: list[tuple[str, str]] = []
            substantive = False
            for k, part in enumerate(parts):
                if not isinstance(part, dict):
                    continue
                pp = ("contents", i, "parts", k)
                if isinstance(part.get("text"), str):
                    texts.append((pointer(*pp, "text"), part["text"]))
                    substantive = substantive or bool(part["text"].strip())
                elif isinstance(part.get("functionCall"), dict):
                    substantive = True
                    call = part["functionCall"]
                    name = call.get("name")
                    texts.append((pointer(*pp, "functionCall", "name"), name if isinstance(name, str) else ""))
                    texts.append((pointer(*pp, "functionCall", "args"), orjson.dumps(call.get("args", {}), default=str).decode()))
                    if role != "model":
                        add("S005", "a functionCall must be in a model turn", pointer(*pp, "functionCall"))
                    if isinstance(name, str):
                        pending[name] = (i, k)
                        args = call.get("args", {})
                        if isinstance(args, dict):
                            self._check_call(name, None, pointer(*pp, "functionCall", "args"), declared, add, parsed=args,
                                             name_ptr=pointer(*pp, "functionCall", "name"))
                elif isinstance(part.get("functionResponse"), dict):
                    substantive = True
                    resp = part["functionResponse"]
                    name = resp.get("name")
                    texts.append((pointer(*pp, "functionResponse", "name"), name if isinstance(name, str) else ""))
                    texts.append((pointer(*pp, "functionResponse", "response"), orjson.dumps(resp.get("response", {}), default=str).decode()))
                    if role != "user":
                        add("S005", "a functionResponse must be in a user turn", pointer(*pp, "functionResponse"))
                    if isinstance(name, str):
                        if name in pending:
                            del pending[name]
                        else:
                            add("S009", f"functionResponse for '{name}', which no earlier model turn called", pointer(*pp, "functionResponse", "name"))
                else:
                    substantive = True  # fileData
            if parts and not substantive:
                add("S007", f"{role} turn has no content", pointer("contents", i, "parts"),
                    severity=Severity.ERROR if role == "model" else Severity.WARNING)
            msgs.append(_Msg(texts, role == "model"))
            if role in ("user", "model"):
                turns.append((i, role))
        last = turns[-1][0] if turns else -1
        for name, (i, k) in pending.items():
            if i != last:
                add("S008", f"functionCall '{name}' gets no functionResponse before the conversation continues",
                    pointer("contents", i, "parts", k, "functionCall"))
        self._turn_order(turns, "contents", "user", "model", add)
        return msgs

    def _turn_order(self, turns: list[tuple[int, str]], key: str, user: str, assistant: str, add) -> None:
        t = self.target
        if not turns:
            return
        if t.first_user and turns[0][1] != user:
            add("S005", f"the conversation starts with '{turns[0][1]}'; {t.name} requires the first turn to be '{user}'",
                pointer(key, turns[0][0], "role"), severity=t.first_user)
        if t.alternate:
            for (pi, pr), (ci, cr) in zip(turns, turns[1:]):
                if pr == cr:
                    add("S005", f"two '{cr}' turns in a row ({key} {pi} and {ci}); {t.name} requires '{user}' and '{assistant}' to alternate",
                        pointer(key, ci, "role"), severity=t.alternate)
        if t.last_assistant and turns[-1][1] != assistant:
            add("S006", f"the last turn is '{turns[-1][1]}', not '{assistant}'", pointer(key, turns[-1][0]), severity=t.last_assistant)

    def _bedrock_record(self, record: dict, add) -> list[_Msg]:
        msgs: list[_Msg] = []
        system = record.get("system")
        if isinstance(system, str):
            msgs.append(_Msg([("/system", system)], False))
        elif isinstance(system, list):
            msgs.append(_Msg([(pointer("system", k, "text"), b["text"]) for k, b in enumerate(system)
                              if isinstance(b, dict) and isinstance(b.get("text"), str)], False))
        messages = record.get("messages")
        if not isinstance(messages, list):
            return msgs
        turns = []
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                continue
            content = m.get("content")
            if isinstance(content, str):
                texts = [(pointer("messages", i, "content"), content)]
            elif isinstance(content, list):
                texts = [(pointer("messages", i, "content", k, "text"), b["text"]) for k, b in enumerate(content)
                         if isinstance(b, dict) and isinstance(b.get("text"), str)]
            else:
                texts = []
            if isinstance(content, (str, list)) and not "".join(t for _, t in texts).strip():
                add("S007", f"{m['role']} message is empty", pointer("messages", i, "content"),
                    severity=Severity.ERROR if m["role"] == "assistant" else Severity.WARNING)
            msgs.append(_Msg(texts, m["role"] == "assistant"))
            if m["role"] in ("user", "assistant"):
                turns.append((i, m["role"]))
        self._turn_order(turns, "messages", "user", "assistant", add)
        return msgs

    def _sharegpt_record(self, record: dict, add) -> list[_Msg]:
        msgs: list[_Msg] = []
        if isinstance(record.get("system"), str):
            msgs.append(_Msg([("/system", record["system"])], False))
        declared: dict[str, Any] | None = None
        tools = record.get("tools")
        if isinstance(tools, str) and tools.strip():
            try:
                parsed = orjson.loads(tools)
            except orjson.JSONDecodeError as exc:
                add("S015", f"tools is not valid JSON: {exc.msg}", "/tools")
                parsed = None
            if parsed is not None:
                if not isinstance(parsed, list):
                    add("S015", f"tools must encode a JSON list of tool definitions, got {json_type(parsed)}", "/tools")
                else:
                    declared = {}
                    for fn in parsed:
                        fn = fn.get("function", fn) if isinstance(fn, dict) else fn
                        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                            declared[fn["name"]] = self._param_validator(fn["parameters"], "/tools", add) if isinstance(fn.get("parameters"), dict) else None
            msgs.append(_Msg([("/tools", tools)], False))
        conv = record.get("conversations")
        if not isinstance(conv, list):
            return msgs
        user_side = {"human", "user", "observation"}
        bot_side = {"gpt", "assistant", "function_call"}
        t = self.target
        turns = []
        weights = []
        for i, turn in enumerate(conv):
            if not isinstance(turn, dict) or not isinstance(turn.get("from"), str):
                continue
            who = turn["from"]
            value = turn.get("value")
            tp = ("conversations", i)
            if who == "system":
                if turns:
                    add("S004", "system turn after the conversation started", pointer(*tp), severity=Severity.ERROR)
                if isinstance(value, str):
                    msgs.append(_Msg([(pointer(*tp, "value"), value)], False))
                continue
            if isinstance(value, str) and not value.strip():
                add("S007", f"'{who}' turn is empty", pointer(*tp, "value"),
                    severity=Severity.ERROR if who in bot_side else Severity.WARNING)
            if who == "function_call" and isinstance(value, str):
                try:
                    call = orjson.loads(value)
                except orjson.JSONDecodeError as exc:
                    add("S011", f"function_call value is not valid JSON: {exc.msg}", pointer(*tp, "value"))
                    call = None
                if call is not None:
                    calls = call if isinstance(call, list) else [call]
                    for c in calls:
                        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
                            add("S011", "function_call value must be a JSON object with 'name' and 'arguments'", pointer(*tp, "value"))
                            continue
                        if not FUNCTION_NAME_RE.match(c["name"]):
                            add("S014", f"function name {_short(c['name'])} is not 1-64 letters, digits, '_' or '-'", pointer(*tp, "value"))
                        args = c.get("arguments", {})
                        if isinstance(args, str):
                            self._check_call(c["name"], args, pointer(*tp, "value"), declared, add, name_ptr=pointer(*tp, "value"))
                        elif isinstance(args, dict):
                            self._check_call(c["name"], None, pointer(*tp, "value"), declared, add, parsed=args,
                                             name_ptr=pointer(*tp, "value"))
            if who == "observation" and (not turns or turns[-1][1] != "function_call"):
                add("S009", "observation (tool result) that does not follow a function_call", pointer(*tp, "from"))
            side = "user" if who in user_side else "assistant" if who in bot_side else who
            weight = turn.get("weight")
            trainable = side == "assistant" and weight != 0
            weights.append((side, weight))
            msgs.append(_Msg([(pointer(*tp, "value"), value)] if isinstance(value, str) else [], trainable))
            if side in ("user", "assistant"):
                turns.append((i, who, side))
        if turns and t.first_user and turns[0][2] != "user":
            add("S005", f"the conversation starts with '{turns[0][1]}'; it must start with 'human'", pointer("conversations", turns[0][0], "from"))
        for (pi, pw, ps), (ci, cw, cs) in zip(turns, turns[1:]):
            if ps == cs:
                add("S005", f"'{pw}' followed by '{cw}' (turns {pi} and {ci}); human/observation and gpt/function_call turns must alternate",
                    pointer("conversations", ci, "from"))
        if turns and turns[-1][2] != "assistant":
            add("S006", f"the last turn is '{turns[-1][1]}', not 'gpt'", pointer("conversations", turns[-1][0]))
        bots = [w for s, w in weights if s == "assistant"]
        if bots and all(w == 0 for w in bots):
            add("T002", f"nothing to train on: all {len(bots)} gpt turn(s) have weight 0", "/conversations")
        return msgs

    def _alpaca_record(self, record: dict, add) -> list[_Msg]:
        msgs: list[_Msg] = []
        if isinstance(record.get("system"), str):
            msgs.append(_Msg([("/system", record["system"])], False))
        history = record.get("history")
        if isinstance(history, list):
            for k, pair in enumerate(history):
                if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair):
                    msgs.append(_Msg([(pointer("history", k, 0), pair[0])], False))
                    msgs.append(_Msg([(pointer("history", k, 1), pair[1])], True))
        prompt = [(f"/{key}", record[key]) for key in ("instruction", "input") if isinstance(record.get(key), str)]
        msgs.append(_Msg(prompt, False))
        if isinstance(record.get("instruction"), str) and not record["instruction"].strip() and not str(record.get("input", "")).strip():
            add("S007", "instruction and input are both empty", "/instruction", severity=Severity.WARNING)
        output = record.get("output")
        if isinstance(output, str):
            if not output.strip():
                add("S007", "output is empty", "/output")
            msgs.append(_Msg([("/output", output)], True))
        return msgs

    def _trl_record(self, record: dict, add) -> list[_Msg]:
        branch = _trl_branch(record)
        if branch == "messages":
            msgs = self._openai_messages(record.get("messages"), ("messages",), add, tools=record.get("tools"), weights=False)
            return msgs
        if branch == "text":
            text = record.get("text")
            if isinstance(text, str):
                if not text.strip():
                    add("S007", "text is empty", "/text")
                return [_Msg([("/text", text)], True)]
            return []
        keys = ("prompt", "completion") if branch == "prompt-completion" else ("prompt", "chosen", "rejected")
        values = {k: record.get(k) for k in keys if k in record}
        kinds = {k: ("plain" if isinstance(v, str) else "conversational" if isinstance(v, list) else None) for k, v in values.items()}
        if len({k for k in kinds.values() if k}) > 1:
            add("S001", "prompt and answers mix plain strings and message lists; TRL needs all plain or all conversational",
                pointer(keys[1]))
        msgs: list[_Msg] = []
        for key, value in values.items():
            trainable = key != "prompt"
            if isinstance(value, str):
                if trainable and not value.strip():
                    add("S007", f"{key} is empty", pointer(key))
                msgs.append(_Msg([(pointer(key), value)], trainable))
            elif isinstance(value, list):
                for k, m in enumerate(value):
                    if not isinstance(m, dict):
                        continue
                    role = m.get("role")
                    if trainable and role not in ("assistant", "tool"):
                        add("S005", f"{key} holds a '{role}' message; it must hold the assistant's reply", pointer(key, k, "role"))
                    if role == "assistant" and not _joined(m.get("content")).strip() and not m.get("tool_calls"):
                        add("S007", "assistant message is empty", pointer(key, k, "content"))
                    msgs.append(_Msg(_content_texts(m.get("content"), pointer(key, k, "content")), trainable and role == "assistant"))
        if branch == "preference" and "chosen" in values and values.get("chosen") == values.get("rejected"):
            add("S021", "chosen and rejected are identical", "/rejected")
        return msgs

    # ------------------------------------------------------------------ tokens

    def _special_tokens(self, msgs: list[_Msg], add) -> None:
        for msg in msgs:
            for where, text in msg.texts:
                if "<" in text or "[" in text:
                    found = list(SPECIAL_TOKEN_RE.finditer(text))
                    if found:
                        ptr = where if isinstance(where, str) else pointer(*where)
                        tokens = sorted({m.group(0) for m in found})
                        shown = ", ".join(tokens[:4]) + (" ..." if len(tokens) > 4 else "")
                        spans = [Span(m.start(), m.end(), m.group(0), pointer=ptr, label="special-token") for m in found[:10]]
                        add("T003", f"chat-template token(s) in the text: {shown}", ptr, spans=spans)

    def _surely_under_limit(self, msgs: list[_Msg], record: dict, family: str) -> bool:
        """True when the count cannot exceed the limit, judged without the tokenizer.

        Exact, not a heuristic: every token covers at least one UTF-8 byte, so the byte length of
        each text bounds its token count, and the fixed per-message overheads are added as
        :meth:`_count` adds them.
        """
        if self.limit is None:
            return True
        bound = TOKENS_PER_REPLY
        for msg in msgs:
            bound += TOKENS_PER_MESSAGE + msg.extra
            for _, text in msg.texts:
                # 4 bytes per character at most; measure the bytes only when that is not enough
                bound += 4 * len(text) if 4 * len(text) < 4096 else len(text.encode("utf-8", "surrogatepass"))
        tools = record.get("tools") if family == "openai" else None
        if family == "dpo" and isinstance(record.get("input"), dict) and record["input"].get("tools"):
            tools = record["input"]["tools"]
        if tools:
            bound += TOKENS_FOR_TOOLS + len(orjson.dumps(tools, option=orjson.OPT_SORT_KEYS))
        return bound <= self.limit

    def _count(self, msgs: list[_Msg], tools: Any) -> Figures:
        encode = self.encoding.encode_ordinary
        figures = Figures()
        for msg in msgs:
            n = TOKENS_PER_MESSAGE + msg.extra
            for _, text in msg.texts:
                if text:
                    n += len(encode(text))
            if msg.trainable:
                figures.trainable += n
            else:
                figures.prompt += n
        if tools:
            figures.prompt += TOKENS_FOR_TOOLS + len(encode(orjson.dumps(tools, option=orjson.OPT_SORT_KEYS).decode()))
        figures.prompt += TOKENS_PER_REPLY
        figures.total = figures.prompt + figures.trainable
        return figures



# ---------------------------------------------------------------------- fast schema mirror (see _fast_valid)

_MISTRAL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")


def _fast_text(content: Any) -> bool:
    """A string, or a list of ``{"type": "text", "text": str}`` parts."""
    if type(content) is str:
        return True
    if type(content) is not list:
        return False
    for part in content:
        if type(part) is not dict or len(part) != 2 or part.get("type") != "text" or type(part.get("text")) is not str:
            return False
    return True


def _fast_assistant(m: dict, mistral: bool) -> bool:
    has_content = "content" in m
    for key, value in m.items():
        if key == "role":
            continue
        if key == "content":
            if value is not None and not _fast_text(value):
                return False
        elif key == "weight":
            if type(value) is not int or (value != 0 and value != 1):
                return False
        elif key == "name":
            if type(value) is not str or not value:
                return False
        elif key == "tool_calls":
            if type(value) is not list or not value:
                return False
            for call in value:
                if type(call) is not dict or len(call) != 3 or call.get("type") != "function":
                    return False
                cid = call.get("id")
                if type(cid) is not str or not cid or (mistral and not _MISTRAL_ID.match(cid)):
                    return False
                fn = call.get("function")
                if type(fn) is not dict or len(fn) != 2 or type(fn.get("arguments")) is not str:
                    return False
                name = fn.get("name")
                if type(name) is not str or not FUNCTION_NAME_RE.match(name):
                    return False
        else:
            return False  # function_call (legacy), unknown keys
    return has_content or "tool_calls" in m


def _fast_tools(tools: Any, mistral: bool) -> bool:
    if type(tools) is not list:
        return False
    for tool in tools:
        if type(tool) is not dict or len(tool) != 2 or tool.get("type") != "function":
            return False
        fn = tool.get("function")
        if type(fn) is not dict:
            return False
        name = fn.get("name")
        if type(name) is not str or not FUNCTION_NAME_RE.match(name):
            return False
        for key, value in fn.items():
            if key == "name":
                continue
            if key == "description":
                if type(value) is not str:
                    return False
            elif key == "parameters":
                if type(value) is not dict:
                    return False
            elif key == "strict" and not mistral:
                if value is not None and type(value) is not bool:
                    return False
            else:
                return False
    return True

# ---------------------------------------------------------------------- helpers


def _article(kind: str) -> str:
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def _alternation_problem(prev_role: str, prev: dict, role: str) -> str | None:
    """Why ``role`` may not follow ``prev_role`` in an alternating conversation (None if it may)."""
    prev_calls = bool(prev.get("tool_calls"))
    if role == "tool":
        return None  # a misplaced tool message is a pairing problem (S009), reported there
    if prev_role == "tool":
        return None if role == "assistant" else f"'{role}' right after a tool result (the assistant must respond first)"
    if prev_role == role:
        return f"two '{role}' messages in a row"
    if prev_role == "assistant" and prev_calls and role != "tool":
        return f"'{role}' right after an assistant tool call (its tool results must come first)"
    return None


def _trl_branch(record: Mapping[str, Any]) -> str | None:
    if "messages" in record:
        return "messages"
    if "chosen" in record or "rejected" in record:
        return "preference"
    if "completion" in record:
        return "prompt-completion"
    if "text" in record:
        return "text"
    if "prompt" in record:
        return "prompt-completion"
    return None


class _Synthetic:
    """A stand-in error for merged anyOf alternatives (same interface as jsonschema's ValidationError)."""

    def __init__(self, base, validator: str, message: str) -> None:
        self.absolute_path = base.absolute_path
        self.instance = base.instance
        self.validator = validator
        self.validator_value = None
        self.message = message
        self.schema = base.schema
        self.context = []


def _leaves(error) -> Iterable[Any]:
    """The errors worth showing: for anyOf/oneOf, the alternative that got furthest, or a merged summary."""
    context = list(error.context or [])
    if not context:
        yield error
        return
    own = len(error.absolute_path)
    deepest = max(len(e.absolute_path) for e in context)
    if deepest > own:
        best = max(context, key=lambda e: len(e.absolute_path))
        branch = best.relative_schema_path[0] if best.relative_schema_path else None
        for e in context:
            if e.relative_schema_path and e.relative_schema_path[0] == branch:
                yield from _leaves(e)
        return
    kinds = {e.validator for e in context}
    if kinds == {"type"}:
        types: list[str] = []
        for e in context:
            value = e.validator_value
            for v in value if isinstance(value, list) else [value]:
                if v not in types:
                    types.append(v)
        yield _Synthetic(error, "_any_type", " or ".join(_article(t) for t in types))
        return
    if kinds == {"required"}:
        keys = [re.sub(r"^'([^']+)'.*", r"\1", e.message) for e in context]
        yield _Synthetic(error, "_any_required", "one of: " + ", ".join(keys))
        return
    if "type" in kinds and len(kinds) > 1:
        # the value has a type some alternative accepts: show that alternative's complaints
        for e in context:
            if e.validator != "type":
                yield from _leaves(e)
                return
    yield error
