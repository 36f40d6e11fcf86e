//! Pass 1 of the TOML reader: is the whole file valid TOML, and where is its first error?
//!
//! This follows the parser of smol-toml, which the TypeScript codec uses (and the Python port
//! `psmc/mirror/toml.py` `_check_toml`), rule for rule: the same texts are valid and the first
//! error is found at the same place, with the same message. Like smol-toml it takes the TOML 1.1
//! additions (`\e` and `\x` escapes, times without seconds, newlines and a trailing comma in
//! inline tables). Values are not kept, only the shape that the redefinition rules need: tables
//! and arrays live in arenas and are named by index, so no member name can reach anything else.

use std::collections::{HashMap, HashSet};

use super::common::with_stack;

/// The first problem: smol-toml's message and the byte offset it points at.
pub struct TomlError {
    pub message: &'static str,
    pub ptr: usize,
}

pub(super) type R<T> = std::result::Result<T, TomlError>;

/// A value as far as the redefinition rules care.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum V {
    Scalar,
    Table(usize),
    Array(usize),
}

/// Table kinds of smol-toml's bookkeeping.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dotted,
    Explicit,
    Array,
    ArrayDotted,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum MetaKey {
    Name(String),
    Index(usize),
}

struct State {
    t: Kind,
    d: bool,
    i: usize,
    /// The meta map of this table's children.
    c: usize,
}

pub(super) struct Ctx<'a> {
    pub(super) s: &'a [u8],
    pub(super) text: &'a str,
    pub(super) p: usize,
    /// Nesting budget (smol-toml's maxDepth).
    d: usize,
    tables: Vec<HashMap<String, V>>,
    arrays: Vec<Vec<V>>,
    metas: Vec<HashMap<MetaKey, usize>>,
    states: Vec<State>,
}

pub(super) fn fail<T>(message: &'static str, ptr: usize) -> R<T> {
    Err(TomlError { message, ptr })
}

fn is_control(c: u8) -> bool {
    (c < 0x20 && c != b'\t') || c == 0x7f
}

pub(super) fn is_digit(c: u8, base: u32) -> bool {
    (c as char).is_digit(base)
}

pub(super) fn end_of_value(c: u8, delim: Option<u8>) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'#') || delim.is_some_and(|d| c == d || c == b',')
}

