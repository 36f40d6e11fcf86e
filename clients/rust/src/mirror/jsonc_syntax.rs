//! The JSONC syntax (TypeScript: jsonc-parser's scanner and `visit`, which the TypeScript codec
//! uses): tokens, the grammar with `//` and `/* */` comments and trailing commas, and the first
//! syntax error with its jsonc-parser name. The walk is iterative, so no nesting can overflow the
//! stack; a [`Visitor`] receives the events (pass 2 of `json.rs` builds values from them).

use crate::errors::Result;
use crate::json::Value;

/// The kind of a syntax error (jsonc-parser's names) and its message and hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
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
    pub fn text(self) -> (&'static str, &'static str) {
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

pub struct SyntaxError {
    pub kind: Syntax,
    pub offset: usize,
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
    /// The string, and its first lone surrogate escape (replaced by U+FFFD) as (code unit,
    /// UTF-16 index), if any.
    Str(String, Option<(u32, usize)>),
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
        let mut lone: Option<(u32, usize)> = None;
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
                                    if lone.is_none() {
                                        lone = Some((u, out.encode_utf16().count()));
                                    }
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
pub trait Visitor {
    fn object_begin(&mut self, offset: usize) -> Result<()>;
    fn array_begin(&mut self, offset: usize) -> Result<()>;
    fn property(&mut self, name: String, lone: Option<(u32, usize)>, offset: usize) -> Result<()>;
    fn end(&mut self, offset: usize, end: usize) -> Result<()>;
    fn literal(&mut self, value: Value, lone: Option<(u32, usize)>, offset: usize, end: usize) -> Result<()>;
    fn comma(&mut self, offset: usize);
}

pub enum WalkError {
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
pub fn walk(text: &str, mut v: Option<&mut dyn Visitor>) -> std::result::Result<(), WalkError> {
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
                            Kind::Num(x) => (Value::Number(x), None),
                            Kind::True => (Value::Bool(true), None),
                            Kind::False => (Value::Bool(false), None),
                            _ => (Value::Null, None),
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
