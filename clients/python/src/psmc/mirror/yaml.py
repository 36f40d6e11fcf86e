"""The YAML codec: ``config.yaml`` (§mirror.canonical.yaml; TypeScript: src/mirror/codecs/yaml.ts).

A hand-written reader of the YAML subset §mirror.parse requires (no PyYAML): block mappings and
sequences (with the compact ``- key: value`` and ``- - item`` forms and a sequence at its key's
indent), flow sequences and mappings over several lines, plain / single-quoted / double-quoted
scalars, block scalars (``|``, ``>``, chomping and indentation indicators), comments, blank lines
and one ``---`` line. Plain values are resolved by the YAML 1.2 core schema only. The reader builds
a node tree with positions; anchors, aliases and tags are kept on the nodes and refused in file
order while values are converted, as the TypeScript codec does; directives and more than one
document are refused. Explicit ``? `` keys are refused (§mirror.parse allows that). A document
with no node (``---`` alone, comments) is the empty store.

Modules: this one writes (canonical rendering, span edits) and converts the node tree to values;
the reader is :mod:`psmc.mirror.yaml_reader` (structure), :mod:`psmc.mirror.yaml_scalars`
(scalars) and :mod:`psmc.mirror.yaml_nodes` (the node tree and plain-scalar resolution).
"""
import re

from ..value import js_quote, member_order, stringify
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
    indent_at,
    insert_lines,
    is_blank,
    line_start,
    parse_error,
    read_header,
    remove_lines,
    run_update,
    split_bom,
    to_parsed,
)
from .yaml_reader import _Parser


# ---------------------------------------------------------------------------
# Writing

_YAML_ESCAPE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def yaml_string(s):
    """A YAML double-quoted string: JSON's escaping plus ``\\uXXXX`` for what YAML does not allow
    raw or some readers take as a line break."""
    return _YAML_ESCAPE.sub(lambda m: "\\u%04x" % ord(m.group(0)), js_quote(s))


_WORDS = frozenset(
    "null Null NULL true True TRUE false False FALSE y Y yes Yes YES n N no No NO on On ON off Off OFF".split(" ")
)
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def yaml_name(name):
    """A key or member name: plain when no YAML reader could take it for anything but that string."""
    return name if _PLAIN_NAME.match(name) and name not in _WORDS else yaml_string(name)


def _inline(v):
    if v is None:
        return "null"
    if isinstance(v, str):
        return yaml_string(v)
    if isinstance(v, (list, tuple)):
        return "[]" if not v else None
    if isinstance(v, dict):
        return "{}" if not v else None
    return stringify(v)


def _mapping_lines(members, indent, out):
    for name, v in members:
        text = _inline(v)
        if text is not None:
            out.append("%s%s: %s" % (indent, yaml_name(name), text))
            continue
        out.append("%s%s:" % (indent, yaml_name(name)))
        _block(v, indent + "  ", out)


def _block(v, indent, out):
    if isinstance(v, (list, tuple)):
        _sequence_lines(v, indent, out)
    elif isinstance(v, dict):
        _mapping_lines([(k, v[k]) for k in member_order(list(v))], indent, out)


def _sequence_lines(items, indent, out):
    for item in items:
        text = _inline(item)
        if text is not None:
            out.append("%s- %s" % (indent, text))
            continue
        at = len(out)
        _block(item, indent + "  ", out)
        out[at] = "%s- %s" % (indent, out[at][len(indent) + 2 :])


def yaml_entry_lines(key, v):
    """The canonical lines of one entry, at indent 0."""
    out = []
    _mapping_lines([(key, v)], "", out)
    return out


# ---------------------------------------------------------------------------
# Reading: values


def _refuse(text, offset, what, hint):
    raise parse_error(text, offset, what, hint)


def _key_name(text, node, at):
    """The string a mapping key stands for: a plain key as written, a quoted key decoded."""
    if node is None or node.kind != "scalar":
        _refuse(
            text,
            at,
            "A mapping key is not a plain or quoted string",
            "Write keys as plain words or quoted strings: name: value or \"my key\": value.",
        )
    if node.anchor is not None or node.tag is not None:
        _refuse(
            text,
            node.props_at,
            "Anchors (&name) and tags (!tag) are not used in the mirror file",
            "Remove the & or ! part; write every value out in full.",
        )
    if node.style == "plain":
        src = node.source
        if "\n" in src:
            _refuse(text, node.start, "A plain key spans lines", "Write the key on one line, or quote it.")
        if src == "":
            _refuse(text, at, "A mapping key is empty", "Give every value a key: name: value.")
        return src
    return node.value


