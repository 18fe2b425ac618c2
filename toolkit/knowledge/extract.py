"""Span extraction: find the specifics an assistant turn states, each with a kind and a base score.

A *span* is a character range of an assistant message that states something specific:
a quantity (money, percentage, duration, date, time, count), an identifier or contact
point (URL, email, phone, code, version, address), a product / plan / feature name, a
policy or availability statement, a product-specific procedure (UI path, named button),
or an account / order fact. Each kind belongs to one K rule (:data:`KIND_RULE`).

Extraction is pure pattern matching (precompiled regular expressions, no model), so it is
fast and deterministic; whether a span is *knowledge* is decided later by grounding it
against the example's context (:mod:`toolkit.knowledge.analyze`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from toolkit._pattern_gate import PatternGate, UnsupportedPattern, re2_exact
from toolkit.knowledge import normalize as N

# --------------------------------------------------------------------------- span type

# kind -> the K rule that reports it
KIND_RULE: dict[str, str] = {
    "money": "K001", "percent": "K001", "duration": "K001", "date": "K001", "time": "K001",
    "count": "K001", "rating": "K001", "number": "K001",
    "url": "K002", "email": "K002", "phone": "K002", "code": "K002", "promo_code": "K002",
    "version": "K002", "address": "K002",
    "name": "K003", "plan": "K003",
    "policy": "K004", "availability": "K004",
    "ui_path": "K005", "ui_element": "K005",
    "account_fact": "K006",
}

# Kinds whose value is an exact thing (compared by normalised value for grounding,
# repetition and conflicts), as opposed to statements (compared by wording).
VALUE_KINDS = frozenset(k for k in KIND_RULE if KIND_RULE[k] in ("K001", "K002", "K003"))


@dataclass
class KnowledgeSpan:
    """One specific found in an assistant message.

    ``start``/``end`` index the message text; ``value`` is the normalised value ("30 days",
    "1200", "acme.com/pricing"); ``score`` is the confidence that it teaches a fact, after
    modifiers; ``grounded`` says where the context already holds it (``None`` = ungrounded).
    """

    start: int
    end: int
    text: str
    kind: str
    value: str
    score: float
    reason: str
    message_index: int = -1
    pointer: str = ""
    grounded: str | None = None
    sentence: tuple[int, int] = (0, 0)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> str:
        return KIND_RULE[self.kind]

    @property
    def label(self) -> str:
        return self.kind

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pointer": self.pointer,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "kind": self.kind,
            "rule": self.rule,
            "value": self.value,
            "score": round(self.score, 4),
            "reason": self.reason,
        }
        if self.grounded is not None:
            out["grounded"] = self.grounded
        return out

    def moved(self, **changes: Any) -> "KnowledgeSpan":
        return replace(self, **changes)


# --------------------------------------------------------------------------- sentences

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9*•-])|\n+")
# The same breaks, found from the punctuation mark (which the match then includes): the pattern
# starts with a character set (not with alternatives), so the scan skips ahead to the next ". ! ? \n".
_SENTENCE_BREAK = re.compile(r"[.!?\n](?:(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9*•-])|(?<=\n)\n*)")


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence boundaries ``[(start, end), ...]`` (a light splitter: . ! ? and line breaks)."""
    # the extractor and the turn analysis both split the same reply: remember the last few
    cached = _SENTENCE_CACHE.get(text)
    if cached is None:
        cached = _SENTENCE_CACHE[text] = tuple(_sentences(text))
        if len(_SENTENCE_CACHE) > 32:
            del _SENTENCE_CACHE[next(iter(_SENTENCE_CACHE))]
    return list(cached)


_SENTENCE_CACHE: dict[str, tuple[tuple[int, int], ...]] = {}


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        end = match.start()
        if text[end] != "\n":
            end += 1  # the break starts after the punctuation mark (as in _SENTENCE_END)
        if end > start:
            bounds.append((start, end))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds or [(0, len(text))]


# --------------------------------------------------------------------------- patterns

_NUMW = r"(?:\d+(?:\.\d+)?|" + N.NUMBER_WORD_PATTERN + r")"
_I = re.IGNORECASE

URL_RE = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"'`)\]]+"
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|app|dev|ai|help|support|shop|store|us|uk|ca|de|eu|gov|edu|info|biz|example|page|site|online|tech|cloud)\b(?:/[^\s<>\"'`)\]]*)?"
    r"|\b[a-z0-9-]{2,}\.[a-z0-9-]{2,}\.(?!(?:gz|zip|tar|json|csv|txt|pdf|png|jpe?g|exe|js|py|html?)\b)[a-z]{2,10}\b(?:/[^\s<>\"'`)\]]*)?",
    _I,
)
EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE_RE = re.compile(
    r"(?<![\w/.-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"
    r"|(?<![\w/])\+\d{1,3}(?:[\s.-]?\d{2,4}){2,5}(?![\w-])"
    r"|\b1[\s-]8[0-9]{2}[\s-][A-Z0-9]{3}[\s-]?[A-Z0-9]{4}\b"
    r"|(?<![\w/.-])\d{3}-\d{4}(?![\w-])"
)
MONEY_RE = re.compile(
    r"(?:[$€£¥₹]|\b(?:USD|EUR|GBP|CAD|AUD|INR|CHF)\s?)\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|million|bn)\b)?"
    r"(?:\s?(?:/|per|a|an)\s?(?:month|mo|year|yr|user|seat|night|person|ticket|passenger|hour|day|week|kg|lb|item|unit|head)\b)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:dollars|bucks|euros?|pounds sterling|usd|eur|gbp|cents)\b",
    _I,
)
PERCENT_RE = re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent\b|per cent\b)", _I)
TIME_RE = re.compile(
    r"\b(?:[01]?\d|2[0-3])(?:[:.][0-5]\d)?\s?(?:a\.?m\.?|p\.?m\.?)(?![a-z])|\b(?:[01]?\d|2[0-3]):[0-5]\d\b|\bnoon\b|\bmidnight\b",
    _I,
)
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
DATE_RE = re.compile(
    r"\b" + _MONTH + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4}\b)?"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\b(?:,?\s+\d{4}\b)?"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
    r"|\bthe\s+\d{1,2}(?:st|nd|rd|th)\b(?!\s+[A-Z])"
    r"|\b(?:on|by|this|next|until|before|after|every|from)\s+(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b",
    _I,
)
RELATIVE_DATE_RE = re.compile(
    r"\b(?:tomorrow|tonight|yesterday|day after tomorrow|next (?:week|month|year)|this (?:weekend|month))\b", _I
)
# Number tokens are matched loosely (any word) and checked in code: an alternation of every
# number word inside these patterns made them ten times slower.
_NUM_TOKEN = r"(?:\d+(?:\.\d+)?|[A-Za-z]+(?:-[A-Za-z]+)?)"
_LIMIT_PREFIX = (
    r"(?:up to|at most|at least|a maximum of|a minimum of|maximum of|minimum of|max(?:imum)?|min(?:imum)?|no more than|"
    r"limit(?:ed)? (?:of|to)|only|over|more than|fewer than|less than|exactly)"
)
_RESULT_NOUNS = (
    r"options?|results?|flights?|restaurants?|hotels?|cars?|events?|movies?|films?|songs?|houses?|apartments?|"
    r"buses|bus|trains?|properties|listings?|rides?|matches|dentists?|doctors?|salons?|stylists?|therapists?|"
    r"attractions?|showtimes?|trips?|cabs?|places?|stores?|locations?|branches?|shows?|concerts?|games?|homes?|"
    r"salons?|dentists?|venues?|museums?|parks?|appointments?|slots?|openings?|times?lots?|vehicles?|tickets available"
)
_COUNT_NOUNS = (
    r"users?|seats?|devices?|items?|bags?|checked bags?|suitcases?|carry-ons?|layovers?|stops?|licen[cs]es?|accounts?|"
    r"projects?|members?|guests?|people|persons?|passengers?|tickets?|rooms?|beds?|bedrooms?|baths?|bathrooms?|"
    r"attempts?|times|gb|mb|tb|kb|kg|lbs?|miles?|km|points?|credits?|pieces?|units?|pairs?|calls?|messages?|"
    r"reviews?|workspaces?|integrations?|storage|exports?|downloads?|screens?|streams?|profiles?|refills?|"
    r"stamps?|visits?|sessions?|classes?|lessons?|boxes|packages?|orders?|degrees?|mph|inches|feet|floors?|"
    r"sq(?:uare)? ?f(?:ee)?t|acres?|calories|servings?|tracks?|episodes?|seasons?|stops?"
)
_UNIT_HINT = re.compile(r"day|week|month|year|hour|hr|min|night|sec", _I)
RATING_RE = re.compile(r"\b\d(?:\.\d)?[\s-]?(?:stars?|/\s?5|out of (?:5|five|10|ten))\b|\brat(?:ed|ing)(?: of| is)?\s+\d(?:\.\d+)?\b", _I)
NUMBER_RE = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")
VERSION_RE = re.compile(r"\bv\d+(?:\.\d+){1,3}\b|\b\d+\.\d+\.\d+\b|\bversion\s+\d+(?:\.\d+)*\b", _I)
PROMO_RE = re.compile(r"\b(?:promo(?:tion(?:al)?)?\s+code|discount code|coupon(?: code)?|voucher(?: code)?|code)\s*[:=]?\s*[\"'“‘*`]*([A-Z0-9][A-Z0-9-]{3,}|[A-Za-z]+\d+[A-Za-z0-9]*)\b")
CODE_RE = re.compile(r"\b(?:Form|Model|Part|Item|SKU|Article|Schedule|Publication|Policy|Plan)\s+(?:No\.?\s*|#\s*)?[A-Z0-9-]*\d[A-Z0-9-]*\b|\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9](?:[A-Z0-9-]{2,}[A-Z0-9])\b|\b[a-z]+(?:-[a-z]+)*-\d{3,}\b")
ADDRESS_RE = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z0-9][\w.'-]*\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Way|Court|Ct|"
    r"Place|Pl|Parkway|Pkwy|Square|Sq|Highway|Hwy|Row|Terrace|Circle|Plaza|Alley)\b\.?(?:,?\s*(?:#|Suite|Ste\.?|Unit|Apt\.?|Floor)\s*\w+)?"
)
UI_PATH_RE = re.compile(
    r"[\"'“‘*]*[A-Z][\w&'/-]*(?: [\w&'/-]+){0,3}[\"'”’*]*(?:\s*(?:>|→|->|»|›|/(?=\s))\s*[\"'“‘*]*[A-Z][\w&'/-]*(?: [\w&'/-]+){0,3}[\"'”’*]*){1,6}"
)
_UI_LEAD = re.compile(r"\b(?:go to|open|click(?: on)?|tap(?: on)?|navigate to|head to|select|choose|visit|under|in|from)\s+(?:the\s+)?", _I)
_UI_TAIL = re.compile(r"\s+(?:and|then|to|or|in|on|at|for|from|where|which)\b.*$", _I)
_UI_VERB = r"(?:switch|turn (?:on|off)|check|uncheck|tick|untick|click(?:ing)?(?: on)?|tap(?:ping)?(?: on)?|press(?:ing)?|select(?:ing)?|choose|choosing|hit|open(?:ing)?|go(?:ing)? to|head(?:ing)? (?:over )?to|navigate to|toggle|enable|disable|find|look for|use|switch to|under|from the|in the)"
UI_ELEMENT_RE = re.compile(
    r"\b" + _UI_VERB + r"\s+(?:the\s+)?(?:[\"'“‘*`]+([^\"'”’*`\n]{2,40})[\"'”’*`]+|((?:[A-Z][\w&'-]*)(?:\s+[A-Z][\w&'-]*){0,3}))"
    r"(?:\s+(?:button|tab|menu|link|page|icon|option|toggle|switch|section|screen|panel|dropdown|field|setting|settings|dashboard|app|portal))?"
)
UI_NOUN_AFTER_RE = re.compile(
    r"\b(?:the\s+)?([\"'“‘*`]+[^\"'”’*`\n]{2,40}[\"'”’*`]+|(?:[A-Z][\w&'-]*)(?:\s+[A-Z][\w&'-]*){0,3})\s+(button|tab|menu|link|page|icon|toggle|section|screen|panel|dropdown|dashboard)\b"
)

