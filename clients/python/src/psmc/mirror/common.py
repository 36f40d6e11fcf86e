"""What the three mirror codecs share (spec/sections/mirror-format.md; TypeScript:
src/mirror/codecs/common.ts, render.ts, types.ts): positions, the header line, errors that carry
line and column, the key and value checks, canonical entries and the span-edit engine of
§mirror.update. Pure: text in, text or values out.

Offsets are indexes into a Python ``str`` (code points), so a column is simply the distance from
the start of the line, as §mirror.parse counts it.
"""
import re

from ..errors import PsmcError
from ..keys import assert_key, is_valid_key, key_error
from ..value import encode_checked, js_quote
from .files import HEADER_TEXT, MIRROR_FILES, MIRROR_VERSION  # noqa: F401 (re-exported)


class _Delete(object):
    __slots__ = ()

    def __repr__(self):
        return "DELETE"


#: The value of a change that removes its key (``update(text, [("a", DELETE)])``).
DELETE = _Delete()


class ParsedMirror(object):
    """What ``parse`` found: ``values`` (key → value, in file order) and ``header``
    (``{"version": 1}``, or None when line 1 is no header)."""

    __slots__ = ("values", "header")

    def __init__(self, values, header):
        self.values = values
        self.header = header

    def __repr__(self):
        return "ParsedMirror(values=%r, header=%r)" % (self.values, self.header)


class Entry(object):
    """One top-level entry of a parsed file and where its text lies (``start``: the key's first
    character; ``end``: just after the value)."""

    __slots__ = ("key", "value", "encoded", "start", "end", "comma")

    def __init__(self, key, value, encoded, start, end, comma=-1):
        self.key = key
        self.value = value
        self.encoded = encoded
        self.start = start
        self.end = end
        self.comma = comma


class Layout(object):
    __slots__ = ("entries", "header", "open", "close")

    def __init__(self, entries, header, open_at=-1, close_at=-1):
        self.entries = entries
        self.header = header
        self.open = open_at
        self.close = close_at


# ---------------------------------------------------------------------------
# Positions


def position(text, offset):
    """1-based ``(line, column)`` of ``offset``; the column counts code points."""
    end = min(max(offset, 0), len(text))
    line = text.count("\n", 0, end) + 1
    return line, end - (text.rfind("\n", 0, end) + 1) + 1


def line_start(text, offset):
    return 0 if offset <= 0 else text.rfind("\n", 0, offset) + 1


def line_end(text, offset):
    """Offset of the ``\\n`` ending the line holding ``offset``, or ``len(text)``."""
    i = text.find("\n", offset)
    return len(text) if i == -1 else i


def newline_of(text):
    return "\r\n" if "\r\n" in text else "\n"


_BLANK = re.compile(r"[ \t\r]*\Z")
_BLANKS = re.compile(r"[ \t]*")


def is_blank(s):
    return _BLANK.match(s) is not None


def is_space(s):
    """JavaScript's ``/^\\s*$/``."""
    return s.strip() == "" if s else True


# ---------------------------------------------------------------------------
# Errors


def parse_error(text, offset, what, hint, extra=None):
    line, column = position(text, offset)
    details = dict(extra or {})
    details["line"] = line
    details["column"] = column
    return PsmcError("PSMC_PARSE", "%s (line %d, column %d)." % (what, line, column), hint, details)


def parse_error_at(line, column, what, hint, cause=None):
    return PsmcError(
        "PSMC_PARSE", "%s (line %d, column %d)." % (what, line, column), hint, {"line": line, "column": column}, cause
    )


def check_key(name, text, offset):
    """Raises the key error of §key with the entry's position added, unless ``name`` is a legal key."""
    if is_valid_key(name):
        return
    e = key_error(name)
    line, column = position(text, offset)
    details = dict(e.details)
    details.update({"key": name, "line": line, "column": column})
    raise PsmcError(
        e.code,
        "%s A top-level name of the mirror is a key (line %d, column %d)." % (e.message, line, column),
        e.hint,
        details,
    )


def check_value(value, key, text, offset):
    """``(checked value, encoded text)``; a §value.limits failure gets the entry's position."""
    try:
        return encode_checked(value, key)
    except PsmcError as e:
        line, column = position(text, offset)
        details = dict(e.details)
        details.update({"key": key, "line": line, "column": column})
        raise PsmcError(e.code, "%s (line %d, column %d)" % (e.message, line, column), e.hint, details, e)


