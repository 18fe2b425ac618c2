"""P: personal data and secrets left in the text of a dataset.

Detection is :mod:`toolkit.pii`, the same code the converter's redaction transform uses,
so a dataset produced by ``ftkit convert --redact`` comes out clean. Message texts and the
``arguments`` of assistant tool calls are scanned (both are trained on). One message's text is
scanned once for every kind (the result is cached on the example), so turning on all P
rules costs about as much as one.

Every P rule has an unsafe fix (``--unsafe-fixes``): replace the values with the typed,
numbered placeholders of :class:`toolkit.pii.Redactor` (``<EMAIL_1>``, ``<PHONE_2>``, ...),
numbered consistently across the example's messages. Values in reports are masked
(``ja…om``) so that lint output, SARIF uploads and CI logs do not spread them further.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Iterable, Mapping

from toolkit.diagnostics import Severity, Span
from toolkit.linter.rule import ExampleContext, ExampleRule, Finding, Fix, RuleOption, register
from toolkit.linter.rules._textfix import map_message_texts, mask
from toolkit.pii import PiiMatch, Redactor, find_pii, may_contain_pii

# Everything but "person": the linter does not know the participants' names.
_SCAN_KINDS = ("secret", "url", "email", "iban", "card", "ip", "phone", "address")
_CACHE_KEY = "_ftkit_pii"
_ARGS_CACHE_KEY = "_ftkit_pii_arguments"

_COMMON_OPTIONS = (
    RuleOption(
        "roles",
        "list[str]",
        ["system", "developer", "user", "assistant", "tool"],
        "Message roles to scan. Prompts count too: they are uploaded to the provider with the rest.",
    ),
    RuleOption(
        "allow",
        "list[str]",
        [],
        "Regular expressions for values that are fine to keep (your own support address or phone line); "
        "a value that fully matches one is not reported.",
    ),
)


def _matches(ctx: ExampleContext) -> list[list[PiiMatch]] | None:
    """Every message's PII matches, computed once per example and shared by all P rules.

    ``None`` when no message holds any (the usual case, settled by one quick test of the
    texts joined, instead of a full scan of each).
    """
    state = ctx.__dict__
    if _CACHE_KEY in state:
        return state[_CACHE_KEY]
    texts = ctx.texts
    cached: list[list[PiiMatch]] | None = None
    if may_contain_pii("\n".join(texts), _SCAN_KINDS):
        cached = [find_pii(text, _SCAN_KINDS) if text else [] for text in texts]
        if not any(cached):
            cached = None
    state[_CACHE_KEY] = cached
    return cached


def _argument_matches(ctx: ExampleContext) -> list[tuple[int, int, str, list[PiiMatch]]]:
    """PII in tool-call arguments (they are trained on too): ``(message, call, name, matches)``."""
    cached = ctx.__dict__.get(_ARGS_CACHE_KEY)
    if cached is None:
        cached = []
        for index, message in enumerate(ctx.messages):
            calls = message.get("tool_calls")
            if not isinstance(calls, list):
                continue
            for call_index, call in enumerate(calls):
                function = call.get("function") if isinstance(call, Mapping) else None
                arguments = function.get("arguments") if isinstance(function, Mapping) else None
                if isinstance(arguments, str) and arguments:
                    found = find_pii(arguments, _SCAN_KINDS)
                    if found:
                        cached.append((index, call_index, str(function.get("name") or "?"), found))
        ctx.__dict__[_ARGS_CACHE_KEY] = cached
    return cached


def _any_pii(ctx: ExampleContext) -> bool:
    """The P rules' shared gate: whether the example's texts or tool-call arguments hold any PII
    match at all (without one no P rule reports; the engine then skips them all)."""
    return _matches(ctx) is not None or bool(_argument_matches(ctx))


def _map_tool_arguments(record: dict[str, Any], fn: Any, roles: frozenset[str]) -> dict[str, Any]:
    """``record`` with ``fn`` applied to every tool call's ``arguments`` string (messages of ``roles``)."""
    messages = record.get("messages")
    if not isinstance(messages, list):
        return record
    changed = False
    out_messages = []
    for message in messages:
        calls = message.get("tool_calls") if isinstance(message, Mapping) else None
        if not isinstance(calls, list) or message.get("role") not in roles:
            out_messages.append(message)
            continue
        new_calls = []
        for call in calls:
            function = call.get("function") if isinstance(call, Mapping) else None
            arguments = function.get("arguments") if isinstance(function, Mapping) else None
            if isinstance(arguments, str):
                redacted = fn(arguments)
                if redacted != arguments:
                    changed = True
                    call = {**call, "function": {**function, "arguments": redacted}}
            new_calls.append(call)
        out_messages.append({**message, "tool_calls": new_calls})
    return {**record, "messages": out_messages} if changed else record


