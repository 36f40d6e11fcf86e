//! The JSONC codec: `config.json` (§mirror.canonical.json; TypeScript: src/mirror/codecs/json.ts).
//!
//! JSON with `//` and `/* */` comments and trailing commas when read. The scanner and the
//! grammar follow jsonc-parser (which the TypeScript codec uses) token for token, so the same
//! texts are accepted and the first syntax error is found at the same place. The parser is
//! iterative, so no nesting can overflow the stack; objects are [`Object`]s (no prototype).

use std::collections::HashMap;

use super::common::{
    check_duplicates, check_key, check_value, depth_error, duplicate_error, indent_at, indent_rest, is_blank, is_sorted, is_space,
    line_end, line_start, newline_of, parse_error, read_header, skip_blanks, Entry, Layout,
};
use super::HEADER_TEXT;
use crate::errors::Result;
use crate::json::{quote_str, Object, Value};
use crate::value::lone_surrogate_error;

/// The kind of a syntax error (jsonc-parser's names) and its message and hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    InvalidSymbol,
    PropertyNameExpected,
    ValueExpected,
    ColonExpected,
    CommaExpected,
    CloseBraceExpected,
    CloseBracketExpected,
    EndOfFileExpected,
    UnexpectedEndOfComment,
    UnexpectedEndOfString,
    UnexpectedEndOfNumber,
    InvalidUnicode,
    InvalidEscapeCharacter,
    InvalidCharacter,
}

impl Syntax {
    fn text(self) -> (&'static str, &'static str) {
        match self {
            Syntax::InvalidSymbol => (
                "Unexpected character",
                "Check for a missing quote, comma or bracket; strings and member names need double quotes.",
            ),
            Syntax::PropertyNameExpected => ("A member name is expected", "Write member names in double quotes: \"display.units\": \"metric\"."),
            Syntax::ValueExpected => (
                "A value is expected",
                "Give a JSON value after the colon: a string in double quotes, a number, true, false, null, an array or an object.",
            ),
            Syntax::ColonExpected => (
                "\":\" is expected after the member name",
                "Separate each name from its value with a colon: \"display.units\": \"metric\".",
            ),
            Syntax::CommaExpected => ("\",\" is expected between members", "Put a comma after each member except, optionally, the last."),
            Syntax::CloseBraceExpected => ("\"}\" is expected", "Close every object with \"}\"."),
            Syntax::CloseBracketExpected => ("\"]\" is expected", "Close every array with \"]\"."),
            Syntax::EndOfFileExpected => ("Nothing may follow the closing \"}\" of the file", "Keep all entries inside the one top-level object."),
            Syntax::UnexpectedEndOfComment => ("The /* comment is never closed", "Close the comment with */."),
            Syntax::UnexpectedEndOfString => (
                "The string is never closed",
                "Close the string with a double quote on the same line; write a line break inside a string as \\n.",
            ),
            Syntax::UnexpectedEndOfNumber => ("The number is cut short", "Write digits after \"-\", \".\" or the exponent."),
            Syntax::InvalidUnicode => ("Malformed \\u escape", "Write \\u followed by exactly four hex digits, e.g. \\u00e9."),
            Syntax::InvalidEscapeCharacter => (
                "Unknown escape in a string",
                "JSON strings know \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; write a backslash as \\\\.",
            ),
            Syntax::InvalidCharacter => (
                "A control character inside a string",
                "Escape control characters in strings: \\n, \\t, or \\u0000 … \\u001f.",
            ),
        }
    }
}

struct SyntaxError {
    kind: Syntax,
    offset: usize,
}

type Scan<T> = std::result::Result<T, SyntaxError>;

fn fail<T>(kind: Syntax, offset: usize) -> Scan<T> {
    Err(SyntaxError { kind, offset })
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    Comma,
    Colon,
    Null,
    True,
    False,
    /// The string and whether it held a lone surrogate escape (replaced by U+FFFD).
    Str(String, bool),
    Num(f64),
    Eof,
}

struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// jsonc-parser's scanner, trivia skipped.
struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut n = 0u32;
    for &c in &b[..4] {
        n = n * 16 + (c as char).to_digit(16)?;
    }
    Some(n)
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner { text, b: text.as_bytes(), pos: 0 }
    }

    fn tok(&mut self, kind: Kind, start: usize, end: usize) -> Scan<Token> {
        self.pos = end;
        Ok(Token { kind, start, end })
    }

    fn next(&mut self) -> Scan<Token> {
        let b = self.b;
        let n = b.len();
        loop {
            let pos = self.pos;
            if pos >= n {
                return Ok(Token { kind: Kind::Eof, start: n, end: n });
            }
            let c = b[pos];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'{' => return self.tok(Kind::OpenBrace, pos, pos + 1),
                b'}' => return self.tok(Kind::CloseBrace, pos, pos + 1),
                b'[' => return self.tok(Kind::OpenBracket, pos, pos + 1),
                b']' => return self.tok(Kind::CloseBracket, pos, pos + 1),
                b',' => return self.tok(Kind::Comma, pos, pos + 1),
                b':' => return self.tok(Kind::Colon, pos, pos + 1),
                b'"' => return self.string(pos),
                b'/' => match b.get(pos + 1) {
                    Some(b'/') => {
                        let mut p = pos + 2;
                        while p < n && b[p] != b'\n' && b[p] != b'\r' {
                            p += 1;
                        }
                        self.pos = p;
                    }
                    Some(b'*') => match self.text[pos + 2..].find("*/") {
                        Some(i) => self.pos = pos + 2 + i + 2,
                        None => return fail(Syntax::UnexpectedEndOfComment, pos),
                    },
                    _ => return fail(Syntax::InvalidSymbol, pos),
                },
                b'-' | b'0'..=b'9' => return self.number(pos),
                _ => {
                    let mut p = pos;
                    while p < n && !b" \t\n\r{}[]\":,/".contains(&b[p]) {
                        p += 1;
                    }
                    let kind = match &self.text[pos..p] {
                        "true" => Kind::True,
                        "false" => Kind::False,
                        "null" => Kind::Null,
                        _ => return fail(Syntax::InvalidSymbol, pos),
                    };
                    return self.tok(kind, pos, p);
                }
            }
        }
    }

    fn digits(&self, mut p: usize) -> usize {
        while p < self.b.len() && self.b[p].is_ascii_digit() {
            p += 1;
        }
        p
    }

    fn number(&mut self, start: usize) -> Scan<Token> {
        let b = self.b;
        let mut pos = start;
        if b[pos] == b'-' {
            pos += 1;
            if !b.get(pos).is_some_and(u8::is_ascii_digit) {
                self.pos = pos;
                return fail(Syntax::InvalidSymbol, start);
            }
        }
        pos = if b[pos] == b'0' { pos + 1 } else { self.digits(pos + 1) };
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            if !b.get(pos).is_some_and(u8::is_ascii_digit) {
                return fail(Syntax::UnexpectedEndOfNumber, start);
            }
            pos = self.digits(pos);
        }
        let mut end = pos;
        if matches!(b.get(pos), Some(b'e') | Some(b'E')) {
            pos += 1;
            if matches!(b.get(pos), Some(b'+') | Some(b'-')) {
                pos += 1;
            }
            if !b.get(pos).is_some_and(u8::is_ascii_digit) {
                return fail(Syntax::UnexpectedEndOfNumber, start);
            }
            end = self.digits(pos);
        }
        // Correctly rounded, like ECMAScript; overflow gives ±inf, which the value rules refuse.
        let x = self.text[start..end].parse::<f64>().unwrap_or(f64::NAN);
        self.tok(Kind::Num(x), start, end)
    }

    fn string(&mut self, start: usize) -> Scan<Token> {
        let b = self.b;
        let n = b.len();
        let mut pos = start + 1;
        let mut out = String::new();
        let mut chunk = pos;
        let mut lone = false;
        loop {
            if pos >= n {
                return fail(Syntax::UnexpectedEndOfString, start);
            }
            match b[pos] {
                b'"' => {
                    out.push_str(&self.text[chunk..pos]);
                    pos += 1;
                    break;
                }
                b'\\' => {
                    out.push_str(&self.text[chunk..pos]);
                    pos += 1;
                    let Some(&e) = b.get(pos) else {
                        return fail(Syntax::UnexpectedEndOfString, start);
                    };
                    pos += 1;
                    match e {
                        b'u' => {
                            let Some(u) = hex4(&b[pos..]) else {
                                return fail(Syntax::InvalidUnicode, start);
                            };
                            pos += 4;
                            if (0xD800..0xDC00).contains(&u) && b.get(pos) == Some(&b'\\') && b.get(pos + 1) == Some(&b'u') {
                                if let Some(l) = hex4(&b[pos + 2..]).filter(|l| (0xDC00..0xE000).contains(l)) {
                                    pos += 6;
                                    out.push(char::from_u32(0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00)).unwrap_or('\u{FFFD}'));
                                    chunk = pos;
                                    continue;
                                }
                            }
                            match char::from_u32(u) {
                                Some(ch) => out.push(ch),
                                None => {
                                    lone = true;
                                    out.push('\u{FFFD}');
                                }
                            }
                        }
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        _ => return fail(Syntax::InvalidEscapeCharacter, start),
                    }
                    chunk = pos;
                }
                b'\n' | b'\r' => return fail(Syntax::UnexpectedEndOfString, start),
                0..=0x1f => return fail(Syntax::InvalidCharacter, start),
                _ => pos += 1,
            }
        }
        self.tok(Kind::Str(out, lone), start, pos)
    }
}

