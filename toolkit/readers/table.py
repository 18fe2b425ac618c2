"""Tables with one message per row (CSV / TSV, Parquet, JSON Lines) -> conversations, streamed with Arrow.

The ``columns`` option maps roles to column names; roles not given are looked for under
common names (first match wins, case-insensitive):

=============  =====================================================================
conversation   conversation_id, conversation, thread_id, ticket_id, chat_id, session_id, dialog_id
role           role, speaker, sender_type, author_type, from, sender, direction
text           text, message, body, content, utterance, comment
time           time, timestamp, created_at, sent_at, date, datetime
id             message_id, id, msg_id
reply_to       reply_to, in_reply_to, reply_to_id, parent_id, parent_message_id
author         author, author_name, sender_name, name, user_name
customer       customer_id, user_id, requester_id, contact_id
channel, subject, status, csat, tags, language   the same names
=============  =====================================================================

Role values: ``agent_values`` (``--agent-value``) lists the values meaning an agent; when given,
``bot_values`` / ``note_values`` / ``system_values`` are bots, notes, system events and every other
value is the customer. Without ``agent_values`` common words are recognised (agent, support,
staff, operator, assistant, admin ... customer, user, client, visitor ... bot; note, internal,
private; system, event) and an unknown value is an error naming the row.

Rows are grouped by the conversation column, in order of first appearance, keeping file order
inside a conversation (``sort_by_time`` sorts by the time column instead). Without a conversation
column, threads are rebuilt from ``reply_to``: every message joins the thread of the message it
answers (a reply to an unknown message starts its own thread and is counted in a warning).
CSV and Parquet are streamed in Arrow record batches (``pyarrow.csv.open_csv``,
``ParquetFile.iter_batches``); every CSV column is read as text. Grouping spills to a
temporary file for big inputs, so memory stays flat; rebuilding threads
keeps only message ids in memory. Records are 1-based data rows (the CSV header is not a row).
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping

from toolkit.io.jsonl import open_binary
from toolkit.model import Conversation, Participant, Speaker, Turn
from toolkit.readers.base import (
    R_BAD_FIELD,
    R_INVALID_JSON,
    R_MISSING_FIELD,
    R_NOT_OBJECT,
    GroupBuffer,
    Reader,
    ReaderError,
    ReaderOption,
    Sample,
    add_participant,
    as_str,
    iso_time,
    type_name,
)

CANDIDATES: dict[str, tuple[str, ...]] = {
    "conversation": ("conversation_id", "conversation", "thread_id", "thread", "ticket_id", "chat_id", "session_id", "dialog_id", "dialogue_id", "case_id"),
    "role": ("role", "speaker", "sender_type", "author_type", "from", "sender", "direction", "speaker_role"),
    "text": ("text", "message", "body", "content", "utterance", "comment", "message_text"),
    "time": ("time", "timestamp", "created_at", "sent_at", "date", "datetime", "created"),
    "id": ("message_id", "id", "msg_id"),
    "reply_to": ("reply_to", "in_reply_to", "reply_to_id", "parent_id", "parent_message_id", "in_reply_to_id"),
    "author": ("author", "author_name", "sender_name", "name", "user_name", "username"),
    "customer": ("customer_id", "user_id", "requester_id", "contact_id"),
    "channel": ("channel", "source"),
    "subject": ("subject", "title"),
    "status": ("status", "state"),
    "csat": ("csat", "rating", "satisfaction"),
    "tags": ("tags", "labels"),
    "language": ("language", "lang", "locale"),
}
ROLES = tuple(CANDIDATES)
_DEFAULT_VALUES = {
    Speaker.AGENT: {"agent", "support", "staff", "operator", "assistant", "admin", "rep", "representative", "employee",
                    "company", "outbound", "outgoing", "human_agent", "sales", "advisor"},
    Speaker.CUSTOMER: {"customer", "user", "client", "visitor", "end-user", "end_user", "enduser", "human", "requester",
                       "inbound", "incoming", "contact", "lead", "guest", "caller"},
    Speaker.BOT: {"bot", "chatbot", "ai", "virtual_assistant", "automation"},
    Speaker.NOTE: {"note", "internal", "internal_note", "private", "private_note"},
    Speaker.SYSTEM: {"system", "event", "system_event"},
}
_BATCH = 10_000


class TableReader(Reader):
    name = "table"
    description = "tables with one message per row (CSV, TSV, Parquet, JSON Lines)"
    options = (
        ReaderOption("columns", "dict", {}, "role -> column name: " + ", ".join(ROLES)),
        ReaderOption("agent_values", "list[str]", [], "values of the role column that mean an agent"),
        ReaderOption("customer_values", "list[str]", [], "values of the role column that mean the customer"),
        ReaderOption("bot_values", "list[str]", [], "values of the role column that mean a bot"),
        ReaderOption("note_values", "list[str]", [], "values of the role column that mean an internal note"),
        ReaderOption("system_values", "list[str]", [], "values of the role column that mean a system event"),
        ReaderOption("delimiter", "str", None, "CSV field delimiter (default: ',' or tab for .tsv)"),
        ReaderOption("sort_by_time", "bool", False, "order each conversation's rows by the time column instead of file order"),
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        unknown = sorted(set(self.opts["columns"]) - set(ROLES))
        if unknown:
            raise ReaderError(f"unknown column role(s) {', '.join(map(repr, unknown))}; roles: {', '.join(ROLES)}")
        self._values: dict[str, Speaker] = {}
        given = {Speaker.AGENT: "agent_values", Speaker.CUSTOMER: "customer_values", Speaker.BOT: "bot_values",
                 Speaker.NOTE: "note_values", Speaker.SYSTEM: "system_values"}
        self._explicit = bool(self.opts["agent_values"])
        for speaker, option in given.items():
            for value in self.opts[option]:
                self._values[value.casefold().strip()] = speaker

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        columns: list[str] = []
        if sample.kind in ("csv", "parquet"):
            columns = sample.columns
        elif sample.kind in ("jsonl", "array") and sample.records and isinstance(sample.records[0], dict):
            first = sample.records[0]
            if all(not isinstance(v, (dict, list)) for v in first.values()):
                columns = list(first)
        if not columns:
            return 0
        lowered = {c.lower() for c in columns}
        has_text = any(c in lowered for c in CANDIDATES["text"])
        has_role = any(c in lowered for c in CANDIDATES["role"])
        if sample.kind in ("csv", "parquet"):
            return 90 if has_text else 40
        return 75 if (has_text and has_role) else 0

    # ------------------------------------------------------------------ reading

    def read_file(self, path, name) -> Iterator[Conversation]:
        columns = self._columns(path, name)
        mapping = self._mapping(columns, name)
        stem = _stem(name)
        if mapping.get("conversation") is None and mapping.get("reply_to") is not None:
            roots = self._thread_roots(path, name, mapping)
            key_of = lambda row, number: roots.get(as_str(row.get(mapping["id"])) if mapping.get("id") else None, f"row-{number}")  # noqa: E731
        elif mapping.get("conversation") is None:
            self.report.warn(f"table: {name}: no conversation or reply_to column; the whole file is read as one conversation "
                             "(pass --column conversation=COL)")
            key_of = lambda row, number: stem  # noqa: E731
        else:
            conv_col = mapping["conversation"]
            key_of = lambda row, number: as_str(row.get(conv_col))  # noqa: E731
        buffer = GroupBuffer()
        time_col = mapping.get("time")
        for number, row in self._rows(path, name):
            if row is None:
                continue
            key = key_of(row, number)
            if key is None:
                self.skip(name, number, R_MISSING_FIELD, f"no value in the conversation column {mapping['conversation']!r}", field=mapping["conversation"])
                continue
            sort_key = iso_time(row.get(time_col)) if (self.opts["sort_by_time"] and time_col) else None
            buffer.add(key, sort_key, number, {k: _plain(v) for k, v in row.items()})
        try:
            for key, rows in buffer.groups():
                conversation = self._conversation(key, rows, mapping, name)
                if conversation is not None:
                    yield conversation
        finally:
            buffer.close()

    def _columns(self, path, name) -> list[str]:
        kind = _kind(path, name)
        if kind == "parquet":
            import pyarrow.parquet as pq

            try:
                return list(pq.read_schema(path).names)
            except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
                raise ReaderError(f"not a readable Parquet file: {exc}", file=name) from exc
        if kind == "jsonl":
            for _, value, error in self.json_source(path, name).records():
                if error is None and isinstance(value, dict):
                    return list(value)
            return []
        try:
            reader = self._csv_reader(path, name, None)
            return list(reader.schema.names)
        except ReaderError:
            raise

    def _mapping(self, columns: list[str], name: str) -> dict[str, str | None]:
        lowered = {c.lower(): c for c in columns}
        mapping: dict[str, str | None] = {}
        for role, candidates in CANDIDATES.items():
            given = self.opts["columns"].get(role)
            if given is not None:
                if given not in columns:
                    match = lowered.get(str(given).lower())
                    if match is None:
                        raise ReaderError(f"column {given!r} (for {role}) is not in the table; columns: {', '.join(columns)}", file=name, field=role)
                    given = match
                mapping[role] = given
                continue
            mapping[role] = next((lowered[c] for c in candidates if c in lowered and lowered[c] not in mapping.values()), None)
        for required in ("text", "role"):
            if mapping.get(required) is None:
                raise ReaderError(
                    f"no {required} column found; columns: {', '.join(columns) or '(none)'}",
                    file=name,
                    field=required,
                    hint=f"pass --column {required}=COLUMN",
                )
        return mapping

    def _delimiter(self, name: str) -> str:
        if self.opts["delimiter"]:
            return self.opts["delimiter"]
        return "\t" if name.lower().endswith((".tsv", ".tsv.gz", ".tab")) else ","

    def _rows(self, path, name) -> Iterator[tuple[int, dict[str, Any] | None]]:
        """Yield ``(row_number, row)`` in file order, streaming in batches."""
        kind = _kind(path, name)
        number = 0
        if kind == "jsonl":  # JSON Lines, or a JSON array of row objects
            source = self.json_source(path, name)
            if source.kind == "object":
                raise ReaderError("a table in JSON must be JSON Lines or an array of row objects, not one object", file=name)
            for number, value, error in source.records():
                if error is not None:
                    self.skip(name, number, R_INVALID_JSON, error)
                    yield number, None
                elif not isinstance(value, dict):
                    self.skip(name, number, R_NOT_OBJECT, f"got a JSON {type_name(value)}")
                    yield number, None
                else:
                    yield number, dict(value)
            return
        if kind == "parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=_BATCH):
                for row in batch.to_pylist():
                    number += 1
                    yield number, row
            return
        reader = self._csv_reader(path, name, self._columns(path, name))
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid for malformed rows
                raise ReaderError(f"malformed CSV after row {number}: {exc}", file=name, record=number + 1, hint=_csv_hint(exc)) from exc
            for row in batch.to_pylist():
                number += 1
                yield number, row

    def _csv_reader(self, path, name: str, columns: list[str] | None):
        """A streaming pyarrow CSV reader, every column read as text.

        pyarrow's reader keeps one block in memory; polars 2's ``collect_batches`` runs the
        whole scan ahead of the consumer and buffers it (memory grew with the file), so the
        table reader streams CSV with pyarrow and builds rows from its batches.
        """
        import pyarrow as pa
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in columns}, strings_can_be_null=False) if columns else pacsv.ConvertOptions()
        try:
            return pacsv.open_csv(
                os.fspath(path),
                read_options=pacsv.ReadOptions(block_size=1 << 20),
                parse_options=pacsv.ParseOptions(delimiter=self._delimiter(name), newlines_in_values=True),
                convert_options=convert,
            )
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
            raise ReaderError(f"not a readable CSV file: {exc}", file=name, hint=_csv_hint(exc)) from exc

    def _thread_roots(self, path, name, mapping) -> dict[str | None, str]:
        id_col, parent_col = mapping.get("id"), mapping["reply_to"]
        if id_col is None:
            raise ReaderError("threads are rebuilt from reply_to, which needs a message id column", file=name, field="id",
                              hint="pass --column id=COLUMN (or --column conversation=COLUMN)")
        parents: dict[str, str | None] = {}
        for _, row in self._rows(path, name):
            if row is None:
                continue
            mid = as_str(row.get(id_col))
            if mid is not None:
                parents[mid] = as_str(row.get(parent_col))
        self.report.skipped = [s for s in self.report.skipped if s.file != name]  # the second pass reports them again
        roots: dict[str | None, str] = {}
        orphans = 0
        for mid in parents:
            chain = []
            current: str | None = mid
            while current is not None and current not in roots:
                chain.append(current)
                parent = parents.get(current, _MISSING)
                if parent is _MISSING:  # replies to a message that is not in the table
                    orphans += 1
                    break
                if parent is None or parent in chain:
                    break
                current = parent
            root = roots[current] if current in roots else chain[-1]
            for item in chain:
                roots[item] = root
        if orphans:
            self.report.warn(f"table: {name}: {orphans} message(s) reply to a message that is not in the table; each starts its own thread")
        return roots

    # ------------------------------------------------------------------ building

    def _conversation(self, key: str, rows: list[tuple[Any, Any]], mapping, file: str) -> Conversation | None:
        first_row = rows[0][0]
        conversation = Conversation(id=key, source={"file": file, "record": first_row, "format": "table", "rows": len(rows)})
        col = mapping.get
        for number, row in rows:
            text = row.get(col("text"))
            if text is None or (isinstance(text, str) and not text.strip()):
                self.skip(file, number, R_MISSING_FIELD, f"empty {col('text')!r}", field=col("text"))
                continue
            raw_role = row.get(col("role"))
            speaker = self._speaker(raw_role)
            if speaker is None:
                self.skip(file, number, R_BAD_FIELD,
                          f"{col('role')!r} is {raw_role!r}, which is not a known role (pass --agent-value for the agent values)",
                          field=col("role"))
                continue
            turn = Turn(speaker=speaker, text=str(text).strip(), time=iso_time(row.get(col("time"))) if col("time") else None,
                        id=as_str(row.get(col("id"))) if col("id") else None,
                        author=as_str(row.get(col("author"))) if col("author") else None, metadata={"row": number})
            if col("reply_to") and row.get(col("reply_to")) not in (None, ""):
                turn.metadata["reply_to"] = as_str(row.get(col("reply_to")))
            if raw_role is not None:
                turn.metadata["role"] = str(raw_role)
            conversation.turns.append(turn)
            if turn.author:
                add_participant(conversation, Participant(name=turn.author, kind=Speaker.AGENT if speaker is Speaker.NOTE else speaker))
            for role, attr in (("customer", "customer_id"), ("channel", "channel"), ("subject", "subject"), ("status", "status"),
                               ("csat", "csat"), ("language", "language")):
                if col(role) and getattr(conversation, attr) is None and row.get(col(role)) not in (None, ""):
                    value = row.get(col(role))
                    setattr(conversation, attr, value if attr == "csat" else str(value))
            if col("tags") and not conversation.tags and row.get(col("tags")):
                tags = row[col("tags")]
                conversation.tags = [str(t) for t in tags] if isinstance(tags, list) else [t.strip() for t in str(tags).split(",") if t.strip()]
        if not conversation.turns:
            return None  # every row was reported above
        conversation.created_at = conversation.turns[0].time
        return conversation

    def _speaker(self, value: Any) -> Speaker | None:
        if value is None:
            return None
        folded = str(value).casefold().strip()
        if folded in self._values:
            return self._values[folded]
        if self._explicit:
            return Speaker.CUSTOMER
        for speaker, values in _DEFAULT_VALUES.items():
            if folded in values:
                return speaker
        return None


_MISSING: Any = object()


def _csv_hint(exc: Exception) -> str | None:
    message = str(exc)
    if "UTF8" in message or "UTF-8" in message:
        return "the file is not UTF-8; re-encode it, e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`"
    if "Expected" in message and "columns" in message:
        return "a row has a different number of fields than the header; check quoting and the delimiter (--delimiter)"
    return None


def _plain(value: Any) -> Any:
    """Row values as JSON-compatible data (dates and decimals from Parquet become strings/floats)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return iso_time(value) if hasattr(value, "tzinfo") and hasattr(value, "hour") else value.isoformat()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _kind(path, name: str) -> str:
    lower = name.lower()
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".json")):
        return "jsonl"
    try:
        with open_binary(path) as stream:
            head = stream.read(4)
    except OSError as exc:
        raise ReaderError(f"cannot read: {exc.strerror or exc}", file=name) from exc
    if head == b"PAR1":
        return "parquet"
    if head.lstrip()[:1] == b"{":
        return "jsonl"
    return "csv"


def _stem(name: str) -> str:
    base = os.path.basename(name).strip("<>")
    for suffix in (".gz", ".csv", ".tsv", ".parquet", ".jsonl", ".ndjson", ".json"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base or "table"