class PiiRule(ExampleRule):
    """Base of the P rules: report one kind of :mod:`toolkit.pii` match per message."""

    kind: ClassVar[str]
    label: ClassVar[str]  # "e-mail address"
    plural: ClassVar[str]  # "e-mail addresses"
    fix_safety = "unsafe"
    default_severity = Severity.ERROR
    options = _COMMON_OPTIONS
    gate = staticmethod(_any_pii)  # one object for every P rule (see ``ExampleRule.gate``)

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._roles = frozenset(self.opts["roles"])
        try:
            self._allow = tuple(re.compile(p) for p in self.opts["allow"])
        except re.error as exc:
            raise ValueError(f"{self.code}: option 'allow': invalid regular expression: {exc}") from None

    def _allowed(self, value: str) -> bool:
        return any(p.fullmatch(value) for p in self._allow)

    def _wanted(self, match: PiiMatch) -> bool:
        return match.kind == self.kind and not self._allowed(match.text)

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        if not _any_pii(ctx):
            return ()
        return self._check(ctx, _matches(ctx) or [])

    def _check(self, ctx: ExampleContext, per_message: list[list[PiiMatch]]) -> Iterable[Finding]:
        for index, (message, found) in enumerate(zip(ctx.messages, per_message)):
            if not found or message.get("role") not in self._roles:
                continue
            hits = [m for m in found if self._wanted(m)]
            if not hits:
                continue
            pointer = ctx.content_pointer(index)
            role = message.get("role")
            shown = ", ".join(mask(m.text) for m in hits[:3]) + (", …" if len(hits) > 3 else "")
            noun = self.label if len(hits) == 1 else f"{len(hits)} {self.plural}"
            yield Finding(
                message=f"{noun} in the {role} message: {shown}",
                pointer=pointer,
                hint=f"redact with a placeholder (`ftkit lint --fix --unsafe-fixes` writes <{self.kind.upper()}_n>)",
                spans=[Span(m.start, m.end, mask(m.text), pointer, label=self.kind) for m in hits],
                fix=self._fix(),
            )
        for index, call_index, name, found in _argument_matches(ctx):
            role = ctx.messages[index].get("role")
            hits = [m for m in found if self._wanted(m)]
            if not hits or role not in self._roles:
                continue
            pointer = f"/messages/{index}/tool_calls/{call_index}/function/arguments"
            shown = ", ".join(mask(m.text) for m in hits[:3]) + (", …" if len(hits) > 3 else "")
            noun = self.label if len(hits) == 1 else f"{len(hits)} {self.plural}"
            yield Finding(
                message=f"{noun} in the arguments of the tool call {name!r}: {shown}",
                pointer=pointer,
                hint=f"redact with a placeholder (`ftkit lint --fix --unsafe-fixes` writes <{self.kind.upper()}_n>)",
                spans=[Span(m.start, m.end, mask(m.text), pointer, label=self.kind) for m in hits],
                fix=self._fix(),
            )

    def _fix(self) -> Fix:
        return Fix(
            description=f"replace {self.plural} with <{self.kind.upper()}_n> placeholders",
            safety="unsafe",
            apply=self._redact_record,
        )

    def _redact_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        # One Redactor per example: the same value gets the same number in every message.
        redactor = Redactor(kinds=_SCAN_KINDS)

        def redact(text: str) -> str:
            found = [m for m in find_pii(text, _SCAN_KINDS) if self._wanted(m)]
            if not found:
                return text
            out, position = [], 0
            for match in found:
                out.append(text[position : match.start])
                out.append(redactor.placeholder(match))
                position = match.end
            out.append(text[position:])
            return "".join(out)

        redacted = map_message_texts(record, redact, roles=self._roles)
        return _map_tool_arguments(redacted, redact, self._roles)


def _line(messages: str) -> str:
    return '{"messages": [' + messages + "]}"