impl<'a> Ctx<'a> {
    pub(super) fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }
    pub(super) fn has(&self, i: usize) -> bool {
        i < self.s.len()
    }
    pub(super) fn x<T>(&self, message: &'static str) -> R<T> {
        fail(message, self.p)
    }
    fn new_table(&mut self) -> usize {
        self.tables.push(HashMap::new());
        self.tables.len() - 1
    }
    fn new_meta(&mut self) -> usize {
        self.metas.push(HashMap::new());
        self.metas.len() - 1
    }
    fn new_state(&mut self, t: Kind) -> usize {
        let c = self.new_meta();
        self.states.push(State { t, d: false, i: 0, c });
        self.states.len() - 1
    }

    fn skip_comment(&mut self) -> R<()> {
        while self.has(self.p) {
            let c = self.s[self.p];
            if c == b'\n' {
                break;
            }
            if c == b'\r' && self.at(self.p + 1) == b'\n' {
                self.p += 1;
                break;
            }
            if is_control(c) {
                return self.x("control characters are not allowed in comments");
            }
            self.p += 1;
        }
        Ok(())
    }

    fn skip_void(&mut self, ban_newlines: bool, ban_comments: bool) -> R<()> {
        let mut c = 0u8;
        while self.has(self.p) {
            while self.has(self.p) {
                c = self.s[self.p];
                let newline = c == b'\n' || (c == b'\r' && self.at(self.p + 1) == b'\n');
                if c == b' ' || c == b'\t' || (!ban_newlines && newline) {
                    self.p += 1;
                } else {
                    break;
                }
            }
            if ban_comments || c != b'#' {
                break;
            }
            self.skip_comment()?;
        }
        Ok(())
    }

    /// A string at `p` (its first quote); returns the text it denotes.
    fn string(&mut self) -> R<String> {
        let s = self.s;
        let start_ptr = self.p;
        let first = s[self.p];
        self.p += 1;
        let literal = first == b'\'';
        let multiline = self.at(self.p) == first && self.at(self.p + 1) == first;
        if multiline {
            self.p += 2;
            let c = self.at(self.p);
            if c == b'\n' {
                self.p += 1;
            } else if c == b'\r' && self.at(self.p + 1) == b'\n' {
                self.p += 2;
            }
        }
        let mut parsed = String::new();
        let mut slice_start = self.p;
        // 0: text, 1: after a backslash, 2: escaped line-ending blanks, 3: after a newline there.
        let mut state = 0u8;
        while self.has(self.p) {
            let c = s[self.p];
            if multiline && (c == b'\n' || (c == b'\r' && self.at(self.p + 1) == b'\n')) {
                if state != 0 {
                    state = 3;
                }
            } else if is_control(c) {
                return self.x("control characters are not allowed in strings");
            } else if (state == 0 || state == 3)
                && c == first
                && (!multiline || (self.at(self.p + 1) == first && self.at(self.p + 2) == first))
            {
                if multiline {
                    if self.at(self.p + 3) == first {
                        self.p += 1;
                    }
                    if self.at(self.p + 3) == first {
                        self.p += 1;
                    }
                }
                if state == 0 {
                    parsed.push_str(&self.text[slice_start..self.p]);
                }
                self.p += if multiline { 3 } else { 1 };
                return Ok(parsed);
            } else if state == 0 {
                if !literal && c == b'\\' {
                    parsed.push_str(&self.text[slice_start..self.p]);
                    slice_start = self.p;
                    state = 1;
                }
            } else if state == 1 {
                if c == b'x' || c == b'u' || c == b'U' {
                    let err_ptr = self.p - 1;
                    self.p += 1;
                    let len = match c {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let mut value: u32 = 0;
                    for _ in 0..len {
                        let h = self.at(self.p);
                        if !is_digit(h, 16) {
                            return self.x("invalid non-hex character in unicode escape");
                        }
                        value = value.saturating_mul(16).saturating_add((h as char).to_digit(16).unwrap_or(0));
                        self.p += 1;
                    }
                    match char::from_u32(value) {
                        Some(ch) => parsed.push(ch),
                        None => return fail("invalid unicode escape", err_ptr),
                    }
                    self.p -= 1;
                    slice_start = self.p + 1;
                    state = 0;
                } else if multiline && (c == b' ' || c == b'\t') {
                    state = 2;
                } else {
                    let esc = match c {
                        b'b' => '\u{8}',
                        b't' => '\t',
                        b'n' => '\n',
                        b'f' => '\u{c}',
                        b'r' => '\r',
                        b'e' => '\u{1b}',
                        b'"' => '"',
                        b'\\' => '\\',
                        _ => return self.x("unrecognised escape sequence"),
                    };
                    parsed.push(esc);
                    slice_start = self.p + 1;
                    state = 0;
                }
            } else if c != b' ' && c != b'\t' {
                if state == 2 {
                    return fail("invalid escape: only line-ending whitespace may be escaped", slice_start);
                }
                state = if !literal && c == b'\\' { 1 } else { 0 };
                slice_start = self.p;
            }
            self.p += 1;
        }
        fail("unfinished string", start_ptr)
    }

    /// A possibly dotted key ending at `end` (which is consumed): its parts.
    fn key(&mut self, end: u8) -> R<Vec<String>> {
        let start_ptr = self.p;
        // 0: before a part, 1: in a bare part, 2: after a part.
        let mut state = 0u8;
        let mut parsed = Vec::new();
        let mut slice_start = 0;
        let mut c = self.at(self.p);
        while self.has(self.p) {
            if c == end {
                if state == 0 {
                    return self.x("unexpected end of key");
                }
                if state == 1 {
                    parsed.push(self.text[slice_start..self.p].to_string());
                }
                self.p += 1;
                return Ok(parsed);
            } else if c == b'.' {
                if state == 0 {
                    return self.x("illegal empty bare key");
                }
                if state == 1 {
                    parsed.push(self.text[slice_start..self.p].to_string());
                }
                state = 0;
            } else if state == 0 && (c == b'"' || c == b'\'') {
                if self.at(self.p + 1) == c && self.at(self.p + 2) == c {
                    return self.x("illegal quoted key: multiline strings are not allowed");
                }
                parsed.push(self.string()?);
                state = 2;
                self.p -= 1;
            } else if c == b' ' || c == b'\t' {
                if state == 1 {
                    parsed.push(self.text[slice_start..self.p].to_string());
                    state = 2;
                }
            } else if state == 2 || !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
                return self.x("illegal character in key");
            } else if state == 0 {
                state = 1;
                slice_start = self.p;
            }
            self.p += 1;
            c = self.at(self.p);
            if c == 0 {
                break;
            }
        }
        fail("incomplete key-value: cannot find end of key", start_ptr)
    }

    fn inline_table(&mut self) -> R<V> {
        let start_ptr = self.p;
        self.p += 1;
        let res = self.new_table();
        let mut seen: HashSet<V> = HashSet::new();
        while self.has(self.p) {
            self.skip_void(false, false)?;
            if self.at(self.p) == b'}' {
                self.p += 1;
                return Ok(V::Table(res));
            }
            let err_ptr = self.p;
            let key = self.key(b'=')?;
            let mut t = res;
            let mut k = String::new();
            let mut has_own = false;
            for (i, part) in key.into_iter().enumerate() {
                if i > 0 {
                    t = if has_own {
                        match self.tables[t].get(&k) {
                            Some(V::Table(id)) => *id,
                            _ => return fail("trying to redefine an already defined value", err_ptr),
                        }
                    } else {
                        let inner = self.new_table();
                        self.tables[t].insert(std::mem::take(&mut k), V::Table(inner));
                        inner
                    };
                }
                k = part;
                let existing = self.tables[t].get(&k).copied();
                has_own = existing.is_some();
                if let Some(v) = existing {
                    if v == V::Scalar || seen.contains(&v) {
                        return fail("trying to redefine an already defined value", err_ptr);
                    }
                }
            }
            if has_own {
                return fail("trying to redefine an already defined value", err_ptr);
            }
            self.skip_void(true, true)?;
            let value = self.value(Some(b'}'))?;
            self.tables[t].insert(k, value);
            if value != V::Scalar {
                seen.insert(value);
            }
            self.skip_void(false, false)?;
            let c = self.at(self.p);
            self.p += 1;
            if c == b'}' {
                return Ok(V::Table(res));
            }
            if c != b',' {
                return fail("expected comma or end of structure", self.p - 1);
            }
        }
        fail("unfinished table", start_ptr)
    }

    fn array(&mut self) -> R<V> {
        let start_ptr = self.p;
        self.p += 1;
        self.arrays.push(Vec::new());
        let res = self.arrays.len() - 1;
        while self.has(self.p) {
            self.skip_void(false, false)?;
            if self.at(self.p) == b']' {
                self.p += 1;
                return Ok(V::Array(res));
            }
            let v = self.value(Some(b']'))?;
            self.arrays[res].push(v);
            self.skip_void(false, false)?;
            let c = self.at(self.p);
            self.p += 1;
            if c == b']' {
                return Ok(V::Array(res));
            }
            if c != b',' {
                return fail("expected comma or end of structure", self.p - 1);
            }
        }
        fail("unfinished array", start_ptr)
    }

    fn value(&mut self, end: Option<u8>) -> R<V> {
        let err_ptr = self.p;
        let c = self.at(self.p);
        match c {
            b'[' | b'{' => {
                if self.d == 0 {
                    return self.x("document contains excessively nested structures. aborting.");
                }
                self.d -= 1;
                let v = with_stack(|| if c == b'[' { self.array() } else { self.inline_table() })?;
                self.d += 1;
                Ok(v)
            }
            b'"' | b'\'' => {
                self.string()?;
                Ok(V::Scalar)
            }
            b't' | b'f' => {
                let word: &[u8] = if c == b't' { b"true" } else { b"false" };
                if !self.s[self.p..].starts_with(word) {
                    return fail("invalid value", err_ptr);
                }
                self.p += word.len();
                Ok(V::Scalar)
            }
            b'+' | b'-' => {
                self.p += 1;
                let next = self.at(self.p);
                self.number(self.p - 1, next, true, end)
            }
            _ => {
                if self.at(self.p + 4) == b'-' && self.at(self.p + 7) == b'-' {
                    self.date(c, end)
                } else if self.at(self.p + 2) == b':' {
                    self.time(c, end)
                } else {
                    self.number(self.p, c, false, end)
                }
            }
        }
    }
}

