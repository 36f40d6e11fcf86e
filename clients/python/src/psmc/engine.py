"""The write engine (spec/SPEC.md §revision, §history, §cas, §batch, §undo; TypeScript:
src/core/engine.ts). Pure: it runs inside a storage write transaction (a ``tx``
object, see :mod:`psmc.port`) and takes the wall-clock reading and the source as
parameters. A raised error rolls the whole transaction back.
"""
from .change import SCHEMA_HISTORY_KEY, ChangeRecord, Commit
from .clock import format_hlc, next_hlc, parse_hlc
from .errors import PsmcError
from .keys import assert_key
from .port import StoredChange, StoredRow, _Record
from .source import MAX_SOURCE_LENGTH, assert_source  # noqa: F401 (re-exported)
from .value import decode_stored, encode_checked, js_quote, type_of

MAX_BATCH = 100000


class PreparedChange(_Record):
    """A request whose key and value have been checked and encoded (outside the lock)."""

    __slots__ = ("op", "key", "value", "text", "expect_revision")


class CommitResult(_Record):
    __slots__ = ("revision", "at", "records", "rows", "previous_revision")


def assert_revision_arg(n, what):
    if isinstance(n, bool) or not isinstance(n, (int, float)) or n != n or n < 0 or n > 9007199254740991 or (
        isinstance(n, float) and not n.is_integer()
    ):
        raise PsmcError(
            "PSMC_USAGE",
            "%s must be a whole number \u2265 0, received %r." % (what, n),
            'Pass the revision shown by get --json or history (0 means "the key must not exist").',
        )
    return int(n)


def _req_get(r, name, default=None):
    if isinstance(r, dict):
        return r.get(name, default)
    return getattr(r, name, default)


def _req_has(r, name):
    if isinstance(r, dict):
        return name in r
    return hasattr(r, name)


def prepare_changes(requests):
    """Checks and encodes a batch before the lock is taken; raises on the first bad request.

    A request is a dict ``{"op": "set", "key", "value", "expect_revision"?}`` or
    ``{"op": "delete", "key", "expect_revision"?}`` (``expectRevision`` is accepted too).
    """
    requests = list(requests)
    if len(requests) > MAX_BATCH:
        raise PsmcError(
            "PSMC_USAGE",
            "A batch holds %d changes; the limit is %d." % (len(requests), MAX_BATCH),
            "Split it into several batches.",
        )
    seen = set()
    out = []
    for i, r in enumerate(requests):
        op = _req_get(r, "op")
        if op not in ("set", "delete"):
            raise TypeError("change %d must be {'op': 'set', 'key', 'value'} or {'op': 'delete', 'key'}" % i)
        key = _req_get(r, "key")
        assert_key(key)
        if key in seen:
            raise PsmcError(
                "PSMC_USAGE",
                "The key %s appears twice in one batch (change %d)." % (js_quote(key), i),
                "Give each key at most once per batch.",
                {"key": key},
            )
        seen.add(key)
        expect = _req_get(r, "expect_revision")
        if expect is None:
            expect = _req_get(r, "expectRevision")
        if expect is not None:
            expect = assert_revision_arg(expect, "expect_revision")
        if op == "delete":
            out.append(PreparedChange("delete", key, None, None, expect))
        else:
            if not _req_has(r, "value"):
                raise TypeError("change %d sets %r but has no 'value'" % (i, key))
            value, text = encode_checked(_req_get(r, "value"), key)
            out.append(PreparedChange("set", key, value, text, expect))
    return out


def _conflict(key, current, expected):
    current_revision = 0 if current is None else current.revision
    details = {"key": key, "expectedRevision": expected, "currentRevision": current_revision}
    if current is not None:
        details["currentValue"] = decode_stored(current.value)
        what = "is at revision %d (set by %s at %s)" % (current_revision, current.source, current.updated_at)
    else:
        what = "does not exist (it was deleted or never set)"
    return PsmcError(
        "PSMC_CONFLICT",
        "The key %s %s, but the write expected revision %d." % (js_quote(key), what, expected),
        "Someone else changed it first. Read the current value, merge your change into it, and retry with its revision.",
        details,
    )


class ConflictNote(_Record):
    """A losing value to record with a commit (op ``conflict``, §history.record): the key's value
    did not change by it. ``lost``/``won`` are encoded values or None (absent)."""

    __slots__ = ("key", "lost", "won", "source", "note")