def duplicate_error(text, name, first_offset, second_offset, key=None):
    """The error for a name given twice in one mapping, naming both lines."""
    a_line, a_col = position(text, first_offset)
    b_line, b_col = position(text, second_offset)
    if key is None:
        what = "The key %s" % js_quote(name)
    else:
        what = "The member %s in the value of key %s" % (js_quote(name), js_quote(key))
    return PsmcError(
        "PSMC_PARSE",
        "%s appears twice: on line %d (column %d) and on line %d (column %d)." % (what, a_line, a_col, b_line, b_col),
        "Keep one of the two entries and delete the other.",
        {
            "key": name if key is None else key,
            "line": b_line,
            "column": b_col,
            "firstLine": a_line,
            "firstColumn": a_col,
        },
    )


def depth_error(text, offset, key):
    """PSMC_VALUE_INVALID for nesting deeper than the value rules allow."""
    line, column = position(text, offset)
    details = {} if key is None else {"key": key}
    details.update({"line": line, "column": column})
    return PsmcError(
        "PSMC_VALUE_INVALID",
        "A value nests deeper than 64 levels (line %d, column %d)." % (line, column),
        "Flatten the value; at most 64 nested arrays/objects are allowed.",
        details,
    )


# ---------------------------------------------------------------------------
# The header


_HEADER_RES = {}


def read_header(text, marker):
    """Reads the header from line 1 (§mirror.header): ``{"version": n}`` or None. Raises
    PSMC_FORMAT_TOO_NEW for a newer version and PSMC_PARSE for version 0."""
    first = text[: line_end(text, 0)]
    rx = _HEADER_RES.get(marker)
    if rx is None:
        rx = _HEADER_RES[marker] = re.compile(r"[ \t]*%s[ \t]*psmc mirror v([0-9]+)(?![0-9A-Za-z_])" % re.escape(marker))
    m = rx.match(first)
    if m is None:
        return None
    digits = m.group(1)
    column = m.start() + len(m.group(0)) - len(digits)
    version = int(digits)
    if version > MIRROR_VERSION:
        raise PsmcError(
            "PSMC_FORMAT_TOO_NEW",
            "The mirror file says it is psmc mirror v%s; this psmc reads v%d (line 1, column %d)."
            % (digits, MIRROR_VERSION, column),
            "Upgrade psmc, or delete the file to have it written again from the store.",
            {"line": 1, "column": column, "version": version},
        )
    if version < 1:
        raise parse_error_at(
            1,
            column,
            "The header names mirror version %s, which does not exist" % digits,
            'Write "psmc mirror v%d" in the header, or delete the header line.' % MIRROR_VERSION,
        )
    return {"version": version}


_LONE_CR = re.compile(r"\r(?!\n)")


def check_line_breaks(text):
    """Refuses a CR that does not start a CRLF (§mirror.parse, line breaks), wherever it is:
    between tokens, in a comment, inside a string, at the end. Lines, columns and the line-wise
    edits of update count LF only, and readers and editors disagree on whether a lone CR starts a
    line (YAML says it does, TOML forbids it, JSONC ends a ``//`` comment there), so one reading
    is refused by all. Runs after the header and before the format's own syntax."""
    m = _LONE_CR.search(text)
    if m is None:
        return
    raise parse_error(
        text,
        m.start(),
        "A carriage return (CR) that is not followed by a line feed: lines end with LF or CRLF",
        "Save the file with LF or CRLF line endings (the line-ending setting of your editor); "
        "a CR on its own, the classic Mac OS line ending, is not read.",
    )


def split_bom(text):
    """``(bom, rest)``: a leading byte order mark is kept by update and ignored by parse."""
    return ("\ufeff", text[1:]) if text[:1] == "\ufeff" else ("", text)


def to_parsed(layout):
    values = {}
    for e in layout.entries:
        values[e.key] = e.value
    return ParsedMirror(values, layout.header)


def check_duplicates(text, entries):
    seen = {}
    for e in entries:
        first = seen.get(e.key)
        if first is not None:
            raise duplicate_error(text, e.key, first, e.start)
        seen[e.key] = e.start


# ---------------------------------------------------------------------------
# Rendering


def canonical_entries(entries):
    """Checks keys (§key) and values (§value.limits; -0 becomes 0) and sorts by key. A key given
    twice is PSMC_USAGE. ``entries``: ``(key, value)`` pairs or a mapping."""
    if isinstance(entries, dict):
        entries = list(entries.items())
    seen = set()
    out = []
    for pair in entries:
        key, value = pair
        assert_key(key)
        if key in seen:
            raise PsmcError("PSMC_USAGE", "The key %s is given twice." % js_quote(key), "Give each key once.", {"key": key})
        seen.add(key)
        out.append((key, encode_checked(value, key)[0]))
    out.sort(key=lambda p: p[0])
    return out


def holds_null(v):
    """True when the value holds null at any depth."""
    if v is None:
        return True
    if isinstance(v, (list, tuple)):
        return any(holds_null(x) for x in v)
    if isinstance(v, dict):
        return any(holds_null(x) for x in v.values())
    return False


