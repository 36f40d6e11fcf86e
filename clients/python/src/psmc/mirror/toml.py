"""The TOML codec: ``config.toml`` (§mirror.canonical.toml; TypeScript: src/mirror/codecs/toml.ts).

Reading takes two passes, as in the TypeScript codec: pass 1 checks the whole file against TOML
(a port of smol-toml's parser, which the TypeScript codec uses: the same texts are valid and the
first error is found at the same place; like smol-toml it takes the TOML 1.1 additions — ``\\e``
and ``\\x`` escapes, times without seconds, newlines and a trailing comma in inline tables); pass 2
walks the (valid) text again for what the mirror needs: the position of every top-level entry and
the exact text of date-time literals, checking keys and values in file order. Python's ``tomllib``
(3.11+) is not used: it gives no positions and is missing on 3.9/3.10.

Modules: this one writes (canonical rendering, span edits) and runs the two passes; pass 1 is
:mod:`psmc.mirror.toml_lexer` (tokens) and :mod:`psmc.mirror.toml_check` (structure), pass 2
:mod:`psmc.mirror.toml_reader`.

TOML cannot hold null, so a value holding null (or a value that is itself a one-member object
named ``$json``) is written ``{ "$json" = "<JSON text>" }``.
"""
import re

from ..errors import PsmcError
from ..value import decode_value, js_quote, member_order, stringify
from .common import (
    HEADER_TEXT,
    Entry,
    Layout,
    canonical_entries,
    check_duplicates,
    check_key,
    check_line_breaks,
    check_value,
    depth_error,
    duplicate_error,
    holds_null,
    insert_lines,
    parse_error,
    position,
    read_header,
    remove_lines,
    run_update,
    split_bom,
    to_parsed,
)
from .toml_check import _check_toml
from .toml_lexer import _TomlError
from .toml_reader import _Reader, _ScanStop

# ---------------------------------------------------------------------------
# Writing


def toml_string(s):
    """A TOML basic string: JSON's escaping (valid TOML), plus U+007F, which TOML requires escaped."""
    return js_quote(s).replace("\x7f", "\\u007f")


_BARE = re.compile(r"[A-Za-z0-9_-]+\Z")


def _toml_name(name):
    return name if _BARE.match(name) else toml_string(name)