# Words that start a sentence or are capitalised without being names.
_COMMON_CAPS = frozenset(
    """a an the i i'm i'll i've i'd we we're we'll we've you you're you'll your yours it it's its they they're
    their there here this that these those he she his her our ours my me us them what when where which who why how
    yes no not ok okay sure great thanks thank hi hello hey dear please sorry unfortunately absolutely certainly
    of and or but so if then also just now well let let's once after before as at by for from in into on to with
    would could should can will may might must do does did is are was were be been have has had get got
    one two three four five six seven eight nine ten first second next last any all some every each
    good perfect awesome wonderful alright right correct understood noted done happy glad nice welcome
    meanwhile however otherwise additionally also alternatively finally again still only though although because
    monday tuesday wednesday thursday friday saturday sunday january february march april june july august
    september october november december today tomorrow tonight morning afternoon evening
    am pm faq pdf usb api url sms otp pin id ios android wifi wi-fi tv ok dm cc bcc eta asap fyi tbd
    mr mrs ms dr sir madam ma'am team support customer agent bye goodbye cheers new use""".split()
)
# Well-known third-party products and companies: naming them teaches nothing about this business
# ("try Chrome or Firefox", "restart your Windows PC"). What this business accepts or supports is
# still caught by the availability patterns ("we accept Visa and PayPal").
_WELL_KNOWN = frozenset(
    """chrome firefox safari edge opera brave internet explorer windows macos mac os ios android linux ubuntu
    iphone ipad mac macbook pc chromebook pixel galaxy samsung apple google microsoft amazon facebook meta
    instagram whatsapp twitter youtube tiktok gmail outlook yahoo hotmail icloud office excel word powerpoint
    teams zoom slack skype paypal visa mastercard amex american express discover venmo zelle stripe
    ups fedex usps dhl royal mail wifi wi-fi bluetooth usb hdmi siri alexa google maps app store play store
    google play""".split()
)
_GENERIC_UI = frozenset(
    """settings setting save ok cancel submit next continue back done close home menu help login log sign
    profile account search send apply confirm delete edit update refresh reload start yes no forgot password reset
    sign-in signin log-in logout unsubscribe""".split()
)
_GENERIC_ADVICE = re.compile(
    r"\b(?:restart|reboot|clear (?:your |the )?(?:cache|cookies|browser)|refresh|reinstall|log ?out and (?:back )?in|"
    r"sign out and (?:back )?in|update (?:the|your) (?:app|browser)|another browser|different browser|incognito|"
    r"check your (?:internet|connection|spam|junk)|turn it off and on|power cycle|unplug)\b",
    _I,
)

