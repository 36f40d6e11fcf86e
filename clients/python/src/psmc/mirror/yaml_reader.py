"""The YAML reader: the structure of a document (block mappings and sequences, flow collections,
properties), built into a node tree with positions (part of the YAML codec, :mod:`psmc.mirror.yaml`)."""
from ..value import js_quote
from .common import depth_error, line_start, parse_error
from .yaml_nodes import _FLOW_IND, _INDICATORS, _MAX_NESTING, _YAML_HINT, _Node, _NotHere
from .yaml_scalars import ScalarReader


class _Parser(ScalarReader):
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
        """The root node of the one document, or None for a document with no node (nothing but
        comments, blank lines and the ``---`` / ``...`` markers: the empty store)."""
        p, ind = self.next_content(0)
        if p < self.n and ind == 0 and self.text[p] == "%":
            raise parse_error(
                self.text,
                p,
                "Directives (%YAML, %TAG \u2026) are not used in the mirror file",
                'Delete the line starting with "%": the mirror file is plain YAML 1.2 and uses no directives.',
            )
        if p < self.n and ind == 0 and self.text[p : p + 3] == "---" and self.is_doc_marker(p):
            q = self.end_of_line_void(p + 3)
            if q < 0:
                self.err(
                    "A top-level entry does not start its own line",
                    self.skip_blanks(p + 3),
                )
            p, ind = self.next_content(q)
            if p < self.n and self.text[p : p + 3] == "---" and self.is_doc_marker(p):
                self.err("The file holds more than one YAML document", p)
        root = None
        if p < self.n and not self.is_doc_marker(p):
            root, p, ind = self.block_node(p, -1, True)
        if p < self.n:
            if self.is_doc_marker(p) and self.text[p : p + 3] == "...":
                q = self.end_of_line_void(p + 3)
                if q >= 0:
                    p, ind = self.next_content(q)
                    if p >= self.n:
                        return root
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
