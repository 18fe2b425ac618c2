"""A: artifacts of other models and templates left in assistant replies.

Datasets built from model outputs (synthetic data, distillation, logs of an earlier bot)
carry tell-tale text: chat-template control tokens, reasoning blocks, "As an AI language
model", another vendor's name, knowledge-cutoff excuses, refusal boilerplate and template
variables that were never filled in. Fine-tuning on them teaches the model to say them.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Iterable, Mapping

from toolkit.diagnostics import Severity, Span
from toolkit.linter.rule import ExampleContext, ExampleRule, Finding, Fix, RuleOption, register
from toolkit._cueset import CueSet
from toolkit.linter.rules._textfix import map_message_texts, preview, trainable_assistant


def _line(*messages: str) -> str:
    return '{"messages": [' + ", ".join(messages) + "]}"


_USER_Q = '{"role": "user", "content": "Can I change my delivery address?"}'


class _Hit:
    """A match found in the lower-cased text, read back from the original text."""

    __slots__ = ("_start", "_end", "_text")

    def __init__(self, start: int, end: int, text: str) -> None:
        self._start, self._end, self._text = start, end, text

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self) -> str:
        return self._text[self._start : self._end]


def _lowercase_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern without IGNORECASE, for lower-cased text (its literals must be lower-case)."""
    source = pattern.pattern.removeprefix("(?i)")
    literals = re.sub(r"\\.", "", source)  # escapes such as \b and \S are case-sensitive: leave them out
    if literals != literals.lower():
        raise ValueError(f"pattern has upper-case literals, cannot scan lower-cased text: {source[:60]}")
    return re.compile(source, pattern.flags & ~re.IGNORECASE)


def _lowered(ctx: ExampleContext) -> list[str]:
    """Each message's text lower-cased (cached on the context for every rule that looks closer)."""
    lowered = ctx.__dict__.get("_ftkit_lower")
    if lowered is None:
        lowered = ctx.__dict__["_ftkit_lower"] = [text.lower() for text in ctx.texts]
    return lowered


# Which messages a rule reads: (roles, trainable_only); see PatternRule.
MessageScope = tuple[tuple[str, ...], bool]


def _in_scope(message: Mapping[str, Any], scope: MessageScope) -> bool:
    roles, trainable_only = scope
    role = message.get("role")
    if role not in roles:
        return False
    return not trainable_only or role != "assistant" or trainable_assistant(message)


# In what the shared scan finds: the text is not ASCII (a "group" that holds no cue).
_NON_ASCII = -1
_NON_ASCII_ONLY = frozenset([_NON_ASCII])