# Policy and availability statements (no specific needed: "we don't ship to PO boxes").
_POLICY_VERBS = (
    r"ship|deliver|accept|offer|allow|permit|support|include|refund|reimburse|cover|provide|charge|sell|carry|serve|stock|"
    r"price[- ]match|take|honou?r|waive|guarantee|ship to|deliver to|work with|issue|exchange|extend|transfer|"
    r"cancel|store|sync|integrate|come with|have"
)
POLICY_RES: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(
        r"\b(?:we|they|it|this|that|the (?:\w+ )?(?:plan|tier|store|shop|app|service|product|hotel|restaurant|airline|card|account|policy|subscription|membership))"
        r"\s+(?:do|does|can|will|are|is|would)?\s*(?:n't|not|never|no longer|only)\s+(?:" + _POLICY_VERBS + r")\b", _I),
     "a policy statement (what is or is not allowed, offered or included)", 0.6),
    (re.compile(
        r"\b(?:refunds?|returns?|exchanges?|cancellations?|price adjustments?|price matching|transfers?|upgrades?|downgrades?|"
        r"warrant(?:y|ies)|pets?|smoking|outside food|deposits?|fees?|shipping|delivery|installation|repairs?|"
        r"rebooking|changes?|substitutions?|modifications?)\s+(?:are|is|isn't|aren't|are not|is not|can(?:not|'t)? be|"
        r"will(?: not|n't)? be|must be|have to be|only)\s+(?:not\s+|only\s+|always\s+|never\s+|fully\s+)?"
        r"(?:possible|allowed|permitted|accepted|available|eligible|covered|free|included|processed|non-?refundable|final|"
        r"waived|charged|required|limited|made|requested|completed|submitted|issued)\b", _I),
     "a policy statement about refunds, returns, fees or eligibility", 0.6),
    (re.compile(r"\b(?:doesn't|does not|don't|do not|won't|will not|isn't|aren't)\s+(?:include|cover|come with|support|qualify|apply)\b", _I),
     "an inclusion / eligibility statement", 0.55),
    (re.compile(
        r"\b(?:we|they)\s+(?:do\s+|also\s+|currently\s+|now\s+|only\s+|definitely\s+|actually\s+)?"
        r"(?:offer|provide|accept|allow|support|ship(?: to)?|deliver(?: to)?|carry|serve|stock|sell|price[- ]match|"
        r"include|waive|honou?r|cover|guarantee|have|do have|feature|host|play|show|open|close|require)s?\b"
        r"(?!\s+(?:received|been|got|gotten|sent|noted|your|you|to|a look|a few|the order|everything|all (?:the|your)|"
        r"no (?:way|idea)|enough|plenty of time|time|a moment|an? (?:update|issue|problem|question|record)|"
        r"it|that|this|them|him|her|any (?:record|update|information)|no (?:record|information)|the (?:information|details|request)|"
        r"escalated|reviewed|processed|checked|updated|forwarded|passed))", _I),
     "an availability / offering statement", 0.5),
    (re.compile(r"\b(?:it|this (?:\w+ )?(?:hotel|house|home|property|place|restaurant|salon|apartment|venue|room|car|"
                r"vehicle|flight|plan|product|model|device|phone|event|attraction|park|museum|store|shop|clinic|doctor|"
                r"dentist|bus|train|service|app|card|account|policy))\s+(?:also\s+|does(?: not|n't)?\s+|doesn't\s+)?"
                r"(?:has|have|offers?|serves?|includes?|allows?|accepts?|comes? with|provides?|features?|supports?)\b"
                r"(?!\s+(?:been|to|a look|no idea|\d|no\b|zero\b|one\b|two\b|three\b))", _I),
     "an availability / offering statement about the item", 0.45),
    (re.compile(r"\b(?:is|are)\s+(?:only\s+|now\s+|also\s+|not\s+)?(?:available|included|supported|free|non-?refundable|eligible|"
                r"offered|sold out|in stock|out of stock|open|closed|compatible|waived)\s+(?:in|on|for|with|to|at|from|until|"
                r"through|between|during|after|before|if|when|unless)\b", _I),
     "an availability statement", 0.5),
    (re.compile(r"\b(?:you can|you're able to|you are able to|you may|customers can|members can|members get|you'll get|"
                r"you get|you have|you've got)\s+(?:\w+\s+){0,3}?(?:return|exchange|cancel|upgrade|downgrade|transfer|bring|"
                r"request a refund|get a refund|claim|redeem|add|use|pause|switch|book|change)\b"
                r"(?=[^.!?\n]{0,80}\b(?:within|up to|until|before|after|anytime|any time|free|at no|without|per|each|only|"
                r"once|for free|in-store|online)\b)", _I),
     "a policy statement (what customers may do, with conditions)", 0.55),
    (re.compile(r"\b(?:is|are|will be)\s+(?:coming|launching|rolling out|being released|released|available|added|supported)\s+"
                r"(?:in|on|next|this|soon|later|early|by|from|starting)\b", _I),
     "a roadmap / availability statement", 0.55),
    (re.compile(r"\b(?:non-?refundable|final sale|(?<!at )no (?:fee|charge|penalty|restocking fee)|free (?:of charge|shipping|returns|"
                r"delivery|exchanges|cancellation|trial|upgrade)|money-back guarantee|price guarantee|restocking fee|"
                r"cancellation fee|late fee|service fee|warranty (?:covers|lasts|is)|covered (?:by|under) (?:the|our) warranty|"
                r"open (?:daily|24/7|around the clock|every day)|24/7|business hours|opening hours|"
                r"(?:entry|admission|entrance|parking|wi-?fi|breakfast)(?:\s+[\w'-]+){0,4}?\s+(?:is|are)\s+(?:free|included|not free|extra)|"
                r"free (?:entry|admission|parking|wi-?fi|breakfast)|(?:pets|dogs|smoking|children|kids) (?:are |is )?(?:not )?"
                r"(?:allowed|welcome|permitted))\b", _I),
     "a policy term (fees, guarantees, free services, hours)", 0.6),
    (re.compile(r"\byou(?:'ll| will)?\s+(?:won't|will not|don't|do not|never)\s+(?:be charged|be billed|pay|have to pay|need to pay|"
                r"lose|be refunded|get a refund)\b|\byou(?:'ll| will)\s+(?:be charged|be billed|be refunded|pay only|only pay)\b", _I),
     "a statement of what the customer pays or gets", 0.55),
    (re.compile(r"\b(?:charge|fee|deduction|hold|surcharge|payment|debit)\s+(?:is|was)\s+(?:the|a|an|your|our)\s+"
                r"(?:[\w-]+\s+){0,4}?(?:fee|charge|surcharge|tax|deposit|hold|subscription|rental|penalty|premium|interest)\b", _I),
     "an explanation of a fee or charge", 0.55),
    (re.compile(r"\b(?:plan|tier|subscription|membership|package|bundle|license|edition|account|card|policy|warranty|trial)\s+"
                r"(?:includes|comes with|gives you|covers|lasts|renews|expires|is billed|costs|allows|supports|offers|"
                r"doesn't include|does not include|starts at)\b", _I),
     "what a plan or product includes", 0.6),
    (re.compile(r"\b(?:promo(?:tion)?s?|promo codes?|coupons?|vouchers?|gift cards?|points|credits?|offers?|deals?|discounts?|"
                r"sales?|prices?)\s+(?:expire|last|are valid|is valid|are good|is good|can be used|can't be combined|"
                r"cannot be combined|apply|applies|starts?|ends?|runs?)\b", _I),
     "a rule about promotions, prices or validity", 0.6),
)

_ACCOUNT_NOUN = (
    r"(?:order|package|parcel|shipment|delivery|refund|account|balance|subscription|payment|invoice|bill|card|claim|ticket|"
    r"booking|reservation|flight|return|exchange|application|loan|premium|deposit|transfer|appointment|item|replacement|"
    r"repair|case|request|membership|points|credit|statement|due date|tracking|status|plan)s?"
)
_ACCOUNT_STATUS = (
    r"(?:shipped|delivered|in transit|out for delivery|pending|approved|declined|denied|rejected|active|inactive|suspended|"
    r"cancell?ed|on hold|overdue|past due|due|locked|expired|delayed|returned|refunded|completed?|in progress|"
    r"not started|on (?:its|the) way|en route|lost|damaged|backordered|back-?ordered|dispatched|being processed|"
    r"processing|under review|valid|invalid|flagged|frozen|closed|paid|unpaid|outstanding|"
    r"scheduled for|confirmed for|held|stuck|at (?:the|our|your) (?:warehouse|depot|facility|post office|branch|store)|"
    r"with (?:the|our) (?:courier|carrier|driver)|picked up|arriving|expected)"
)
_ACCOUNT_STATUS_VERB = (
    r"(?:(?:has |have |had |was |were |already |just )*(?:shipped|arrived|left (?:the|our) \w+|expired|bounced|cleared|posted|dispatched|been delivered)|"
    r"(?:will|should|is expected to|is going to) (?:arrive|ship|be delivered|renew|expire|post|clear|reach you|be refunded)"
    r"(?= (?:on|by|in|within|tomorrow|today|tonight|next|this|before|between|around|at)\b)|"
    r"arrives|is arriving|ships|renews|expires|ended|went through)"
)
ACCOUNT_STATUS_WORD_RE = re.compile(r"\b(?:" + _ACCOUNT_STATUS[3:-1] + r"|shipped|arrived|expired|bounced|cleared|posted|dispatched|delivered)\b", _I)
ACCOUNT_RE = re.compile(
    r"\b(?:your|the|this)\s+(?:\w+\s+){0,2}?" + _ACCOUNT_NOUN + r"\b(?:\s+[\w#-]+){0,3}?\s+"
    r"(?:" + _ACCOUNT_STATUS_VERB + r"|(?:is|was|has been|have been|are|were|will be|'s|should be|shows?(?: as)?|says|"
    r"is currently|is still|is now|got)\s+(?:\w+\s+){0,1}?" + _ACCOUNT_STATUS + r")\b",
    _I,
)
ACCOUNT_VALUE_RE = re.compile(
    r"\b(?:your|the)\s+(?:\w+\s+){0,2}?(?:balance|total|amount due|outstanding balance|credit limit|order total|"
    r"due date|delivery date|arrival date|renewal date|expiry date|expiration date|tracking number|account number|"
    r"confirmation number|reference number|points balance|available credit|current plan|estimated delivery)\s+"
    r"(?:is|was|will be|of|comes to|stands at|shows)\b",
    _I,
)
ACCOUNT_ACTION_OK = re.compile(
    r"\b(?:has been|have been|is|was|will be)\s+(?:successfully\s+)?(?:made|booked|placed|submitted|sent|created|updated|"
    r"noted|escalated|forwarded|received|logged|requested|initiated|started|reserved|added|saved|changed|reset)\b",
    _I,
)

