"""Intercom conversations (REST API 2.x) -> conversations.

Accepted shapes: one ``GET /conversations/{id}`` response (``{"type": "conversation", ...}``),
a list response or search result (``{"type": "conversation.list", "conversations": [...]}``),
a bare JSON array of conversations, or JSON Lines with one conversation (or one list page)
per line. A conversation wrapped one level deep (``{"conversation": {...}}``, ``{"data": ...}``,
``{"value": ...}``) is unwrapped.

The opening message is the conversation's ``source`` (its ``author`` says who wrote it); the
rest are ``conversation_parts.conversation_parts`` in order. Bodies are HTML and become plain
text. ``author.type`` ``user`` / ``lead`` / ``contact`` is the customer, ``admin`` / ``team`` an agent,
``bot`` a bot, and so is any part with ``from_ai_agent`` or ``is_ai_answer`` set. ``note`` parts are
internal notes. Parts without a body (assignments, open/close/snooze, attribute updates,
custom actions) are events, not messages: they are left out and reported. ``state`` is the
status, ``conversation_rating.rating`` (1-5) the CSAT, ``tags`` the tags, ``source.type`` the channel.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from toolkit.model import Conversation, Participant, Speaker, Turn
from toolkit.readers.base import (
    R_BAD_FIELD,
    R_EVENT_PART,
    R_INVALID_JSON,
    R_MISSING_FIELD,
    R_NO_MESSAGES,
    R_NOT_OBJECT,
    R_UNKNOWN_SHAPE,
    Reader,
    ReaderError,
    Sample,
    add_participant,
    as_str,
    iso_time,
    type_name,
)
from toolkit.readers.html import body_text

_CUSTOMER_TYPES = {"user", "lead", "contact", "visitor", "customer"}
_AGENT_TYPES = {"admin", "team", "teammate"}
_BOT_TYPES = {"bot", "operator", "fin", "ai_agent"}
_NOTE_PARTS = {"note", "note_and_reopen"}
_WRAPPERS = ("conversation", "data", "value", "item")


class IntercomReader(Reader):
    name = "intercom"
    description = "Intercom conversations (GET /conversations/{id}, lists, JSON Lines)"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        if sample.kind not in ("jsonl", "array", "object"):
            return 0
        for record in sample.records:
            record = _unwrap(record)
            if not isinstance(record, dict):
                continue
            if record.get("type") == "conversation.list" or (isinstance(record.get("conversations"), list) and record.get("conversations") and _is_conversation(record["conversations"][0])):
                return 90
            if _is_conversation(record):
                return 90
        if "conversations" in sample.top_keys and "pages" in sample.top_keys:
            return 70
        return 0

    def read_file(self, path, name) -> Iterator[Conversation]:
        source = self.json_source(path, name)
        if source.kind == "object" and not source.small:
            keys = source.top_keys()
            if "conversations" in keys:
                for index, item in source.array("conversations"):
                    yield from self._one(item, name, index)
                return
        for number, value, error in source.records():
            if error is not None:
                self.skip(name, number, R_INVALID_JSON, error)
                continue
            value = _unwrap(value)
            if isinstance(value, dict) and isinstance(value.get("conversations"), list):
                many = source.kind != "jsonl"
                for index, item in enumerate(value["conversations"], start=1):
                    yield from self._one(item, name, index if many else f"{number}:conversations[{index}]")
            elif source.kind == "object" and not _is_conversation(value):
                raise ReaderError(
                    "not an Intercom conversation (expected \"type\": \"conversation\" with \"source\" and \"conversation_parts\", "
                    f"or a conversation list); top-level keys: {', '.join(list(value)[:10]) if isinstance(value, dict) else type_name(value)}",
                    file=name,
                )
            else:
                yield from self._one(value, name, number)

    def _one(self, value: Any, file: str, record: Any) -> Iterator[Conversation]:
        value = _unwrap(value)
        if not isinstance(value, dict):
            self.skip(file, record, R_NOT_OBJECT, f"got a JSON {type_name(value)}")
            return
        if not _is_conversation(value):
            self.skip(file, record, R_UNKNOWN_SHAPE, f"not an Intercom conversation (keys: {', '.join(list(value)[:8])})")
            return
        cid = as_str(value.get("id"))
        if cid is None:
            self.skip(file, record, R_MISSING_FIELD, "conversation has no id", field="id")
            return
        conversation = Conversation(id=cid, source={"file": file, "record": record, "format": "intercom"})
        conversation.created_at = iso_time(value.get("created_at"))
        state = value.get("state")
        if state is None and isinstance(value.get("open"), bool):
            state = "open" if value["open"] else "closed"
        ticket_state = value.get("ticket_state")
        if isinstance(ticket_state, dict):  # Intercom tickets: {"category": "submitted", ...}
            state = ticket_state.get("category") or ticket_state.get("internal_label") or state
        elif isinstance(ticket_state, str):
            state = ticket_state
        conversation.status = state
        source = value.get("source") if isinstance(value.get("source"), dict) else value.get("conversation_message")
        source = source if isinstance(source, dict) else {}  # conversation_message: API 1.x
        conversation.channel = source.get("type") if isinstance(source.get("type"), str) else None
        if conversation.channel == "conversation":
            conversation.channel = "chat"
        attributes = value.get("ticket_attributes") if isinstance(value.get("ticket_attributes"), dict) else {}
        conversation.subject = (value.get("title") or attributes.get("_default_title_") or body_text(source.get("subject")) or None)
        if value.get("type") == "ticket":
            conversation.metadata["intercom_type"] = "ticket"
            if value.get("ticket_id") is not None:
                conversation.metadata["ticket_id"] = as_str(value.get("ticket_id"))
        conversation.tags = _tags(value.get("tags"))
        rating = value.get("conversation_rating")
        if isinstance(rating, dict) and rating.get("rating") is not None:
            conversation.csat = rating.get("rating")
            if rating.get("remark"):
                conversation.metadata["csat_remark"] = rating["remark"]
        contacts = value.get("contacts")
        contact_list = contacts.get("contacts") if isinstance(contacts, dict) else contacts
        if isinstance(contact_list, list):
            for contact in contact_list:
                if isinstance(contact, dict) and contact.get("id") is not None:
                    if conversation.customer_id is None:
                        conversation.customer_id = as_str(contact.get("id"))
                    add_participant(conversation, Participant(
                        id=as_str(contact.get("id")), name=contact.get("name"), email=contact.get("email"),
                        phone=contact.get("phone"), kind=Speaker.CUSTOMER,
                        extra={"external_id": contact["external_id"]} if contact.get("external_id") else {}))
        teammates = value.get("teammates")
        admins = teammates.get("admins") if isinstance(teammates, dict) else None
        for admin in admins if isinstance(admins, list) else []:
            if isinstance(admin, dict) and (admin.get("id") is not None or admin.get("name")):
                add_participant(conversation, Participant(id=as_str(admin.get("id")), name=admin.get("name") or None,
                                                          email=admin.get("email") or None, kind=Speaker.AGENT))
        for key in ("admin_assignee_id", "team_assignee_id", "priority", "ai_agent_participated"):
            if value.get(key) is not None:
                conversation.metadata[key] = value[key]
        if isinstance(source.get("delivered_as"), str):
            conversation.metadata["delivered_as"] = source["delivered_as"]
        if isinstance(source.get("url"), str) and source["url"]:
            conversation.metadata["source_url"] = source["url"]

        # The opening message.
        if source:
            turn = self._turn(source, conversation, is_source=True)
            if turn is not None:
                conversation.turns.append(turn)
            elif not source.get("redacted"):
                self.skip(file, record, R_EVENT_PART, "the opening message (source) has no body", part="source")
        description = attributes.get("_default_description_")
        if not conversation.turns and isinstance(description, str) and description.strip():
            # A ticket's opening message is its description, written by (or for) the contact.
            conversation.turns.append(Turn(speaker=Speaker.CUSTOMER, text=body_text(description), time=conversation.created_at,
                                           author_id=conversation.customer_id, metadata={"part_type": "ticket_description"}))
        parts_block = value.get("conversation_parts", value.get("ticket_parts"))
        parts = (parts_block.get("conversation_parts", parts_block.get("ticket_parts")) if isinstance(parts_block, dict) else parts_block)
        if parts is not None and not isinstance(parts, list):
            self.skip(file, record, R_BAD_FIELD, f"conversation_parts is a JSON {type_name(parts)}", field="conversation_parts")
            return
        for index, part in enumerate(parts or [], start=1):
            if not isinstance(part, dict):
                self.skip(file, record, R_NOT_OBJECT, f"part {index} is a JSON {type_name(part)}", part=f"part {index}")
                continue
            turn = self._turn(part, conversation, is_source=False)
            if turn is None:
                kind = part.get("part_type") or "part"
                self.skip(file, record, R_EVENT_PART, f"{kind} (id {part.get('id')}) has no body", part=f"part {index}")
                continue
            conversation.turns.append(turn)
        if parts_block is None and value.get("type") == "conversation" and not getattr(self, "_warned_no_parts", False):
            self._warned_no_parts = True
            self.report.warn(f"intercom: {file}: conversations without conversation_parts (list and search responses omit them): "
                             "only the opening message is read; export each with GET /conversations/{id}")
        if isinstance(parts_block, dict):
            total = parts_block.get("total_count")
            if isinstance(total, int) and total > len(parts or []):
                self.report.warn(f"intercom: {file}: conversation {cid} lists {total} parts but holds {len(parts or [])} (the API returns at most 500)")
        if not conversation.turns:
            self.skip(file, record, R_NO_MESSAGES, f"conversation {cid} has no message with a body")
            return
        if conversation.customer_id is None:
            first_customer = next((t for t in conversation.turns if t.speaker is Speaker.CUSTOMER and t.author_id), None)
            conversation.customer_id = first_customer.author_id if first_customer else None
        yield conversation

    def _turn(self, part: Mapping[str, Any], conversation: Conversation, *, is_source: bool) -> Turn | None:
        text = body_text(part.get("body") if isinstance(part.get("body"), str) else None)
        if not text:
            return None
        author = part.get("author") if isinstance(part.get("author"), dict) else {}
        kind = str(author.get("type") or "").lower()
        part_type = "source" if is_source else str(part.get("part_type") or "comment")
        if part_type in _NOTE_PARTS:
            speaker = Speaker.NOTE
        elif author.get("from_ai_agent") or author.get("is_ai_answer") or kind in _BOT_TYPES:
            speaker = Speaker.BOT
        elif kind in _CUSTOMER_TYPES:
            speaker = Speaker.CUSTOMER
        elif kind in _AGENT_TYPES:
            speaker = Speaker.AGENT
        else:
            speaker = Speaker.AGENT if is_source and conversation.metadata.get("delivered_as") == "admin_initiated" else Speaker.CUSTOMER
            self.report.warn(f"intercom: author type {kind or '(none)'!r} is unknown; taken as {speaker.value}")
        turn = Turn(
            speaker=speaker,
            text=text,
            time=iso_time(part.get("created_at")) or (conversation.created_at if is_source else None),
            author=author.get("name") or None,
            author_id=as_str(author.get("id")),
            id=as_str(part.get("id")),
        )
        turn.metadata["part_type"] = part_type
        if kind:
            turn.metadata["author_type"] = kind
        if author.get("is_ai_answer"):
            turn.metadata["is_ai_answer"] = True
        if part.get("attachments"):
            turn.metadata["attachments"] = [a.get("name") or a.get("url") for a in part["attachments"] if isinstance(a, dict)]
        participant_kind = Speaker.AGENT if speaker is Speaker.NOTE else speaker
        add_participant(conversation, Participant(id=turn.author_id, name=turn.author, email=author.get("email") or None,
                                                  kind=participant_kind, extra={"type": kind} if kind else {}))
        return turn


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict) and not _is_conversation(value) and "conversations" not in value:
        for key in _WRAPPERS:
            inner = value.get(key)
            if isinstance(inner, dict) and (_is_conversation(inner) or isinstance(inner.get("conversations"), list)):
                return inner
    return value


def _is_conversation(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if value.get("type") in ("conversation", "ticket") and ("ticket_parts" in value or value.get("type") == "conversation"):
        return True
    return "conversation_parts" in value or "ticket_parts" in value or "conversation_message" in value or (
        isinstance(value.get("source"), dict) and "delivered_as" in value["source"])


def _tags(value: Any) -> list[str]:
    items = value.get("tags") if isinstance(value, dict) else value
    out: list[str] = []
    if isinstance(items, list):
        for tag in items:
            if isinstance(tag, dict) and tag.get("name"):
                out.append(str(tag["name"]))
            elif isinstance(tag, str):
                out.append(tag)
    return out