# ---------------------------------------------------------------------------
# Update


def _changes_list(changes):
    if isinstance(changes, dict):
        return list(changes.items())
    out = []
    for c in changes:
        if isinstance(c, dict):
            out.append((c.get("key"), c["value"] if "value" in c else DELETE))
        else:
            key, value = c
            out.append((key, value))
    return out


def check_changes(changes):
    """Checks the changes as a batch would: legal keys, legal values, no key twice; sorted by key.
    Each result is ``(key, value, encoded)``; ``value`` is DELETE for a removal."""
    seen = set()
    out = []
    for key, value in _changes_list(changes):
        assert_key(key)
        if key in seen:
            raise PsmcError(
                "PSMC_USAGE",
                "The key %s appears twice in one mirror update." % js_quote(key),
                "Give each key once per update.",
                {"key": key},
            )
        seen.add(key)
        if value is DELETE:
            out.append((key, DELETE, None))
        else:
            checked, text = encode_checked(value, key)
            out.append((key, checked, text))
    out.sort(key=lambda c: c[0])
    return out


def run_update(text, changes, editor):
    """Applies changes one at a time in key order (§mirror.update), scanning the text again after
    each edit so every edit sees exact positions."""
    return update_layout(text, changes, editor)[0]


def update_layout(text, changes, editor, layout=None):
    """:func:`run_update` that also returns the layout of the result: ``(text, layout)``, the layout
    of the text without its BOM. ``layout``: the layout of ``text`` (without BOM) when the caller
    knows it already (the mirror engine keeps the one of the file it last wrote), else it is scanned.
    The given layout is never changed.

    An editor with ``piece(text, entry, value)`` (the text :meth:`replace` puts in place of the
    entry) and ``scan_alone(piece)`` replaces values without scanning the whole text again (see
    :func:`_replace_values`); inserts and removals scan it. The result is the same either way."""
    items = check_changes(changes)
    bom, t = split_bom(text)
    if layout is None:
        layout = editor.scan(t)
    fast = getattr(editor, "scan_alone", None) is not None
    where = None
    batch = []  # replacements not applied yet: (index, value, encoded)
    for key, value, encoded in items:
        if where is None:
            where = dict((e.key, i) for i, e in enumerate(layout.entries))
        index = where.get(key, -1)
        current = layout.entries[index] if index >= 0 else None
        if value is DELETE:
            if current is None:
                continue
        elif current is not None:
            if current.encoded == encoded:
                continue
            if fast:
                # Replacements touch only their own entry: gather them, apply them together.
                batch.append((index, value, encoded))
                continue
        if batch:
            t, layout = _replace_values(t, layout, batch, editor)
            batch = []
            current = layout.entries[index] if index >= 0 else None
        if value is DELETE:
            nxt = editor.remove(t, layout, index)
        elif current is not None:
            nxt = editor.replace(t, layout, index, value)
        else:
            nxt = editor.insert(t, layout, key, value)
        layout = _rescan(editor, nxt, key)
        where = None
        t = nxt
    if batch:
        t, layout = _replace_values(t, layout, batch, editor)
    return bom + t, layout


def _rescan(editor, text, key):
    try:
        return editor.scan(text)
    except PsmcError as e:
        raise PsmcError(
            "PSMC_INTERNAL",
            "Updating the mirror for key %s produced text that does not parse." % js_quote(key),
            "This is a bug in psmc; please report it with the file. Deleting the file makes psmc write it again.",
            {"key": key},
            e,
        )


