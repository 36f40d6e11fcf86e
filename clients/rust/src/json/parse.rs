//! Parsing JSON text like ECMAScript `JSON.parse`: duplicates, depth, lone surrogates.

use super::value::{Object, Value};

/// Why text did not parse.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseError {
    /// Not JSON at all (JavaScript's `JSON.parse` throws a SyntaxError): byte offset and reason.
    Syntax { offset: usize, message: String },
    /// JSON, but it holds a lone surrogate escape, which no Rust string can hold. JavaScript
    /// parses it and the value rules refuse it (§value.limits 2). Where the first one is.
    LoneSurrogate(LoneAt),
    /// JSON nested deeper than this parser builds (far beyond the 64 the value rules allow).
    TooDeep,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Syntax { offset, message } => write!(f, "{} at position {}", message, offset),
            ParseError::LoneSurrogate(at) => write!(
                f,
                "{} holds a lone UTF-16 surrogate (U+{:04X}) at index {}, which is not valid Unicode",
                if at.name { "a member name" } else { "a string" },
                at.unit,
                at.index
            ),
            ParseError::TooDeep => f.write_str("the JSON nests too deep"),
        }
    }
}

/// The first lone surrogate escape of a JSON text, as JavaScript's value rules report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoneAt {
    /// The surrogate's UTF-16 code unit (0xD800–0xDFFF).
    pub unit: u32,
    /// Its index in the string, in UTF-16 code units (as JavaScript counts).
    pub index: usize,
    /// The JSON Pointer of the string within the value (`""` for the value itself); a member
    /// name's is the path of its member.
    pub path: String,
    /// True when the string is a member name.
    pub name: bool,
}

/// How the parser treats a lone surrogate escape.
#[derive(Clone, Copy, Debug)]
pub enum LoneSurrogates {
    /// Parse the whole text, then fail with [`ParseError::LoneSurrogate`].
    Refuse,
    /// Write this character in its place (test runners use a marker character).
    Replace(char),
}

/// Deepest nesting the parser builds. The value rules refuse anything deeper than 64.
pub const MAX_PARSE_DEPTH: usize = 1000;

/// Parses JSON text like ECMAScript `JSON.parse` (lone surrogates refused, see [`ParseError`]).
pub fn parse(text: &str) -> Result<Value, ParseError> {
    parse_with(text, LoneSurrogates::Refuse)
}