def _toml_value(v):
    """An inline TOML value; the caller has made sure it holds no null."""
    if isinstance(v, str):
        return toml_string(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return stringify(v)
    if v is None:
        raise ValueError("null has no TOML form (wrap the value in $json)")
    if isinstance(v, (list, tuple)):
        return "[%s]" % ", ".join(_toml_value(x) for x in v)
    if not v:
        return "{}"
    return "{ %s }" % ", ".join("%s = %s" % (_toml_name(n), _toml_value(v[n])) for n in member_order(list(v)))


def _is_dollar_json(v):
    return isinstance(v, dict) and len(v) == 1 and "$json" in v


def toml_entry(key, v):
    """One canonical line, without its newline."""
    if holds_null(v) or _is_dollar_json(v):
        return '%s = { "$json" = %s }' % (toml_string(key), toml_string(stringify(v)))
    return "%s = %s" % (toml_string(key), _toml_value(v))


def _statements(text):
    """Walks the root statements, checking keys and values in file order."""
    r = _Reader(text)
    entries = []
    while True:
        r.skip_space()
        if r.pos >= r.n:
            return entries
        at = r.pos
        if r.peek() == "[":
            raise parse_error(
                text,
                at,
                "Table headers ([table] or [[array]]) are not used in the mirror file",
                'The mirror is flat: one "key" = value line per key. Write an object value as an inline table on its '
                'line: "display.window" = { width = 800, height = 600 }.',
            )
        path = r.key_path()
        head_name, _, head_bare = path[0]
        if len(path) > 1:
            name = ".".join(p[0] for p in path)
            if head_bare:
                what = "The key %s is not quoted, and in TOML an unquoted dotted key means nested tables" % name
                hint = "Quote the whole key: %s = \u2026" % toml_string(name)
            else:
                what = "The dotted key %s makes nested tables" % text[at : r.pos].strip()
                hint = 'Write one quoted key per line, with an object value as an inline table: "key" = { member = 1 }.'
            raise parse_error(text, at, what, hint)
        check_key(head_name, text, at)
        if r.peek() != "=":
            r.fail()
        r.pos += 1
        r.skip_blanks()
        value_at = r.pos
        r.key = head_name
        value = _unwrap(r.value(0), head_name, text, value_at)
        end = r.pos
        checked, encoded = check_value(value, head_name, text, value_at)
        entries.append(Entry(head_name, checked, encoded, at, end))


def _unwrap(v, key, text, at):
    """Undoes the ``$json`` wrapping of §mirror.values."""
    if not _is_dollar_json(v):
        return v
    inner = v["$json"]
    if not isinstance(inner, str):
        raise parse_error(
            text,
            at,
            'The "$json" member of key %s is not a string' % js_quote(key),
            'Write "$json" = "<JSON text>", e.g. { "$json" = "[1, null]" }, or give the value without $json.',
            {"key": key},
        )
    try:
        return decode_value(inner, key)
    except PsmcError as e:
        line, column = position(text, at)
        details = dict(e.details)
        details.update({"key": key, "line": line, "column": column})
        raise PsmcError(e.code, '%s (in the "$json" text, line %d, column %d)' % (e.message, line, column), e.hint, details, e)


def _root_duplicate(text):
    """Best effort for a file pass 1 refused: the first top-level key given twice, if any."""
    seen = {}
    r = _Reader(text)
    try:
        while True:
            r.skip_space()
            if r.pos >= r.n or r.peek() == "[":
                return None
            at = r.pos
            path = r.key_path()
            name = "\x00".join(p[0] for p in path)
            first = seen.get(name)
            if first is not None:
                return duplicate_error(text, ".".join(p[0] for p in path), first, at)
            seen[name] = at
            if r.peek() != "=":
                return None
            r.pos += 1
            r.skip_blanks()
            r.value(0)
    except (_ScanStop, PsmcError, ValueError, IndexError):
        # The reader stops at the syntax error pass 1 reported; that error is the one to show.
        return None


_TOML_HINT = (
    'Check quotes, "=" and brackets. The mirror writes one line per key: "display.units" = "metric". See '
    "spec/sections/mirror-format.md \u00a7mirror.parse."
)


def scan_toml(text):
    header = read_header(text, "#")
    check_line_breaks(text)
    try:
        _check_toml(text)
    except _TomlError as e:
        if "nested" in e.message:
            raise depth_error(text, 0, None)
        dup = _root_duplicate(text)
        if dup is not None:
            raise dup
        what = e.message or "Not valid TOML"
        raise parse_error(text, e.ptr, what[:1].upper() + what[1:], _TOML_HINT)
    try:
        entries = _statements(text)
    except _ScanStop as e:
        raise parse_error(text, e.offset, "Unexpected text", _TOML_HINT)
    check_duplicates(text, entries)
    return Layout(entries, header)


def _is_comment(line):
    return line.lstrip(" \t").startswith("#")


class _Editor(object):
    scan = staticmethod(scan_toml)

    @staticmethod
    def replace(text, layout, index, value):
        e = layout.entries[index]
        return text[: e.start] + toml_entry(e.key, value) + text[e.end :]

    @staticmethod
    def piece(text, e, value):
        """The text :meth:`replace` puts in place of entry ``e``."""
        return toml_entry(e.key, value)

    @staticmethod
    def scan_alone(piece):
        """An entry line scanned as a file of its own: ``(entries, its offset)``."""
        return scan_toml(piece).entries, 0

    @staticmethod
    def remove(text, layout, index):
        e = layout.entries[index]
        return remove_lines(text, e.start, e.end)

    @staticmethod
    def insert(text, layout, key, value):
        return insert_lines(text, layout, key, lambda indent, nl: toml_entry(key, value), _is_comment)


def parse(text):
    """Parses a TOML mirror file (§mirror.parse): a :class:`ParsedMirror`."""
    return to_parsed(scan_toml(split_bom(text)[1]))


def render(entries):
    """The canonical TOML file (§mirror.canonical.toml) of ``(key, value)`` pairs."""
    return "# %s\n" % HEADER_TEXT + "".join(toml_entry(k, v) + "\n" for k, v in canonical_entries(entries))


def update(text, changes):
    """Rewrites ``text`` so that it holds the changed values, keeping every other byte (§mirror.update)."""
    return run_update(text, changes, _Editor)

