"""The snapshot file (spec/sections/snapshots.md §snapshot.format; TypeScript:
src/snapshot/format.ts). Pure: no I/O.

A snapshot is one JSON document, pretty-printed so that it reads well and diffs well under git::

    {"format":"psmc-snapshot","version":1,"name":…,"createdAt":"<ISO UTC>",
     "revision":N,"reason":…,"source":…,"entries":{key:{value,type,revision,updatedAt,source}},
     "schema"?:{…}}

:func:`render_snapshot` writes the exact bytes every language must write (the members in that
order, entries sorted by key in byte order, two-space indentation, a final LF).
:func:`parse_snapshot` checks every member, so a file edited by hand, truncated, or written by a
stranger is refused with a clear error instead of being restored.
"""
import json
import math
import re
from collections import namedtuple

from ..clock import _days_in_month, iso_utc, parse_hlc
from ..errors import PsmcError
from ..keys import assert_key, utf16_len, utf16_order
from ..schema import parse_schema_document
from ..source import assert_source
from ..value import MAX_SAFE_INTEGER, encode_checked, js_quote, member_order, stringify, type_of
from .names import assert_stored_name

SNAPSHOT_FORMAT = "psmc-snapshot"
SNAPSHOT_VERSION = 1

#: Why a snapshot was taken. Only ``manual`` snapshots are kept forever; the others rotate (§snapshot.auto).
SNAPSHOT_REASONS = ("manual", "before-restore", "before-import", "every-changes")

_TOP_MEMBERS = ("format", "version", "name", "createdAt", "revision", "reason", "source", "entries", "schema")
_ENTRY_MEMBERS = ("value", "type", "revision", "updatedAt", "source")
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z\Z")

SnapshotEntry = namedtuple("SnapshotEntry", ["value", "type", "revision", "updated_at", "source"])
SnapshotEntry.__doc__ = """One key of a snapshot: its checked value, its type name, the store revision
of its last change, that change's clock text (``updated_at``) and source."""


class SnapshotDocument(
    namedtuple("SnapshotDocument", ["name", "created_at", "revision", "reason", "source", "entries", "schema"])
):
    """A checked snapshot. ``entries`` is a dict key → :class:`SnapshotEntry`; ``schema`` is the
    store's schema document when it had one, else None (a valid schema document is never null)."""

    __slots__ = ()
    format = SNAPSHOT_FORMAT
    version = SNAPSHOT_VERSION


class _NoSchema(object):
    def __repr__(self):
        return "NO_SCHEMA"


#: The ``schema`` argument of :func:`build_snapshot` when the store has no schema.
NO_SCHEMA = _NoSchema()


def compare_keys(key):
    """Sort key for byte order of keys (keys are ASCII, so UTF-16 code-unit order is byte order)."""
    return utf16_order(key)


def iso_time(ms):
    """``ms`` as the createdAt text: ISO 8601 UTC with milliseconds."""
    return iso_utc(ms)


def is_iso_time(text):
    """True when ``text`` is a createdAt text (a real instant between years 0000 and 9999)."""
    if not isinstance(text, str):
        return False
    m = _ISO_RE.match(text)
    if m is None:
        return False
    y, mo, d, h, mi, s, _ = (int(g) for g in m.groups())
    return 1 <= mo <= 12 and 1 <= d <= _days_in_month(y, mo) and h <= 23 and mi <= 59 and s <= 59


def _indent(text, by):
    return text.replace("\n", "\n" + by)


def _s(v):
    return js_quote(v) if isinstance(v, str) else stringify(v)


def render_snapshot(doc):
    """The text of a snapshot file (a :class:`SnapshotDocument` built by :func:`build_snapshot`
    or returned by :func:`parse_snapshot`).

    The text equals ECMAScript ``JSON.stringify(doc, null, 2) + "\\n"`` with the top-level members
    in the order of §snapshot.format and the entries in byte order of their keys.
    """
    keys = sorted(doc.entries, key=compare_keys)
    if not keys:
        entries = "{}"
    else:
        parts = []
        for k in keys:
            e = doc.entries[k]
            parts.append(
                "    %s: {\n" % _s(k)
                + '      "value": %s,\n' % _indent(stringify(e.value, 2), "      ")
                + '      "type": %s,\n' % _s(e.type)
                + '      "revision": %s,\n' % _s(e.revision)
                + '      "updatedAt": %s,\n' % _s(e.updated_at)
                + '      "source": %s\n' % _s(e.source)
                + "    }"
            )
        entries = "{\n" + ",\n".join(parts) + "\n  }"
    lines = [
        '  "format": %s' % _s(SNAPSHOT_FORMAT),
        '  "version": %d' % SNAPSHOT_VERSION,
        '  "name": %s' % _s(doc.name),
        '  "createdAt": %s' % _s(doc.created_at),
        '  "revision": %s' % _s(doc.revision),
        '  "reason": %s' % _s(doc.reason),
        '  "source": %s' % _s(doc.source),
        '  "entries": %s' % entries,
    ]
    if doc.schema is not None:
        lines.append('  "schema": %s' % _indent(stringify(doc.schema, 2), "  "))
    return "{\n" + ",\n".join(lines) + "\n}\n"