OFFER_CUE = re.compile(
    r"\b(?:is|are|was|were|its|it's|called|named|mean|how about|what about|would you like|do you want|do you like|may i suggest|i suggest|i recommend|"
    r"i'd recommend|we recommend|i found|there is|there's|there are|i have|we have|you could try|try|it's|it is|"
    r"called|named|at|with|from|on|by)\s+(?:(?:this|the|a|an|another|our|one|also|also a|also an)\s+)?$",
    _I,
)
CLAUSE_BREAK_RE = re.compile(r",|;|:|\s[-–—]\s|\bbut\b|\bhowever\b|\bunfortunately\b", re.IGNORECASE)
GREETING_RE = re.compile(
    r"^\W*(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks?|thank you|welcome|sorry|apolog|i'm sorry|i am sorry|"
    r"i apologi[sz]e|we apologi[sz]e|i understand|i totally understand|i completely understand|i hear you|that sounds|"
    r"have a (?:great|good|nice|wonderful)|take care|best|regards|cheers|kind regards|you're welcome|my pleasure|"
    r"glad|happy to help|no problem|no worries|is there anything else|anything else|let me know|feel free|"
    r"thanks for (?:reaching|contacting|your patience|waiting)|thank you for (?:reaching|contacting|your patience|waiting|choosing))\b",
    _I,
)
VOLATILE_RE = re.compile(
    r"\b(?:currently|right now|at the moment|at this time|for now|as of|until|through|ends|ending|this (?:week|month|year|season|weekend)|"
    r"today only|limited[- ]time|these days|temporarily|new(?:ly)?|latest|now (?:offer|available|accept|have|include|costs?)|"
    r"starting|effective|no longer|recently|this quarter)\b",
    _I,
)
# Template slots and redaction placeholders ({{refund_window}}, {status}, [ORDER_ID], <EMAIL_1>, ${name}):
# the value is not in the text, so nothing is taught.
PLACEHOLDER_RE = re.compile(r"\{\{\s*[\w.-]+\s*\}\}|\{[a-z_][\w.-]*\}|\[[A-Z][A-Z0-9_ ]+\]|<[A-Za-z_][A-Za-z0-9_]*>|%\([\w]+\)s|\$\{[\w.]+\}")
_WORD_RE = re.compile(r"[A-Za-z][\w'&.-]*[\w]|[A-Za-z]")

_AVAILABLE_AFTER = re.compile(r"\s+(?:is |are )?(?:available|in stock|on sale|open|has|have|offers?|serves?|costs?)\b", _I)
_PLAN_SUFFIX = re.compile(r"\s+(?:plan|tier|subscription|membership|edition|package|bundle|add-on|addon|card|license|program|suite)s?\b", _I)
_PERSON_CUE = re.compile(r"(?:\b(?:hi|hello|hey|dear|thanks|thank you|bye|cheers|sorry|welcome|"
                         r"my name is|this is|i'm|i am|name's|regards|best|sincerely|—|-)\s*,?\s*)$", _I)


# --------------------------------------------------------------------------- extraction


def _add(out: list[KnowledgeSpan], taken: list[tuple[int, int]], start: int, end: int, text: str, kind: str,
         value: str, score: float, reason: str, *, exclusive: bool = True) -> None:
    """Add a span unless an atomic span already covers that range (longest/first-found wins)."""
    if start >= end:
        return
    if exclusive:
        for a, b in taken:
            if start < b and end > a:
                return
        taken.append((start, end))
    out.append(KnowledgeSpan(start, end, text, kind, value, score, reason))


def _in_placeholder(start: int, end: int, holes: list[tuple[int, int]]) -> bool:
    return any(start < b and end > a for a, b in holes)


def extract_spans(text: str) -> list[KnowledgeSpan]:
    """All candidate specifics in ``text``, in order of position (grounding happens later)."""
    out: list[KnowledgeSpan] = []
    if not text or not text.strip():
        return out
    # (every placeholder form holds one of "{", "[", "<", "%": one-character tests first)
    holes = [m.span() for m in PLACEHOLDER_RE.finditer(text)] \
        if "{" in text or "[" in text or "<" in text or "%" in text else []
    taken: list[tuple[int, int]] = list(holes)
    digits = has_digit(text)

    lowered = text.lower()
    # ASCII text: the case-insensitive patterns run as lowered twins, and one RE2 scan says which
    # of them (and of a few other patterns) can match at all; None: run them all (other text)
    ascii_lowered = lowered if text.isascii() else None
    possible = _LOWERED_GATE.possible(lowered) if ascii_lowered is not None else None

    def can(slot: int) -> bool:
        return possible is None or slot in possible

    # Identifiers and contact points first: their digits are not quantities.
    for m in EMAIL_RE.finditer(text) if "@" in text else ():
        _add(out, taken, *m.span(), m.group(), "email", N.normalize_identifier(m.group()), 0.7, "an email address")
    if _may_hold_url(text, lowered) and can(_Can.URL):
        for m in _twin_finditer(URL_RE, _URL_TWIN, text, ascii_lowered):
            value = m.group().rstrip(".,;:!?")
            if "@" in value or re.fullmatch(r"[\d.]+", value) or re.fullmatch(r"(?:e\.g|i\.e|etc|vs|a\.m|p\.m)\.?", value, _I):
                continue
            _add(out, taken, m.start(), m.start() + len(value), value, "url", N.normalize_identifier(value), 0.8, "a URL")
    if digits:
        for m in PHONE_RE.finditer(text) if _may_hold_phone(text) else ():
            _add(out, taken, *m.span(), m.group(), "phone", N.normalize_phone(m.group()), 0.8, "a phone number")
        for m in ADDRESS_RE.finditer(text):
            _add(out, taken, *m.span(), m.group(), "address", N.normalize_phrase(m.group()), 0.7, "a street address")
    for m in PROMO_RE.finditer(text) if can(_Can.PROMO) and any(map(lowered.__contains__, _PROMO_HINT)) else ():
        s, e = m.span(1)
        _add(out, taken, s, e, m.group(1), "promo_code", N.normalize_identifier(m.group(1)), 0.75, "a promo / discount code")
    if digits:
        for m in _twin_finditer(VERSION_RE, _VERSION_TWIN, text, ascii_lowered) if can(_Can.VERSION) else ():
            _add(out, taken, *m.span(), m.group(), "version", N.normalize_identifier(m.group()), 0.55, "a version string")
        for m in _twin_finditer(MONEY_RE, _MONEY_TWIN, text, ascii_lowered) if can(_Can.MONEY) else ():
            _add(out, taken, *m.span(), m.group(), "money", N.normalize_money(m.group()), 0.75, "a price or amount of money")
        for m in _twin_finditer(PERCENT_RE, _PERCENT_TWIN, text, ascii_lowered) if can(_Can.PERCENT) else ():
            _add(out, taken, *m.span(), m.group(), "percent", N.canonical_number(N.numbers_in(m.group())[0]), 0.65, "a percentage")
        for m in _twin_finditer(TIME_RE, _TIME_TWIN, text, ascii_lowered) if can(_Can.TIME) else ():
            _add(out, taken, *m.span(), m.group(), "time", N.normalize_time(m.group()), 0.45, "a time of day")
    for m in _twin_finditer(DATE_RE, DATE_TWIN, text, ascii_lowered) \
            if (digits or _may_name_weekday(text, lowered)) and can(_Can.DATE) else ():
        if m.group().lower().startswith("may ") and not re.search(r"\d", m.group()):
            continue
        weekday = re.match(r"(?:on|by|this|next|until|before|after|every|from)\s", m.group(), _I) is not None
        _add(out, taken, *m.span(), m.group(), "date", N.normalize_date(m.group()), 0.4 if weekday else 0.5,
             "a day of the week" if weekday else "a date")
    if possible is None:
        relative = RELATIVE_DATE_RE.finditer(text) if any(map(lowered.__contains__, _RELATIVE_HINT)) else ()
    else:
        relative = _gated(_twin_matches(_RELATIVE_DATE_TWIN, text, lowered), lowered, _RELATIVE_HINT) \
            if _Can.RELATIVE_DATE in possible else ()
    for m in relative:
        _add(out, taken, *m.span(), m.group(), "date", N.fold(m.group()), 0.25, "a relative date")
    # Durations and counts start at a number; where none of their patterns can match, the
    # number starts are not needed at all.
    may_last = can(_Can.DURATION) and _has_unit_hint(text, lowered)
    may_count = can(_Can.COUNT) or can(_Can.LIMIT_BEFORE) or can(_Can.FOUND_BEFORE)
    starts = _number_starts(text) if may_last or may_count else []
    durations = []
    if starts and may_last:
        for p in starts:
            m = _DURATION_AT.match(text, p)
            if m and _duration_ok(m):
                durations.append(m)
    for m in durations:
        value, unit = _split_quantity(m.group())
        weak = not any(ch.isdigit() for ch in m.group()) and m.group().split()[0].lower() in ("a", "an", "one")
        short = re.search(r"(?:minute|min|second|sec)s?\b", m.group(), _I) is not None
        _add(out, taken, *m.span(), m.group(), "duration", N.normalize_quantity(value, unit),
             0.35 if weak else 0.4 if short else 0.6, "a wait time" if short else "a duration or time window")
    if digits:
        for m in (LABELED_NUMBER_RE.finditer(text) if possible is None else
                  _twin_matches(_LABELED_TWIN, text, lowered) if _Can.LABELED in possible else ()):
            nums = N.numbers_in(m.group())
            if nums:
                _add(out, taken, *m.span(), m.group(), "count", "-".join(N.canonical_number(v) for v in nums), 0.5,
                     "a numbered place, size or range")
        for m in _twin_finditer(RATING_RE, _RATING_TWIN, text, ascii_lowered) if can(_Can.RATING) else ():
            _add(out, taken, *m.span(), m.group(), "rating", N.canonical_number(N.numbers_in(m.group())[0]), 0.55, "a rating")
    for p in starts if may_count else ():
        token = _NUM_AT.match(text, p)
        if token is None or not _is_number(token.group(), allow_article=False):
            continue
        m = _COUNT_AT.match(text, p)
        before = _LIMIT_BEFORE.search(text, max(0, p - 32), p)
        found = _FOUND_BEFORE.search(text, max(0, p - 32), p) if m is None and before is None else None
        if m is None and before is None and found is None:
            continue
        start = before.start() if before else p
        end = m.end() if m else token.end()
        phrase = text[start:end]
        nums = N.numbers_in(text[p:end])
        if not nums:
            continue
        result = (m is not None and m.group("result") is not None) or found is not None
        limit = before is not None
        _add(out, taken, start, end, phrase, "count", N.canonical_number(nums[0]),
             0.6 if (result or limit) else 0.45,
             "a number of results found" if result else ("a limit" if limit else "a count or quantity"))
    if digits:
        for m in CODE_RE.finditer(text):
            _add(out, taken, *m.span(), m.group(), "code", N.normalize_identifier(m.group()), 0.55, "a code, SKU or identifier")
        for m in NUMBER_RE.finditer(text):
            nums = N.numbers_in(m.group())
            if nums:
                _add(out, taken, *m.span(), m.group(), "number", N.canonical_number(nums[0]), 0.3, "a number")

    sent = sentences(text)
    _extract_procedures(text, out, taken, can(_Can.UI_NOUN))
    _extract_names(text, sent, out, taken)
    _extract_statements(text, out, lowered, possible)
    out = [s for s in out if not _in_placeholder(s.start, s.end, holes)]
    out.sort(key=lambda s: (s.start, s.end, s.kind))
    for span in out:
        for a, b in sent:
            if a <= span.start < b or (span.start == b and a < b):
                span.sentence = (a, b)
                break
        else:
            span.sentence = (0, len(text))
    return out


