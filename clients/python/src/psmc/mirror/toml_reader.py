"""TOML pass 2: the reader of valid text, for the positions of top-level entries and the exact
text of date-time literals (part of the TOML codec, :mod:`psmc.mirror.toml`)."""
import re

from .common import depth_error, duplicate_error
from .toml_lexer import _TOML_ESCAPES


class _ScanStop(Exception):
    def __init__(self, offset):
        Exception.__init__(self, "unexpected TOML text")
        self.offset = offset


_BARE_RUN = re.compile(r"[A-Za-z0-9_-]+")


_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}")


_INT_TEXT = re.compile(r"[+-]?[0-9]+\Z")


_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


class _Reader(object):
    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.key = None
        self.n = len(text)

    def peek(self, k=0):
        i = self.pos + k
        return self.text[i] if i < self.n else ""

    def fail(self):
        raise _ScanStop(self.pos)

    def skip_blanks(self):
        while self.peek() in (" ", "\t") and self.pos < self.n:
            self.pos += 1

    def skip_space(self):
        while self.pos < self.n:
            c = self.text[self.pos]
            if c in " \t\n\r":
                self.pos += 1
            elif c == "#":
                nl = self.text.find("\n", self.pos)
                self.pos = self.n if nl == -1 else nl
            else:
                return

    def key_path(self):
        """``[(name, at, bare)]`` of a possibly dotted key."""
        parts = []
        while True:
            self.skip_blanks()
            at = self.pos
            c = self.peek()
            if c == '"':
                parts.append((self.basic_string(), at, False))
            elif c == "'":
                parts.append((self.literal_string(), at, False))
            else:
                m = _BARE_RUN.match(self.text, self.pos)
                if m is None:
                    self.fail()
                self.pos = m.end()
                parts.append((m.group(0), at, True))
            self.skip_blanks()
            if self.peek() != ".":
                return parts
            self.pos += 1

    def value(self, depth):
        c = self.peek()
        if c == '"':
            return self.multiline('"') if self.text.startswith('"""', self.pos) else self.basic_string()
        if c == "'":
            return self.multiline("'") if self.text.startswith("'''", self.pos) else self.literal_string()
        if c == "[":
            return self.array(depth + 1)
        if c == "{":
            return self.table(depth + 1)
        return self.scalar()

    def array(self, depth):
        if depth > 65:
            raise depth_error(self.text, self.pos, self.key)
        self.pos += 1
        out = []
        while True:
            self.skip_space()
            if self.peek() == "]":
                break
            out.append(self.value(depth))
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                self.fail()
        self.pos += 1
        return out

    def table(self, depth):
        if depth > 65:
            raise depth_error(self.text, self.pos, self.key)
        self.pos += 1
        out = {}
        seen = {}
        while True:
            self.skip_space()
            if self.peek() == "}":
                break
            path = self.key_path()
            if self.peek() != "=":
                self.fail()
            self.pos += 1
            self.skip_blanks()
            v = self.value(depth)
            target = out
            for name, _, _ in path[:-1]:
                existing = target.get(name)
                if existing is None and name not in target:
                    inner = {}
                    target[name] = inner
                    target = inner
                elif isinstance(existing, dict):
                    target = existing
                else:
                    self.fail()
            last, last_at, _ = path[-1]
            ident = "\x00".join(p[0] for p in path)
            first = seen.get(ident)
            if first is not None or last in target:
                raise duplicate_error(self.text, last, last_at if first is None else first, last_at, self.key)
            seen[ident] = last_at
            target[last] = v
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                self.fail()
        self.pos += 1
        return out

    def basic_string(self):
        self.pos += 1
        out = []
        while True:
            c = self.peek()
            if c == "" or c == "\n":
                self.fail()
            self.pos += 1
            if c == '"':
                return "".join(out)
            out.append(self.escape() if c == "\\" else c)

    def literal_string(self):
        end = self.text.find("'", self.pos + 1)
        if end == -1:
            self.fail()
        s = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return s

    def multiline(self, q):
        """``\"\"\"…\"\"\"`` or ``'''…'''``: a newline right after the opening goes, CRLF reads as LF."""
        self.pos += 3
        if self.peek() == "\n":
            self.pos += 1
        elif self.peek() == "\r" and self.peek(1) == "\n":
            self.pos += 2
        out = []
        while True:
            c = self.peek()
            if c == "":
                self.fail()
            if c == q and self.text.startswith(q * 3, self.pos):
                run = 3
                while self.peek(run) == q and run < 5:
                    run += 1
                out.append(q * (run - 3))
                self.pos += run
                return "".join(out)
            self.pos += 1
            if c == "\r" and self.peek() == "\n":
                continue
            if c == "\\" and q == '"':
                # A line-ending backslash eats the newline and the blanks after it.
                p = self.pos
                while p < self.n and self.text[p] in " \t":
                    p += 1
                if self.text[p : p + 1] == "\n" or self.text[p : p + 2] == "\r\n":
                    self.pos = p
                    while self.pos < self.n and self.text[self.pos] in " \t\r\n":
                        self.pos += 1
                    continue
                out.append(self.escape())
            else:
                out.append(c)

    def escape(self):
        c = self.peek()
        self.pos += 1
        simple = _TOML_ESCAPES.get(c)
        if simple is not None:
            return simple
        if c in ("x", "u", "U"):
            n = 2 if c == "x" else 4 if c == "u" else 8
            h = self.text[self.pos : self.pos + n]
            if len(h) != n or any(x not in "0123456789abcdefABCDEF" for x in h):
                self.fail()
            self.pos += n
            cp = int(h, 16)
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                self.fail()
            return chr(cp)
        self.fail()

    def scalar(self):
        """Booleans, numbers and date-times."""
        start = self.pos
        while self.pos < self.n and self.text[self.pos] not in ",]}#\r\n":
            self.pos += 1
        end = self.pos
        while end > start and self.text[end - 1] in " \t":
            end -= 1
        self.pos = end
        tok = self.text[start:end]
        if tok == "true":
            return True
        if tok == "false":
            return False
        # A date-time is read as its text, exactly as written (§mirror.parse).
        if _DATE_START.match(tok):
            return tok
        if tok in ("inf", "+inf"):
            return float("inf")
        if tok == "-inf":
            return float("-inf")
        if tok in ("nan", "+nan", "-nan"):
            return float("nan")
        plain = tok.replace("_", "")
        if plain[:2] in ("0x", "0o", "0b"):
            return int(plain, 0)
        if _INT_TEXT.match(plain):
            return int(plain) if len(plain) <= 320 else float(plain)
        if _FLOAT_TEXT.match(plain):
            return float(plain)
        self.fail()