# ---------------------------------------------------------------------------
# Reading


class _Undefined(object):
    pass


_UNDEFINED = _Undefined()


def _describe(v):
    if v is _UNDEFINED:
        return "nothing"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    text = _s(v)
    return text[:59] + "\u2026" if utf16_len(text) > 60 else text


_PARSE_HINT = (
    "A snapshot file is written by psmc; if it was edited by hand, fix the member named in the message "
    "(spec/sections/snapshots.md \u00a7snapshot.format), or delete the file."
)


def _parse_error(where, message, key=None, cause=None):
    details = {"file": where}
    if key is not None:
        details["key"] = key
    return PsmcError("PSMC_PARSE", "%s: %s" % (where, message), _PARSE_HINT, details, cause)


def _whole_number(v, minimum):
    """``v`` as an int when it is a JSON number that is a safe integer ≥ ``minimum``, else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float) and (not math.isfinite(v) or not v.is_integer()):
        return None
    n = int(v)
    if abs(n) > MAX_SAFE_INTEGER or n < minimum:
        return None
    return n


def _in_file(e, where, key):
    """A key or value error with the file named in its message (the code is kept)."""
    details = dict(e.details)
    details["file"] = where
    details["key"] = key
    return PsmcError(e.code, "%s: %s" % (where, e.message), e.hint, details, e)


def _get(o, name):
    return o[name] if name in o else _UNDEFINED


def parse_snapshot(text, file=None, expect_name=None):
    """Parses and checks the text of a snapshot file; returns a :class:`SnapshotDocument`.

    ``file`` names the file in messages; when ``expect_name`` is given (the name the file's name
    says), the ``name`` member must equal it. Raises PSMC_PARSE for text that is not a snapshot,
    PSMC_FORMAT_TOO_NEW for a newer version, PSMC_KEY_SYNTAX / PSMC_KEY_RESERVED /
    PSMC_VALUE_INVALID / PSMC_VALUE_TOO_LARGE for a bad key or value.
    """
    where = "the snapshot" if file is None else file
    if not isinstance(text, str):
        raise TypeError("parse_snapshot takes the text of a file")
    body = text[1:] if text.startswith("\ufeff") else text
    try:
        try:
            raw = json.loads(body, parse_constant=_no_constant, parse_int=_parse_int)
        except RecursionError:
            # Nested too deeply for the recursive parser; checking refuses it where JSON.parse would.
            raw = _parse_deep(body)
    except ValueError as cause:
        # Only the position: an excerpt of the text must not reach logs or HTTP bodies.
        pos = getattr(cause, "pos", None)
        at = "" if pos is None or body == "" else " at character %d" % (utf16_len(body[:pos]) + 1)
        raise _parse_error(where, "not valid JSON%s; the file may be truncated or damaged." % at) from None
    return check_snapshot(raw, file=where, expect_name=expect_name)


def _no_constant(name):
    raise ValueError("%s is not JSON" % name)


def _parse_int(text):
    # Beyond ~300 digits the double is infinite anyway; int() of a huge text is slow or refused.
    return int(text) if len(text) <= 320 else float(text)


_WS_RE = re.compile(r"[ \t\n\r]*")
_NUMBER_RE = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = (("true", True), ("false", False), ("null", None))


def _parse_deep(text):
    """``JSON.parse`` without recursion (same results as ``json.loads`` for any nesting depth).
    Raises ``json.JSONDecodeError``."""
    scanstring = json.decoder.scanstring
    stack = []  # open containers: [list] or [dict, pending member name]
    pos = _WS_RE.match(text, 0).end()
    n = len(text)

    def fail(msg, at):
        raise json.JSONDecodeError(msg, text, at)

    while True:
        # A value starts at pos.
        if pos >= n:
            fail("Expecting value", pos)
        c = text[pos]
        if c == "{" or c == "[":
            pos = _WS_RE.match(text, pos + 1).end()
            close = "}" if c == "{" else "]"
            if pos < n and text[pos] == close:
                value = {} if c == "{" else []
                pos += 1
            else:
                if c == "[":
                    stack.append([[]])
                    continue
                if pos >= n or text[pos] != '"':
                    fail("Expecting property name enclosed in double quotes", pos)
                name, pos = scanstring(text, pos + 1)
                pos = _WS_RE.match(text, pos).end()
                if pos >= n or text[pos] != ":":
                    fail("Expecting ':' delimiter", pos)
                pos = _WS_RE.match(text, pos + 1).end()
                stack.append([{}, name])
                continue
        elif c == '"':
            value, pos = scanstring(text, pos + 1)
        else:
            for word, v in _LITERALS:
                if text.startswith(word, pos):
                    value = v
                    pos += len(word)
                    break
            else:
                m = _NUMBER_RE.match(text, pos)
                if m is None:
                    fail("Expecting value", pos)
                i, f, e = m.groups()
                value = float(i + (f or "") + (e or "")) if f or e else _parse_int(i)
                pos = m.end()
        # A value ended: attach it to the open containers, closing them as they end.
        while True:
            pos = _WS_RE.match(text, pos).end()
            if not stack:
                if pos != n:
                    fail("Extra data", pos)
                return value
            top = stack[-1]
            if isinstance(top[0], list):
                top[0].append(value)
                if pos < n and text[pos] == ",":
                    pos = _WS_RE.match(text, pos + 1).end()
                    break
                if pos < n and text[pos] == "]":
                    pos += 1
                    value = stack.pop()[0]
                    continue
                fail("Expecting ',' delimiter", pos)
            top[0][top[1]] = value
            if pos < n and text[pos] == ",":
                pos = _WS_RE.match(text, pos + 1).end()
                if pos >= n or text[pos] != '"':
                    fail("Expecting property name enclosed in double quotes", pos)
                top[1], pos = scanstring(text, pos + 1)
                pos = _WS_RE.match(text, pos).end()
                if pos >= n or text[pos] != ":":
                    fail("Expecting ':' delimiter", pos)
                pos = _WS_RE.match(text, pos + 1).end()
                break
            if pos < n and text[pos] == "}":
                pos += 1
                value = stack.pop()[0]
                continue
            fail("Expecting ',' delimiter", pos)


def check_snapshot(raw, file=None, expect_name=None):
    """Checks a parsed snapshot document (see :func:`parse_snapshot`)."""
    where = "the snapshot" if file is None else file
    if not isinstance(raw, dict):
        raise _parse_error(where, "expected a JSON object, found %s." % _describe(raw))
    fmt = _get(raw, "format")
    if not (isinstance(fmt, str) and fmt == SNAPSHOT_FORMAT):
        raise _parse_error(
            where, '"format" must be "%s", found %s; this is not a psmc snapshot.' % (SNAPSHOT_FORMAT, _describe(fmt))
        )
    raw_version = _get(raw, "version")
    version = _whole_number(raw_version, 1)
    if version is None:
        raise _parse_error(where, '"version" must be a whole number \u2265 1, found %s.' % _describe(raw_version))
    if version > SNAPSHOT_VERSION:
        raise PsmcError(
            "PSMC_FORMAT_TOO_NEW",
            "%s is snapshot version %d; this psmc reads version %d." % (where, version, SNAPSHOT_VERSION),
            "Upgrade psmc to read it, or take the snapshot again with this version.",
            {"file": where},
        )
    for m in member_order(list(raw)):
        if m not in _TOP_MEMBERS:
            raise _parse_error(
                where,
                "unknown member %s (a version %d snapshot has %s)."
                % (js_quote(m), SNAPSHOT_VERSION, ", ".join(_TOP_MEMBERS)),
            )
    name = raw.get("name")
    assert_stored_name(name, where)
    if expect_name is not None and name != expect_name:
        raise _parse_error(
            where,
            'the file is named %s but its "name" member says %s.' % (js_quote(expect_name), js_quote(name)),
        )
    created_at = _get(raw, "createdAt")
    if not is_iso_time(created_at):
        raise _parse_error(
            where,
            '"createdAt" must be an ISO 8601 UTC time such as "2026-11-26T04:45:41.123Z", found %s.'
            % _describe(created_at),
        )
    raw_revision = _get(raw, "revision")
    revision = _whole_number(raw_revision, 0)
    if revision is None:
        raise _parse_error(where, '"revision" must be a whole number \u2265 0, found %s.' % _describe(raw_revision))
    reason = _get(raw, "reason")
    if not isinstance(reason, str) or reason not in SNAPSHOT_REASONS:
        raise _parse_error(
            where, '"reason" must be one of %s, found %s.' % (", ".join(SNAPSHOT_REASONS), _describe(reason))
        )
    source = _get(raw, "source")
    try:
        assert_source(source)
    except PsmcError as cause:
        raise _parse_error(
            where, '"source" must be 1\u2013128 printable characters, found %s.' % _describe(source), None, cause
        )
    raw_entries = _get(raw, "entries")
    if not isinstance(raw_entries, dict):
        raise _parse_error(
            where, '"entries" must be an object of key \u2192 entry, found %s.' % _describe(raw_entries)
        )
    entries = {}
    for key in member_order(list(raw_entries)):
        try:
            assert_key(key)
        except PsmcError as e:
            raise _in_file(e, where, key)
        e = raw_entries[key]
        what = "entry %s" % js_quote(key)
        if not isinstance(e, dict):
            raise _parse_error(where, "%s must be an object, found %s." % (what, _describe(e)), key)
        for m in member_order(list(e)):
            if m not in _ENTRY_MEMBERS:
                raise _parse_error(where, "%s has an unknown member %s." % (what, js_quote(m)), key)
        if "value" not in e:
            raise _parse_error(where, '%s has no "value".' % what, key)
        try:
            value = encode_checked(e["value"], key)[0]
        except PsmcError as err:
            raise _in_file(err, where, key)
        typ = type_of(value)
        raw_type = _get(e, "type")
        if not (isinstance(raw_type, str) and raw_type == typ):
            raise _parse_error(
                where,
                '%s: "type" is %s but the value is of type "%s".' % (what, _describe(raw_type), typ),
                key,
            )
        raw_rev = _get(e, "revision")
        rev = _whole_number(raw_rev, 1)
        if rev is None or rev > revision:
            raise _parse_error(
                where,
                '%s: "revision" must be a whole number from 1 to the snapshot\'s revision %d, found %s.'
                % (what, revision, _describe(raw_rev)),
                key,
            )
        updated_at = _get(e, "updatedAt")
        try:
            if not isinstance(updated_at, str):
                raise TypeError("not a string")
            parse_hlc(updated_at)
        except (PsmcError, TypeError) as cause:
            raise _parse_error(
                where,
                '%s: "updatedAt" must be a psmc clock text such as "2026-11-26T04:45:41.123Z-0000", found %s.'
                % (what, _describe(updated_at)),
                key,
                cause,
            )
        src = _get(e, "source")
        try:
            assert_source(src)
        except PsmcError as cause:
            raise _parse_error(
                where,
                '%s: "source" must be 1\u2013128 printable characters, found %s.' % (what, _describe(src)),
                key,
                cause,
            )
        entries[key] = SnapshotEntry(value, typ, rev, updated_at, src)
    schema = None
    if "schema" in raw:
        s = raw["schema"]
        try:
            parse_schema_document(s)
        except Exception as cause:  # noqa: BLE001 — whatever refused it, the file is malformed
            why = cause.message if isinstance(cause, PsmcError) else str(cause)
            raise _parse_error(where, '"schema" is not a valid psmc schema document: %s' % why, None, cause)
        schema = s
    return SnapshotDocument(name, created_at, revision, reason, source, entries, schema)


def build_snapshot(name, created_at, revision, reason, source, entries, schema=NO_SCHEMA):
    """A checked :class:`SnapshotDocument` from its parts (the same checks as :func:`parse_snapshot`).

    ``entries``: a dict key → dict with ``value``, ``revision``, ``updated_at`` and ``source`` (or a
    :class:`SnapshotEntry`; its ``type`` is recomputed from the value). ``schema``: the store's
    schema document, or :data:`NO_SCHEMA`.
    """
    raw_entries = {}
    for key in member_order(list(entries)):
        e = entries[key]
        if isinstance(e, SnapshotEntry):
            e = e._asdict()
        value = encode_checked(e["value"], key)[0]
        raw_entries[key] = {
            "value": value,
            "type": type_of(value),
            "revision": e["revision"],
            "updatedAt": e["updated_at"],
            "source": e["source"],
        }
    raw = {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "name": name,
        "createdAt": created_at,
        "revision": revision,
        "reason": reason,
        "source": source,
        "entries": raw_entries,
    }
    if schema is not NO_SCHEMA:
        raw["schema"] = schema
    return check_snapshot(raw, file="snapshot %s" % (js_quote(name) if isinstance(name, str) else repr(name)))


def values_of(doc):
    """The key → value pairs of a snapshot, as a plain dict."""
    return {k: e.value for k, e in doc.entries.items()}


def snapshot_to_json(doc):
    """The document as plain data (the members of §snapshot.format), e.g. for ``json.dumps``."""
    out = {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "name": doc.name,
        "createdAt": doc.created_at,
        "revision": doc.revision,
        "reason": doc.reason,
        "source": doc.source,
        "entries": {
            k: {
                "value": doc.entries[k].value,
                "type": doc.entries[k].type,
                "revision": doc.entries[k].revision,
                "updatedAt": doc.entries[k].updated_at,
                "source": doc.entries[k].source,
            }
            for k in sorted(doc.entries, key=compare_keys)
        },
    }
    if doc.schema is not None:
        out["schema"] = doc.schema
    return out