impl Ctx<'_> {
    /// smol-toml's `peekTable`: where a key (of a header or a dotted key) lands, or None when it
    /// would redefine something. Returns (last part, table id, meta id).
    fn peek_table(&mut self, key: &[String], table: usize, meta: usize, kind: Kind) -> Option<(String, usize, usize)> {
        let mut t = table;
        let mut m = meta;
        let mut k = String::new();
        let mut has_own = false;
        for (i, part) in key.iter().enumerate() {
            if i > 0 {
                let next = if has_own {
                    *self.tables[t].get(&k)?
                } else {
                    let inner = self.new_table();
                    self.tables[t].insert(k.clone(), V::Table(inner));
                    V::Table(inner)
                };
                let state = *self.metas[m].get(&MetaKey::Name(k.clone()))?;
                m = self.states[state].c;
                let st = self.states[state].t;
                if kind == Kind::Dotted && (st == Kind::Explicit || st == Kind::Array) {
                    return None;
                }
                t = match next {
                    V::Table(id) if st != Kind::Array => id,
                    V::Array(id) if st == Kind::Array => {
                        let last = self.arrays[id].len().checked_sub(1)?;
                        let V::Table(id) = self.arrays[id][last] else { return None };
                        let child = *self.metas[m].get(&MetaKey::Index(last))?;
                        m = self.states[child].c;
                        id
                    }
                    _ => return None,
                };
            }
            k = part.clone();
            has_own = self.tables[t].contains_key(&k);
            if has_own {
                if let Some(&s) = self.metas[m].get(&MetaKey::Name(k.clone())) {
                    if self.states[s].t == Kind::Dotted && self.states[s].d {
                        return None;
                    }
                }
            } else {
                let t_kind = if i + 1 < key.len() && kind == Kind::Array { Kind::ArrayDotted } else { kind };
                let s = self.new_state(t_kind);
                self.metas[m].insert(MetaKey::Name(k.clone()), s);
            }
        }
        let mut state = *self.metas[m].get(&MetaKey::Name(k.clone()))?;
        let st = self.states[state].t;
        if st != kind && !(kind == Kind::Explicit && st == Kind::ArrayDotted) {
            return None;
        }
        if kind == Kind::Array {
            if !self.states[state].d {
                self.states[state].d = true;
                self.arrays.push(Vec::new());
                let id = self.arrays.len() - 1;
                self.tables[t].insert(k.clone(), V::Array(id));
            }
            let V::Array(arr) = *self.tables[t].get(&k)? else { return None };
            let new = self.new_table();
            self.arrays[arr].push(V::Table(new));
            t = new;
            let child = self.new_state(Kind::Explicit);
            let c = self.states[state].c;
            let index = self.states[state].i;
            self.metas[c].insert(MetaKey::Index(index), child);
            self.states[state].i += 1;
            state = child;
        }
        if self.states[state].d {
            return None;
        }
        self.states[state].d = true;
        if kind == Kind::Explicit {
            t = if has_own {
                match self.tables[t].get(&k)? {
                    V::Table(id) => *id,
                    _ => return None,
                }
            } else {
                let inner = self.new_table();
                self.tables[t].insert(k.clone(), V::Table(inner));
                inner
            };
        } else if kind == Kind::Dotted && has_own {
            return None;
        }
        Some((k, t, self.states[state].c))
    }
}