/// The events of a walk (jsonc-parser's `visit`).
trait Visitor {
    fn object_begin(&mut self, offset: usize) -> Result<()>;
    fn array_begin(&mut self, offset: usize) -> Result<()>;
    fn property(&mut self, name: String, lone: bool, offset: usize) -> Result<()>;
    fn end(&mut self, offset: usize, end: usize) -> Result<()>;
    fn literal(&mut self, value: Value, lone: bool, offset: usize, end: usize) -> Result<()>;
    fn comma(&mut self, offset: usize);
}

enum WalkError {
    Syntax(SyntaxError),
    Psmc(crate::errors::PsmcError),
}

impl From<SyntaxError> for WalkError {
    fn from(e: SyntaxError) -> Self {
        WalkError::Syntax(e)
    }
}
impl From<crate::errors::PsmcError> for WalkError {
    fn from(e: crate::errors::PsmcError) -> Self {
        WalkError::Psmc(e)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Value,
    After,
    Object,
    Array,
}

/// jsonc-parser's `visit` (trailing commas and comments allowed, empty content not), stopping
/// at the first error. `v` receives the events, or is None for a syntax check only.
fn walk(text: &str, mut v: Option<&mut dyn Visitor>) -> std::result::Result<(), WalkError> {
    let mut sc = Scanner::new(text);
    let mut tok = sc.next()?;
    if tok.kind == Kind::Eof {
        return Err(SyntaxError { kind: Syntax::ValueExpected, offset: tok.start }.into());
    }
    // Frames: (is_object, needs_comma).
    let mut stack: Vec<(Mode, bool)> = Vec::new();
    let mut mode = Mode::Value;
    loop {
        match mode {
            Mode::Value => match tok.kind {
                Kind::OpenBrace | Kind::OpenBracket => {
                    let object = tok.kind == Kind::OpenBrace;
                    if let Some(v) = v.as_deref_mut() {
                        if object {
                            v.object_begin(tok.start)?
                        } else {
                            v.array_begin(tok.start)?
                        }
                    }
                    mode = if object { Mode::Object } else { Mode::Array };
                    stack.push((mode, false));
                    tok = sc.next()?;
                }
                Kind::Str(..) | Kind::Num(_) | Kind::True | Kind::False | Kind::Null => {
                    if let Some(v) = v.as_deref_mut() {
                        let (value, lone) = match std::mem::replace(&mut tok.kind, Kind::Eof) {
                            Kind::Str(s, lone) => (Value::String(s), lone),
                            Kind::Num(x) => (Value::Number(x), false),
                            Kind::True => (Value::Bool(true), false),
                            Kind::False => (Value::Bool(false), false),
                            _ => (Value::Null, false),
                        };
                        v.literal(value, lone, tok.start, tok.end)?;
                    }
                    tok = sc.next()?;
                    mode = Mode::After;
                }
                _ => return Err(SyntaxError { kind: Syntax::ValueExpected, offset: tok.start }.into()),
            },
            Mode::After => match stack.last_mut() {
                None => {
                    if tok.kind != Kind::Eof {
                        return Err(SyntaxError { kind: Syntax::EndOfFileExpected, offset: tok.start }.into());
                    }
                    return Ok(());
                }
                Some(frame) => {
                    frame.1 = true;
                    mode = frame.0;
                }
            },
            Mode::Object | Mode::Array => {
                let needs_comma = stack.last().is_some_and(|f| f.1);
                let close = if mode == Mode::Object { Kind::CloseBrace } else { Kind::CloseBracket };
                if tok.kind == close {
                    if let Some(v) = v.as_deref_mut() {
                        v.end(tok.start, tok.end)?;
                    }
                    stack.pop();
                    tok = sc.next()?;
                    mode = Mode::After;
                    continue;
                }
                if tok.kind == Kind::Eof {
                    let kind = if mode == Mode::Object { Syntax::CloseBraceExpected } else { Syntax::CloseBracketExpected };
                    return Err(SyntaxError { kind, offset: tok.start }.into());
                }
                if tok.kind == Kind::Comma {
                    if !needs_comma {
                        return Err(SyntaxError { kind: Syntax::ValueExpected, offset: tok.start }.into());
                    }
                    if let Some(v) = v.as_deref_mut() {
                        v.comma(tok.start);
                    }
                    tok = sc.next()?;
                    if tok.kind == close {
                        continue;
                    }
                } else if needs_comma {
                    return Err(SyntaxError { kind: Syntax::CommaExpected, offset: tok.start }.into());
                }
                if mode == Mode::Array {
                    mode = Mode::Value;
                    continue;
                }
                let Kind::Str(name, lone) = std::mem::replace(&mut tok.kind, Kind::Eof) else {
                    return Err(SyntaxError { kind: Syntax::PropertyNameExpected, offset: tok.start }.into());
                };
                if let Some(v) = v.as_deref_mut() {
                    v.property(name, lone, tok.start)?;
                }
                tok = sc.next()?;
                if tok.kind != Kind::Colon {
                    return Err(SyntaxError { kind: Syntax::ColonExpected, offset: tok.start }.into());
                }
                tok = sc.next()?;
                mode = Mode::Value;
            }
        }
    }
}

enum Frame {
    Object { value: Object, names: HashMap<String, usize>, name: String },
    Array(Vec<Value>),
}

/// Pass 2: builds the entries, checking keys, values and duplicates in file order.
struct Builder<'a> {
    text: &'a str,
    entries: Vec<Entry>,
    stack: Vec<Frame>,
    open: usize,
    close: usize,
    key: String,
    key_at: usize,
    value_at: usize,
    /// The current entry's value holds a lone surrogate escape.
    lone: bool,
}