class _SharedCueScan:
    """The cue groups of every :class:`PatternRule`, looked for in an example by one scan of each text.

    Each rule class adds its cue group when it is defined (A004 also its vendor names), so
    however many rules run, an example's texts are lower-cased and scanned once and each
    rule's "may I match?" is a set-membership test. The :class:`CueSet` is compiled at the
    first scan after a group or scope was added: a rule class defined later (a plugin, a
    test) joins the shared scan too.
    """

    def __init__(self) -> None:
        self._group_indexes: dict[tuple[str, ...], int] = {}
        self._rule_groups: dict[MessageScope, set[int]] = {}
        # The compiled groups and the scopes to scan; a new object whenever either changes, so
        # that scans cached on a context with an older one are not reused.
        self._compiled: tuple[CueSet, tuple[MessageScope, ...]] | None = None
        self._ascii_scan: CueSet | None = None  # see _found_in_ascii
        self._memberships: dict[tuple[Any, Any], tuple[bool, ...]] = {}  # see _membership

    def add(self, cues: tuple[str, ...], rule_scope: MessageScope | None = None) -> int:
        """The index of the group ``cues`` (added if new). With ``rule_scope``, the group is a
        rule's own cue group, which :meth:`any_rule_cue` looks for in that scope."""
        index = self._group_indexes.get(cues)
        if index is None:
            index = self._group_indexes[cues] = len(self._group_indexes)
            self._compiled = None
        if rule_scope is not None and index not in self._rule_groups.get(rule_scope, ()):
            self._rule_groups.setdefault(rule_scope, set()).add(index)
            self._compiled = None
        return index

    def _compile(self) -> tuple[CueSet, tuple[MessageScope, ...]]:
        if self._compiled is None:
            self._compiled = (CueSet(list(self._group_indexes)), tuple(self._rule_groups))
            self._memberships = {}
            self._ascii_scan = None
        return self._compiled

    def _found_in_ascii(self, text: str) -> frozenset[int]:
        """:meth:`found` of ``text.lower()`` for an ASCII ``text``, without lower-casing it."""
        if self._ascii_scan is None:
            self._ascii_scan = CueSet(self._compile()[0].groups, lowered_ascii=True)
        return self._ascii_scan.found(text)

    def _membership(self, message: Mapping[str, Any], scopes: tuple[MessageScope, ...]) -> tuple[bool, ...]:
        """Whether ``message`` is in each of ``scopes``: a function of its role and whether its
        weight is 0 (see :func:`_in_scope`), remembered per pair."""
        try:
            key = (message.get("role"), message.get("weight", 1) != 0)
            known = self._memberships.get(key)
        except TypeError:  # an unhashable role or weight comparison: work it out each time
            return tuple([_in_scope(message, scope) for scope in scopes])
        if known is None:
            known = self._memberships[key] = tuple([_in_scope(message, scope) for scope in scopes])
        return known

    def found(self, lowered: str) -> frozenset[int]:
        """The indexes of the groups with a cue in the lower-cased text ``lowered``, and
        ``_NON_ASCII`` if that text is not ASCII."""
        found = self._compile()[0].found(lowered)
        return found if lowered.isascii() else found | _NON_ASCII_ONLY

    def _found_joined(self, joined: str) -> frozenset[int]:
        """:meth:`found` of ``joined.lower()`` (an ASCII text is not lower-cased: see :meth:`_found_in_ascii`)."""
        if joined.isascii():
            return self._found_in_ascii(joined)
        return self.found(joined.lower())

    def by_scope(self, ctx: ExampleContext) -> dict[MessageScope, frozenset[int]]:
        """For each rule scope, what :meth:`found` gives for the texts of the example's messages
        in that scope (taken as one text). Cached on the context for every rule."""
        compiled = self._compile()
        cached = ctx.__dict__.get("_ftkit_cue_scan")
        if cached is not None and cached[0] is compiled:
            return cached[1]
        scopes = compiled[1]
        # The messages that are in the same scopes are scanned together: each text is read once,
        # however many scopes hold it (the assistant replies are in all of them).
        texts_by_membership: dict[tuple[bool, ...], list[str]] = {}
        memberships = self._memberships
        for message, text in zip(ctx.messages, ctx.texts):
            if text:
                try:  # (what _membership gives, looked up here: one method call less per message)
                    membership = memberships[(message.get("role"), message.get("weight", 1) != 0)]
                except (KeyError, TypeError):
                    membership = self._membership(message, scopes)
                texts_by_membership.setdefault(membership, []).append(text)
        # NUL separates the texts: no cue holds one. Lower-casing maps each character on its own
        # but a capital sigma, whose form depends on its neighbours, and NUL ends a word as the
        # end of a text does: the joined texts are lower-cased in one call.
        found_by_membership = [(membership, self._found_joined("\0".join(texts)))
                               for membership, texts in texts_by_membership.items() if True in membership]
        result = {
            scope: frozenset().union(*[found for membership, found in found_by_membership if membership[k]])
            for k, scope in enumerate(scopes)
        }
        ctx.__dict__["_ftkit_cue_scan"] = (compiled, result)
        return result

    def any_rule_cue(self, ctx: ExampleContext) -> bool:
        """Whether some rule's cue occurs in the messages it reads (if not, no PatternRule with a
        cue reports: see :meth:`PatternRule._may_match`)."""
        by_scope = self.by_scope(ctx)
        for scope, groups in self._rule_groups.items():
            if not groups.isdisjoint(by_scope[scope]):
                return True
        return False


