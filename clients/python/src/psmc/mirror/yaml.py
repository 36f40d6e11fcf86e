"""The YAML codec: ``config.yaml`` (§mirror.canonical.yaml; TypeScript: src/mirror/codecs/yaml.ts).

A hand-written reader of the YAML subset §mirror.parse requires (no PyYAML): block mappings and
sequences (with the compact ``- key: value`` and ``- - item`` forms and a sequence at its key's
indent), flow sequences and mappings over several lines, plain / single-quoted / double-quoted
scalars, block scalars (``|``, ``>``, chomping and indentation indicators), comments, blank lines
and one ``---`` line. Plain values are resolved by the YAML 1.2 core schema only. The reader builds
a node tree with positions; anchors, aliases and tags are kept on the nodes and refused in file
order while values are converted, as the TypeScript codec does; directives and more than one
document are refused. Explicit ``? `` keys are refused (§mirror.parse allows that).
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
# Reading: the node tree

_YAML_HINT = (
    'Indent with spaces (not tabs), put a space after ":" and "-", and quote strings holding ": " or " #". See '
    "spec/sections/mirror-format.md \u00a7mirror.parse."
)

# The nesting the reader follows before it stops (deeper than any legal value, far from the stack limit).
_MAX_NESTING = 200


class _Node(object):
    __slots__ = ("kind", "style", "value", "source", "start", "end", "items", "flow", "anchor", "tag", "props_at")

    def __init__(self, kind, start, end=None):
        self.kind = kind  # "scalar", "seq", "map", "alias"
        self.style = "plain"  # scalars: "plain", "quoted", "block"
        self.value = None
        self.source = ""
        self.start = start
        self.end = start if end is None else end
        self.items = []  # seq: nodes (None for an empty item); map: (key node, value node, after colon)
        self.flow = False
        self.anchor = None
        self.tag = None
        self.props_at = start


_ESCAPES = {
    "0": "\x00",
    "a": "\x07",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX = frozenset("0123456789abcdefABCDEF")
_FLOW_IND = frozenset(",[]{}")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEXINT = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"([-+]?)\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")


def _resolve(s):
    """A plain scalar by the YAML 1.2 core schema."""
    if s in _NULLS:
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    if _INT.match(s):
        return int(s) if len(s) <= 320 else float(s)
    if _OCT.match(s):
        return int(s[2:], 8)
    if _HEXINT.match(s):
        return int(s[2:], 16)
    if _FLOAT.match(s):
        return float(s)
    m = _INF.match(s)
    if m:
        return float("-inf") if m.group(1) == "-" else float("inf")
    if _NAN.match(s):
        return float("nan")
    return s


def _join_surrogates(s):
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


class _Parser(object):
    def __init__(self, text):
        self.text = text
        self.n = len(text)
        self.pos = 0
        self.nesting = 0
        self.flow_outer = None

    # -- errors and positions ------------------------------------------------

    def err(self, what, at=None):
        raise parse_error(self.text, self.pos if at is None else at, what, _YAML_HINT)

    def col(self, p):
        return p - line_start(self.text, p)

    def ch(self, p):
        return self.text[p] if 0 <= p < self.n else ""

    def is_break(self, p):
        c = self.ch(p)
        return c == "\n" or c == "" or (c == "\r" and self.ch(p + 1) in ("\n", ""))

    def skip_blanks(self, p):
        while p < self.n and self.text[p] in " \t":
            p += 1
        return p

    def after_break(self, p):
        """The offset after the line break at ``p`` (``p`` at ``\\r\\n``, ``\\n`` or the end)."""
        if self.ch(p) == "\r" and self.ch(p + 1) == "\n":
            return p + 2
        return p + 1 if p < self.n else p

    def rest_is_void(self, p):
        """True when only blanks and a comment follow ``p`` on its line."""
        q = self.skip_blanks(p)
        return self.is_break(q) or (self.ch(q) == "#" and (q == p and (p == 0 or self.ch(p - 1) in " \t\n") or q > p))

    def end_of_line_void(self, p):
        """Skips blanks and a comment from ``p``; returns the offset of the line break (or the end).
        Raises when anything else is there."""
        q = self.skip_blanks(p)
        if self.ch(q) == "#" and (q > p or self.ch(p - 1) in (" ", "\t", "\n", "")):
            while not self.is_break(q):
                q += 1
        if not self.is_break(q):
            return -1
        return q

    def next_content(self, p):
        """From the line break at ``p`` (or a line start), skips blank and comment-only lines.
        Returns ``(offset of the first non-blank character, its indent)``, or ``(n, -1)`` at the end."""
        while True:
            if p >= self.n:
                return self.n, -1
            if self.ch(p) in ("\r", "\n"):
                p = self.after_break(p)
            ls = p
            q = ls
            while q < self.n and self.text[q] == " ":
                q += 1
            r = self.skip_blanks(q)
            if self.is_break(r):
                p = r
                if r >= self.n:
                    return self.n, -1
                continue
            if self.text[r] == "#":
                while not self.is_break(r):
                    r += 1
                p = r
                if r >= self.n:
                    return self.n, -1
                continue
            if r != q:
                self.err("Tabs are not allowed as indentation", q)
            return q, q - ls

    def is_doc_marker(self, p):
        if self.col(p) != 0:
            return False
        t = self.text[p : p + 3]
        return (t == "---" or t == "...") and (self.ch(p + 3) in (" ", "\t", "\n", "\r", ""))

    # -- the document --------------------------------------------------------

    def document(self):
        p, ind = self.next_content(0)
        directives = False
        while p < self.n and ind == 0 and self.text[p] == "%":
            # As the TypeScript codec: %YAML is refused, other directives (%TAG) pass (tags are refused anyway).
            if self.text.startswith("%YAML", p) and self.ch(p + 5) in (" ", "\t", "\n", "\r", ""):
                self.err("Directives (%YAML, %TAG) are not used in the mirror file", self.text.find("%"))
            directives = True
            q = p
            while not self.is_break(q):
                q += 1
            p, ind = self.next_content(q)
        if directives and not (p < self.n and ind == 0 and self.text[p : p + 3] == "---"):
            self.err("Missing directives-end indicator line", p)
        if p < self.n and ind == 0 and self.text[p : p + 3] == "---" and self.ch(p + 3) in (" ", "\t", "\n", "\r", ""):
            q = self.end_of_line_void(p + 3)
            if q < 0:
                self.err(
                    "A top-level entry does not start its own line",
                    self.skip_blanks(p + 3),
                )
            p, ind = self.next_content(q)
            if p < self.n and self.text[p : p + 3] == "---" and self.is_doc_marker(p):
                self.err("The file holds more than one YAML document", p)
            if p >= self.n or self.is_doc_marker(p):
                # As the TypeScript codec: an explicit document with no content is an empty scalar,
                # not the empty store (the spec reads "---" alone as the empty store).
                self.err("The top level of the file is not a block mapping", q)
        root = None
        if p < self.n and not self.is_doc_marker(p):
            root, p, ind = self.block_node(p, -1, True)
        elif p < self.n and root is None and self.text[p : p + 3] == "...":
            self.err("The top level of the file is not a block mapping", p)
        if p < self.n:
            if self.is_doc_marker(p) and self.text[p : p + 3] == "...":
                q = self.end_of_line_void(p + 3)
                if q >= 0:
                    p, ind = self.next_content(q)
                    if p >= self.n:
                        return root
            if self.is_doc_marker(p) or p < self.n:
                if self.is_doc_marker(p):
                    self.err("The file holds more than one YAML document", p)
                self.err("Unexpected text after the top-level mapping", p)
        return root

    # -- block nodes -----------------------------------------------------------

    def enter(self, at):
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            raise depth_error(self.text, at, None)

    def block_node(self, p, parent, top=False):
        """A node starting at ``p`` (a line's first non-blank character, or the compact position
        after ``- ``) whose lines are indented more than ``parent``. Returns ``(node, offset of the
        next content, its indent)``."""
        c = self.ch(p)
        if c == "-" and self.ch(p + 1) in (" ", "\t", "\n", "\r", ""):
            return self.block_seq(p)
        if c == "?" and self.ch(p + 1) in (" ", "\t", "\n", "\r", ""):
            self.err("Explicit keys (? key) are not used in the mirror file", p)
        if self.key_here(p) is not None:
            return self.block_map(p)
        node, q = self.inline_value(p, parent)
        r = self.end_of_line_void(q)
        if r < 0:
            self.trailing_error(q)
        nxt, ind = self.next_content(r)
        return node, nxt, ind

    def trailing_error(self, q, value_at=None):
        r = self.skip_blanks(q)
        if self.ch(r) == ":":
            self.err("Nested mappings are not allowed in compact mappings", r if value_at is None else value_at)
        self.err("Unexpected text after a value", r)

    def key_here(self, p):
        """``(key node, offset of its ":")`` when an implicit key starts at ``p``, else None."""
        c = self.ch(p)
        if c == '"' or c == "'":
            try:
                node, q = self.quoted(p, -1, single_line=True)
            except _NotHere:
                return None
        elif c == "" or c in "\r\n" or (c in _INDICATORS and not (c in "-?:" and self.ch(p + 1) not in (" ", "\t", "\n", "\r", ""))):
            return None
        else:
            q = p
            while True:
                d = self.ch(q)
                if d == "" or d in "\r\n":
                    break
                if d == ":" and self.ch(q + 1) in (" ", "\t", "\n", "\r", ""):
                    break
                if d == "#" and self.ch(q - 1) in (" ", "\t"):
                    break
                q += 1
            e = q
            while e > p and self.text[e - 1] in " \t":
                e -= 1
            node = _Node("scalar", p, e)
            node.source = self.text[p:e]
            node.value = node.source
            q = e
        r = self.skip_blanks(q)
        if self.ch(r) == ":" and self.ch(r + 1) in (" ", "\t", "\n", "\r", ""):
            return node, r
        return None

    def block_map(self, p):
        m = self.col(p)
        self.enter(p)
        node = _Node("map", p)
        while True:
            found = self.key_here(p)
            if found is None:
                if self.ch(p) == "-" and self.ch(p + 1) in (" ", "\t", "\n", "\r", ""):
                    self.err("A block sequence may not be used as an implicit map key", p)
                if self.ch(p) == "?" and self.ch(p + 1) in (" ", "\t", "\n", "\r", ""):
                    self.err("Explicit keys (? key) are not used in the mirror file", p)
                self.err("Implicit map keys need to be followed by map values", p)
            key, colon = found
            value, end, nxt, ind = self.value_after(colon + 1, m, True)
            node.items.append((key, value, colon + 1))
            node.end = end
            if nxt >= self.n or ind < m or self.is_doc_marker(nxt):
                break
            if ind > m:
                self.err("Bad indentation of a mapping entry", line_start(self.text, nxt))
            p = nxt
        self.nesting -= 1
        return node, nxt, ind

    def block_seq(self, p):
        m = self.col(p)
        self.enter(p)
        node = _Node("seq", p)
        while True:
            value, end, nxt, ind = self.value_after(p + 1, m, False)
            node.items.append(value)
            node.end = end
            if nxt >= self.n or ind < m or self.is_doc_marker(nxt):
                break
            if ind > m:
                self.err("Bad indentation of a sequence entry", line_start(self.text, nxt))
            if not (self.ch(nxt) == "-" and self.ch(nxt + 1) in (" ", "\t", "\n", "\r", "")):
                break
            p = nxt
        self.nesting -= 1
        return node, nxt, ind

    def value_after(self, p, m, in_map):
        """The value after a key's ``:`` or a sequence's ``-`` at ``p`` (collection indent ``m``).
        Returns ``(node or None, end offset for the collection, next content, its indent)``."""
        q = self.skip_blanks(p)
        props = None
        if self.ch(q) in ("&", "!") and not self.is_break(q):
            props, q = self.properties(q)
        r = self.end_of_line_void(q)
        if r >= 0:
            nxt, ind = self.next_content(r)
            node = None
            if nxt < self.n and not self.is_doc_marker(nxt):
                if ind > m:
                    node, nxt2, ind2 = self.block_node(nxt, m)
                    self.attach(node, props)
                    return node, node.end if node is not None else p, nxt2, ind2
                if in_map and ind == m and self.ch(nxt) == "-" and self.ch(nxt + 1) in (" ", "\t", "\n", "\r", ""):
                    node, nxt2, ind2 = self.block_seq(nxt)
                    self.attach(node, props)
                    return node, node.end, nxt2, ind2
            if props is not None:
                node = _Node("scalar", q, q)
                node.value = None
                self.attach(node, props)
            return node, p, nxt, ind
        c = self.ch(q)
        if c == "-" and self.ch(q + 1) in (" ", "\t", "\n", "\r", ""):
            if in_map:
                self.err("Unexpected block-seq-ind on same line with key", q)
            node, nxt, ind = self.block_seq(q)
            self.attach(node, props)
            return node, node.end, nxt, ind
        if not in_map and props is None:
            if c == "?" and self.ch(q + 1) in (" ", "\t", "\n", "\r", ""):
                self.err("Explicit keys (? key) are not used in the mirror file", q)
            if self.key_here(q) is not None:
                node, nxt, ind = self.block_map(q)
                return node, node.end, nxt, ind
        node, e = self.inline_value(q, m)
        self.attach(node, props)
        r = self.end_of_line_void(e)
        if r < 0:
            self.trailing_error(e, q)
        nxt, ind = self.next_content(r)
        return node, node.end, nxt, ind

    def attach(self, node, props):
        if props is None or node is None:
            return
        node.anchor = props[0] if props[0] is not None else node.anchor
        node.tag = props[1] if props[1] is not None else node.tag
        node.props_at = props[2]

    def properties(self, p):
        """``&anchor`` and ``!tag`` before a node: ``((anchor, tag, offset), next offset)``."""
        anchor = tag = None
        start = p
        while self.ch(p) in ("&", "!"):
            q = p + 1
            while q < self.n and self.text[q] not in " \t\r\n,[]{}":
                q += 1
            if self.text[p] == "&":
                anchor = self.text[p + 1 : q]
            else:
                tag = self.text[p:q]
            p = self.skip_blanks(q)
        return (anchor, tag, start), p

    # -- inline values -------------------------------------------------------

    def inline_value(self, p, m, flow=False):
        """A value on the current line (flow collection, quoted, block scalar, alias or plain)
        whose continuation lines are indented more than ``m``. Returns ``(node, end offset)``."""
        props = None
        if self.ch(p) in ("&", "!"):
            props, p = self.properties(p)
            if self.is_break(p) or (flow and self.ch(p) in _FLOW_IND):
                node = _Node("scalar", p, p)
                self.attach(node, props)
                return node, p
        c = self.ch(p)
        if c == "[" or c == "{":
            node, e = self.flow_collection(p, m)
        elif c == '"' or c == "'":
            node, e = self.quoted(p, m)
        elif c == "*":
            q = p + 1
            while q < self.n and self.text[q] not in " \t\r\n,[]{}":
                q += 1
            node = _Node("alias", p, q)
            e = q
        elif (c == "|" or c == ">") and not flow:
            node, e = self.block_scalar(p, m)
        else:
            node, e = self.plain(p, m, flow)
        self.attach(node, props)
        return node, e

    def plain(self, p, m, flow):
        c = self.ch(p)
        if c == "" or c in "\r\n":
            self.err("A value is expected", p)
        if c in _INDICATORS and not (c in "-?:" and self.ch(p + 1) not in (" ", "\t", "\n", "\r", "") and not (flow and self.ch(p + 1) in _FLOW_IND)):
            if c in "@`":
                self.err("Plain value cannot start with reserved character %s" % c, p)
            if c == "%":
                self.err("Plain value cannot start with directive indicator character %", p)
            self.err("Unexpected character %s" % js_quote(c), p)
        parts = []
        start = p
        end = p
        q = p
        pending_breaks = 0
        while True:
            # One line of the scalar from q.
            line_start_at = q
            while True:
                d = self.ch(q)
                if d == "" or d in "\r\n":
                    break
                if d == ":" and (self.ch(q + 1) in (" ", "\t", "\n", "\r", "") or (flow and self.ch(q + 1) in _FLOW_IND)):
                    break
                if d == "#" and q > line_start_at and self.ch(q - 1) in (" ", "\t"):
                    break
                if flow and d in _FLOW_IND:
                    break
                q += 1
            e = q
            while e > line_start_at and self.text[e - 1] in " \t":
                e -= 1
            if e > line_start_at:
                if parts:
                    parts.append("\n" * pending_breaks if pending_breaks else " ")
                parts.append(self.text[line_start_at:e])
                end = e
            if not self.is_break(q) or q >= self.n:
                break
            if self.ch(self.skip_blanks(q)) == "#":
                break
            # A continuation line: more indented than m, not a comment, not a document marker.
            r = q
            breaks = 0
            while True:
                r = self.after_break(r)
                ls = r
                r = self.skip_blanks(r)
                if self.is_break(r) and r < self.n:
                    breaks += 1
                    continue
                break
            if r >= self.n or self.ch(r) == "#" or (r - ls) <= m or self.is_doc_marker(ls) and r == ls:
                break
            if not flow and r - ls > 0 and "\t" in self.text[ls:r]:
                break
            if flow and self.ch(r) in _FLOW_IND:
                q = r
                break
            pending_breaks = breaks
            q = r
            if not flow:
                # A continuation line may not hold a mapping: ": " ends the scalar with an error.
                pass
        node = _Node("scalar", start, end)
        node.source = self.text[start:end]
        text = "".join(parts)
        node.value = _resolve(text) if "\n" not in node.source else text
        if "\n" in node.source and not flow:
            # The scalar stopped at ":" on a continuation line: a key inside a multi-line plain value.
            if self.ch(self.skip_blanks(end)) == ":":
                self.err("Implicit keys need to be on a single line", start)
        return node, end

    def quoted(self, p, m, single_line=False):
        q = self.text[p]
        i = p + 1
        out = []
        blanks = []
        while True:
            if i >= self.n:
                if single_line:
                    raise _NotHere()
                self.err('Missing closing %squote' % q, self.n)
            c = self.text[i]
            if c == q:
                if q == "'" and self.ch(i + 1) == "'":
                    out.extend(blanks)
                    blanks = []
                    out.append("'")
                    i += 2
                    continue
                out.extend(blanks)
                i += 1
                break
            if c == "\\" and q == '"':
                out.extend(blanks)
                blanks = []
                e = self.ch(i + 1)
                if e == "\n" or (e == "\r" and self.ch(i + 2) == "\n"):
                    if single_line:
                        raise _NotHere()
                    i = self.after_break(i + 1)
                    i = self.skip_blanks(i)
                    continue
                if e in ("x", "u", "U"):
                    n = 2 if e == "x" else 4 if e == "u" else 8
                    h = self.text[i + 2 : i + 2 + n]
                    if len(h) != n or any(x not in _HEX for x in h) or int(h, 16) > 0x10FFFF:
                        self.err("Invalid escape sequence", i)
                    out.append(chr(int(h, 16)))
                    i += 2 + n
                    continue
                rep = _ESCAPES.get(e)
                if rep is None:
                    self.err("Invalid escape sequence %s" % js_quote("\\" + e), i)
                out.append(rep)
                i += 2
                continue
            if c == "\n" or c == "\r":
                if single_line:
                    raise _NotHere()
                blanks = []
                breaks = 0
                j = i
                while True:
                    j = self.after_break(j)
                    ls = j
                    j = self.skip_blanks(j)
                    if j >= self.n:
                        self.err('Missing closing %squote' % q, self.n)
                    if self.ch(j) in ("\r", "\n"):
                        breaks += 1
                        continue
                    break
                if (j - ls) <= m and not (self.ch(j) == q and m < 0) or self.is_doc_marker(ls) and j == ls:
                    self.err('Missing closing %squote' % q, i)
                out.append("\n" * breaks if breaks else " ")
                i = j
                continue
            if c == " " or c == "\t":
                blanks.append(c)
                i += 1
                continue
            out.extend(blanks)
            blanks = []
            out.append(c)
            i += 1
        node = _Node("scalar", p, i)
        node.style = "quoted"
        node.value = _join_surrogates("".join(out))
        node.source = node.value
        return node, i

    def block_scalar(self, p, m):
        kind = self.text[p]
        i = p + 1
        chomp = ""
        explicit = 0
        for _ in range(2):
            c = self.ch(i)
            if c in ("+", "-") and not chomp:
                chomp = c
                i += 1
            elif c and c in "123456789" and not explicit:
                explicit = int(c)
                i += 1
        head_end = i
        r = self.end_of_line_void(i)
        if r < 0:
            self.err("Unexpected text after a block scalar indicator", self.skip_blanks(i))
        lines = []  # (offset of line start, text without the line break)
        j = r
        content_indent = m + explicit if explicit else -1
        last_content_end = -1
        while j < self.n:
            j = self.after_break(j)
            if j >= self.n:
                break
            le = j
            while le < self.n and self.text[le] not in "\r\n":
                le += 1
            line = self.text[j:le]
            spaces = len(line) - len(line.lstrip(" "))
            if line.strip(" \t") == "":
                lines.append((j, line))
                j = le
                continue
            if content_indent < 0:
                if spaces <= m:
                    break
                content_indent = spaces
            if spaces < content_indent:
                break
            lines.append((j, line))
            last_content_end = j + len(line.rstrip(" \t"))
            j = le
        # Drop trailing lines after the last content line that are not part of the scalar's text.
        texts = []
        for start, line in lines:
            if line.strip(" \t") == "" and len(line) - len(line.lstrip(" ")) <= max(content_indent, 0):
                texts.append("")
            else:
                texts.append(line[content_indent:] if content_indent > 0 else line)
        k = len(texts)
        while k > 0 and texts[k - 1] == "" and lines[k - 1][0] + len(lines[k - 1][1]) > last_content_end:
            k -= 1
        body_lines = texts[:k]
        trailing = len(texts) - k
        if kind == "|":
            body = "\n".join(body_lines)
        else:
            out = []
            prev = None
            empty = 0
            for line in body_lines:
                if line == "":
                    empty += 1
                    continue
                more = line[0] in " \t"
                if prev is None:
                    out.append("\n" * empty)
                elif not more and prev == "normal":
                    out.append(" " if empty == 0 else "\n" * empty)
                else:
                    out.append("\n" * (empty + 1))
                out.append(line)
                prev = "more" if more else "normal"
                empty = 0
            body = "".join(out)
            if prev is None:
                body = ""
        has_content = any(t != "" for t in body_lines)
        if chomp == "-":
            value = body
        elif chomp == "+":
            value = body + "\n" * ((1 if has_content else 0) + trailing) if has_content else "\n" * trailing
        else:
            value = body + "\n" if has_content else ""
        node = _Node("scalar", p, last_content_end if last_content_end >= 0 else head_end)
        node.style = "block"
        node.value = value
        node.source = value
        end_at = lines[-1][0] + len(lines[-1][1]) if lines else r
        return node, end_at if lines else r

    def flow_collection(self, p, m):
        opening = self.text[p]
        closing = "]" if opening == "[" else "}"
        self.enter(p)
        outer = self.flow_outer is None
        if outer:
            self.flow_outer = closing
        node = _Node("seq" if opening == "[" else "map", p)
        node.flow = True
        i = p + 1
        need_item = True
        while True:
            i = self.flow_space(i, m, p)
            c = self.ch(i)
            if c == closing:
                i += 1
                break
            if c == "":
                self.err("Flow collection is never closed: %s is expected" % js_quote(closing), self.n)
            if c == ",":
                if need_item:
                    self.err("Unexpected , in flow %s" % ("sequence" if opening == "[" else "mapping"), i)
                need_item = True
                i += 1
                continue
            if not need_item:
                self.err("Expected , or %s in a flow collection" % closing, i)
            if c in "]}":
                self.err("Unexpected %s in a flow collection" % c, i)
            if opening == "{" or (c == "?" and self.ch(i + 1) in (" ", "\t", "\n", "\r")):
                if c == "?" and self.ch(i + 1) in (" ", "\t", "\n", "\r"):
                    self.err("Explicit keys (? key) are not used in the mirror file", i)
                if c == ":" and self.ch(i + 1) in (" ", "\t", "\n", "\r", ",", "}", ""):
                    key = _Node("scalar", i, i)
                    key_end = i
                else:
                    key, key_end = self.inline_value(i, m, True)
                j = self.flow_space(key_end, m, p)
                if self.ch(j) == ":":
                    j = self.flow_space(j + 1, m, p)
                    if self.ch(j) in (",", "}"):
                        value = None
                        i = j
                    else:
                        value, i = self.inline_value(j, m, True)
                else:
                    value = None
                    i = key_end
                node.items.append((key, value, key_end))
            else:
                item, e = self.inline_value(i, m, True)
                j = self.flow_space(e, m, p)
                if self.ch(j) == ":" and (self.ch(j + 1) in (" ", "\t", "\n", "\r", ",", "]", "") or item.style == "quoted"):
                    j = self.flow_space(j + 1, m, p)
                    if self.ch(j) in (",", "]"):
                        value = None
                        e2 = j
                    else:
                        value, e2 = self.inline_value(j, m, True)
                    pair = _Node("map", item.start, e2)
                    pair.flow = True
                    pair.items.append((item, value, e))
                    item = pair
                    e = e2
                node.items.append(item)
                i = e
            need_item = False
        node.end = i
        self.nesting -= 1
        if outer:
            self.flow_outer = None
        return node, i

    def flow_space(self, i, m, opened):
        """Skips blanks, line breaks and comments inside a flow collection; lines inside it are
        indented more than ``m``."""
        while True:
            c = self.ch(i)
            if c == " " or c == "\t":
                i += 1
            elif c == "#" and (i == 0 or self.ch(i - 1) in (" ", "\t", "\n", "\r")):
                while not self.is_break(i):
                    i += 1
            elif c == "\n" or c == "\r":
                i = self.after_break(i)
                ls = i
                while self.ch(i) == " ":
                    i += 1
                d = self.ch(i)
                # The closing bracket of the outermost collection may sit at the indent of its key.
                closing_ok = d == self.flow_outer and (i - ls) >= m
                if d not in ("", "\n", "\r", "#", "\t") and (i - ls) <= m and not closing_ok:
                    self.err(
                        "Flow sequence in block collection must be sufficiently indented and end with a %s"
                        % ("]" if self.ch(opened) == "[" else "}"),
                        i,
                    )
                if self.is_doc_marker(ls) and i == ls:
                    self.err("A document marker inside a flow collection", i)
            else:
                return i


class _NotHere(Exception):
    pass


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