impl Builder<'_> {
    fn finish(&mut self, value: Value, end: usize) -> Result<()> {
        let depth = self.stack.len();
        match self.stack.last_mut() {
            None => Ok(()),
            Some(Frame::Array(items)) => {
                items.push(value);
                Ok(())
            }
            Some(Frame::Object { value: o, name, .. }) => {
                if depth > 1 {
                    o.insert(std::mem::take(name), value);
                    return Ok(());
                }
                let mut value = value;
                let encoded = if self.lone {
                    let e = lone_surrogate_error(Some(&self.key));
                    return Err(super::common::at_entry(e, &self.key, self.text, self.value_at, ""));
                } else {
                    check_value(&mut value, &self.key, self.text, self.value_at)?
                };
                self.entries.push(Entry { key: self.key.clone(), value, encoded, start: self.key_at, end, comma: None });
                Ok(())
            }
        }
    }

    fn begin(&mut self, offset: usize) -> Result<()> {
        if self.stack.is_empty() {
            return Err(parse_error(
                self.text,
                offset,
                "The top level of the file is not an object",
                "A mirror file is one JSON object of key → value: { \"display.units\": \"metric\" }.",
            ));
        }
        if self.stack.len() == 1 {
            self.value_at = offset;
            self.lone = false;
        }
        // The root object is frame 0; a value may nest 64 deep, so more than 66 frames is too deep.
        if self.stack.len() > 65 {
            return Err(depth_error(self.text, offset, Some(&self.key)));
        }
        Ok(())
    }
}