pub fn parse_with(text: &str, lone: LoneSurrogates) -> Result<Value, ParseError> {
    let mut p = Parser { s: text.as_bytes(), text, i: 0, lone, saw_lone: false, pending: None, first: None };
    let v = p.parse_document()?;
    if p.saw_lone && matches!(lone, LoneSurrogates::Refuse) {
        let at = p.first.unwrap_or(LoneAt { unit: 0xFFFD, index: 0, path: String::new(), name: false });
        return Err(ParseError::LoneSurrogate(at));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    lone: LoneSurrogates,
    saw_lone: bool,
    /// The first lone surrogate (code unit, UTF-16 index, is a member name) until its path is known.
    pending: Option<(u32, usize, bool)>,
    first: Option<LoneAt>,
}

enum Frame {
    Array(Vec<Value>),
    Object(Vec<(String, Value)>, String),
}

/// The JSON Pointer of the place the parser is at: each open array's next index, each open
/// object's current member name.
fn pointer(stack: &[Frame]) -> String {
    let mut out = String::new();
    for f in stack {
        out.push('/');
        match f {
            Frame::Array(items) => out.push_str(&items.len().to_string()),
            Frame::Object(_, name) => out.push_str(&name.replace('~', "~0").replace('/', "~1")),
        }
    }
    out
}

impl<'a> Parser<'a> {
    /// Gives the first lone surrogate its path once the string holding it is placed on `stack`.
    fn settle(&mut self, stack: &[Frame]) {
        if let Some((unit, index, name)) = self.pending.take() {
            self.first = Some(LoneAt { unit, index, path: pointer(stack), name });
        }
    }

    fn err<T>(&self, message: &str) -> Result<T, ParseError> {
        Err(ParseError::Syntax { offset: self.i, message: message.to_string() })
    }

    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn parse_document(&mut self) -> Result<Value, ParseError> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut too_deep = false;
        // Depth counted in containers beyond MAX_PARSE_DEPTH: checked for syntax, not built.
        let mut skipped: Vec<u8> = Vec::new();
        'value: loop {
            self.ws();
            let c = match self.s.get(self.i) {
                Some(&c) => c,
                None => return self.err("unexpected end of the input, expected a value"),
            };
            let mut v: Value;
            match c {
                b'[' | b'{' => {
                    self.i += 1;
                    if stack.len() >= MAX_PARSE_DEPTH || too_deep {
                        too_deep = true;
                        skipped.push(c);
                        self.ws();
                        let close = if c == b'[' { b']' } else { b'}' };
                        if self.s.get(self.i) == Some(&close) {
                            self.i += 1;
                            skipped.pop();
                            v = Value::Null;
                        } else {
                            if c == b'{' {
                                self.member_name()?;
                            }
                            continue 'value;
                        }
                    } else if c == b'[' {
                        self.ws();
                        if self.s.get(self.i) == Some(&b']') {
                            self.i += 1;
                            v = Value::Array(Vec::new());
                        } else {
                            stack.push(Frame::Array(Vec::new()));
                            continue 'value;
                        }
                    } else {
                        self.ws();
                        if self.s.get(self.i) == Some(&b'}') {
                            self.i += 1;
                            v = Value::Object(Object::new());
                        } else {
                            let name = self.member_name()?;
                            stack.push(Frame::Object(Vec::new(), name));
                            self.settle(&stack);
                            continue 'value;
                        }
                    }
                }
                b'"' => {
                    v = Value::String(self.string()?);
                    self.settle(&stack);
                }
                b't' => v = self.literal("true", Value::Bool(true))?,
                b'f' => v = self.literal("false", Value::Bool(false))?,
                b'n' => v = self.literal("null", Value::Null)?,
                b'-' | b'0'..=b'9' => v = Value::Number(self.number()?),
                _ => return self.err("unexpected character, expected a value"),
            }
            // Close containers as far as the text says.
            loop {
                self.ws();
                if let Some(&open) = skipped.last() {
                    let close = if open == b'[' { b']' } else { b'}' };
                    match self.s.get(self.i) {
                        Some(b',') => {
                            self.i += 1;
                            if open == b'{' {
                                self.ws();
                                self.member_name()?;
                            }
                            continue 'value;
                        }
                        Some(&c) if c == close => {
                            self.i += 1;
                            skipped.pop();
                            v = Value::Null;
                            continue;
                        }
                        _ => return self.err("expected ',' or a closing bracket"),
                    }
                }
                match stack.last_mut() {
                    None => {
                        self.ws();
                        if self.i < self.s.len() {
                            return self.err("unexpected text after the end of the JSON value");
                        }
                        if too_deep {
                            return Err(ParseError::TooDeep);
                        }
                        return Ok(v);
                    }
                    Some(Frame::Array(items)) => {
                        items.push(v);
                        match self.s.get(self.i) {
                            Some(b',') => {
                                self.i += 1;
                                continue 'value;
                            }
                            Some(b']') => {
                                self.i += 1;
                                match stack.pop() {
                                    Some(Frame::Array(items)) => v = Value::Array(items),
                                    _ => unreachable!(),
                                }
                            }
                            _ => return self.err("expected ',' or ']' after an array element"),
                        }
                    }
                    Some(Frame::Object(members, name)) => {
                        members.push((std::mem::take(name), v));
                        match self.s.get(self.i) {
                            Some(b',') => {
                                self.i += 1;
                                self.ws();
                                let n = self.member_name()?;
                                if let Some(Frame::Object(_, name)) = stack.last_mut() {
                                    *name = n;
                                }
                                self.settle(&stack);
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.i += 1;
                                match stack.pop() {
                                    Some(Frame::Object(members, _)) => v = Value::Object(Object::from_members(members)),
                                    _ => unreachable!(),
                                }
                            }
                            _ => return self.err("expected ',' or '}' after a member"),
                        }
                    }
                }
            }
        }
    }

    /// `"name"` then `:` (whitespace around allowed).
    fn member_name(&mut self) -> Result<String, ParseError> {
        self.ws();
        if self.s.get(self.i) != Some(&b'"') {
            return self.err("expected a member name in double quotes");
        }
        let name = self.string()?;
        if let Some(p) = self.pending.as_mut() {
            p.2 = true;
        }
        self.ws();
        if self.s.get(self.i) != Some(&b':') {
            return self.err("expected ':' after the member name");
        }
        self.i += 1;
        Ok(name)
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, ParseError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err("unexpected word (literals are true, false and null)")
        }
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        let start = self.i;
        let s = self.s;
        let mut i = self.i;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(s.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => {
                self.i = i;
                return self.err("invalid number");
            }
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !matches!(s.get(i), Some(b'0'..=b'9')) {
                self.i = i;
                return self.err("invalid number (no digit after '.')");
            }
            while matches!(s.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(s.get(i), Some(b'e') | Some(b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            if !matches!(s.get(i), Some(b'0'..=b'9')) {
                self.i = i;
                return self.err("invalid number (no digit in the exponent)");
            }
            while matches!(s.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        self.i = i;
        // Rust's float parsing is correctly rounded, like ECMAScript's; overflow gives ±inf.
        Ok(self.text[start..i].parse::<f64>().unwrap_or(f64::NAN))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self.s.get(self.i..self.i + 4).ok_or(ParseError::Syntax {
            offset: self.i,
            message: "bad \\u escape in a string (it needs 4 hex digits)".into(),
        })?;
        let mut n = 0u32;
        for &c in h {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return self.err("bad \\u escape in a string (it needs 4 hex digits)"),
            };
            n = n * 16 + d as u32;
        }
        self.i += 4;
        Ok(n)
    }

    fn lone(&mut self, out: &mut String, unit: u32) {
        if !self.saw_lone {
            self.pending = Some((unit, out.encode_utf16().count(), false));
        }
        self.saw_lone = true;
        out.push(match self.lone {
            LoneSurrogates::Refuse => '\u{FFFD}',
            LoneSurrogates::Replace(c) => c,
        });
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start_quote = self.i;
        self.i += 1;
        let mut out = String::new();
        let mut run = self.i;
        loop {
            let c = match self.s.get(self.i) {
                Some(&c) => c,
                None => {
                    self.i = start_quote;
                    return self.err("unterminated string (a closing double quote is missing)");
                }
            };
            match c {
                b'"' => {
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    let e = self.s.get(self.i).copied();
                    self.i += 1;
                    match e {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let u = self.hex4()?;
                            if (0xD800..0xDC00).contains(&u) {
                                // A high surrogate: a low one must follow as another escape.
                                if self.s.get(self.i) == Some(&b'\\') && self.s.get(self.i + 1) == Some(&b'u') {
                                    let save = self.i;
                                    self.i += 2;
                                    let l = self.hex4()?;
                                    if (0xDC00..0xE000).contains(&l) {
                                        let cp = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                                        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                                    } else {
                                        self.lone(&mut out, u);
                                        self.i = save;
                                    }
                                } else {
                                    self.lone(&mut out, u);
                                }
                            } else if (0xDC00..0xE000).contains(&u) {
                                self.lone(&mut out, u);
                            } else {
                                out.push(char::from_u32(u).unwrap_or('\u{FFFD}'));
                            }
                        }
                        _ => {
                            self.i -= 1;
                            return self.err("bad escape in a string");
                        }
                    }
                    run = self.i;
                }
                0x00..=0x1f => return self.err("control character inside a string (write it as an escape such as \\n)"),
                _ => self.i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_duplicates() {
        let v = parse(r#"{"b":1,"10":4,"1":2,"01":5,"b":7}"#).unwrap();
        assert_eq!(v.to_json(), r#"{"1":2,"10":4,"b":7,"01":5}"#);
    }

    #[test]
    fn strings() {
        let v = parse(r#""a\u0001\u007f\u2028\"\\\/\b\f\n\r\t😀""#).unwrap();
        assert_eq!(v.to_json(), "\"a\\u0001\u{7f}\u{2028}\\\"\\\\/\\b\\f\\n\\r\\t😀\"");
        let at = |unit, index, path: &str, name| ParseError::LoneSurrogate(LoneAt { unit, index, path: path.into(), name });
        assert_eq!(parse(r#""\ud800""#), Err(at(0xD800, 0, "", false)));
        assert_eq!(parse(r#"[1,{"a~":["\ud800\u0041", "\udc00"]}]"#), Err(at(0xD800, 0, "/1/a~0/0", false)));
        assert_eq!(parse(r#"{"x":1,"y\udc00":2}"#), Err(at(0xDC00, 1, "/y\u{fffd}", true)));
        assert_eq!(parse(r#"{"x":"\u00e9\ud83d\ude00\ud83d"}"#), Err(at(0xD83D, 3, "/x", false)));
        assert!(matches!(parse(r#""\ud800"x"#), Err(ParseError::Syntax { .. })));
    }

    #[test]
    fn deep() {
        let t = "[".repeat(5000) + &"]".repeat(5000);
        assert_eq!(parse(&t), Err(ParseError::TooDeep));
        let t = "[".repeat(5000) + &"]".repeat(4999);
        assert!(matches!(parse(&t), Err(ParseError::Syntax { .. })));
        let t = "{\"a\":".repeat(3000) + "1" + &"}".repeat(3000);
        assert_eq!(parse(&t), Err(ParseError::TooDeep));
    }
}