/// smol-toml's `parse` (maxDepth 200): Ok when `text` is valid TOML, else its first error.
pub fn check_toml(text: &str) -> std::result::Result<(), TomlError> {
    let mut ctx = Ctx { s: text.as_bytes(), text, p: 0, d: 200, tables: Vec::new(), arrays: Vec::new(), metas: Vec::new(), states: Vec::new() };
    let root = ctx.new_table();
    let meta = ctx.new_meta();
    let mut tbl = root;
    let mut m = meta;
    ctx.skip_void(false, false)?;
    while ctx.has(ctx.p) {
        if ctx.s[ctx.p] == b'[' {
            ctx.p += 1;
            let is_array = ctx.at(ctx.p) == b'[';
            if is_array {
                ctx.p += 1;
            }
            let tmp = ctx.p;
            let k = ctx.key(b']')?;
            if is_array {
                if ctx.at(ctx.p) != b']' {
                    return ctx.x("expected end of table array declaration");
                }
                ctx.p += 1;
            }
            let kind = if is_array { Kind::Array } else { Kind::Explicit };
            match ctx.peek_table(&k, root, meta, kind) {
                None => return fail("trying to redefine an already defined table or value", tmp),
                Some((_, t, c)) => {
                    tbl = t;
                    m = c;
                }
            }
        } else {
            let tmp = ctx.p;
            let k = ctx.key(b'=')?;
            let p = ctx.peek_table(&k, tbl, m, Kind::Dotted);
            if p.is_none() {
                return fail("trying to redefine an already defined table or value", tmp);
            }
            ctx.skip_void(true, true)?;
            let v = ctx.value(None)?;
            if let Some((name, t, _)) = p {
                ctx.tables[t].insert(name, v);
            }
        }
        ctx.skip_void(true, false)?;
        if ctx.has(ctx.p) {
            let c = ctx.s[ctx.p];
            if c != b'\n' && (c != b'\r' || ctx.at(ctx.p + 1) != b'\n') {
                return ctx.x("each key-value declaration must be followed by an end-of-line");
            }
        }
        ctx.skip_void(false, false)?;
    }
    Ok(())
}
