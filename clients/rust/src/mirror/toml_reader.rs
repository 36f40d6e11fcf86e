//! Pass 2 of the TOML reader (`toml.rs` has the statements it walks): a reader over text that
//! pass 1 ([`super::toml_check`]) accepted — key paths, values, inline tables and arrays, the
//! four kinds of string with their escapes, and scalars, date-times kept as their exact text.

use std::collections::HashMap;

use super::common::{depth_error, duplicate_error, is_float_text, with_stack};
use crate::errors::PsmcError;
use crate::json::{Object, Value};
use crate::value::MAX_DEPTH;

/// The reader met text it does not expect (only possible in text pass 1 refused).
pub(super) enum Stop {
    At(usize),
    Psmc(PsmcError),
}

impl From<PsmcError> for Stop {
    fn from(e: PsmcError) -> Self {
        Stop::Psmc(e)
    }
}

pub(super) type R<T> = std::result::Result<T, Stop>;

pub(super) struct KeyPart {
    pub(super) name: String,
    at: usize,
    pub(super) bare: bool,
}

pub(super) struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    pub(super) pos: usize,
    pub(super) key: Option<String>,
}

fn is_date_start(tok: &str) -> bool {
    let b = tok.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    (d(0) && d(1) && d(2) && d(3) && b.get(4) == Some(&b'-') && d(5) && d(6) && b.get(7) == Some(&b'-') && d(8) && d(9))
        || (d(0) && d(1) && b.get(2) == Some(&b':') && d(3) && d(4))
}