_CUE_SCAN = _SharedCueScan()
_any_rule_cue = _CUE_SCAN.any_rule_cue  # one object: the engine groups rules by their gate's identity


class PatternRule(ExampleRule):
    """Report matches of a compiled pattern in messages of some roles."""

    pattern: ClassVar[re.Pattern[str]]
    # For case-insensitive patterns with lower-case literals: the same pattern run on the
    # lower-cased text, two to three times faster than an IGNORECASE scan.
    lower_pattern: ClassVar[re.Pattern[str] | None] = None
    cue: ClassVar[tuple[str, ...]] = ()  # lower-case substrings; the pattern runs only if one occurs
    roles: ClassVar[tuple[str, ...]] = ("assistant",)
    what: ClassVar[str]
    hint_text: ClassVar[str | None] = None
    trainable_only: ClassVar[bool] = True  # skip assistant messages with weight 0 (context only)
    _scope: ClassVar[MessageScope]
    _cue_group: ClassVar[int]  # index of ``cue`` in the shared scan (rules with a cue)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._scope = (cls.roles, cls.trainable_only)
        if cls.cue:
            cls._cue_group = _CUE_SCAN.add(cls.cue, cls._scope)
            # One gate object for every rule with a cue (see ``ExampleRule.gate``): on most
            # examples no cue occurs and the engine skips all these rules after one test.
            cls.gate = staticmethod(_any_rule_cue)
        else:
            cls.gate = None  # without a cue the rule may match anywhere: nothing to skip

    def _accept(self, match: re.Match[str], text: str) -> bool:
        return True

    def _may_match(self, found: frozenset[int]) -> bool:
        """Whether a message (or the messages the rule reads) can match, given what the shared
        scan found in its lower-cased text (:meth:`_SharedCueScan.found`). An override may add
        conditions, never drop the rule's own cue group: the rules' shared gate relies on it."""
        return self._cue_group in found

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        # Most examples hold no cue at all: one test over the example's texts settles them.
        if self.cue and not self._may_match(_CUE_SCAN.by_scope(ctx)[self._scope]):
            return ()
        return self._check(ctx)

    def _check(self, ctx: ExampleContext) -> Iterable[Finding]:
        lowered_texts = _lowered(ctx)
        for index, (message, text) in enumerate(zip(ctx.messages, ctx.texts)):
            if not text or not _in_scope(message, self._scope):
                continue
            lowered = lowered_texts[index]
            if self.cue and not self._may_match(_CUE_SCAN.found(lowered)):
                continue
            hits: list[Any]
            if self.lower_pattern is not None and len(lowered) == len(text):
                hits = [_Hit(m.start(), m.end(), text) for m in self.lower_pattern.finditer(lowered)]
            else:
                hits = [m for m in self.pattern.finditer(text) if self._accept(m, text)]
            if not hits:
                continue
            pointer = ctx.content_pointer(index)
            yield self._finding(ctx, index, message, pointer, hits)

    def _finding(
        self, ctx: ExampleContext, index: int, message: Mapping[str, Any], pointer: str, hits: list[re.Match[str]]
    ) -> Finding:
        shown = ", ".join(dict.fromkeys(repr(preview(m.group(), 50)) for m in hits[:3]))
        return Finding(
            message=f"{self.what} in the {message.get('role')} message: {shown}",
            pointer=pointer,
            hint=self.hint_text,
            spans=[Span(m.start(), m.end(), m.group(), pointer, label=self.name) for m in hits],
        )


# --------------------------------------------------------------------------- A001 / A002