_LOWER_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")
_NUMBER_WORD_SET = frozenset(w for w in N.NUMBER_WORDS if " " not in w) | {"dozen", "twice", "once"}


def _is_number(token: str, *, allow_article: bool = True) -> bool:
    token = token.lower()
    if token[:1].isdigit():
        return True
    return token in _NUMBER_WORD_SET or (allow_article and token in ("a", "an"))


has_digit = N.has_digit  # (shared with the number parser)


# Number words (and a / an) as whole words of hyphen-free lower-cased text; the character
# before must not be alphanumeric. Split by that character so the scan has a prefix to look for.
_NUMBER_WORD_TRIE = N.word_trie(sorted(w for w in _NUMBER_WORD_SET | {"a", "an"} if "-" not in w))
_NUMBER_WORD_AFTER_SPACE = re.compile(" " + _NUMBER_WORD_TRIE + "(?![a-z])")
_NUMBER_WORD_AFTER_OTHER = re.compile(r"[^ a-z0-9](?<=[\W_])" + _NUMBER_WORD_TRIE + "(?![a-z])")
_NUMBER_WORD_AT_START = re.compile(_NUMBER_WORD_TRIE + "(?![a-z])")
# Cheap pre-checks: a pattern runs only when one of its words is in the text.
# Substrings (of the lower-cased text) one of which the pattern needs: cheap tests before costly patterns.
_PROMO_HINT = ("code", "coupon", "voucher", "promo")
_DATE_HINT = ("day", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAY_STEMS = ("mon", "tues", "wednes", "thurs", "fri", "satur", "sun")
_UNIT_WORDS = ("day", "week", "month", "year", "hour", "hr", "min", "night", "sec")
# A URL needs "://", "www." or a dot followed by a letter, digit or hyphen ("acme.com", "x.io/help").
_DOT_THEN_NAME = re.compile(r"\.[A-Za-z0-9-]")


def _may_hold_url(text: str, lowered: str) -> bool:
    """False only when :data:`URL_RE` cannot match ``text`` (a cheap test before the costly pattern).

    Text without a dot was never searched. On ASCII text every URL_RE alternative needs
    "://", "www." or a dot followed by ``[A-Za-z0-9-]``. Non-ASCII text keeps the looser
    test: under IGNORECASE a few non-ASCII letters (the Kelvin sign, the long s, dotted /
    dotless i) match ASCII letters.
    """
    if "." not in text:
        return False  # the historical pre-test (it skips "https://x" without a dot: kept for identical results)
    if not text.isascii():
        return True
    return _DOT_THEN_NAME.search(text) is not None or "://" in text or "www." in lowered


def _may_hold_phone(text: str) -> bool:
    """False only when :data:`PHONE_RE` cannot match ``text``.

    Its forms need ten digits ("(555) 123-4567"), a "+" ("+44 20 ..."), a "1" and an "8"
    ("1-800-FLOWERS") or seven digits ("555-1234"): fewer than seven digits, no "+" and not
    both "1" and "8" rule it out (counted on ASCII text; other text keeps the plain pattern).
    """
    if "+" in text or not text.isascii() or ("1" in text and "8" in text):
        return True
    return sum(map(text.count, "0123456789")) >= 7


def _may_name_weekday(text: str, lowered: str) -> bool:
    """False only when DATE_RE cannot match ``text`` given that ``text`` has no digit.

    Without digits only DATE_RE's weekday alternative ("on Monday", "every Friday") can
    match, and it needs a weekday name. Non-ASCII text keeps the older, looser hint test.
    """
    if not text.isascii():
        return any(map(lowered.__contains__, _DATE_HINT))
    at = lowered.find("day")
    while at >= 0:
        if lowered.endswith(_WEEKDAY_STEMS, 0, at):
            return True
        at = lowered.find("day", at + 3)
    return False


def may_hold_date(text: str, lowered: str) -> bool:
    """False only when :data:`DATE_RE` cannot match ``text`` (``lowered`` is ``text.lower()``)."""
    return has_digit(text) or _may_name_weekday(text, lowered)


def _has_unit_hint(text: str, lowered: str) -> bool:
    """``_UNIT_HINT.search(text) is not None``: substring tests on ASCII text (IGNORECASE folds non-ASCII letters)."""
    if text.isascii():
        return any(map(lowered.__contains__, _UNIT_WORDS))
    return _UNIT_HINT.search(text) is not None


_RELATIVE_HINT = ("tomorrow", "tonight", "yesterday", "next ", "this ")
_DIGIT_START = re.compile(r"\d(?<![\w.,]\d)")  # a digit not after a word character, "." or ","; lookbehind last: faster scan
_NUM_AT = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]+(?:-[A-Za-z]+)?")
# What follows the number in a duration ("3 business days", "two to three weeks") and in a count.
_DURATION_TAIL = (
    r"(?:\s?(?:-|–|to|or)\s?(" + _NUM_TOKEN + r"))?[\s-]+(?:full\s+)?(?:business |working |calendar )?"
    r"(?:days?|weeks?|months?|years?|hours?|hrs?|minutes?|mins?|seconds?|secs?|nights?)\b"
)
_COUNT_RESULT_TAIL = r"\s+(?:(?:\w+[\s-]){0,2})?(?P<result>" + _RESULT_NOUNS + r")\b"
_COUNT_NOUN_TAIL = r"\s+(?:" + _COUNT_NOUNS + r")\b"
_DURATION_AT = re.compile(r"(" + _NUM_TOKEN + r")" + _DURATION_TAIL, _I)
_COUNT_AT = re.compile(_NUM_TOKEN + _COUNT_RESULT_TAIL + r"|" + _NUM_TOKEN + _COUNT_NOUN_TAIL, _I)
# "ages 4 to 9", "gate B12", "platform 3", "size 10": a number that names something specific
LABELED_NUMBER_RE = re.compile(
    r"\b(?:ages?|aged|sizes?|grades?|levels?|gate|terminal|platform|aisle|row|seat|room|suite|building|channel|"
    r"extension|ext\.|pier|dock|lane|counter|window|booth|stand|locker)\s+#?[A-Z]?\d+[A-Z]?(?:\s*(?:to|-|–|through|and)\s*\d+)?\b",
    _I,
)
_FOUND_PREFIX = (r"\b(?:found|there (?:are|is)|there're|i have|we have|i've got|i got|returned|came up with|"
                 r"located|see|shows?|lists?)\s+(?:you\s+)?(?:about\s+|around\s+|over\s+|exactly\s+)?")