/// `[+-]?[0-9]+`
fn is_int_text(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

impl<'a> Reader<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Reader { text, b: text.as_bytes(), pos: 0, key: None }
    }
    pub(super) fn peek(&self, k: usize) -> u8 {
        self.b.get(self.pos + k).copied().unwrap_or(0)
    }
    pub(super) fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }
    pub(super) fn fail<T>(&self) -> R<T> {
        Err(Stop::At(self.pos))
    }
    pub(super) fn skip_blanks(&mut self) {
        while matches!(self.peek(0), b' ' | b'\t') {
            self.pos += 1;
        }
    }
    /// Blanks, newlines and comments.
    pub(super) fn skip_space(&mut self) {
        while !self.eof() {
            match self.b[self.pos] {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => self.pos = self.text[self.pos..].find('\n').map_or(self.b.len(), |i| self.pos + i),
                _ => return,
            }
        }
    }

    pub(super) fn key_path(&mut self) -> R<Vec<KeyPart>> {
        let mut parts = Vec::new();
        loop {
            self.skip_blanks();
            let at = self.pos;
            match self.peek(0) {
                b'"' => parts.push(KeyPart { name: self.basic_string()?, at, bare: false }),
                b'\'' => parts.push(KeyPart { name: self.literal_string()?, at, bare: false }),
                _ => {
                    let n = self.b[self.pos..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-').count();
                    if n == 0 {
                        return self.fail();
                    }
                    self.pos += n;
                    parts.push(KeyPart { name: self.text[at..self.pos].to_string(), at, bare: true });
                }
            }
            self.skip_blanks();
            if self.peek(0) != b'.' {
                return Ok(parts);
            }
            self.pos += 1;
        }
    }

    pub(super) fn value(&mut self, depth: usize) -> R<Value> {
        match self.peek(0) {
            b'"' if self.text[self.pos..].starts_with("\"\"\"") => self.multiline(b'"').map(Value::String),
            b'"' => self.basic_string().map(Value::String),
            b'\'' if self.text[self.pos..].starts_with("'''") => self.multiline(b'\'').map(Value::String),
            b'\'' => self.literal_string().map(Value::String),
            b'[' => with_stack(|| self.array(depth + 1)),
            b'{' => with_stack(|| self.table(depth + 1)),
            _ => self.scalar(),
        }
    }

    fn array(&mut self, depth: usize) -> R<Value> {
        if depth > 65 {
            return Err(depth_error(self.text, self.pos, self.key.as_deref()).into());
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            self.skip_space();
            if self.peek(0) == b']' {
                break;
            }
            out.push(self.value(depth)?);
            self.skip_space();
            match self.peek(0) {
                b',' => self.pos += 1,
                b']' => {}
                _ => return self.fail(),
            }
        }
        self.pos += 1;
        Ok(Value::Array(out))
    }

    fn table(&mut self, depth: usize) -> R<Value> {
        if depth > 65 {
            return Err(depth_error(self.text, self.pos, self.key.as_deref()).into());
        }
        self.pos += 1;
        let mut out = Members::default();
        let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
        loop {
            self.skip_space();
            if self.peek(0) == b'}' {
                break;
            }
            let path = self.key_path()?;
            if self.peek(0) != b'=' {
                return self.fail();
            }
            self.pos += 1;
            self.skip_blanks();
            let v = self.value(depth)?;
            let names: Vec<String> = path.iter().map(|p| p.name.clone()).collect();
            let last = &path[path.len() - 1];
            let Some(target) = out.descend(&names[..names.len() - 1], (MAX_DEPTH + 4).saturating_sub(depth)) else {
                return self.fail();
            };
            let first = seen.get(&names).copied();
            if first.is_some() || target.index.contains_key(&last.name) {
                return Err(duplicate_error(self.text, &last.name, first.unwrap_or(last.at), last.at, self.key.as_deref()).into());
            }
            target.push(last.name.clone(), Slot::Value(v));
            seen.insert(names, last.at);
            self.skip_space();
            match self.peek(0) {
                b',' => self.pos += 1,
                b'}' => {}
                _ => return self.fail(),
            }
        }
        self.pos += 1;
        Ok(out.into_value())
    }

    fn basic_string(&mut self) -> R<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(c) = rest.chars().next() else { return self.fail() };
            if c == '\n' {
                return self.fail();
            }
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => out.push(self.escape()?),
                _ => out.push(c),
            }
        }
    }

    fn literal_string(&mut self) -> R<String> {
        let Some(i) = self.text[self.pos + 1..].find('\'') else { return self.fail() };
        let end = self.pos + 1 + i;
        let s = self.text[self.pos + 1..end].to_string();
        self.pos = end + 1;
        Ok(s)
    }

    /// `"""…"""` or `'''…'''`: a newline right after the opening goes, CRLF reads as LF.
    fn multiline(&mut self, q: u8) -> R<String> {
        self.pos += 3;
        if self.peek(0) == b'\n' {
            self.pos += 1;
        } else if self.peek(0) == b'\r' && self.peek(1) == b'\n' {
            self.pos += 2;
        }
        let mut out = String::new();
        loop {
            let Some(c) = self.text[self.pos..].chars().next() else { return self.fail() };
            if c as u32 == q as u32 && self.peek(1) == q && self.peek(2) == q {
                let mut run = 3;
                while self.peek(run) == q && run < 5 {
                    run += 1;
                }
                for _ in 3..run {
                    out.push(q as char);
                }
                self.pos += run;
                return Ok(out);
            }
            self.pos += c.len_utf8();
            if c == '\r' && self.peek(0) == b'\n' {
                continue;
            }
            if c == '\\' && q == b'"' {
                // A line-ending backslash eats the newline and the blanks after it.
                let mut p = self.pos;
                while matches!(self.b.get(p), Some(b' ') | Some(b'\t')) {
                    p += 1;
                }
                if self.b.get(p) == Some(&b'\n') || (self.b.get(p) == Some(&b'\r') && self.b.get(p + 1) == Some(&b'\n')) {
                    self.pos = p;
                    while matches!(self.peek(0), b' ' | b'\t' | b'\r' | b'\n') && !self.eof() {
                        self.pos += 1;
                    }
                    continue;
                }
                out.push(self.escape()?);
            } else {
                out.push(c);
            }
        }
    }

    fn escape(&mut self) -> R<char> {
        let c = self.peek(0);
        self.pos += 1;
        Ok(match c {
            b'b' => '\u{8}',
            b't' => '\t',
            b'n' => '\n',
            b'f' => '\u{c}',
            b'r' => '\r',
            b'e' => '\u{1b}',
            b'"' => '"',
            b'\\' => '\\',
            b'x' | b'u' | b'U' => {
                let n = match c {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let Some(h) = self.b.get(self.pos..self.pos + n) else { return self.fail() };
                if !h.iter().all(u8::is_ascii_hexdigit) {
                    return self.fail();
                }
                let cp = u32::from_str_radix(&self.text[self.pos..self.pos + n], 16).unwrap_or(u32::MAX);
                self.pos += n;
                match char::from_u32(cp) {
                    Some(ch) => ch,
                    None => return self.fail(),
                }
            }
            _ => return self.fail(),
        })
    }

    /// Booleans, numbers and date-times.
    fn scalar(&mut self) -> R<Value> {
        let start = self.pos;
        while !self.eof() && !b",]}#\r\n".contains(&self.b[self.pos]) {
            self.pos += 1;
        }
        let mut end = self.pos;
        while end > start && matches!(self.b[end - 1], b' ' | b'\t') {
            end -= 1;
        }
        self.pos = end;
        let tok = &self.text[start..end];
        match tok {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "inf" | "+inf" => return Ok(Value::Number(f64::INFINITY)),
            "-inf" => return Ok(Value::Number(f64::NEG_INFINITY)),
            "nan" | "+nan" | "-nan" => return Ok(Value::Number(f64::NAN)),
            _ => {}
        }
        // A date-time is read as its text, exactly as written (§mirror.parse).
        if is_date_start(tok) {
            return Ok(Value::String(tok.to_string()));
        }
        let plain: String = tok.chars().filter(|c| *c != '_').collect();
        let radix = match plain.get(..2) {
            Some("0x") => 16,
            Some("0o") => 8,
            Some("0b") => 2,
            _ => 0,
        };
        if radix != 0 {
            let digits = &plain[2..];
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return self.fail();
            }
            // Beyond u128 the number is far outside ±(2^53−1) anyway: the value rules refuse it.
            let n = u128::from_str_radix(digits, radix).map_or(1e300, |n| n as f64);
            return Ok(Value::Number(n));
        }
        if is_int_text(&plain) || is_float_text(&plain) {
            if let Ok(n) = plain.parse::<f64>() {
                return Ok(Value::Number(n));
            }
        }
        self.fail()
    }
}