_TEMPLATE_TOKENS = re.compile(
    r"<\|(?:im_start|im_end|im_sep|endoftext|eot_id|eom_id|start_header_id|end_header_id|begin_of_text|"
    r"end_of_text|finetune_right_pad_id|python_tag|user|assistant|system|end|endofprompt|fim_prefix|fim_middle|"
    r"fim_suffix|pad|channel|message|start|return|constrain|call)\|>"
    r"|\[/?INST\]|<</?SYS>>|</?s>|<(?:start|end)_of_turn>|\[/?(?:AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\]"
    r"|<\|?(?:bos|eos|unk|sep|cls|mask)\|?>"
    r"|^\#{2,3}\s*(?:Instruction|Response|Input|Human|Assistant)\s*:"
    r"|(?:\A|\n\n)(?:Human|Assistant)\s*:",
    re.MULTILINE,
)
_TEMPLATE_CUES = ("<|", "[inst]", "[/inst]", "<<sys>>", "<</sys>>", "<s>", "</s>", "_of_turn>", "###", "human:",
                  "assistant:", "[available_tools]", "[tool_calls]", "[tool_results]", "<bos>", "<eos>", "<unk>",
                  "<pad>", "<sep>", "<cls>", "<mask>")  # fmt: skip
_SPACES = re.compile(r"[ \t]{2,}")


def _remove_spans(text: str, pattern: re.Pattern[str]) -> str:
    cleaned = pattern.sub("", text)
    cleaned = _SPACES.sub(" ", cleaned)
    return cleaned.strip() if cleaned != text else text


@register
class TemplateTokens(PatternRule):
    code = "A001"
    name = "template-tokens"
    summary = "Chat-template control tokens (<|im_start|>, [INST], <|eot_id|>, </s> ...) leaked into message text."
    why = (
        "The trainer applies the model's chat template itself. Control tokens written into the text are "
        "tokenised as ordinary characters (or worse, as real special tokens), so the model learns to emit "
        "fake turn boundaries and stops or rambles in the wrong place."
    )
    bad = _line(_USER_Q, '{"role": "assistant", "content": "Yes, you can change it under Orders.<|im_end|>"}')
    good = _line(_USER_Q, '{"role": "assistant", "content": "Yes, you can change it under Orders."}')
    default_severity = Severity.ERROR
    fix_safety = "unsafe"
    pattern = _TEMPLATE_TOKENS
    cue = _TEMPLATE_CUES
    roles = ("system", "developer", "user", "assistant", "tool")
    trainable_only = False  # tokens in context messages corrupt the prompt too
    what = "chat-template token"
    hint_text = "remove the tokens; the trainer adds the template (`--unsafe-fixes` removes them)"

    def _finding(self, ctx, index, message, pointer, hits):  # type: ignore[no-untyped-def]
        finding = super()._finding(ctx, index, message, pointer, hits)
        finding.fix = Fix(
            "remove chat-template tokens",
            "unsafe",
            lambda record, i=index: map_message_texts(record, lambda t: _remove_spans(t, _TEMPLATE_TOKENS), indices=[i]),
        )
        return finding


_REASONING = re.compile(
    r"<(think|thinking|thought|reasoning|reflection|scratchpad|inner_monologue)>[\s\S]*?(?:</\1>|\Z)"
    r"|</?(?:think|thinking|thought|reasoning|reflection|scratchpad|inner_monologue)>"
    r"|<\|(?:begin|end)_of_thought\|>|<\|(?:begin|end)_of_solution\|>",
    re.IGNORECASE,
)