_LIMIT_BEFORE = re.compile(r"\b" + _LIMIT_PREFIX + r"\s+$", _I)
_FOUND_BEFORE = re.compile(_FOUND_PREFIX + "$", _I)


def _number_starts(text: str) -> list[int]:
    """Start offsets of every number: digits, number words ("two", "twenty-four") and a/an/one."""
    found = [m.start() for m in _DIGIT_START.finditer(text)] if has_digit(text) else []
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length when lower-cased
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    if "-" not in lowered:
        # Without hyphens a _LOWER_WORD word is a maximal run of a-z: find the number words
        # directly (after a space, after another non-alphanumeric character, or at the start).
        if found:
            found += [m.start() + 1 for m in _NUMBER_WORD_AFTER_SPACE.finditer(lowered)]
        else:
            found = [m.start() + 1 for m in _NUMBER_WORD_AFTER_SPACE.finditer(lowered)]
        found += [m.start() + 1 for m in _NUMBER_WORD_AFTER_OTHER.finditer(lowered)]
        if _NUMBER_WORD_AT_START.match(lowered):
            found.append(0)
        found.sort()
        return found
    for m in _LOWER_WORD.finditer(lowered):
        word = m.group()
        if (word in _NUMBER_WORD_SET or word in ("a", "an")) and (m.start() == 0 or not lowered[m.start() - 1].isalnum()):
            found.append(m.start())
    found.sort()
    return found


def _duration_ok(m: re.Match[str]) -> bool:
    return (m.group(1) is None or _is_number(m.group(1))) and (m.group(2) is None or _is_number(m.group(2)))


def _split_quantity(text: str) -> tuple[str, str]:
    match = re.match(r"\s*(" + _NUMW + r")(?:\s?(?:-|–|to|or)\s?(" + _NUMW + r"))?[\s-]+(.*)$", text, _I)
    if not match:
        return text, ""
    number = match.group(1) if not match.group(2) else f"{match.group(1)}-{match.group(2)}"
    if match.group(2):
        left, right = N.number_value(match.group(1)), N.number_value(match.group(2))
        if left is not None and right is not None:
            return f"{N.canonical_number(left)}-{N.canonical_number(right)}", match.group(3)
    return number, match.group(3)


# UI_NOUN_AFTER_RE needs one of these words (case-sensitive, like the pattern).
_UI_NOUNS = ("button", "tab", "menu", "link", "page", "icon", "toggle", "section", "screen", "panel", "dropdown", "dashboard")
# What UI_ELEMENT_RE finds after its verb (and an optional "the"): a quote or a capital, after whitespace
# after a lower-case letter (or after more whitespace: then the letter is looked for further back).
_UI_ANCHOR = re.compile(r"[\"'“‘*`A-Z](?<=[a-z\s]\s.)")


def _may_name_ui_element(text: str) -> bool:
    """False only when :data:`UI_ELEMENT_RE` cannot match ``text``.

    Every match reads ``<verb> <whitespace> [the <whitespace>] <quote or capital>``; the verbs
    and "the" end with a lower-case ASCII letter, so some quote or capital must follow a run
    of whitespace that follows such a letter ("click Save", "open the 'Billing' tab").
    """
    for anchor in _UI_ANCHOR.finditer(text):
        k = anchor.start() - 1
        while k > 0 and text[k].isspace():
            k -= 1
        if "a" <= text[k] <= "z":
            return True
    return False


def _extract_procedures(text: str, out: list[KnowledgeSpan], taken: list[tuple[int, int]],
                        may_name_ui_noun: bool = True) -> None:
    """UI paths ("Settings > Billing") and named UI elements ("click Save", "the Billing tab").

    ``may_name_ui_noun`` False: the caller knows UI_NOUN_AFTER_RE cannot match the text.
    """
    if ">" in text or "→" in text or "»" in text or "›" in text:
        for m in UI_PATH_RE.finditer(text):
            if re.search(r">|→|->|»|›", m.group()):
                start, end = m.span()
                first_arrow = re.search(r">|→|->|»|›", text[start:end])
                leads = list(_UI_LEAD.finditer(text, start, start + first_arrow.start())) if first_arrow else []
                if leads:  # "Could you open Settings > ..." -> "Settings > ..."
                    start = leads[-1].end()
                tail = _UI_TAIL.search(text, start, end)
                if tail and re.search(r">|→|->|»|›", text[start:tail.start()]):
                    end = tail.start()
                path = text[start:end]
                steps = [s.strip(" \"'“”‘’*") for s in re.split(r"\s*(?:>|→|->|»|›)\s*", path)]
                _add(out, taken, start, end, path, "ui_path", " > ".join(N.normalize_phrase(s) for s in steps),
                     0.8, "a product-specific UI path")
    for regex in (UI_ELEMENT_RE, UI_NOUN_AFTER_RE):
        if regex is UI_ELEMENT_RE:
            possible = _may_name_ui_element(text)
        else:
            possible = may_name_ui_noun and any(map(text.__contains__, _UI_NOUNS))
        if not possible:
            continue  # the pattern cannot match (cheap pre-tests, see the helpers)
        for m in regex.finditer(text):
            group = 1 if m.group(1) else 2
            if regex is UI_NOUN_AFTER_RE:
                group = 1
            name = m.group(group)
            if not name:
                continue
            s, e = m.span(group)
            clean = name.strip(" \"'“”‘’*`")
            if not clean or clean.lower() in _COMMON_CAPS:
                continue
            quoted = name[:1] in "\"'“‘*`"
            if regex is UI_ELEMENT_RE and not quoted and m.group(0)[:6].lower() in ("under ", "from t", "in the", "find ", "use ")\
                    and not re.search(r"\b(?:button|tab|menu|link|page|icon|option|toggle|section|screen|panel|settings?)\b", m.group(0)):
                continue
            if _GENERIC_ADVICE.search(clean):
                continue
            # "click Save" is generic; "the Home button" names a control of this product
            named_control = re.search(r"\s(?:button|tab|menu|icon|toggle|switch|panel|dropdown)\b", m.group(0)) is not None
            generic = not named_control and all(word.lower().strip("?!.,:;") in _GENERIC_UI for word in clean.split())
            _add(out, taken, s, e, name, "ui_element", N.normalize_phrase(clean), 0.3 if generic else 0.55,
                 "a generic UI element" if generic else "a named button, menu or screen of the product")


_NAME_GAPS = frozenset((" ", " & ", " of ", " de ", " la ", " the ", "'s ", " 'n' ", " + ", "-"))
_NAME_CONNECTORS = ("of", "de", "la", "the")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _starts_word(text: str, at: int) -> bool:
    """Whether a :data:`_WORD_RE` word of ``_WORD_RE.finditer(text)`` starts at ``at`` (an ASCII letter).

    ``_WORD_RE`` words run over ``[\\w'&.-]`` characters, so each maximal run of them holds at
    most one word, starting at the run's first ASCII letter: ``at`` starts a word unless an
    ASCII letter comes before it in its run ("e.g.Foo", "abc-Def" are one word).
    """
    k = at - 1
    while k >= 0:
        c = text[k]
        if c in _ASCII_LETTERS:
            return False
        if not (c.isalnum() or c in "_'&.-"):  # \\w is isalnum() or "_"
            return True
        k -= 1
    return True


def _next_name_word(text: str, end: int) -> re.Match[str] | None:
    """The word after the one ending at ``end``, or None when it cannot extend a run of names.

    Every gap allowed between the words of a run starts with a space, an apostrophe or a
    hyphen, and a lower-case word after a space only joins a run as a connector ("of",
    "de", "la", "the"): both are checked on the characters before searching for the word.
    """
    after = text[end:end + 1]
    if after != " " and after != "'" and after != "-":
        return None
    if after == " " and "a" <= text[end + 1:end + 2] <= "z" and not text.startswith(_NAME_CONNECTORS, end + 1):
        return None
    return _WORD_RE.search(text, end)


# A capital; when it plainly starts a word (no word character, "'", "&", "." or "-" before it) that
# no other word can join (see _next_name_word), the match is that whole word and sets group 1.
# The possessive ?+ keeps _WORD_RE's word end (the last word character of the run).
_CAPITAL_WORD = re.compile(r"[A-Z](?:(?<![\w'&.-].)(?:[\w'&.-]*\w)?+(?:(?![ '-])|(?= (?!of|de|la|the)[a-z]))()|)")