def _convert(text, key, node, depth, at):
    if node is None:
        return None
    if node.kind == "alias":
        _refuse(
            text,
            node.start,
            "Aliases (*name) are not used in the mirror file",
            "Write the value out in full instead of referring to an anchor.",
        )
    start = node.start
    if node.anchor is not None:
        _refuse(text, start, "Anchors (&name) are not used in the mirror file", "Remove the &name; write every value out in full.")
    if node.tag is not None:
        _refuse(
            text,
            start,
            "Tags (!!str, !name \u2026) are not used in the mirror file",
            'Remove the tag; quote a value to make it a string ("123").',
        )
    if node.kind == "scalar":
        return node.value
    if depth > 64:
        raise depth_error(text, start, key)
    if node.kind == "seq":
        return [_convert(text, key, item, depth + 1, start) for item in node.items]
    out = {}
    seen = {}
    for k, v, _ in node.items:
        k_at = k.start if k is not None else start
        name = _key_name(text, k, k_at)
        first = seen.get(name)
        if first is not None:
            raise duplicate_error(text, name, first, k_at, key)
        seen[name] = k_at
        out[name] = _convert(text, key, v, depth + 1, k_at)
    return out


def _end_of(node, colon_after):
    """Offset just after a value's last character (not its trailing comments or blank lines)."""
    if node is None:
        return colon_after
    if node.kind == "scalar":
        if node.style == "plain" and node.value is None and node.source == "" and node.end == node.start:
            return colon_after
        return node.end
    if node.kind in ("seq", "map") and not node.flow and node.items:
        last = node.items[-1]
        if node.kind == "seq":
            return _end_of(last, node.end)
        return _end_of(last[1], last[2])
    return node.end


def scan_yaml(text):
    header = read_header(text, "#")
    check_line_breaks(text)
    root = _Parser(text).document()
    entries = []
    if root is not None:
        if root.kind != "map" or root.flow:
            _refuse(
                text,
                root.start,
                "The top level of the file is not a block mapping",
                'Write one "key: value" line per key, e.g. display.units: "metric".',
            )
        if root.anchor is not None or root.tag is not None:
            _refuse(text, root.start, "Anchors and tags are not used in the mirror file", "Remove the & or ! part.")
        for k, v, after_colon in root.items:
            at = k.start
            if not is_blank(text[line_start(text, at) : at]):
                _refuse(
                    text,
                    at,
                    "A top-level entry does not start its own line",
                    'Write each top-level entry as "key: value" at the start of a line (no "?" or "---" before it).',
                )
            key = _key_name(text, k, at)
            check_key(key, text, at)
            value_at = v.start if v is not None else at
            checked, encoded = check_value(_convert(text, key, v, 1, value_at), key, text, value_at)
            entries.append(Entry(key, checked, encoded, at, _end_of(v, after_colon)))
    check_duplicates(text, entries)
    return Layout(entries, header)


def _entry_text(key, value, indent, nl):
    return (nl + indent).join(yaml_entry_lines(key, value))


_DOCUMENT_END = re.compile(r"^\.\.\.(?=[ \t\r\n]|\Z)", re.M)


def _is_comment(line):
    return line.lstrip(" \t").startswith("#")


class _Editor(object):
    scan = staticmethod(scan_yaml)

    @staticmethod
    def replace(text, layout, index, value):
        e = layout.entries[index]
        nl = "\r\n" if "\r\n" in text else "\n"
        return text[: e.start] + _entry_text(e.key, value, indent_at(text, e.start), nl) + text[e.end :]

    @staticmethod
    def remove(text, layout, index):
        e = layout.entries[index]
        return remove_lines(text, e.start, e.end)

    @staticmethod
    def insert(text, layout, key, value):
        # A file with no entries that ends its document with ``...``: the entry goes before that line.
        m = _DOCUMENT_END.search(text) if not layout.entries else None
        if m is not None:
            nl = "\r\n" if "\r\n" in text else "\n"
            return text[: m.start()] + _entry_text(key, value, "", nl) + nl + text[m.start() :]
        return insert_lines(text, layout, key, lambda indent, nl: _entry_text(key, value, indent, nl), _is_comment)


def parse(text):
    """Parses a YAML mirror file (§mirror.parse): a :class:`ParsedMirror`."""
    return to_parsed(scan_yaml(split_bom(text)[1]))


def render(entries):
    """The canonical YAML file (§mirror.canonical.yaml) of ``(key, value)`` pairs."""
    lines = ["# %s" % HEADER_TEXT]
    for k, v in canonical_entries(entries):
        lines.extend(yaml_entry_lines(k, v))
    return "\n".join(lines) + "\n"


def update(text, changes):
    """Rewrites ``text`` so that it holds the changed values, keeping every other byte (§mirror.update)."""
    return run_update(text, changes, _Editor)