@register
class ReasoningTokens(PatternRule):
    code = "A002"
    name = "reasoning-tokens"
    summary = "A reasoning block (<think>...</think>, <reflection>, <|begin_of_thought|>) leaked into a reply."
    why = (
        "Replies distilled from a reasoning model often keep its hidden chain of thought. Trained on them, "
        "a support model starts thinking aloud to customers (and learns the teacher's reasoning format "
        "rather than the answer). Keep reasoning only if you train a reasoning model on purpose, and then "
        "in the field your trainer expects."
    )
    bad = _line(
        _USER_Q,
        '{"role": "assistant", "content": "<think>The user wants to edit an address. Orders page.</think>Yes, open Orders and choose Edit address."}',
    )
    good = _line(_USER_Q, '{"role": "assistant", "content": "Yes, open Orders and choose Edit address."}')
    default_severity = Severity.WARNING
    fix_safety = "unsafe"
    pattern = _REASONING
    cue = ("<think", "<thought", "<reason", "<reflection", "<scratchpad", "<inner_monologue", "</", "_of_thought|",
           "_of_solution|")  # fmt: skip
    what = "reasoning block"
    hint_text = "drop the reasoning from the reply (`--unsafe-fixes` removes the block and its tags)"

    def _finding(self, ctx, index, message, pointer, hits):  # type: ignore[no-untyped-def]
        finding = super()._finding(ctx, index, message, pointer, hits)
        finding.fix = Fix(
            "remove reasoning blocks",
            "unsafe",
            lambda record, i=index: map_message_texts(record, lambda t: _remove_spans(t, _REASONING), indices=[i]),
        )
        return finding


# --------------------------------------------------------------------------- A003 - A006


@register
class AsAnAi(PatternRule):
    code = "A003"
    name = "as-an-ai"
    summary = 'Assistant boilerplate: "As an AI language model", "I\'m just an AI", "as a large language model".'
    why = (
        "These phrases are artifacts of general chat models, not of your support agents. A few examples "
        "are enough to make the fine-tuned model hedge and disclaim in every other reply."
    )
    bad = _line(
        _USER_Q,
        '{"role": "assistant", "content": "As an AI language model, I cannot see your account, but you can change it under Orders."}',
    )
    good = _line(_USER_Q, '{"role": "assistant", "content": "You can change it under Orders, then Edit address."}')
    pattern = re.compile(
        r"(?i)\b(?:as an? (?:ai|artificial intelligence)(?: (?:language )?model| assistant| chatbot| system)?"
        r"|as an? (?:large )?language model|i(?:'m| am) (?:just |only |merely )?an? (?:ai|artificial intelligence)"
        r"(?: (?:language )?model| assistant| chatbot)?|i(?:'m| am) (?:just |only )?an? (?:large )?language model"
        r"|being an ai)\b"
    )
    lower_pattern = _lowercase_twin(pattern)
    cue = ("an ai", "a ai", "artificial intelligence", "language model")
    what = "AI-assistant boilerplate"
    hint_text = "rewrite the reply as your agents would say it"


_VENDOR_NAMES = (
    r"ChatGPT|GPT-?[345](?:\.\d)?(?:o|-turbo)?|OpenAI|Claude|Anthropic|Gemini|Bard|LLaMA|Llama(?: ?\d)?|Meta AI|"
    r"Mistral|Mixtral|Qwen|DeepSeek|Copilot|Bing Chat|PaLM|Grok|xAI"
)
# Lower-case substrings, one of which every vendor name the pattern accepts contains.
_VENDOR_CUES = ("gpt", "openai", "claude", "anthropic", "gemini", "bard", "llama", "meta", "mistral", "mixtral", "qwen",
                "deepseek", "copilot", "bing chat", "palm", "grok", "xai", "google", "microsoft")
_VENDOR_CUE_GROUP = _CUE_SCAN.add(_VENDOR_CUES)
_SELF_ID = re.compile(
    r"(?i)\b(?:i(?:'m| am)|my name is|this is|you(?:'re| are) (?:talking|chatting|speaking) (?:to|with))\s+"
    r"(?:called\s+)?(?:an?\s+)?(?:the\s+)?(?P<n1>" + _VENDOR_NAMES + r")\b"
    r"|\b(?:i was|i've been|i have been|i am|i'm)\s+(?:(?:created|developed|trained|built|made|designed)\s+(?:and \w+ )?by)\s+"
    r"(?P<n2>" + _VENDOR_NAMES + r"|Google|Meta|Microsoft)\b"
    r"|\b(?:i(?:'m| am)|as)\s+an?\s+(?P<n3>OpenAI|Anthropic|Google|Meta|Mistral)\s+(?:model|assistant|AI|product)\b"
)