def _capitalised_runs(text: str, skip_single: set[int] | frozenset[int] = frozenset()):
    """The runs of capitalised words ("Blue Bottle", "Bank of America") of ``text``, as (start, end, word) lists.

    The same groups as walking every :data:`_WORD_RE` word left to right, but only the
    capitalised words and the words right after them are visited. One-word runs starting
    at an offset in ``skip_single`` may be left out (those the scan alone sees stand alone).
    """
    after = 0  # words before this offset belong to an earlier run
    for cap in _CAPITAL_WORD.finditer(text):
        at = cap.start()
        if at < after:
            continue
        if cap.lastindex:  # a word on its own
            if at not in skip_single:
                after = cap.end()
                yield [(at, after, cap.group())]
            continue
        if not _starts_word(text, at):
            continue
        first = _WORD_RE.match(text, at)
        group = [(first.start(), first.end(), first.group())]
        nxt = _next_name_word(text, first.end())
        while nxt is not None:
            if text[group[-1][1]:nxt.start()] not in _NAME_GAPS:
                break
            word = nxt.group()
            if word[0].isupper() or word[0].isdigit():
                group.append((nxt.start(), nxt.end(), word))
                nxt = _next_name_word(text, nxt.end())
            elif word.lower() in _NAME_CONNECTORS:
                third = _WORD_RE.search(text, nxt.end())
                if third is not None and third.group()[0].isupper() and text[nxt.end():third.start()] == " ":
                    group.append((nxt.start(), nxt.end(), word))
                    group.append((third.start(), third.end(), third.group()))
                    nxt = _next_name_word(text, third.end())
                else:
                    break
            else:
                break
        after = group[-1][1]
        yield group


def _extract_names(text: str, sent: list[tuple[int, int]], out: list[KnowledgeSpan], taken: list[tuple[int, int]]) -> None:
    starts = {a for a, _ in sent}
    # leading punctuation / bullets do not move a sentence start
    for a, b in sent:
        k = a
        while k < b and not text[k].isalnum():
            k += 1
        starts.add(k)
    # a single word opening a sentence is never taken (the checks below agree): skip it early
    for group in _capitalised_runs(text, starts):
        if len(group) == 1 and group[0][0] in starts:
            continue
        # Drop leading common words ("Yes", "Our", "How about" ...) and sentence-initial single words.
        while group and (group[0][2].lower().rstrip(".").split("'")[0].split("’")[0] in _COMMON_CAPS or group[0][2].lower() in ("of", "the", "de", "la")):
            group = group[1:]
        while group and (group[-1][2].lower() in _COMMON_CAPS or group[-1][2].lower() in ("of", "the", "de", "la")):
            group = group[:-1]
        if not group:
            continue
        gs, ge = group[0][0], group[-1][1]
        name = text[gs:ge]
        if len(group) == 1:
            word = group[0][2]
            if gs in starts or len(word) < 2 or word.isupper() and len(word) <= 4:
                continue
            if word.endswith("'s") and gs in starts:
                continue
            # "..., Pick it up" / "..., Check in": a clause-initial verb, not a name
            if re.search(r"[,;:]\s*$", text[max(0, gs - 3):gs]) and re.match(
                    r"\s+(?:it|in|up|out|the|a|an|your|me|you|us|them|to|for|on|off|this|that|here|there)\b", text[ge:ge + 8]):
                continue
        elif gs in starts and len(group) == 2 and group[1][2].lower() in _COMMON_CAPS:
            continue
        before = text[max(0, gs - 40):gs]
        if _PERSON_CUE.search(before):
            continue
        if name.lower() in _WELL_KNOWN or all(w[2].lower() in _WELL_KNOWN for w in group):
            continue
        kind, score, reason = "name", (0.45 if len(group) > 1 else 0.35), "a product, place or brand name"
        suffix = _PLAN_SUFFIX.match(text, ge)
        if suffix:
            ge = suffix.end()
            name = text[gs:ge]
            kind, score, reason = "plan", 0.7, "a plan, tier or product name"
        elif re.search(r"\b(?:plan|tier|edition|pro|premium|plus|enterprise|business|basic|starter|unlimited)\b", name, _I):
            kind, score, reason = "plan", 0.6, "a plan, tier or product name"
        if OFFER_CUE.search(before) or _AVAILABLE_AFTER.match(text, ge):
            score += 0.2
            reason += " offered or described to the user"
        _add(out, taken, gs, ge, name, kind, N.normalize_phrase(name), min(score, 0.9), reason)


assert len(POLICY_RES) == 13  # keep _POLICY_GATES aligned with POLICY_RES

# Literal words one of which each policy pattern needs (checked before running the pattern: speed).
_POLICY_GATES: tuple[tuple[str, ...], ...] = (
    ("n't", "not", "never", "no longer", "only"),
    ("refund", "return", "exchange", "cancel", "price", "transfer", "upgrade", "downgrade", "warrant", "pet", "smoking",
     "outside food", "deposit", "fee", "shipping", "delivery", "installation", "repair", "rebooking", "change",
     "substitution", "modification"),
    ("n't", "not"),
    ("we ", "they "),
    ("it ", "this "),
    ("available", "included", "supported", "free", "refundable", "eligible", "offered", "sold out", "stock", "open",
     "closed", "compatible", "waived"),
    ("you", "customers", "members"),
    ("coming", "launching", "rolling out", "released", "available", "added", "supported"),
    ("refundable", "final sale", "no ", "free", "guarantee", "restocking", "fee", "warranty", "open ", "24/7", "hours",
     "allowed", "welcome", "permitted", "included", "extra"),
    ("you",),
    ("charge", "fee", "deduction", "hold", "surcharge", "payment", "debit"),
    ("plan", "tier", "subscription", "membership", "package", "bundle", "license", "edition", "account", "card", "policy",
     "warranty", "trial"),
    ("promo", "coupon", "voucher", "gift card", "points", "credit", "offer", "deal", "discount", "sale", "price"),
)
_ACCOUNT_GATE = ("order", "package", "parcel", "shipment", "delivery", "refund", "account", "balance", "subscription",
                 "payment", "invoice", "bill", "card", "claim", "ticket", "booking", "reservation", "flight", "return",
                 "exchange", "application", "loan", "premium", "deposit", "transfer", "appointment", "item",
                 "replacement", "repair", "case", "request", "membership", "points", "credit", "statement", "due",
                 "tracking", "status", "plan", "total", "amount", "number", "date")