def _replace_values(text, layout, batch, editor):
    """``(text, layout)`` after replacing the values of ``batch`` (``(index, value, encoded)`` in key
    order), exactly as :func:`run_update` would one after the other with a scan after each, in one
    pass over the text and the entries.

    Each new entry text (``editor.piece``) is scanned alone (``editor.scan_alone(piece)`` gives the
    entries and where the piece starts in what it scanned): it must give one entry, of the same key,
    of the value of ``encoded``, spanning the whole piece. A value reads the same wherever it stands,
    so that entry is what a scan of the whole text would give; everything after it moves by the
    change in length. A piece depends on the text before the entry on its line (its indentation) and
    on whether the text holds a CRLF; one after another, an earlier replacement could change those
    for a later one: only when none can (each entry's line starts after the previous replaced
    entry; a CRLF outside the replaced entries, or none at all) are all pieces taken from the text
    as it is; otherwise the replacements are applied one at a time. A piece that does not scan as
    it must makes the text be rebuilt and scanned whole (which reports the error)."""
    entries = layout.entries
    todo = sorted(batch, key=lambda b: entries[b[0]].start)
    if len(todo) > 1:
        ok = True
        prev_end = -1
        for index, _value, _encoded in todo:
            e = entries[index]
            if prev_end >= line_start(text, e.start):
                ok = False
                break
            prev_end = e.end
        if ok and "\r\n" in text:
            pos = 0
            ok = False
            for index, _value, _encoded in todo:
                e = entries[index]
                if text.find("\r\n", pos, e.start) >= 0:
                    ok = True
                    break
                pos = e.end
            ok = ok or text.find("\r\n", pos) >= 0
        if not ok:
            for b in batch:
                text, layout = _replace_values(text, layout, [b], editor)
            return text, layout
    parts = []
    news = {}
    pos = 0
    for index, value, encoded in todo:
        e = entries[index]
        piece = editor.piece(text, e, value)
        got = _alone(editor, piece, e.key, encoded)
        if got is None:
            if len(todo) == 1:
                text = editor.replace(text, layout, index, value)
                return text, _rescan(editor, text, e.key)
            for b in batch:
                text, layout = _replace_values(text, layout, [b], editor)
            return text, layout
        parts.append(text[pos : e.start])
        parts.append(piece)
        pos = e.end
        news[index] = (got, len(piece) - (e.end - e.start))
    parts.append(text[pos:])
    out = []
    delta = 0
    for i, e in enumerate(entries):
        hit = news.get(i)
        if hit is not None:
            a, d = hit
            comma = e.comma + delta + d if e.comma >= 0 else -1
            out.append(Entry(e.key, a.value, a.encoded, e.start + delta, e.end + delta + d, comma))
            delta += d
        elif delta:
            comma = e.comma + delta if e.comma >= 0 else -1
            out.append(Entry(e.key, e.value, e.encoded, e.start + delta, e.end + delta, comma))
        else:
            out.append(e)
    close = layout.close + delta if layout.close >= 0 else layout.close
    return "".join(parts), Layout(out, layout.header, layout.open, close)


def _alone(editor, piece, key, encoded):
    """The entry ``piece`` gives scanned alone, or None unless it is one entry of ``key`` and the
    value of ``encoded`` spanning the whole piece."""
    try:
        alone, at = editor.scan_alone(piece)
    except PsmcError:
        return None
    if len(alone) != 1:
        return None
    a = alone[0]
    if a.key != key or a.start != at or a.end != at + len(piece) or a.encoded != encoded:
        return None
    return a


def is_sorted(entries):
    """True when the keys are in strictly ascending byte order (0 or 1 entries count as sorted)."""
    for i in range(1, len(entries)):
        if not entries[i - 1].key < entries[i].key:
            return False
    return True


def indent_at(text, offset):
    """The whitespace before ``offset`` on its line when only whitespace precedes it, else the
    line's leading blanks."""
    before = text[line_start(text, offset) : offset]
    m = _BLANKS.match(before)
    return m.group(0)


def indent_rest(s, indent, nl):
    """Prefixes every line after the first with ``indent`` (line breaks written as ``nl``)."""
    if "\n" not in s:
        return s
    return (nl + indent).join(s.split("\n"))


def remove_lines(text, start, end):
    """Removes entry text [start, end) line-wise (TOML and YAML): when nothing but blanks shares
    its lines, the whole lines go; otherwise only the entry and the blanks after it."""
    ls = line_start(text, start)
    le = line_end(text, end)
    if is_blank(text[ls:start]) and is_blank(text[end:le]):
        return text[:ls] + text[le + 1 if le < len(text) else le :]
    e = end
    while e < len(text) and text[e] in " \t":
        e += 1
    return text[:start] + text[e:]


def insert_lines(text, layout, key, entry_text, is_comment_line):
    """Inserts a new entry as whole lines (TOML and YAML, §mirror.update). ``entry_text(indent,
    nl)`` gives the entry's text with later lines indented."""
    nl = newline_of(text)
    entries = layout.entries
    if not entries:
        base = text + nl if text and not text.endswith("\n") else text
        return base + entry_text("", nl) + nl
    sorted_ = is_sorted(entries)
    first = entries[0]
    if sorted_ and key < first.key:
        indent = indent_at(text, first.start)
        at = line_start(text, first.start)
        # Go above the comment lines right over the first entry: they describe it and stay with it.
        while at > 0:
            prev = line_start(text, at - 1)
            if prev == 0 and layout.header is not None:
                break
            if not is_comment_line(text[prev : at - 1]):
                break
            at = prev
        return text[:at] + indent + entry_text(indent, nl) + nl + text[at:]
    p = entries[-1]
    if sorted_:
        for e in entries:
            if e.key < key:
                p = e
    indent = indent_at(text, p.start)
    le = line_end(text, p.end)
    if le == len(text):
        return text + nl + indent + entry_text(indent, nl)
    return text[: le + 1] + indent + entry_text(indent, nl) + nl + text[le + 1 :]