impl Visitor for Builder<'_> {
    fn object_begin(&mut self, offset: usize) -> Result<()> {
        if self.stack.is_empty() {
            self.open = offset;
        } else {
            self.begin(offset)?;
        }
        self.stack.push(Frame::Object { value: Object::new(), names: HashMap::new(), name: String::new() });
        Ok(())
    }

    fn array_begin(&mut self, offset: usize) -> Result<()> {
        self.begin(offset)?;
        self.stack.push(Frame::Array(Vec::new()));
        Ok(())
    }

    fn property(&mut self, member: String, lone: bool, offset: usize) -> Result<()> {
        let depth = self.stack.len();
        let text = self.text;
        let Some(Frame::Object { names, name, .. }) = self.stack.last_mut() else {
            return Ok(());
        };
        let first = names.get(&member).copied();
        if depth == 1 {
            check_key(&member, text, offset)?;
            if let Some(first) = first {
                return Err(duplicate_error(text, &member, first, offset, None));
            }
            self.key = member.clone();
            self.key_at = offset;
        } else {
            if let Some(first) = first {
                return Err(duplicate_error(text, &member, first, offset, Some(&self.key)));
            }
            self.lone |= lone;
        }
        names.insert(member.clone(), offset);
        *name = member;
        Ok(())
    }

    fn end(&mut self, offset: usize, end: usize) -> Result<()> {
        let frame = self.stack.pop();
        if self.stack.is_empty() {
            self.close = offset;
            return Ok(());
        }
        match frame {
            Some(Frame::Object { value, .. }) => self.finish(Value::Object(value), end),
            Some(Frame::Array(items)) => self.finish(Value::Array(items), end),
            None => Ok(()),
        }
    }

    fn literal(&mut self, value: Value, lone: bool, offset: usize, end: usize) -> Result<()> {
        if self.stack.is_empty() {
            self.begin(offset)?;
        }
        if self.stack.len() == 1 {
            self.value_at = offset;
            self.lone = false;
        }
        self.lone |= lone;
        self.finish(value, end)
    }

    fn comma(&mut self, offset: usize) {
        if self.stack.len() == 1 {
            if let Some(last) = self.entries.last_mut() {
                if last.comma.is_none() {
                    last.comma = Some(offset);
                }
            }
        }
    }
}

/// Removes `//` line comments and `/* */` block comments (for telling an empty file).
fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let line = rest.find("//");
        let block = rest.find("/*");
        let (at, is_line) = match (line, block) {
            (None, None) => break,
            (Some(l), Some(b)) => (l.min(b), l < b),
            (Some(l), None) => (l, true),
            (None, Some(b)) => (b, false),
        };
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let skip = if is_line { after.find('\n').unwrap_or(after.len()) } else { after.find("*/").map_or(after.len(), |i| i + 2) };
        rest = &after[skip..];
        if !is_line && skip == 0 {
            break;
        }
    }
    out.push_str(rest);
    out
}

/// Parses with positions (text without BOM): the entries, each with its comma, and the offsets
/// of the root object's braces.
pub fn scan(text: &str) -> Result<Layout> {
    let version = read_header(text, "//")?;
    // Pass 1: syntax only, so a syntax error anywhere is reported before any key or value problem.
    match walk(text, None) {
        Ok(()) => {}
        Err(WalkError::Psmc(e)) => return Err(e),
        Err(WalkError::Syntax(e)) => {
            if e.kind == Syntax::ValueExpected && is_space(&strip_comments(text)) {
                return Err(parse_error(
                    text,
                    e.offset,
                    "The file holds no object",
                    "A mirror file is one JSON object; an empty store is written {}.",
                ));
            }
            let mut at = e.offset;
            if e.kind == Syntax::InvalidCharacter {
                // The scanner points at the string; point at the character itself.
                if let Some(i) = text[at..].bytes().position(|b| b < 0x20) {
                    at += i;
                }
            }
            let (what, hint) = e.kind.text();
            return Err(parse_error(text, at, what, hint));
        }
    }
    // Pass 2: build the entries.
    let mut b = Builder { text, entries: Vec::new(), stack: Vec::new(), open: 0, close: 0, key: String::new(), key_at: 0, value_at: 0, lone: false };
    match walk(text, Some(&mut b)) {
        Ok(()) => {}
        Err(WalkError::Psmc(e)) => return Err(e),
        Err(WalkError::Syntax(e)) => return Err(parse_error(text, e.offset, "Not valid JSON", "Check quotes, commas and brackets.")),
    }
    check_duplicates(text, &b.entries)?;
    Ok(Layout { entries: b.entries, version, open: b.open, close: b.close })
}

fn entry_text(key: &str, value: &Value, indent: &str, nl: &str) -> String {
    format!("{}: {}", quote_str(key), indent_rest(&value.to_json_pretty(), indent, nl))
}

/// The canonical JSONC file of checked, sorted entries.
pub fn render(list: &[(String, Value)]) -> String {
    if list.is_empty() {
        return format!("// {}\n{{}}\n", HEADER_TEXT);
    }
    let body: Vec<String> = list.iter().map(|(k, v)| format!("  {}", entry_text(k, v, "  ", "\n"))).collect();
    format!("// {}\n{{\n{}\n}}\n", HEADER_TEXT, body.join(",\n"))
}

/// `[ \t]*//` at the start of `s`.
fn is_line_comment(s: &str) -> bool {
    s[skip_blanks(s, 0)..].starts_with("//")
}

