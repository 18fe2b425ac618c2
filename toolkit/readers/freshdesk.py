"""Freshdesk (API v2) tickets -> conversations.

Accepted inputs, in any combination:

* **Tickets**: ``GET /api/v2/tickets/{id}?include=conversations,requester`` (one ticket object),
  ``GET /api/v2/tickets`` (a bare JSON array), ``/search/tickets`` (``{"results": [...]}``), or
  JSON Lines with one ticket per line.
* **Conversations** files: ``GET /api/v2/tickets/{id}/conversations`` (a bare array of
  conversation objects carrying ``ticket_id``), joined onto their tickets. A conversations
  file without any ticket file makes one conversation per ``ticket_id``.
* **Satisfaction ratings**: ``GET /api/v2/surveys/satisfaction_ratings`` (``ratings`` with the
  ``default_question`` score: 103 extremely happy ... -103 extremely unhappy), joined by ``ticket_id``.

The ticket's ``description_text`` (or its HTML ``description``) is the first customer
message; then each conversation in time order: ``private: true`` is an internal note,
``incoming: true`` (or written by the requester) is the customer, anything else an agent.
Numeric ``status`` and ``source`` codes become their names (``open``, ``email``, ...).
Separate conversations and ratings files are indexed in memory (they are per-ticket API
responses); ticket files stream.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from toolkit.model import Conversation, Participant, Speaker, Turn
from toolkit.readers.base import (
    R_INVALID_JSON,
    R_MISSING_FIELD,
    R_NO_MESSAGES,
    R_NOT_OBJECT,
    R_UNKNOWN_SHAPE,
    JsonSource,
    Reader,
    ReaderError,
    Sample,
    add_participant,
    as_str,
    iso_time,
    type_name,
)
from toolkit.readers.html import body_text

STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed", 6: "waiting on customer", 7: "waiting on third party"}
SOURCE = {1: "email", 2: "portal", 3: "phone", 4: "forum", 5: "twitter", 6: "facebook", 7: "chat", 8: "mobihelp",
          9: "feedback widget", 10: "outbound email", 11: "ecommerce", 12: "bot", 13: "whatsapp"}
CONVERSATION_SOURCE = {0: "reply", 2: "note", 5: "tweet", 6: "survey feedback", 7: "facebook", 8: "forwarded email",
                       9: "phone", 10: "mobihelp", 11: "e-commerce"}
PRIORITY = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
RATING = {103: "extremely happy", 102: "very happy", 101: "happy", 100: "neutral", -101: "unhappy",
          -102: "very unhappy", -103: "extremely unhappy"}


class FreshdeskReader(Reader):
    name = "freshdesk"
    description = "Freshdesk v2 tickets (+ conversations, satisfaction ratings)"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        if sample.kind not in ("jsonl", "array", "object"):
            return 0
        for record in sample.records:
            if isinstance(record, dict) and isinstance(record.get("results"), list) and record["results"]:
                record = record["results"][0]
            if _is_ticket(record):
                return 90
            if _is_conversation(record) or _is_rating(record):
                return 85
        return 0

    def read(self, paths, report=None):  # type: ignore[override]
        if report is not None:
            self.report = report
        sources = [self.json_source(p, _name(p)) for p in paths]
        conversations: dict[str, list[tuple[str, Any, Mapping[str, Any]]]] = {}
        ratings: dict[str, Mapping[str, Any]] = {}
        ticket_sources: list[JsonSource] = []
        for source in sources:
            self.report.formats.setdefault(source.name, self.name)
            kind = _file_kind(source)
            if kind == "tickets":
                ticket_sources.append(source)
                continue
            for number, value, error in self._items(source):
                if error is not None:
                    self.skip(source.name, number, R_INVALID_JSON, error)
                elif not isinstance(value, dict):
                    self.skip(source.name, number, R_NOT_OBJECT, f"got a JSON {type_name(value)}")
                elif _is_rating(value):
                    tid = as_str(value.get("ticket_id"))
                    if tid is not None:
                        ratings[tid] = value
                elif _is_conversation(value):
                    tid = as_str(value.get("ticket_id"))
                    if tid is None:
                        self.skip(source.name, number, R_MISSING_FIELD, "conversation has no ticket_id", field="ticket_id")
                    else:
                        conversations.setdefault(tid, []).append((source.name, number, value))
                elif _is_ticket(value):
                    ticket_sources.append(source)
                    break
                else:
                    self.skip(source.name, number, R_UNKNOWN_SHAPE, f"not a Freshdesk ticket, conversation or rating (keys: {', '.join(list(value)[:8])})")
        used: set[str] = set()
        for source in ticket_sources:
            for number, value, error in self._items(source):
                if error is not None:
                    self.skip(source.name, number, R_INVALID_JSON, error)
                    continue
                if not isinstance(value, dict):
                    self.skip(source.name, number, R_NOT_OBJECT, f"got a JSON {type_name(value)}")
                    continue
                if not _is_ticket(value):
                    self.skip(source.name, number, R_UNKNOWN_SHAPE, f"not a Freshdesk ticket (keys: {', '.join(list(value)[:8])})")
                    continue
                tid = as_str(value.get("id"))
                if tid is None:
                    self.skip(source.name, number, R_MISSING_FIELD, "ticket has no id", field="id")
                    continue
                used.add(tid)
                conversation = self._ticket(value, source.name, number, conversations.get(tid, []), ratings.get(tid))
                if conversation is not None:
                    self.report.read += 1
                    yield conversation
        # Conversations files without their tickets: one conversation per ticket_id.
        for tid, items in conversations.items():
            if tid in used:
                continue
            file, number, _ = items[0]
            conversation = self._ticket({"id": tid}, file, number, items, ratings.get(tid))
            if conversation is not None:
                self.report.read += 1
                yield conversation

    def read_file(self, path, name):  # pragma: no cover - read() is overridden
        yield from self.read([path])

    def _items(self, source: JsonSource) -> Iterator[tuple[Any, Any, str | None]]:
        if source.kind == "object":
            if not source.small and "results" in source.top_keys():
                for index, item in source.array("results"):
                    yield index, item, None
                return
            doc = source.document()
            if isinstance(doc, dict) and isinstance(doc.get("results"), list):
                for index, item in enumerate(doc["results"], start=1):
                    yield index, item, None
                return
            if isinstance(doc, dict) and not (_is_ticket(doc) or _is_conversation(doc) or _is_rating(doc)):
                raise ReaderError(f"not a Freshdesk ticket, conversation or rating (top-level keys: {', '.join(list(doc)[:10])})", file=source.name)
        yield from source.records()

    def _ticket(self, ticket: Mapping[str, Any], file: str, record: Any, extra: list, rating: Mapping[str, Any] | None) -> Conversation | None:
        tid = as_str(ticket.get("id"))
        requester = as_str(ticket.get("requester_id"))
        conversation = Conversation(
            id=str(tid),
            customer_id=requester,
            subject=ticket.get("subject") or None,
            status=_named(ticket.get("status"), STATUS),
            channel=_named(ticket.get("source"), SOURCE),
            tags=[str(t) for t in ticket.get("tags") or [] if t is not None],
            created_at=iso_time(ticket.get("created_at")),
            source={"file": file, "record": record, "format": "freshdesk"},
        )
        for key in ("priority", "type", "responder_id", "group_id", "company_id", "product_id", "updated_at", "due_by"):
            value = ticket.get(key)
            if value is not None:
                conversation.metadata[key] = PRIORITY.get(value, value) if key == "priority" else value
        person = ticket.get("requester") if isinstance(ticket.get("requester"), dict) else {}
        if requester is not None or person:
            add_participant(conversation, Participant(
                id=requester or as_str(person.get("id")), name=person.get("name") or None, email=person.get("email") or None,
                phone=person.get("phone") or person.get("mobile") or None, kind=Speaker.CUSTOMER))
        for key in ("cc_emails", "reply_cc_emails"):  # to_emails / fwd_emails are the support side
            for email in ticket.get(key) or []:
                if isinstance(email, str) and email:
                    add_participant(conversation, Participant(email=email, extra={"field": key}))
        rating = rating or (ticket.get("satisfaction_rating") if isinstance(ticket.get("satisfaction_rating"), dict) else None)
        if rating:
            scores = rating.get("ratings") if isinstance(rating.get("ratings"), dict) else {}
            score = scores.get("default_question", rating.get("rating"))
            if score is not None:
                conversation.csat = RATING.get(score, score)
                conversation.metadata["csat_score"] = score
            if rating.get("feedback"):
                conversation.metadata["csat_comment"] = rating["feedback"]
        description = ticket.get("description_text") if isinstance(ticket.get("description_text"), str) and ticket["description_text"].strip() else None
        text = description.strip() if description else body_text(ticket.get("description") if isinstance(ticket.get("description"), str) else None)
        if text:
            if ticket.get("source") == 10:  # outbound email: the agent wrote the first message
                conversation.turns.append(Turn(speaker=Speaker.AGENT, text=text, time=conversation.created_at,
                                               author_id=as_str(ticket.get("responder_id")), metadata={"from_description": True}))
            else:
                conversation.turns.append(Turn(speaker=Speaker.CUSTOMER, text=text, time=conversation.created_at,
                                               author_id=requester, author=person.get("name") or None,
                                               metadata={"from_description": True}))
        items = [(file, record, c) for c in ticket.get("conversations") or []] + list(extra)
        seen: set[str] = set()
        ordered = []
        for position, (item_file, item_record, item) in enumerate(items):
            if not isinstance(item, dict):
                self.skip(item_file, item_record, R_NOT_OBJECT, f"conversation is a JSON {type_name(item)}", part=f"conversation {position + 1}")
                continue
            cid = as_str(item.get("id"))
            if cid is not None:
                if cid in seen:
                    continue  # the same conversation embedded and in a conversations file
                seen.add(cid)
            ordered.append((iso_time(item.get("created_at")) or "", position, item))
        ordered.sort(key=lambda entry: (entry[0], entry[1]))
        for _, _, item in ordered:
            turn = self._turn(item, requester, conversation)
            if turn is not None:
                conversation.turns.append(turn)
        if not conversation.turns:
            self.skip(file, record, R_NO_MESSAGES, f"ticket {tid} has no description and no conversations with a body")
            return None
        return conversation

    def _turn(self, item: Mapping[str, Any], requester: str | None, conversation: Conversation) -> Turn | None:
        text = item.get("body_text") if isinstance(item.get("body_text"), str) and item["body_text"].strip() else None
        text = text.strip() if text else body_text(item.get("body") if isinstance(item.get("body"), str) else None)
        if not text:
            return None
        author = as_str(item.get("user_id"))
        if item.get("private"):
            speaker = Speaker.NOTE
        elif item.get("incoming") or (author is not None and author == requester):
            speaker = Speaker.CUSTOMER
        else:
            speaker = Speaker.AGENT
        turn = Turn(speaker=speaker, text=text, time=iso_time(item.get("created_at")), author_id=author, id=as_str(item.get("id")))
        source = item.get("source")
        if source is not None:
            turn.metadata["source"] = CONVERSATION_SOURCE.get(source, source)
        if item.get("attachments"):
            turn.metadata["attachments"] = [a.get("name") for a in item["attachments"] if isinstance(a, dict)]
        email = item.get("from_email") if isinstance(item.get("from_email"), str) else None
        kind = Speaker.AGENT if speaker is Speaker.NOTE else speaker
        add_participant(conversation, Participant(id=author, email=_address(email), kind=kind,
                                                  extra={"from": email} if email and _address(email) != email else {}))
        if email and speaker is Speaker.AGENT and item.get("support_email"):
            turn.metadata["support_email"] = item["support_email"]
        return turn


def _name(path: Any) -> str:
    from toolkit.readers.base import source_name

    return source_name(path)


def _named(value: Any, names: Mapping[int, str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return names.get(value, str(value))
    return str(value)


def _address(value: str | None) -> str | None:
    """``"Jane Doe <jane@example.com>"`` -> ``jane@example.com``."""
    if not value:
        return None
    if "<" in value and value.rstrip().endswith(">"):
        return value[value.rfind("<") + 1: value.rstrip().rfind(">")].strip() or None
    return value.strip()


def _is_ticket(value: Any) -> bool:
    return isinstance(value, dict) and "id" in value and (
        "description_text" in value or ("requester_id" in value and ("responder_id" in value or "fr_escalated" in value))
        or ("description" in value and isinstance(value.get("status"), int) and isinstance(value.get("source"), int))
    )


def _is_conversation(value: Any) -> bool:
    return isinstance(value, dict) and "ticket_id" in value and ("incoming" in value or "private" in value) and (
        "body" in value or "body_text" in value)


def _is_rating(value: Any) -> bool:
    return isinstance(value, dict) and "ticket_id" in value and isinstance(value.get("ratings"), dict)


def _file_kind(source: JsonSource) -> str:
    """``tickets`` when the first record is a ticket (stream it), else ``index`` (conversations / ratings)."""
    import itertools

    if source.kind == "object":
        if not source.small:
            return "tickets"
        doc = source.document()
        first = doc.get("results", [None])[0] if isinstance(doc, dict) and isinstance(doc.get("results"), list) and doc["results"] else doc
        return "tickets" if _is_ticket(first) else "index"
    for _, value, error in itertools.islice(source.records(), 5):
        if error is None:
            return "tickets" if _is_ticket(value) else "index"
    return "index"
