"""Zendesk Support exports -> conversations.

Accepted shapes (each as an API response saved to a ``.json`` file, a bare JSON array of the
objects, or JSON Lines with one object or one saved page per line; ``.gz`` is fine):

* **Ticket comments** ``GET /api/v2/tickets/{id}/comments`` -> ``{"comments": [...], "users": [...]}``.
  The response does not carry the ticket id: the ``ticket_id`` option, a ``ticket_id`` on the
  comments, or the file name (``ticket_123_comments.json`` -> ``123``) supplies it.
* **Ticket audits** ``GET /api/v2/ticket_audits`` or ``/tickets/{id}/audits`` -> ``{"audits": [...]}``
  (also a single ``{"audit": {...}}``): ``Comment`` / ``VoiceComment`` events become turns;
  ``Create`` / ``Change`` events give subject, status, tags, requester; ``SatisfactionRating``
  gives CSAT; ``CommentPrivacyChange`` turns a comment private. Audits of many tickets may be
  interleaved: they are grouped by ``ticket_id`` (spilling to disk for big inputs).
* **Tickets** ``GET /api/v2/tickets``, ``/search`` (``results``), ``/tickets/{id}`` (``ticket``) and the
  **incremental ticket export** ``/api/v2/incremental/tickets[/cursor]`` (``{"tickets": [...],
  "end_of_stream": ...}``), and the NDJSON account export. A ticket with embedded ``comments``
  uses them; otherwise its ``description`` (the first comment) is the only turn - unless audits
  for it are in the same input, which then supply the full thread.
* **Incremental ticket events** ``/api/v2/incremental/ticket_events?include=comment_events``:
  ``Comment`` child events, grouped by ticket.
* **Users** ``GET /api/v2/users`` / ``/incremental/users`` (``{"users": [...]}``), side-loaded in the same
  response (``include=users``) or given as separate input files or the ``users`` option:
  ``role`` ``end-user`` is the customer, ``agent`` / ``admin`` are agents.

A chat-channel comment holding a whole legacy Zendesk Chat transcript is split into one turn
per chat message (``split_chats``). Comments with ``public: false`` are internal notes (:attr:`Speaker.NOTE`); comments made through
Answer Bot / AI agent channels are :attr:`Speaker.BOT`; the requester is the customer (even a
staff requester: internal tickets); other authors take their user role (end-user -> customer,
agent/admin -> agent). Without a user list every author but the requester is taken as an agent
(a warning says so).
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterator, Mapping

from toolkit.model import Conversation, Participant, Speaker, Turn
from toolkit.readers.base import (
    GroupBuffer,
    JsonSource,
    R_BAD_FIELD,
    R_INVALID_JSON,
    R_MISSING_FIELD,
    R_NO_MESSAGES,
    R_NOT_OBJECT,
    R_UNKNOWN_SHAPE,
    Reader,
    ReaderError,
    ReaderOption,
    Sample,
    add_participant,
    as_str,
    iso_time,
    type_name,
)
from toolkit.readers.html import html_to_text

MESSAGE_EVENTS = {"Comment", "VoiceComment", "FacebookComment", "Tweet", "ChatMessage"}
_BOT_CHANNELS = ("answer_bot", "ai_agent", "bot", "autoresponder")
_ROLE_KIND = {"end-user": Speaker.CUSTOMER, "end_user": Speaker.CUSTOMER, "agent": Speaker.AGENT, "admin": Speaker.AGENT}
_PAGE_KEYS = ("tickets", "results", "ticket", "audits", "audit", "comments", "ticket_events")
_CSAT_SCORES = {"good", "bad"}
_EVENT_FIELDS = ("status", "subject", "tags", "requester_id", "priority", "type", "assignee_id", "group_id")


class ZendeskReader(Reader):
    name = "zendesk"
    description = "Zendesk tickets, ticket comments, ticket audits, incremental exports (+ users)"
    options = (
        ReaderOption("users", "list[str]", [], "users files (GET /api/v2/users responses or JSONL of users) resolving author_id to a role"),
        ReaderOption("ticket_id", "str", None, "conversation id for a bare ticket-comments response (default: from the comments or the file name)"),
        ReaderOption("description", "bool", True, "use a ticket's description as its first turn when no comments or audits are given"),
        ReaderOption("split_chats", "bool", True, "split a chat-channel comment holding a whole chat transcript into one turn per message"),
    )

    # ------------------------------------------------------------------ detection

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        if sample.kind not in ("jsonl", "array", "object"):
            return 0
        keys = set(sample.top_keys)
        if keys & {"tickets", "audits", "audit", "ticket_events"}:
            return 90
        if "comments" in keys and isinstance(sample.records[0], dict) and _looks_like_comment_list(sample.records[0].get("comments")):
            return 90
        if "ticket" in keys and isinstance((sample.records[0] or {}).get("ticket"), dict):
            return 80
        if "users" in keys and _is_zendesk_user((sample.records[0].get("users") or [None])[0] if sample.records else None):
            return 85
        if "results" in keys and sample.records:
            first = (sample.records[0].get("results") or [None])[0]
            return 70 if _is_ticket(first) else 0
        for record in sample.records:
            if isinstance(record, dict):
                if any(k in record for k in ("tickets", "audits", "ticket_events")):
                    return 90
                if _is_ticket(record) or _is_audit(record):
                    return 85
                if _is_zendesk_user(record):
                    return 80
                if _is_comment(record):
                    return 60
        return 0

    # ------------------------------------------------------------------ reading

    def read(self, paths, report=None):  # type: ignore[override]
        if report is not None:
            self.report = report
        paths = list(paths)
        users: dict[str, dict[str, Any]] = {}
        self._users_given = bool(self.opts["users"])
        for path in self.opts["users"]:
            self._collect_users(self.json_source(path, os.fspath(path)), users, only_users=True)
        sources = [self.json_source(path, _name(path)) for path in paths]
        structures = []
        for source in sources:
            self.report.formats.setdefault(source.name, self.name)
            structures.append(self._collect_users(source, users, only_users=False))
        if users:
            self._users_given = True
        self.users = users
        # Audits and ticket events are grouped per ticket over all inputs; tickets that are
        # also in those files get their thread from them, the ticket files their metadata.
        has_threads = any(s["threads"] for s in structures)
        ticket_meta: dict[str, dict[str, Any]] = {}
        if has_threads:
            for source, structure in zip(sources, structures):
                if structure["tickets"]:
                    for _, ticket, _rec in self._iter_objects(source, want={"ticket"}):
                        tid = as_str(ticket.get("id"))
                        if tid is not None:
                            ticket_meta[tid] = _ticket_meta(ticket)
            threaded: set[str] = set()
            buffer = GroupBuffer()
            for source, structure in zip(sources, structures):
                if not structure["threads"]:
                    continue
                for kind, item, record in self._iter_objects(source, want={"audit", "ticket_event"}):
                    tid = as_str(item.get("ticket_id"))
                    if tid is None:
                        self.skip(source.name, record, R_MISSING_FIELD, f"{kind} has no ticket_id", field="ticket_id")
                        continue
                    audit_id = item.get("id")
                    order = audit_id if isinstance(audit_id, int) and not isinstance(audit_id, bool) else (as_str(audit_id) or "")
                    buffer.add(tid, [iso_time(item.get("created_at") or item.get("timestamp")) or "", order],
                               [source.name, record], {"kind": kind, "item": item})
            for tid, items in buffer.groups():
                threaded.add(tid)
                conversation = self._from_audits(tid, items, ticket_meta.get(tid))
                if conversation is not None:
                    self.report.read += 1
                    yield conversation
        else:
            threaded = set()
        for source, structure in zip(sources, structures):
            for conversation in self._read_plain(source, threaded):
                self.report.read += 1
                yield conversation

    def read_file(self, path, name):  # pragma: no cover - read() is overridden
        yield from self.read([path])

    # ------------------------------------------------------------------ structure walk

    def _collect_users(self, source: JsonSource, users: dict[str, dict[str, Any]], *, only_users: bool) -> dict[str, bool]:
        """Gather users from a file; say whether it holds threads (audits/events) and tickets."""
        structure = {"threads": False, "tickets": False}

        def keep(item: Mapping[str, Any]) -> None:
            uid = as_str(item.get("id"))
            if uid is not None:
                users[uid] = {k: item.get(k) for k in ("id", "name", "email", "phone", "role", "locale", "external_id")}

        if source.kind == "object" and not source.small:
            # A big document: the top-level keys tell the structure; only the users array is built.
            keys = set(source.top_keys())
            structure["threads"] = bool(keys & {"audits", "ticket_events", "audit"})
            structure["tickets"] = bool(keys & {"tickets", "results", "ticket"})
            if "users" in keys:
                for _, item in source.array("users"):
                    if isinstance(item, dict):
                        keep(item)
        elif source.kind == "jsonl":
            # Parse only the lines that can hold users or threads; tickets are recognised by bytes.
            from toolkit.io.jsonl import iter_raw_lines, open_binary, parse_line

            with open_binary(source.path) as stream:
                for number, raw, last in iter_raw_lines(stream):
                    if b'"requester_id"' in raw and not structure["tickets"]:
                        structure["tickets"] = True
                    if not any(marker in raw for marker in (b'"users"', b'"role"', b'"events"', b'"child_events"', b'"audits"', b'"ticket_events"')):
                        continue
                    line = parse_line(raw, source.name, number, last=last)
                    if line is None or not line.ok:
                        continue
                    for kind, item, _ in self._page(line.value, number, {"user", "audit", "ticket_event"}, source.name, True) \
                            if not (_is_ticket(line.value) or _is_audit(line.value) or _is_ticket_event(line.value) or _is_zendesk_user(line.value)) \
                            else [(_kind_of(line.value), line.value, number)]:
                        if kind == "user":
                            keep(item)
                        elif kind in ("audit", "ticket_event"):
                            structure["threads"] = True
                        elif kind == "ticket":
                            structure["tickets"] = True
        else:
            for kind, item, record in self._iter_objects(source, want={"user", "audit", "ticket_event", "ticket"}, quiet=True):
                if kind == "user":
                    keep(item)
                elif kind in ("audit", "ticket_event"):
                    structure["threads"] = True
                elif kind == "ticket":
                    structure["tickets"] = True
        if only_users and not users:
            raise ReaderError("no users found (expected {\"users\": [...]} or JSON Lines of user objects)", file=source.name)
        return structure

    def _iter_objects(self, source: JsonSource, want: set[str], quiet: bool = False) -> Iterator[tuple[str, dict[str, Any], Any]]:
        """Yield ``(kind, object, record)`` for the objects of the wanted kinds in a file.

        Kinds: ticket, audit, ticket_event, user, comments (a whole comments page or all bare
        comments of a file: ``object`` is then ``{"comments": [...], "users": ...}``).
        """
        if source.kind == "empty":
            return
        if source.kind == "object":
            keys = source.top_keys()
            known = [k for k in keys if k in (*_PAGE_KEYS, "users")]
            if not known:
                raise ReaderError(
                    f"no Zendesk tickets, comments, audits or users here (top-level keys: {', '.join(keys[:12]) or 'none'})",
                    file=source.name,
                    hint="expected an API response such as {\"tickets\": [...]} or {\"audits\": [...]}",
                )
            doc = None if not source.small else source.document()
            for key in keys:
                if key == "users" and "user" in want:
                    for index, user in source.array("users"):
                        if isinstance(user, dict):
                            yield "user", user, index
                elif key in ("tickets", "results") and "ticket" in want:
                    for index, ticket in source.array(key):
                        if isinstance(ticket, dict) and not _is_ticket(ticket) and key == "results":
                            continue  # search results of other types (users, organizations)
                        yield from self._checked("ticket", ticket, index, source.name, quiet)
                elif key in ("audits", "ticket_events") and want & {"audit", "ticket_event"}:
                    kind = "audit" if key == "audits" else "ticket_event"
                    for index, item in source.array(key):
                        yield from self._checked(kind, item, index, source.name, quiet)
                elif key == "ticket" and doc is not None and "ticket" in want and isinstance(doc.get("ticket"), dict) \
                        and isinstance(doc.get("comments"), list) and "comments" not in doc["ticket"]:
                    # {"ticket": {...}, "comments": [...]}: the comments are that ticket's thread.
                    yield "ticket", {**doc["ticket"], "comments": doc["comments"]}, 1
                elif key in ("ticket", "audit") and doc is not None and (key in want):
                    yield from self._checked(key, doc[key], 1, source.name, quiet)
                elif key == "comments" and doc is not None and isinstance(doc.get("ticket"), dict):
                    continue  # read with the ticket above
                elif key == "comments" and "comments" in want:
                    if doc is not None:
                        yield "comments", doc, 1
                    else:
                        yield "comments", {"comments": [c for _, c in source.array("comments")], "_big": True}, 1
            return
        if source.kind == "array":
            records = source.records()
        else:
            records = source.records()
        bare_comments: list[Any] = []
        for number, value, error in records:
            if error is not None:
                if not quiet and "comments" in want:
                    self.skip(source.name, number, R_INVALID_JSON, error)
                continue
            if not isinstance(value, dict):
                if not quiet and "comments" in want:
                    self.skip(source.name, number, R_NOT_OBJECT, f"got a JSON {type_name(value)}")
                continue
            if _is_ticket(value):
                if "ticket" in want:
                    yield from self._checked("ticket", value, number, source.name, quiet)
            elif any(k in value for k in _PAGE_KEYS) or ("users" in value and isinstance(value.get("users"), list)):
                yield from self._page(value, number, want, source.name, quiet)
            elif _is_audit(value):
                if "audit" in want:
                    yield from self._checked("audit", value, number, source.name, quiet)
            elif _is_ticket_event(value):
                if "ticket_event" in want:
                    yield from self._checked("ticket_event", value, number, source.name, quiet)
            elif _is_ticket(value):
                if "ticket" in want:
                    yield from self._checked("ticket", value, number, source.name, quiet)
            elif _is_zendesk_user(value):
                if "user" in want:
                    yield "user", value, number
            elif _is_comment(value):
                if "comments" in want:
                    bare_comments.append((number, value))
            elif not quiet and "comments" in want:
                self.skip(source.name, number, R_UNKNOWN_SHAPE,
                          f"not a Zendesk ticket, audit, comment or user (keys: {', '.join(list(value)[:8])})")
        if bare_comments:
            # Bare comment objects (one per line): one thread per ticket_id, in first-seen order.
            threads: dict[Any, list[tuple[int, Any]]] = {}
            for number, comment in bare_comments:
                threads.setdefault(as_str(comment.get("ticket_id")), []).append((number, comment))
            for items in threads.values():
                yield "comments", {"comments": [c for _, c in items]}, items[0][0]

    def _page(self, page: Mapping[str, Any], number: int, want: set[str], file: str, quiet: bool):
        for key, value in page.items():
            if key == "users" and "user" in want and isinstance(value, list):
                for user in value:
                    if isinstance(user, dict):
                        yield "user", user, number
            elif key in ("tickets", "results") and "ticket" in want and isinstance(value, list):
                for index, ticket in enumerate(value, start=1):
                    yield from self._checked("ticket", ticket, f"{number}:{key}[{index}]", file, quiet)
            elif key in ("audits", "ticket_events") and isinstance(value, list):
                kind = "audit" if key == "audits" else "ticket_event"
                if kind in want:
                    for index, item in enumerate(value, start=1):
                        yield from self._checked(kind, item, f"{number}:{key}[{index}]", file, quiet)
            elif key in ("ticket", "audit") and key in want:
                yield from self._checked(key, value, number, file, quiet)
            elif key == "comments" and "comments" in want:
                yield "comments", page, number

    def _checked(self, kind: str, item: Any, record: Any, file: str, quiet: bool):
        if not isinstance(item, dict):
            if not quiet:
                self.skip(file, record, R_NOT_OBJECT, f"{kind} is a JSON {type_name(item)}")
            return
        yield kind, item, record

    # ------------------------------------------------------------------ tickets and comments

    def _read_plain(self, source: JsonSource, threaded: set[str]) -> Iterator[Conversation]:
        for kind, item, record in self._iter_objects(source, want={"ticket", "comments"}):
            if kind == "ticket":
                tid = as_str(item.get("id"))
                if tid is None:
                    self.skip(source.name, record, R_MISSING_FIELD, "ticket has no id", field="id")
                    continue
                if tid in threaded:
                    continue
                conversation = self._from_ticket(item, source.name, record)
            else:
                conversation = self._from_comments(item, source.name, record)
            if conversation is not None:
                yield conversation

    def _from_ticket(self, ticket: Mapping[str, Any], file: str, record: Any) -> Conversation | None:
        meta = _ticket_meta(ticket)
        conversation = self._new_conversation(meta["id"], meta, file, record)
        sender = _via_from(ticket.get("via"))
        if sender is not None:  # an email ticket names its sender: the requester's address
            add_participant(conversation, Participant(id=meta.get("requester_id"), name=sender.get("name"),
                                                      email=sender.get("address"), kind=Speaker.CUSTOMER))
        comments = ticket.get("comments")
        if isinstance(comments, list) and comments:
            for index, comment in enumerate(comments, start=1):
                if not isinstance(comment, dict):
                    self.skip(file, record, R_NOT_OBJECT, f"comment {index} is a JSON {type_name(comment)}", part=f"comment {index}")
                    continue
                turn = self._comment_turn(comment, meta, conversation)
                if turn is not None:
                    conversation.turns.extend(self._expand_chat(turn, conversation, meta))
        elif self.opts["description"] and isinstance(ticket.get("description"), str) and ticket["description"].strip():
            author = as_str(ticket.get("submitter_id")) or meta.get("requester_id")
            turn = Turn(
                speaker=self._speaker_for(author, meta, public=True, via=meta.get("channel")),
                text=str(ticket["description"]).strip(),
                time=meta.get("created_at"),
                author_id=author,
                metadata={"from_description": True},
            )
            self._attach_author(turn, conversation)
            conversation.turns.append(turn)
        if not conversation.turns:
            self.skip(file, record, R_NO_MESSAGES, f"ticket {meta['id']} has no comments and no description")
            return None
        return conversation

    def _from_comments(self, page: Mapping[str, Any], file: str, record: Any) -> Conversation | None:
        comments = page.get("comments")
        if not isinstance(comments, list):
            self.skip(file, record, R_BAD_FIELD, f"'comments' is a JSON {type_name(comments)}, expected an array", field="comments")
            return None
        tid = self.opts["ticket_id"] or next((as_str(c.get("ticket_id")) for c in comments if isinstance(c, dict) and c.get("ticket_id")), None) or _id_from_name(file)
        meta: dict[str, Any] = {"id": tid}
        conversation = self._new_conversation(tid, meta, file, record)
        first_author = None
        for index, comment in enumerate(comments, start=1):
            if not isinstance(comment, dict):
                self.skip(file, record, R_NOT_OBJECT, f"comment {index} is a JSON {type_name(comment)}", part=f"comment {index}")
                continue
            if first_author is None and comment.get("public", True) is not False:
                # The response has no requester: the first public comment's author opened the ticket.
                first_author = as_str(comment.get("author_id"))
                if first_author is not None and meta.get("requester_id") is None:
                    meta["requester_id"] = first_author
                    conversation.customer_id = first_author
            turn = self._comment_turn(comment, meta, conversation)
            if turn is not None:
                conversation.turns.extend(self._expand_chat(turn, conversation, meta))
        if conversation.turns:
            conversation.created_at = conversation.created_at or conversation.turns[0].time
        if not conversation.turns:
            self.skip(file, record, R_NO_MESSAGES, "no comments with a body")
            return None
        return conversation

    # ------------------------------------------------------------------ audits / events

    def _from_audits(self, tid: str, items: list[tuple[Any, Any]], meta: dict[str, Any] | None) -> Conversation | None:
        file, record = items[0][0]
        meta = dict(meta or {"id": tid})
        meta["id"] = tid
        conversation = self._new_conversation(tid, meta, file, record)
        conversation.source["records"] = len(items)
        if not meta.get("requester_id"):
            # The requester is set by a Create event, often after the first comment of the same audit.
            for _, payload in items:
                for event in payload["item"].get("events") or payload["item"].get("child_events") or []:
                    if not isinstance(event, dict):
                        continue
                    value = event.get("value") if event.get("field_name") == "requester_id" else event.get("requester_id")
                    if value:
                        meta["requester_id"] = as_str(value)
                        conversation.customer_id = meta["requester_id"]
                        break
                if meta.get("requester_id"):
                    break
            self._add_requester(conversation, meta)
        turns_by_comment: dict[str, Turn] = {}
        privacy: dict[str, bool] = {}
        fields: dict[str, Any] = {}
        for (file, record), payload in items:
            item = payload["item"]
            if payload["kind"] == "audit":
                events = item.get("events")
                via = item.get("via")
            else:
                events = item.get("child_events")
                via = item.get("via")
            if not isinstance(events, list):
                self.skip(file, record, R_BAD_FIELD, f"'events' is a JSON {type_name(events)}", field="events")
                continue
            if conversation.channel is None:
                conversation.channel = _channel(via)
            when = iso_time(item.get("created_at") or item.get("timestamp"))
            conversation.created_at = conversation.created_at or when
            for event in events:
                if not isinstance(event, dict):
                    continue
                kind = event.get("type") or event.get("event_type")
                if kind in MESSAGE_EVENTS or (kind is None and "body" in event and "public" in event):
                    enriched = dict(event)
                    enriched.setdefault("created_at", item.get("created_at") or when)
                    enriched.setdefault("author_id", item.get("author_id") or item.get("updater_id"))
                    if "via" not in enriched and via is not None:
                        enriched["via"] = via
                    turn = self._comment_turn(enriched, meta, conversation, fields=fields)
                    if turn is not None:
                        conversation.turns.extend(self._expand_chat(turn, conversation, meta))
                        if turn.id is not None:
                            turns_by_comment[turn.id] = turn
                elif kind in ("Create", "Change"):
                    name = event.get("field_name")
                    if isinstance(name, str):
                        fields[name] = event.get("value")
                        if name == "requester_id" and not meta.get("requester_id"):
                            meta["requester_id"] = as_str(event.get("value"))
                    else:
                        # Incremental ticket events name the field as the key: {"status": "solved", ...}.
                        for key in _EVENT_FIELDS:
                            if key in event:
                                fields[key] = event[key]
                elif kind == "SatisfactionRating":
                    score = event.get("score")
                    if isinstance(score, str) and score.lower() in _CSAT_SCORES:
                        conversation.csat = score.lower()
                        if event.get("body"):
                            conversation.metadata["csat_comment"] = event.get("body")
                elif kind == "CommentPrivacyChange":
                    cid = as_str(event.get("comment_id"))
                    if cid is not None:
                        privacy[cid] = bool(event.get("public"))
        for cid, public in privacy.items():
            turn = turns_by_comment.get(cid)
            if turn is not None and not public and turn.speaker is not Speaker.NOTE:
                turn.metadata["made_private"] = True
                turn.metadata["speaker_was"] = turn.speaker.value
                turn.speaker = Speaker.NOTE
        # Field events fill what the ticket files did not give.
        if conversation.subject is None and isinstance(fields.get("subject"), str):
            conversation.subject = fields["subject"]
        if fields.get("status") and not meta.get("status"):
            conversation.status = str(fields["status"])
        if not conversation.tags and isinstance(fields.get("tags"), list):
            conversation.tags = [str(t) for t in fields["tags"]]
        if conversation.customer_id is None and meta.get("requester_id"):
            conversation.customer_id = meta["requester_id"]
        self._add_requester(conversation, meta)
        if not conversation.turns:
            self.skip(file, items[0][0][1], R_NO_MESSAGES, f"ticket {tid}: no comment events in its {len(items)} audit(s)")
            return None
        return conversation

    # ------------------------------------------------------------------ shared pieces

    def _new_conversation(self, tid: str, meta: Mapping[str, Any], file: str, record: Any) -> Conversation:
        conversation = Conversation(
            id=str(tid),
            customer_id=meta.get("requester_id"),
            channel=meta.get("channel"),
            subject=meta.get("subject"),
            status=meta.get("status"),
            csat=meta.get("csat"),
            tags=list(meta.get("tags") or []),
            created_at=meta.get("created_at"),
            source={"file": file, "record": record, "format": "zendesk"},
        )
        for key in ("priority", "type", "assignee_id", "group_id", "organization_id", "brand_id", "csat_comment", "external_id", "updated_at"):
            if meta.get(key) is not None:
                conversation.metadata[key] = meta[key]
        self._add_requester(conversation, meta)
        return conversation

    def _add_requester(self, conversation: Conversation, meta: Mapping[str, Any]) -> None:
        requester = meta.get("requester_id")
        if requester is None:
            return
        user = self.users.get(requester) if hasattr(self, "users") else None
        add_participant(conversation, _participant(requester, user, Speaker.CUSTOMER))
        if user and isinstance(user.get("locale"), str) and conversation.language is None:
            conversation.language = user["locale"].split("-")[0].lower() or None

    def _comment_turn(self, comment: Mapping[str, Any], meta: Mapping[str, Any], conversation: Conversation, fields: Mapping[str, Any] | None = None) -> Turn | None:
        text = _comment_text(comment)
        author = as_str(comment.get("author_id"))
        public = comment.get("public")
        public = True if public is None else bool(public)
        via = _channel(comment.get("via"))
        if not text:
            return None
        requester = meta.get("requester_id") or (as_str((fields or {}).get("requester_id")) if fields else None)
        speaker = self._speaker_for(author, {**meta, "requester_id": requester}, public=public, via=via)
        turn = Turn(speaker=speaker, text=text, time=iso_time(comment.get("created_at")), author_id=author, id=as_str(comment.get("id")))
        if via:
            turn.metadata["channel"] = via
        if comment.get("type") and comment.get("type") != "Comment":
            turn.metadata["event_type"] = comment.get("type")
        attachments = comment.get("attachments")
        if isinstance(attachments, list) and attachments:
            turn.metadata["attachments"] = [a.get("file_name") or a.get("name") for a in attachments if isinstance(a, dict)]
        self._attach_author(turn, conversation)
        return turn

    def _expand_chat(self, turn: Turn, conversation: Conversation, meta: Mapping[str, Any]) -> list[Turn]:
        """A legacy Zendesk Chat ticket keeps the whole chat in one comment ("(10:02:33 AM) Name: text"
        lines): split it into one turn per chat message, so the roles are right. Other comments
        come back unchanged."""
        channel = (turn.metadata.get("channel") or conversation.channel or "").lower()
        if not self.opts["split_chats"] or turn.speaker is Speaker.NOTE or "chat" not in channel or "\n" not in turn.text:
            return [turn]
        from toolkit.readers.transcript import TranscriptReader, _parse_line

        lines = turn.text.split("\n")
        parsed = [_parse_line(line) for line in lines if line.strip()]
        named = [p for p in parsed if p is not None and p[0]]
        if len(named) < 2 or len({p[0] for p in named}) < 2 or sum(p is not None for p in parsed) < len(parsed) / 2:
            return [turn]
        agents = [u["name"] for u in self.users.values() if u.get("name") and str(u.get("role") or "").lower() in ("agent", "admin")]
        requester = self.users.get(meta.get("requester_id") or "") or {}
        reader = TranscriptReader(agents=agents, split_blank_lines=0)
        reader.report = self.report
        transcript = next(reader._split(enumerate(lines, start=1)), None)
        if transcript is None:
            return [turn]
        chat = reader._conversation(transcript, conversation.source.get("file", ""), conversation.id, 1)
        if chat is None:
            return [turn]
        customer_name = (requester.get("name") or "").casefold()
        out = []
        for index, item in enumerate(chat.turns):
            if customer_name and item.author and item.author.casefold() == customer_name:
                item.speaker = Speaker.CUSTOMER
                item.metadata["role_from"] = "requester"
            item.id = turn.id if index == 0 else (f"{turn.id}.{index}" if turn.id else None)
            item.metadata = {**{k: v for k, v in turn.metadata.items() if k != "line"}, **item.metadata, "chat_transcript_of": turn.id}
            if item.time is None and turn.time and index == 0:
                item.time = turn.time
            out.append(item)
            if item.author and not any(p.name == item.author for p in conversation.participants):
                add_participant(conversation, Participant(name=item.author, kind=item.speaker if item.speaker is not Speaker.NOTE else Speaker.AGENT))
        return out

    def _speaker_for(self, author: str | None, meta: Mapping[str, Any], *, public: bool, via: str | None) -> Speaker:
        if not public:
            return Speaker.NOTE
        if via and via.lower().startswith(_BOT_CHANNELS):
            return Speaker.BOT
        if author is not None and author == meta.get("requester_id"):
            # The requester is the customer of this ticket, even when they are staff (internal tickets).
            return Speaker.CUSTOMER
        user = self.users.get(author) if (author and hasattr(self, "users")) else None
        if user is not None:
            role = str(user.get("role") or "").lower()
            if role in _ROLE_KIND:
                return _ROLE_KIND[role]
        if author in ("-1",):
            return Speaker.SYSTEM
        if not getattr(self, "_warned_roles", False):
            self._warned_roles = True
            self.report.warn("zendesk: author roles unknown (no users given): the requester is the customer, other authors are taken as agents; pass the users file to be exact")
        return Speaker.AGENT

    def _attach_author(self, turn: Turn, conversation: Conversation) -> None:
        if turn.author_id is None:
            return
        user = self.users.get(turn.author_id) if hasattr(self, "users") else None
        if user and user.get("name"):
            turn.author = str(user["name"])
        kind = turn.speaker if turn.speaker is not Speaker.NOTE else Speaker.AGENT
        add_participant(conversation, _participant(turn.author_id, user, kind))


# --------------------------------------------------------------------------- helpers


def _name(path: Any) -> str:
    from toolkit.readers.base import source_name

    return source_name(path)


def _comment_text(comment: Mapping[str, Any]) -> str:
    body = comment.get("body")
    if isinstance(body, str) and body.strip():
        return body.strip()
    html_body = comment.get("html_body")
    if isinstance(html_body, str) and html_body.strip():
        return html_to_text(html_body)
    plain = comment.get("plain_body")
    if isinstance(plain, str) and plain.strip():
        return plain.strip()
    data = comment.get("data")
    if isinstance(data, dict) and isinstance(data.get("transcription_text"), str):
        return data["transcription_text"].strip()
    return ""


def _channel(via: Any) -> str | None:
    if isinstance(via, dict):
        channel = via.get("channel")
        return str(channel) if channel not in (None, "") else None
    if isinstance(via, str) and via:
        return via.lower()
    return None


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else (str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None)


def _via_from(via: Any) -> dict[str, Any] | None:
    source = via.get("source") if isinstance(via, dict) else None
    sender = source.get("from") if isinstance(source, dict) else None
    if isinstance(sender, dict) and (sender.get("address") or sender.get("name")):
        return {"address": sender.get("address") or None, "name": sender.get("name") or None}
    return None


def _ticket_meta(ticket: Mapping[str, Any]) -> dict[str, Any]:
    rating = ticket.get("satisfaction_rating")
    csat = None
    csat_comment = None
    if isinstance(rating, dict):
        score = rating.get("score")
        if isinstance(score, str) and score.lower() in _CSAT_SCORES:
            csat = score.lower()
        csat_comment = rating.get("comment") or None
    tags = ticket.get("tags")
    return {
        "id": as_str(ticket.get("id")),
        "requester_id": as_str(ticket.get("requester_id")),
        "channel": _channel(ticket.get("via")),
        "subject": _text_or_none(ticket.get("subject")) or _text_or_none(ticket.get("raw_subject")),
        "status": _text_or_none(ticket.get("status")),
        "csat": csat,
        "csat_comment": csat_comment,
        "tags": [str(t) for t in tags] if isinstance(tags, list) else [],
        "created_at": iso_time(ticket.get("created_at")),
        "updated_at": iso_time(ticket.get("updated_at")),
        "priority": ticket.get("priority"),
        "type": ticket.get("type"),
        "assignee_id": as_str(ticket.get("assignee_id")),
        "group_id": as_str(ticket.get("group_id")),
        "organization_id": as_str(ticket.get("organization_id")),
        "brand_id": as_str(ticket.get("brand_id")),
        "external_id": ticket.get("external_id"),
    }


def _participant(uid: str, user: Mapping[str, Any] | None, kind: Speaker) -> Participant:
    if user:
        role = str(user.get("role") or "").lower()
        extra = {"role": role} if role else {}
        resolved = kind if kind is Speaker.BOT else _ROLE_KIND.get(role, kind)
        return Participant(id=uid, name=user.get("name") or None, email=user.get("email") or None,
                           phone=user.get("phone") or None, kind=resolved, extra=extra)
    return Participant(id=uid, kind=kind)


def _id_from_name(file: str) -> str:
    stem = os.path.basename(file).strip("<>")
    for suffix in (".gz", ".json", ".jsonl", ".ndjson"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    numbers = re.findall(r"\d+", stem)
    return numbers[0] if len(numbers) == 1 else stem


def _kind_of(value: Any) -> str:
    if _is_ticket(value):
        return "ticket"
    if _is_audit(value):
        return "audit"
    if _is_ticket_event(value):
        return "ticket_event"
    return "user"


def _is_ticket(value: Any) -> bool:
    return isinstance(value, dict) and "id" in value and (
        "requester_id" in value or "description" in value or ("subject" in value and ("status" in value or "via" in value))
    ) and "conversation_parts" not in value and "description_text" not in value


def _is_audit(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("events"), list) and "ticket_id" in value


def _is_ticket_event(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("child_events"), list) and "ticket_id" in value


def _is_comment(value: Any) -> bool:
    return isinstance(value, dict) and "author_id" in value and ("body" in value or "html_body" in value) and (
        "public" in value or value.get("type") == "Comment")


def _looks_like_comment_list(value: Any) -> bool:
    return isinstance(value, list) and (not value or _is_comment(value[0]))


def _is_zendesk_user(value: Any) -> bool:
    return isinstance(value, dict) and "id" in value and str(value.get("role") or "").lower() in _ROLE_KIND