/// The span edits of §mirror.update for JSONC.
pub struct Editor;

impl super::common::Editor for Editor {
    fn scan(&self, text: &str) -> Result<Layout> {
        scan(text)
    }

    fn replace(&self, text: &str, layout: &Layout, index: usize, value: &Value) -> Result<String> {
        let e = &layout.entries[index];
        let t = entry_text(&e.key, value, indent_at(text, e.start), newline_of(text));
        Ok(format!("{}{}{}", &text[..e.start], t, &text[e.end..]))
    }

    fn remove(&self, text: &str, layout: &Layout, index: usize) -> Result<String> {
        let e = &layout.entries[index];
        let prev = if index > 0 { layout.entries.get(index - 1) } else { None };
        let start = e.start;
        let end = e.comma.map_or(e.end, |c| c + 1);
        let ls = line_start(text, start);
        let le = line_end(text, end);
        let mut out = if is_blank(&text[ls..start]) && is_blank(&text[end..le]) {
            let after = if le < text.len() { le + 1 } else { le };
            format!("{}{}", &text[..ls], &text[after..])
        } else {
            format!("{}{}", &text[..start], &text[skip_blanks(text, end)..])
        };
        // The last member goes: the comma before it would now trail, so it goes too.
        if e.comma.is_none() {
            if let Some(pc) = prev.and_then(|p| p.comma) {
                out.remove(pc);
            }
        }
        if layout.entries.len() == 1 {
            let after = scan(&out)?;
            if is_space(&out[after.open + 1..after.close]) {
                out = format!("{}{}", &out[..after.open + 1], &out[after.close..]);
            }
        }
        Ok(out)
    }

    fn insert(&self, text: &str, layout: &Layout, key: &str, value: &Value) -> Result<String> {
        let nl = newline_of(text);
        let entries = &layout.entries;
        let (open, close) = (layout.open, layout.close);
        if entries.is_empty() {
            let outer = indent_at(text, open);
            let inner = format!("{}  ", outer);
            let line = format!("{}{}", inner, entry_text(key, value, &inner, nl));
            if is_space(&text[open + 1..close]) {
                return Ok(format!("{}{}{}{}{}{}", &text[..open + 1], nl, line, nl, outer, &text[close..]));
            }
            return Ok(format!("{}{}{}{}", &text[..open + 1], nl, line, &text[open + 1..]));
        }
        let sorted = is_sorted(entries);
        let first = &entries[0];
        if sorted && key < first.key.as_str() {
            let ls = line_start(text, first.start);
            if !is_blank(&text[ls..first.start]) {
                let t = entry_text(key, value, indent_at(text, first.start), nl);
                return Ok(format!("{}{}, {}", &text[..first.start], t, &text[first.start..]));
            }
            let indent = &text[ls..first.start];
            let mut at = ls;
            while at > 0 {
                let prev = line_start(text, at - 1);
                if !is_line_comment(&text[prev..at - 1]) || (prev == 0 && layout.version.is_some()) {
                    break;
                }
                at = prev;
            }
            return Ok(format!("{}{}{},{}{}", &text[..at], indent, entry_text(key, value, indent, nl), nl, &text[at..]));
        }
        let mut p = &entries[entries.len() - 1];
        if sorted {
            for e in entries {
                if e.key.as_str() < key {
                    p = e;
                }
            }
        }
        let indent = indent_at(text, p.start);
        let x = p.comma.map_or(p.end, |c| c + 1);
        let le = line_end(text, x);
        let rest = &text[x..le];
        let comma = if p.comma.is_some() { "," } else { "" };
        let t = entry_text(key, value, indent, nl);
        if is_blank(rest) || is_line_comment(rest) {
            // Own line, after the predecessor's line (its trailing comment stays with it).
            let head = if p.comma.is_some() { text.to_string() } else { format!("{},{}", &text[..p.end], &text[p.end..]) };
            let end = le + if p.comma.is_some() { 0 } else { 1 };
            let line = format!("{}{}{}", indent, t, comma);
            if end >= head.len() {
                return Ok(format!("{}{}{}", head, nl, line));
            }
            return Ok(format!("{}{}{}{}", &head[..end + 1], line, nl, &head[end + 1..]));
        }
        let lead = if p.comma.is_some() { " " } else { ", " };
        Ok(format!("{}{}{}{}{}", &text[..x], lead, t, comma, &text[x..]))
    }
}