def lowered_twin(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """``regex`` without IGNORECASE, to run on ``text.lower()`` of ASCII text (None when not equivalent).

    Case-insensitive matching is the slow part of these patterns (every character is folded);
    on lower-cased ASCII text a case-sensitive twin with its letters lower-cased (``[A-Z]``
    becomes ``[a-z]``) finds exactly the same spans: lower-casing ASCII keeps offsets, and
    IGNORECASE's special folds (like 'ſ' for 's') are all non-ASCII. Patterns with named
    groups, ``(?-i:...)`` groups, or escapes that name characters by number do not qualify.
    """
    if not regex.flags & re.IGNORECASE:
        return None
    pattern = regex.pattern
    if "(?P" in pattern or re.search(r"\(\?[a-zA-Z]*-", pattern) or re.search(r"\\[xuUN0-9]", pattern):
        return None
    # lower-case every letter except the one after a backslash (\S, \W, \b keep their meaning)
    twin = re.sub(r"\\.|[A-Z]+", lambda m: m.group() if m.group()[0] == "\\" else m.group().lower(), pattern)
    return re.compile(twin, regex.flags & ~re.IGNORECASE)


_TWIN_CACHE: dict[re.Pattern[str], re.Pattern[str] | None] = {}


def search_folded(regex: re.Pattern[str], text: str, lowered: str | None = None) -> bool:
    """``regex.search(text) is not None``, through the lowered twin on ASCII text (``lowered``: ``text.lower()`` if known)."""
    if text.isascii():
        try:
            twin = _TWIN_CACHE[regex]
        except KeyError:
            twin = _TWIN_CACHE[regex] = lowered_twin(regex)
        if twin is not None:
            return twin.search(text.lower() if lowered is None else lowered) is not None
    return regex.search(text) is not None


def _twin_finditer(regex: re.Pattern[str], twin: re.Pattern[str] | None, text: str,
                   lowered: str | None) -> Iterable[re.Match[str] | _TextMatch]:
    """``regex.finditer(text)``, or the lowered twin's when ``lowered`` (ASCII text lower-cased) is given.

    The twin's matches are given as :class:`_TextMatch` objects whose ``group()`` is the
    original text (callers use the whole match and its offsets only).
    """
    if twin is None or lowered is None:
        return regex.finditer(text)
    return _twin_matches(twin, text, lowered)


class _TextMatch:
    """The whole-match part of ``re.Match`` (``group()``, ``start()``, ``end()``, ``span()``) over the original text."""

    __slots__ = ("_text", "_start", "_end")

    def __init__(self, text: str, start: int, end: int) -> None:
        self._text, self._start, self._end = text, start, end

    def group(self) -> str:
        return self._text[self._start:self._end]

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def span(self) -> tuple[int, int]:
        return self._start, self._end


# Lowered twins of the case-insensitive value patterns (run on lower-cased ASCII text).
_URL_TWIN = lowered_twin(URL_RE)
_VERSION_TWIN = lowered_twin(VERSION_RE)
_MONEY_TWIN = lowered_twin(MONEY_RE)
_PERCENT_TWIN = lowered_twin(PERCENT_RE)
_TIME_TWIN = lowered_twin(TIME_RE)
_RATING_TWIN = lowered_twin(RATING_RE)
_LABELED_TWIN = lowered_twin(LABELED_NUMBER_RE)
_ACCOUNT_TWIN = lowered_twin(ACCOUNT_RE)
DATE_TWIN = lowered_twin(DATE_RE)
_RELATIVE_DATE_TWIN = lowered_twin(RELATIVE_DATE_RE)
_ACCOUNT_VALUE_TWIN = lowered_twin(ACCOUNT_VALUE_RE)
_POLICY_TWINS = tuple(lowered_twin(regex) for regex, _, _ in POLICY_RES)


def _case_blind(regex: re.Pattern[str]) -> re.Pattern[str]:
    """``regex`` with IGNORECASE: it matches lower-cased ASCII text wherever ``regex`` matches the original."""
    return re.compile(regex.pattern, regex.flags | re.IGNORECASE)


# Statement patterns (run through their lowered twins on ASCII text), then the relative-date pattern.
_STATEMENT_TWINS = _POLICY_TWINS + (_ACCOUNT_TWIN, _ACCOUNT_VALUE_TWIN)


class _Can:
    """Slots of :data:`_LOWERED_GATE` after the statement twins (``range(len(_STATEMENT_TWINS))``)."""

    URL, VERSION, MONEY, PERCENT, TIME, DATE, RATING, LABELED, RELATIVE_DATE = range(
        len(_STATEMENT_TWINS), len(_STATEMENT_TWINS) + 9)
    PROMO, UI_NOUN, DURATION, COUNT, LIMIT_BEFORE, FOUND_BEFORE = range(
        len(_STATEMENT_TWINS) + 9, len(_STATEMENT_TWINS) + 15)


# Durations and counts as the gate looks for them: from a place where _number_starts finds a
# number (a digit or a number word, "a" / "an" only for durations, at a word start or after
# "_"), what _DURATION_AT or _COUNT_AT match there, or what _LIMIT_BEFORE / _FOUND_BEFORE find
# just before it. Any match the count and duration loops can find is a match of these.
_NUMBER_WORD_FIRST = "|".join(sorted({word.split("-")[0] for word in _NUMBER_WORD_SET}))
_COUNT_TOKEN = r"(?:\d+(?:\.\d+)?|(?:" + _NUMBER_WORD_FIRST + r")(?:-[a-z]+)?)"
_DURATION_TOKEN = r"(?:\d+(?:\.\d+)?|(?:" + _NUMBER_WORD_FIRST + r"|an?)(?:-[a-z]+)?)"
_DURATION_SOMEWHERE = re.compile(r"(?:\b|_)" + _DURATION_TOKEN + _DURATION_TAIL, _I)
_COUNT_SOMEWHERE = re.compile(r"(?:\b|_)" + _COUNT_TOKEN + r"(?:" + _COUNT_RESULT_TAIL + r"|" + _COUNT_NOUN_TAIL + r")", _I)
_LIMIT_THEN_COUNT = re.compile(r"\b" + _LIMIT_PREFIX + r"\s+" + _COUNT_TOKEN, _I)
_FOUND_THEN_COUNT = re.compile(_FOUND_PREFIX + _COUNT_TOKEN, _I)


# Which patterns can match lower-cased ASCII text at all, from one RE2 scan (see toolkit._pattern_gate):
# most replies hold none of most of them, and each skipped one saves a pass of Python's engine.
# The duration and count patterns are case-insensitive: they match the lower-cased text where
# they match the original; PROMO_RE and UI_NOUN_AFTER_RE (case-sensitive) are asked about
# without case (_case_blind), which they match there too.
_LOWERED_GATE = PatternGate(
    list(_STATEMENT_TWINS)
    + [_URL_TWIN, _VERSION_TWIN, _MONEY_TWIN, _PERCENT_TWIN, _TIME_TWIN, DATE_TWIN, _RATING_TWIN, _LABELED_TWIN,
       _RELATIVE_DATE_TWIN]
    + [_case_blind(PROMO_RE), _case_blind(UI_NOUN_AFTER_RE),
       _DURATION_SOMEWHERE, _COUNT_SOMEWHERE, _LIMIT_THEN_COUNT, _FOUND_THEN_COUNT]
)


_STATEMENT_SLOTS = frozenset(range(len(_STATEMENT_TWINS)))


def _exact_re2(pattern: re.Pattern[str]):
    """``pattern`` in RE2 with the same matches on ASCII text (see ``re2_exact``), or None."""
    try:
        return re2_exact(pattern)
    except UnsupportedPattern:
        return None


# The lowered twins RE2 runs with the same matches (no lookarounds): several times faster than
# Python's engine, which tries every offset of a pattern that opens with \b.
_RE2_TWINS = {twin: _exact_re2(twin) for twin in (*_STATEMENT_TWINS, _RELATIVE_DATE_TWIN, _LABELED_TWIN, _URL_TWIN,
                                                   _VERSION_TWIN, _MONEY_TWIN, _PERCENT_TWIN, _TIME_TWIN, DATE_TWIN,
                                                   _RATING_TWIN)}


def _twin_matches(twin: re.Pattern[str], text: str, lowered: str) -> list[_TextMatch]:
    """``twin.finditer(lowered)`` as :class:`_TextMatch` objects over ``text`` (its ASCII original)."""
    fast = _RE2_TWINS.get(twin)
    if fast is not None:
        return [_TextMatch(text, *m.span()) for m in fast.finditer(lowered.encode("ascii"))]
    return [_TextMatch(text, *m.span()) for m in twin.finditer(lowered)]


def _gated(found: list, lowered: str, gate: tuple[str, ...]) -> list:
    """``found`` (matches), or [] when ``lowered`` holds none of the ``gate`` substrings.

    The literal gates came first when patterns scanned the whole text; behind the RE2 gate
    the matches are rare, so the literal gate is only checked when something matched.
    """
    if found and not any(map(lowered.__contains__, gate)):
        return []
    return found


def _extract_statements(text: str, out: list[KnowledgeSpan], lowered: str, possible: frozenset[int] | None) -> None:
    """Policy, availability and account statements (``possible``: :data:`_LOWERED_GATE`'s answer for ASCII text)."""
    if possible is not None and possible.isdisjoint(_STATEMENT_SLOTS):
        return  # no statement pattern can match (most replies)
    seen: list[tuple[int, int]] = []
    contains = lowered.__contains__  # literal gates: substring tests beat a regex alternation

    def matches(k: int, regex: re.Pattern[str], gate: tuple[str, ...]):
        if possible is None:
            return regex.finditer(text) if any(map(contains, gate)) else ()
        if k not in possible:
            return ()
        return _gated(_twin_matches(_STATEMENT_TWINS[k], text, lowered), lowered, gate)

    for k, ((regex, reason, score), gate) in enumerate(zip(POLICY_RES, _POLICY_GATES)):
        for m in matches(k, regex, gate):
            if any(m.start() < b and m.end() > a for a, b in seen):
                continue
            seen.append(m.span())
            kind = "availability" if "availability" in reason or "offering" in reason else "policy"
            out.append(KnowledgeSpan(m.start(), m.end(), m.group(), kind, N.normalize_phrase(m.group()), score, reason))
    account = len(POLICY_RES)
    for m in matches(account, ACCOUNT_RE, _ACCOUNT_GATE):
        if ACCOUNT_ACTION_OK.search(m.group()):
            continue
        out.append(KnowledgeSpan(m.start(), m.end(), m.group(), "account_fact", N.normalize_phrase(m.group()), 0.55,
                                 "an account or order fact (status)"))
    for m in matches(account + 1, ACCOUNT_VALUE_RE, _ACCOUNT_GATE):
        out.append(KnowledgeSpan(m.start(), m.end(), m.group(), "account_fact", N.normalize_phrase(m.group()), 0.5,
                                 "an account or order fact (a value of the customer's record)"))