@register
class PiiEmail(PiiRule):
    code = "P001"
    name = "pii-email"
    kind = "email"
    label = "e-mail address"
    plural = "e-mail addresses"
    summary = "An e-mail address is left in the text."
    why = (
        "Training data is uploaded to a provider and memorised by the model: a customer's address in a "
        "reply can be repeated verbatim to another customer. Addresses also teach nothing about behavior; "
        "a typed placeholder keeps the shape of the conversation."
    )
    bad = _line(
        '{"role": "user", "content": "I never got the reset mail, my address is jane.doe@gmail.com"}, '
        '{"role": "assistant", "content": "I have re-sent the reset link to jane.doe@gmail.com."}'
    )
    good = _line(
        '{"role": "user", "content": "I never got the reset mail, my address is <EMAIL_1>"}, '
        '{"role": "assistant", "content": "I have re-sent the reset link to <EMAIL_1>."}'
    )
    options = (
        *_COMMON_OPTIONS,
        RuleOption(
            "role-addresses",
            "bool",
            False,
            "Also report role mailboxes (support@, help@, info@, billing@, noreply@ ...): they are a company's, "
            "not a person's (the K rules judge them as knowledge).",
        ),
    )

    def _wanted(self, match: PiiMatch) -> bool:
        if not super()._wanted(match):
            return False
        if self.opts["role-addresses"]:
            return True
        local = match.text.split("@", 1)[0].casefold()
        return _ROLE_LOCAL.fullmatch(local) is None


_ROLE_LOCAL = re.compile(
    r"(?:customer[._-]?)?(?:support|help|helpdesk|info|contact|sales|billing|invoices?|accounts?|noreply|no[._-]reply|"
    r"donotreply|do[._-]not[._-]reply|hello|team|admin|service|services|care|customercare|customerservice|feedback|"
    r"press|media|privacy|legal|security|abuse|postmaster|webmaster|hostmaster|orders?|returns|refunds|shop|store|"
    r"office|careers|jobs|hr|marketing|newsletter|notifications?|alerts?|bounce|mailer[._-]daemon)(?:[._+-][a-z0-9]+)?"
)


@register
class PiiPhone(PiiRule):
    code = "P002"
    name = "pii-phone"
    kind = "phone"
    label = "phone number"
    plural = "phone numbers"
    summary = "A phone number is left in the text (recognised by libphonenumber, not a regex)."
    why = (
        "Phone numbers identify customers and are memorised like any other string. Numbers are recognised "
        "with Google's libphonenumber metadata over several regions, so order numbers, prices, dates and "
        "quantities are not mistaken for phones; list your own support line in `allow`."
    )
    bad = _line(
        '{"role": "user", "content": "Please call me back on 020 7946 0321, thanks."}, '
        '{"role": "assistant", "content": "Of course, we will call you this afternoon."}'
    )
    good = _line(
        '{"role": "user", "content": "Please call me back on <PHONE_1>, thanks."}, '
        '{"role": "assistant", "content": "Of course, we will call you this afternoon."}'
    )


@register
class PiiCard(PiiRule):
    code = "P003"
    name = "pii-card"
    kind = "card"
    label = "payment card number"
    plural = "payment card numbers"
    summary = "A payment card number (brand prefix and valid Luhn check digit) is left in the text."
    why = (
        "A card number in training data is a PCI-DSS incident and can be reproduced by the model. Only "
        "numbers with a card-brand prefix and a valid Luhn check digit are reported, so order and "
        "tracking numbers are not."
    )
    bad = _line(
        '{"role": "user", "content": "Charge it to 4111 1111 1111 1111 please"}, '
        '{"role": "assistant", "content": "Done, the payment went through."}'
    )
    good = _line(
        '{"role": "user", "content": "Charge it to <CARD_1> please"}, '
        '{"role": "assistant", "content": "Done, the payment went through."}'
    )


@register
class PiiIban(PiiRule):
    code = "P004"
    name = "pii-iban"
    kind = "iban"
    label = "IBAN"
    plural = "IBANs"
    summary = "A bank account number (IBAN with a valid mod-97 check) is left in the text."
    why = (
        "Bank details identify a person and invite fraud if the model repeats them. Only IBANs with the "
        "right length for their country and a valid ISO 13616 check are reported."
    )
    bad = _line(
        '{"role": "user", "content": "Refund to DE89 3704 0044 0532 0130 00 please."}, '
        '{"role": "assistant", "content": "The refund is on its way."}'
    )
    good = _line(
        '{"role": "user", "content": "Refund to <IBAN_1> please."}, '
        '{"role": "assistant", "content": "The refund is on its way."}'
    )