@register
class ModelSelfIdentification(PatternRule):
    code = "A004"
    name = "model-self-identification"
    summary = 'The reply says it is another model or vendor ("I am ChatGPT", "I was trained by OpenAI").'
    why = (
        "Self-identification copied from a teacher model teaches your assistant the wrong identity; users "
        "asking who they talk to get another company's name. Set `allowed-names` for the persona you do "
        "want (e.g. a bot built on Claude that may say so)."
    )
    bad = _line(
        '{"role": "user", "content": "Who am I talking to?"}',
        '{"role": "assistant", "content": "I am ChatGPT, a model trained by OpenAI. How can I help with your order?"}',
    )
    good = _line(
        '{"role": "user", "content": "Who am I talking to?"}',
        '{"role": "assistant", "content": "I am Ava, the Acme support assistant. How can I help with your order?"}',
    )
    options = (
        RuleOption("allowed-names", "list[str]", [], "Model or vendor names the assistant may legitimately claim."),
    )
    pattern = _SELF_ID
    cue = ("i am", "i'm", "my name is", "this is", "you're", "you are", "i was", "i've been", "i have been", "as a")
    what = "model self-identification"
    hint_text = "replace with your assistant's own persona"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._allowed = {n.casefold() for n in self.opts["allowed-names"]}

    def _may_match(self, found: frozenset[int]) -> bool:
        # Besides a cue, a match needs a vendor name. On ASCII text, IGNORECASE matching is
        # plain lower-case comparison, so the names can be looked for in the lowered text.
        if self._cue_group not in found:
            return False
        return _VENDOR_CUE_GROUP in found or _NON_ASCII in found

    def _accept(self, match: re.Match[str], text: str) -> bool:
        name = match.group("n1") or match.group("n2") or match.group("n3") or ""
        return name.casefold() not in self._allowed


@register
class KnowledgeCutoff(PatternRule):
    code = "A005"
    name = "knowledge-cutoff"
    summary = 'Knowledge-cutoff and no-browsing excuses ("as of my last update", "I cannot browse the internet").'
    why = (
        "Cutoff statements belong to a general model's training, not to your support flow. Learned from "
        "data, they make the model refuse questions it could answer with its tools or retrieved context."
    )
    bad = _line(
        '{"role": "user", "content": "Is the outage fixed yet?"}',
        '{"role": "assistant", "content": "As of my last knowledge update, I do not have real-time information about outages."}',
    )
    good = _line(
        '{"role": "user", "content": "Is the outage fixed yet?"}',
        '{"role": "assistant", "content": "Let me check the status page for you."}',
    )
    pattern = re.compile(
        r"(?i)\b(?:(?:my|the) (?:knowledge|training)(?: data)? (?:cut-?off|cut off)"
        r"|knowledge cut-?off(?: date)?"
        r"|as of my (?:last|latest|most recent) (?:knowledge |training )?(?:update|training|cut-?off)"
        r"|(?:as of|since) my training(?: data)?"
        r"|my training data (?:only )?(?:goes|extends|runs) (?:up )?(?:to|until|through)"
        r"|i (?:do not|don't|cannot|can't) (?:have )?(?:access to |browse )?(?:real-time|realtime|current|live) "
        r"(?:information|data|events|updates)"
        r"|i (?:do not|don't|cannot|can't) (?:browse|access|search) the (?:internet|web)"
        r"|i (?:do not|don't) have (?:internet|web|browsing) access)\b"
    )
    lower_pattern = _lowercase_twin(pattern)
    cue = ("cutoff", "cut-off", "cut off", "as of my", "my training", "real-time", "realtime", "current information",
           "current data", "current events", "current updates", "live information", "live data", "live events",
           "live updates", "the internet", "the web", "internet access", "web access", "browsing access")  # fmt: skip
    what = "knowledge-cutoff statement"
    hint_text = "answer from the tools or context the assistant has, or escalate"


