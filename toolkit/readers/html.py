"""HTML -> plain text, as the readers need it (Intercom bodies, Zendesk html_body, Freshdesk, HTML transcripts).

Block elements become line breaks, paragraphs are separated by a blank line, list items get
``- `` (or ``1. ``), links keep their text and add the address when it differs
(``pricing page (https://example.com/pricing)``) because the linter and the PII redaction
need to see URLs, images become their ``alt`` text, ``<script>``/``<style>`` vanish, and
entities are decoded. White space inside text runs collapses as a browser would; ``<pre>``
keeps it. Uses only the standard library's tolerant parser, so broken markup still reads.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {
    "address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "li",
    "body", "html",
}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "hr"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_VOID_SKIP = {"meta", "link"}
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.lists: list[list[int]] = []  # stack of [is_ordered, counter]
        self.links: list[tuple[str | None, int]] = []  # (href, out position at open)
        self.cells_in_row = 0

    # -- output helpers
    def _rstrip_spaces(self) -> None:
        while self.out:
            piece = self.out[-1].rstrip(" ")
            if piece:
                self.out[-1] = piece
                return
            self.out.pop()

    def _trailing_newlines(self) -> int:
        count = 0
        for piece in reversed(self.out):
            stripped = piece.rstrip("\n")
            count += len(piece) - len(stripped)
            if stripped:
                break
        return count

    def _newlines(self, count: int) -> None:
        # Work on the tail only: joining the whole output here would be quadratic.
        self._rstrip_spaces()
        if not self.out:
            return
        have = self._trailing_newlines()
        if have < count:
            self.out.append("\n" * (count - have))

    def _text(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.out.append(data)
            return
        data = _SPACES.sub(" ", data)
        if not data.strip():
            if self.out and not self.out[-1].endswith((" ", "\n")):
                self.out.append(" ")
            return
        current = "".join(self.out[-1:])
        if (not self.out or current.endswith("\n")) and data.startswith(" "):
            data = data.lstrip(" ")
        elif current.endswith(" ") and data.startswith(" "):
            data = data.lstrip(" ")
        self.out.append(data)

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth or tag in _VOID_SKIP:
            return
        attributes = dict(attrs)
        if tag == "br":
            self.out.append("\n")
        elif tag == "pre":
            self._newlines(2)
            self.pre_depth += 1
        elif tag in ("ul", "ol"):
            self._newlines(1 if self.lists else 2)
            self.lists.append([tag == "ol", 0])
        elif tag == "li":
            self._newlines(1)
            indent = "  " * max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1][0]:
                self.lists[-1][1] += 1
                self.out.append(f"{indent}{self.lists[-1][1]}. ")
            else:
                self.out.append(f"{indent}- ")
        elif tag == "a":
            self.links.append((attributes.get("href"), len(self.out)))
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt:
                self._text(f"[{alt}]")
        elif tag == "tr":
            self._newlines(1)
            self.cells_in_row = 0
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self.out.append(" | ")
            self.cells_in_row += 1
        elif tag in _PARAGRAPH:
            self._newlines(2)
        elif tag in _BLOCK:
            self._newlines(1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag.lower() not in ("br", "img", "hr", "meta", "link"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
            self._newlines(2)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newlines(1 if self.lists else 2)
        elif tag == "a":
            if self.links:
                href, start = self.links.pop()
                text = "".join(self.out[start:]).strip()
                if href and not href.startswith(("#", "javascript:")):
                    target = href[7:] if href.startswith("mailto:") else href
                    if target.rstrip("/") not in text and text.rstrip("/") not in (target, href):
                        self.out.append(f" ({target})" if text else target)
        elif tag in _PARAGRAPH:
            self._newlines(2)
        elif tag in _BLOCK:
            self._newlines(1)

    def handle_data(self, data: str) -> None:
        self._text(data)


def html_to_text(html: str | None) -> str:
    """Plain text of an HTML fragment or page (``""`` for ``None``)."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    parser = _TextParser()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # html.parser asserts on some broken markup ("<![" ...): fall back to tag stripping
        return _strip_tags(html)
    text = "".join(parser.out)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


_TAG = re.compile(r"<\s*(p|div|br|span|a|b|i|strong|em|ul|ol|li|img|table|h[1-6]|html|body)\b[^>]*>", re.IGNORECASE)


def _strip_tags(html: str) -> str:
    import html as html_module

    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", html)
    text = re.sub(r"(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", "\n", text)
    text = re.sub(r"<[^>]*>", "", text)
    text = html_module.unescape(text)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def looks_like_html(text: str | None) -> bool:
    """Whether a body is HTML (has common tags), as opposed to plain text with a stray ``<``."""
    return bool(text) and bool(_TAG.search(text))  # type: ignore[arg-type]


def body_text(text: str | None) -> str:
    """A message body as plain text: HTML is converted, plain text is kept (trimmed)."""
    if not text:
        return ""
    return html_to_text(text) if looks_like_html(text) else text.strip()


# --------------------------------------------------------------------------- structured chat HTML

_MESSAGE_CLASS = re.compile(r"(^|[-_ ])(message|msg|chat-?line|chat-?message|entry|bubble|utterance|post|reply)s?($|[-_ ])", re.IGNORECASE)
_NAME_CLASS = re.compile(r"(^|[-_ ])(author|name|sender|from|user-?name|nick|speaker|who|agent-?name|visitor-?name)($|[-_ ])", re.IGNORECASE)
_TIME_CLASS = re.compile(r"(^|[-_ ])(time|timestamp|date|datetime|sent|ts)($|[-_ ])", re.IGNORECASE)
_TEXT_CLASS = re.compile(r"(^|[-_ ])(text|body|content|message-?text|msg-?text|message-?body)($|[-_ ])", re.IGNORECASE)
_SYSTEM_CLASS = re.compile(r"(^|[-_ ])(system|event|notice|status|info)($|[-_ ])", re.IGNORECASE)
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source", "track", "wbr"}


class _Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], parent: "_Node | None") -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list["_Node | str"] = []
        self.parent = parent

    @property
    def classes(self) -> str:
        return " ".join(filter(None, [self.attrs.get("class", ""), self.attrs.get("data-role", ""), self.attrs.get("itemprop", "")]))

    def html(self) -> str:
        """Re-serialise (enough for html_to_text: tags, attributes we keep, text)."""
        from html import escape

        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(escape(child, quote=False))
            else:
                attrs = "".join(f' {k}="{escape(v)}"' for k, v in child.attrs.items() if k in ("href", "alt"))
                parts.append(f"<{child.tag}{attrs}>" + ("" if child.tag in _VOID else child.html() + f"</{child.tag}>"))
        return "".join(parts)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, _Node):
                yield from child.iter()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag.lower(), {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if node.tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(_Node(tag.lower(), {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def structured_chat_lines(html: str) -> list[str] | None:
    """Chat lines (``[time] Name: text``) from HTML whose messages are marked up by class names.

    Recognises containers such as ``<div class="message">`` holding an author element
    (class ``author``/``name``/``sender``...), an optional time element and a text element
    (class ``text``/``body``/``content``); containers with a ``system``/``event`` class and no
    author become ``*** text ***`` lines. Returns ``None`` when the page has no such markup
    (the caller then converts the page as text).
    """
    builder = _TreeBuilder()
    try:
        builder.feed(html)
        builder.close()
    except AssertionError:  # broken markup html.parser cannot take: read the page as text instead
        return None
    messages = []
    for node in builder.root.iter():
        if node.tag in ("script", "style") or not _is_message(node):
            continue
        if any(_is_message(inner) for inner in node.iter() if inner is not node):
            continue  # an outer wrapper: its inner messages are used
        messages.append(node)
    if not messages:
        return None
    chosen = {id(node) for node in messages}
    holders: set[int] = set()
    for node in messages:
        parent = node.parent
        while parent is not None:
            holders.add(id(parent))
            parent = parent.parent
    lines: list[str] = []
    found_author = [False]

    def walk(node: _Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    lines.append(" ".join(child.split()))
                continue
            if child.tag in ("script", "style", "head", "title"):
                continue
            if id(child) in chosen:
                lines.extend(_message_lines(child, found_author))
            elif id(child) in holders:
                walk(child)
            elif child.tag == "hr":
                lines.append("---")
            else:
                text = html_to_text(child.html() if child.tag not in _VOID else "")
                lines.extend(text.split("\n") if text else [])
                if child.tag in ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section") and text:
                    lines.append("")

    walk(builder.root)
    return lines if found_author[0] else None


def _is_message(node: _Node) -> bool:
    classes = node.classes
    return bool(_MESSAGE_CLASS.search(classes)) and not (
        _TEXT_CLASS.search(classes) or _NAME_CLASS.search(classes) or _TIME_CLASS.search(classes))


def _message_lines(node: _Node, found_author: list[bool]) -> list[str]:
    name = _first(node, _NAME_CLASS)
    when = _first(node, _TIME_CLASS)
    body = _first(node, _TEXT_CLASS)
    name_text = html_to_text(name.html()).strip().rstrip(":").strip() if name is not None else ""
    when_text = html_to_text(when.html()).strip() if when is not None else (node.attrs.get("data-time") or "")
    if body is None:
        # The text is what is left once author and time are taken out.
        remainder = _Node(node.tag, node.attrs, None)
        remainder.children = [c for c in node.children if c is not name and c is not when]
        text = html_to_text(remainder.html())
    else:
        text = html_to_text(body.html())
    text = text.strip()
    if not text:
        return []
    stamp = f"[{when_text}] " if when_text else ""
    if name_text:
        found_author[0] = True
        first, *rest = text.split("\n")
        return [f"{stamp}{name_text}: {first}", *rest]
    if _SYSTEM_CLASS.search(node.classes):
        return [f"{stamp}*** {' '.join(text.split())} ***"]
    return [f"{stamp}{text}"]


def _first(node: _Node, pattern: re.Pattern[str]) -> _Node | None:
    for inner in node.iter():
        if inner is not node and pattern.search(inner.classes):
            return inner
    return None