@register
class PiiIp(PiiRule):
    code = "P005"
    name = "pii-ip"
    kind = "ip"
    label = "IP address"
    plural = "IP addresses"
    summary = "An IPv4 or IPv6 address is left in the text."
    why = (
        "IP addresses are personal data under GDPR and reveal customers' networks and infrastructure; "
        "they teach the model nothing about how to behave."
    )
    default_severity = Severity.WARNING
    bad = _line(
        '{"role": "user", "content": "I cannot connect from 203.0.113.42 since this morning"}, '
        '{"role": "assistant", "content": "Thanks, I have lifted the block on your address."}'
    )
    good = _line(
        '{"role": "user", "content": "I cannot connect from <IP_1> since this morning"}, '
        '{"role": "assistant", "content": "Thanks, I have lifted the block on your address."}'
    )


@register
class SecretLeaked(PiiRule):
    code = "P006"
    name = "secret-leaked"
    kind = "secret"
    label = "secret"
    plural = "secrets"
    summary = "An API key, access token, password or private key is left in the text."
    why = (
        "A live credential in a dataset is a breach the moment the file is shared or uploaded, and a "
        "model that memorises it will print it. Recognised: OpenAI/Anthropic sk- keys, AWS access key "
        "ids, GitHub and GitLab tokens, Slack tokens, Stripe and Google API keys, JWTs, Bearer/Basic "
        "credentials, private-key blocks and `password: ...` / `api_key=...` values."
    )
    bad = _line(
        '{"role": "user", "content": "Here is my key: sk-proj-4f9Qw2LmZx81RtYuIoP3asDf so you can test"}, '
        '{"role": "assistant", "content": "Thanks, please rotate that key now: it was shared in a chat."}'
    )
    good = _line(
        '{"role": "user", "content": "Here is my key: <SECRET_1> so you can test"}, '
        '{"role": "assistant", "content": "Thanks, please rotate that key now: it was shared in a chat."}'
    )


@register
class UrlWithToken(PiiRule):
    code = "P007"
    name = "url-with-token"
    kind = "url"
    label = "link carrying a token or id"
    plural = "links carrying tokens or ids"
    summary = "A link carries credentials, a token or a query id (reset links, signed URLs, tracking ids)."
    why = (
        "Password-reset links, signed download URLs and links with account or session ids grant access "
        "or identify a customer. Plain links to help pages are not reported (they may still be knowledge "
        "that belongs in RAG: see the K rules)."
    )
    default_severity = Severity.WARNING
    bad = _line(
        '{"role": "user", "content": "The link https://app.example.com/reset?token=9f8e7d6c5b4a3 does not work"}, '
        '{"role": "assistant", "content": "That link has expired; I have sent you a new one."}'
    )
    good = _line(
        '{"role": "user", "content": "The link <URL_1> does not work"}, '
        '{"role": "assistant", "content": "That link has expired; I have sent you a new one."}'
    )


@register
class PiiAddress(PiiRule):
    code = "P008"
    name = "pii-address"
    kind = "address"
    label = "street address"
    plural = "street addresses"
    summary = "A street address is left in the text (heuristic: US/UK, German and French street forms)."
    why = (
        "A home address identifies a customer as surely as a name. Detection is pattern-based (a house "
        "number next to a street word), so it misses free-form addresses and may flag a business address: "
        "list those in `allow`."
    )
    default_severity = Severity.WARNING
    heuristic = True
    bad = _line(
        '{"role": "user", "content": "Please ship the replacement to 742 Evergreen Terrace, Springfield, IL 62704."}, '
        '{"role": "assistant", "content": "Done, the replacement ships today."}'
    )
    good = _line(
        '{"role": "user", "content": "Please ship the replacement to <ADDRESS_1>."}, '
        '{"role": "assistant", "content": "Done, the replacement ships today."}'
    )

    def check(self, ctx: ExampleContext) -> Iterable[Finding]:
        for finding in super().check(ctx):
            # a house number plus a street word is strong evidence; city and postcode make it certain
            finding.score = max(
                (0.95 if any(ch.isdigit() for ch in span.text[-4:]) else 0.8) for span in finding.spans
            )
            finding.spans = [Span(s.start, s.end, s.text, s.pointer, s.label, finding.score) for s in finding.spans]
            yield finding