@register
class RefusalBoilerplate(PatternRule):
    code = "A006"
    name = "refusal-boilerplate"
    summary = "Generic refusal boilerplate (\"I'm sorry, but I can't assist with that\")."
    why = (
        "Canned refusals from a safety-tuned teacher teach over-refusal: the fine-tuned model declines "
        "ordinary support requests. Real agents say what they cannot do and what happens next."
    )
    default_severity = Severity.INFO
    bad = _line(
        '{"role": "user", "content": "Can you waive the late fee this once?"}',
        '{"role": "assistant", "content": "I\'m sorry, but I can\'t assist with that request."}',
    )
    good = _line(
        '{"role": "user", "content": "Can you waive the late fee this once?"}',
        '{"role": "assistant", "content": "I can\'t waive it myself, but I have asked billing to review it today."}',
    )
    pattern = re.compile(
        r"(?i)\b(?:i(?:'m| am) (?:sorry|afraid),? (?:but )?i (?:can(?:'|no)t|cannot|am unable to|'m unable to|won't) "
        r"(?:assist|help|comply|provide|fulfil+|do that|engage)(?: (?:you )?with)?(?: (?:that|this|your))?(?: request)?"
        r"|i (?:can(?:'|no)t|cannot|am unable to|'m unable to|won't) (?:assist|help|comply) with (?:that|this|your)(?: request)?"
        r"|i (?:can(?:'|no)t|cannot|am unable to|'m unable to) fulfil+ (?:that|this|your) request"
        r"|(?:this|that|your) request (?:goes against|violates) (?:my|the) (?:guidelines|policies|programming))\b"
    )
    lower_pattern = _lowercase_twin(pattern)
    cue = ("can't", "cannot", "can not", "unable", "won't", "goes against", "violates")
    what = "refusal boilerplate"
    hint_text = "say what cannot be done and what happens next, as your agents do"


@register
class UnfilledPlaceholder(PatternRule):
    code = "A007"
    name = "unfilled-placeholder"
    summary = "A template variable was never filled in ({{customer_name}}, {first_name}, [Your Name], <insert date>)."
    why = (
        "Replies generated from templates or by a model asked to 'write a reply' keep slots such as "
        "[Your Name] or {{order_id}}. The model learns to print the brackets. ftkit's own redaction "
        "placeholders (<EMAIL_1>, <PERSON_2>) are intentional and not reported."
    )
    bad = _line(
        _USER_Q,
        '{"role": "assistant", "content": "Hi {{customer_name}}, yes you can. Best regards, [Your Name]"}',
    )
    good = _line(_USER_Q, '{"role": "assistant", "content": "Hi Sam, yes you can. Best regards, Maria"}')
    pattern = re.compile(
        r"\{\{\s*[A-Za-z_][\w. -]{0,40}\}\}|\{\s*(?:[a-z]+_)+[a-z]+\s*\}|\{\s*(?:name|first_name|customer|agent|company|date|"
        r"email|phone|order|product)\s*\}"
        r"|\[(?:Your|Customer(?:'s)?|Company|Agent(?:'s)?|Insert|Recipient(?:'s)?|User(?:'s)?|Client(?:'s)?|Product|"
        r"Order|Contact|Support|Brand)(?:\s[\w' ]{0,30})?\](?!\()"
        r"|<(?:insert|your|customer|company|agent)[ _][^<>\n]{1,30}>",
        re.IGNORECASE,
    )
    cue = ("{", "[", "<insert", "<your", "<customer", "<company", "<agent")
    what = "unfilled template placeholder"
    hint_text = "fill the slot with a realistic value or a ftkit placeholder"
