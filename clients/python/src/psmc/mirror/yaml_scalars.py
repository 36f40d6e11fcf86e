"""The YAML reader's scalars: plain, single- and double-quoted, and block (``|``, ``>``) scalars
(part of the YAML codec, :mod:`psmc.mirror.yaml`; mixed into the reader of :mod:`psmc.mirror.yaml_reader`)."""
from ..value import js_quote
from .yaml_nodes import _ESCAPES, _FLOW_IND, _HEX, _INDICATORS, _Node, _NotHere, _join_surrogates, _resolve


class ScalarReader(object):
    """The scalar methods of the reader (it provides ``text``, ``n``, ``ch``, ``err`` …)."""

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