def commit_changes(tx, changes, wall_ms, source, schema_of, note=None, conflicts=()):
    """Applies a prepared batch: CAS and schema checks, then (when anything changes) the next
    revision and clock, one history record per change. No-op changes record nothing.
    ``conflicts`` (:class:`ConflictNote`) are appended as ``conflict`` records after the
    changes; they alone also take a revision."""
    state = tx.read_state()
    schema = schema_of(tx)
    effective = []
    for c in changes:
        old = tx.read_row(c.key)
        if c.expect_revision is not None and (0 if old is None else old.revision) != c.expect_revision:
            raise _conflict(c.key, old, c.expect_revision)
        if c.op == "set":
            if schema is not None:
                schema.validate(c.key, c.value)
            if old is not None and old.value == c.text:
                continue
        elif old is None:
            continue
        effective.append((c, old))
    if not effective and not conflicts:
        return CommitResult(state.revision, state.clock, [], {}, state.revision)
    revision = state.revision + 1
    at = format_hlc(next_hlc(parse_hlc(state.clock), wall_ms))
    records = []
    rows = {}
    for seq, (c, old) in enumerate(effective):
        records.append(
            StoredChange(
                revision,
                seq,
                c.key,
                c.op,
                None if old is None else old.value,
                c.text if c.op == "set" else None,
                source,
                at,
                note,
            )
        )
        rows[c.key] = StoredRow(c.key, c.text, type_of(c.value), revision, at, source) if c.op == "set" else None
    # Write in key order: B-tree inserts are then sequential. `seq` keeps the caller's order.
    order = sorted(records, key=lambda r: r.key) if len(records) > 64 else records
    for record in order:
        row = rows[record.key]
        if row is None:
            tx.delete_row(record.key)
        else:
            tx.put_row(row)
        tx.append_change(record)
    for c in conflicts:
        record = StoredChange(revision, len(records), c.key, "conflict", c.lost, c.won, c.source, at, c.note)
        tx.append_change(record)
        records.append(record)
    tx.write_state(revision, at)
    return CommitResult(revision, at, records, rows, state.revision)


def commit_schema(tx, doc_text, wall_ms, source, check, note=None):
    """Replaces the stored schema (None removes it), recorded under ``@schema``. ``check(rows)``
    validates every stored value against the new schema first."""
    state = tx.read_state()
    old = tx.read_schema()
    if (None if old is None else old.doc) == doc_text:
        return CommitResult(state.revision, state.clock, [], {}, state.revision)
    if doc_text is not None:
        check(tx.all_rows())
    revision = state.revision + 1
    at = format_hlc(next_hlc(parse_hlc(state.clock), wall_ms))
    tx.write_schema(doc_text, revision)
    record = StoredChange(
        revision, 0, SCHEMA_HISTORY_KEY, "schema", None if old is None else old.doc, doc_text, source, at, note
    )
    tx.append_change(record)
    tx.write_state(revision, at)
    return CommitResult(revision, at, [record], {}, state.revision)


class UndoPlan(_Record):
    __slots__ = ("revision", "changes", "schema")


def plan_undo(tx, target, force):
    """The changes that put every key of one revision back; PSMC_CONFLICT when a key changed
    again later (unless ``force``). ``schema`` is ``(doc_text_or_None,)`` for a schema revision."""
    if target is not None:
        target = assert_revision_arg(target, "revision")
    revision = tx.last_changed_revision() if target is None else target
    if revision == 0 and target is None:
        raise PsmcError("PSMC_NOTHING_TO_UNDO", "The store has no changes to undo.", "Nothing was ever written to this store.")
    records = tx.changes_at(revision)
    if not records:
        last = tx.read_state().revision
        raise PsmcError(
            "PSMC_NOT_FOUND",
            "Revision %d has no recorded changes (the store is at revision %d)." % (revision, last),
            "Pick a revision listed by `psmc history`.",
            {"revision": revision},
        )
    changes = []
    schema = None
    for r in records:
        # A conflict record changed no value: there is nothing to put back.
        if r.op == "conflict":
            continue
        if r.op == "schema":
            later = tx.last_revision_of(r.key)
            if not force and later != revision:
                raise _undo_conflict(r.key, revision, later)
            schema = (r.old_value,)
            continue
        current = tx.read_row(r.key)
        current_revision = 0 if current is None else current.revision
        if not force and current_revision != revision and not (current is None and r.op == "delete"):
            raise _undo_conflict(r.key, revision, current_revision)
        if r.old_value is None:
            changes.append(PreparedChange("delete", r.key, None, None, None))
        else:
            changes.append(PreparedChange("set", r.key, decode_stored(r.old_value), r.old_value, None))
    return UndoPlan(revision, changes, schema)


def _undo_conflict(key, revision, later):
    return PsmcError(
        "PSMC_CONFLICT",
        "Cannot undo revision %d: %s was changed again at revision %d." % (revision, js_quote(key), later),
        "Undo revision %d first, or force the undo (psmc undo %d --force) to overwrite the later change "
        "(it stays in history)." % (later, revision),
        {"key": key, "revision": revision, "currentRevision": later},
    )


def to_record(c):
    """A stored history row as the public :class:`ChangeRecord` (values decoded)."""
    return ChangeRecord(
        c.revision,
        c.seq,
        c.key,
        c.op,
        None if c.old_value is None else decode_stored(c.old_value),
        None if c.new_value is None else decode_stored(c.new_value),
        c.source,
        c.at,
        c.note,
        c.old_value is not None,
        c.new_value is not None,
    )


def to_commit(result):
    return Commit(result.revision, result.at, [to_record(r) for r in result.records])