/// The members of an inline table being read, with an index by name, so that a table of many
/// members is read in linear time. Dotted keys (`a.b = 1`) make inner tables.
#[derive(Default)]
struct Members {
    list: Vec<(String, Slot)>,
    index: HashMap<String, usize>,
}

enum Slot {
    Value(Value),
    Table(Members),
}

impl Members {
    fn push(&mut self, name: String, slot: Slot) {
        self.index.insert(name.clone(), self.list.len());
        self.list.push((name, slot));
    }

    /// The table that the inner parts of a dotted key name, made where missing; None when one
    /// of them holds a value (text pass 1 refused, as a redefinition). `room` is how many more
    /// levels are worth building: a value nesting past 64 is refused by the value rules, which
    /// look no deeper, so parts beyond `room` share the last table (a long dotted key cannot
    /// build a value deep enough to overflow the stack when it is checked or dropped).
    fn descend(&mut self, inner: &[String], room: usize) -> Option<&mut Members> {
        let mut target = self;
        for name in inner.iter().take(room) {
            let i = match target.index.get(name) {
                Some(&i) => i,
                None => {
                    target.push(name.clone(), Slot::Table(Members::default()));
                    target.list.len() - 1
                }
            };
            target = match &mut target.list[i].1 {
                Slot::Table(t) => t,
                Slot::Value(_) => return None,
            };
        }
        Some(target)
    }

    fn into_value(self) -> Value {
        let members = self
            .list
            .into_iter()
            .map(|(k, slot)| {
                let v = match slot {
                    Slot::Value(v) => v,
                    Slot::Table(t) => t.into_value(),
                };
                (k, v)
            })
            .collect();
        Value::Object(Object::from_members(members))
    }
}
