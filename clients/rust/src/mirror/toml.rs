//! The TOML codec: `config.toml` (§mirror.canonical.toml; TypeScript: src/mirror/codecs/toml.ts).
//!
//! Reading takes two passes, as in the TypeScript codec: pass 1 ([`super::toml_check`]) checks
//! the whole file against TOML and finds the first syntax error; pass 2 (here) walks the valid
//! text again for what the mirror needs: the position of every top-level entry and the exact
//! text of date-time literals, checking keys and values in file order.
//!
//! TOML cannot hold null, so a value holding null (or a value that is itself a one-member object
//! named `$json`) is written `{ "$json" = "<JSON text>" }`.

use std::collections::HashMap;

use super::common::{
    at_entry, check_duplicates, is_float_text, check_key, check_value, depth_error, duplicate_error, holds_null, insert_lines, parse_error, read_header,
    remove_lines, with_stack, Entry, Layout,
};
use super::toml_check::check_toml;
use super::HEADER_TEXT;
use crate::errors::{PsmcError, Result};
use crate::json::{quote_str, Object, Value};
use crate::value::{decode_value, MAX_DEPTH};

// ── writing ──────────────────────────────────────────────────────────────

/// A TOML basic string: JSON's escaping (valid TOML), plus U+007F, which TOML requires escaped.
pub fn toml_string(s: &str) -> String {
    quote_str(s).replace('\u{7f}', "\\u007f")
}

fn is_bare(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn toml_name(name: &str) -> String {
    if is_bare(name) {
        name.to_string()
    } else {
        toml_string(name)
    }
}

/// An inline TOML value of a value that holds no null.
fn toml_value(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(&toml_string(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                toml_value(x, out);
            }
            out.push(']');
        }
        Value::Object(o) if o.is_empty() => out.push_str("{}"),
        Value::Object(o) => {
            out.push_str("{ ");
            for (i, (n, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&toml_name(n));
                out.push_str(" = ");
                toml_value(x, out);
            }
            out.push_str(" }");
        }
        // Numbers and booleans as §value.encoding writes them; null never reaches here.
        other => out.push_str(&other.to_json()),
    }
}

fn is_dollar_json(v: &Value) -> bool {
    matches!(v, Value::Object(o) if o.len() == 1 && o.contains_key("$json"))
}

/// One canonical line, without its newline.
pub fn toml_entry(key: &str, v: &Value) -> String {
    if holds_null(v) || is_dollar_json(v) {
        return format!("{} = {{ \"$json\" = {} }}", toml_string(key), toml_string(&v.to_json()));
    }
    let mut out = format!("{} = ", toml_string(key));
    toml_value(v, &mut out);
    out
}

/// The canonical TOML file of checked, sorted entries.
pub fn render(list: &[(String, Value)]) -> Result<String> {
    let mut out = format!("# {}\n", HEADER_TEXT);
    for (k, v) in list {
        out.push_str(&toml_entry(k, v));
        out.push('\n');
    }
    Ok(out)
}

// ── reading (pass 2) ─────────────────────────────────────────────────────

/// The reader met text it does not expect (only possible in text pass 1 refused).
enum Stop {
    At(usize),
    Psmc(PsmcError),
}

impl From<PsmcError> for Stop {
    fn from(e: PsmcError) -> Self {
        Stop::Psmc(e)
    }
}

type R<T> = std::result::Result<T, Stop>;

struct KeyPart {
    name: String,
    at: usize,
    bare: bool,
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    key: Option<String>,
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
    fn new(text: &'a str) -> Self {
        Reader { text, b: text.as_bytes(), pos: 0, key: None }
    }
    fn peek(&self, k: usize) -> u8 {
        self.b.get(self.pos + k).copied().unwrap_or(0)
    }
    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }
    fn fail<T>(&self) -> R<T> {
        Err(Stop::At(self.pos))
    }
    fn skip_blanks(&mut self) {
        while matches!(self.peek(0), b' ' | b'\t') {
            self.pos += 1;
        }
    }
    /// Blanks, newlines and comments.
    fn skip_space(&mut self) {
        while !self.eof() {
            match self.b[self.pos] {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => self.pos = self.text[self.pos..].find('\n').map_or(self.b.len(), |i| self.pos + i),
                _ => return,
            }
        }
    }

    fn key_path(&mut self) -> R<Vec<KeyPart>> {
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

    fn value(&mut self, depth: usize) -> R<Value> {
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

/// Undoes the `$json` wrapping of §mirror.values.
fn unwrap(v: Value, key: &str, text: &str, at: usize) -> Result<Value> {
    if !is_dollar_json(&v) {
        return Ok(v);
    }
    let Some(Value::String(inner)) = v.get("$json") else {
        return Err(parse_error(
            text,
            at,
            &format!("The \"$json\" member of key {} is not a string", quote_str(key)),
            "Write \"$json\" = \"<JSON text>\", e.g. { \"$json\" = \"[1, null]\" }, or give the value without $json.",
        )
        .with("key", key));
    };
    decode_value(inner, Some(key)).map_err(|e| at_entry(e, key, text, at, "in the \"$json\" text, "))
}

/// Walks the root statements, checking keys and values in file order.
fn statements(text: &str) -> R<Vec<Entry>> {
    let mut r = Reader::new(text);
    let mut entries = Vec::new();
    loop {
        r.skip_space();
        if r.eof() {
            return Ok(entries);
        }
        let at = r.pos;
        if r.peek(0) == b'[' {
            return Err(parse_error(
                text,
                at,
                "Table headers ([table] or [[array]]) are not used in the mirror file",
                "The mirror is flat: one \"key\" = value line per key. Write an object value as an inline table on its line: \"display.window\" = { width = 800, height = 600 }.",
            )
            .into());
        }
        let path = r.key_path()?;
        let head = &path[0];
        if path.len() > 1 {
            let name: Vec<&str> = path.iter().map(|p| p.name.as_str()).collect();
            let name = name.join(".");
            let (what, hint) = if head.bare {
                (
                    format!("The key {} is not quoted, and in TOML an unquoted dotted key means nested tables", name),
                    format!("Quote the whole key: {} = …", toml_string(&name)),
                )
            } else {
                (
                    format!("The dotted key {} makes nested tables", text[at..r.pos].trim()),
                    "Write one quoted key per line, with an object value as an inline table: \"key\" = { member = 1 }.".to_string(),
                )
            };
            return Err(parse_error(text, at, &what, &hint).into());
        }
        check_key(&head.name, text, at)?;
        if r.peek(0) != b'=' {
            return r.fail();
        }
        r.pos += 1;
        r.skip_blanks();
        let value_at = r.pos;
        r.key = Some(head.name.clone());
        let raw = r.value(0)?;
        let mut value = unwrap(raw, &head.name, text, value_at)?;
        let end = r.pos;
        let encoded = check_value(&mut value, &head.name, text, value_at)?;
        entries.push(Entry { key: head.name.clone(), value, encoded, start: at, end, comma: None });
    }
}

/// Best effort for a file pass 1 refused: the first top-level key given twice, if any.
fn root_duplicate(text: &str) -> Option<PsmcError> {
    let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
    let mut r = Reader::new(text);
    loop {
        r.skip_space();
        if r.eof() || r.peek(0) == b'[' {
            return None;
        }
        let at = r.pos;
        // The reader stops at the syntax error pass 1 reported; that error is the one to show.
        let path = r.key_path().ok()?;
        let names: Vec<String> = path.into_iter().map(|p| p.name).collect();
        if let Some(&first) = seen.get(&names) {
            return Some(duplicate_error(text, &names.join("."), first, at, None));
        }
        seen.insert(names, at);
        if r.peek(0) != b'=' {
            return None;
        }
        r.pos += 1;
        r.skip_blanks();
        r.value(0).ok()?;
    }
}

const TOML_HINT: &str =
    "Check quotes, \"=\" and brackets. The mirror writes one line per key: \"display.units\" = \"metric\". See spec/sections/mirror-format.md §mirror.parse.";

/// Parses with positions (text without BOM).
pub fn scan(text: &str) -> Result<Layout> {
    let version = read_header(text, "#")?;
    if let Err(e) = check_toml(text) {
        if e.message.contains("nested") {
            return Err(depth_error(text, 0, None));
        }
        if let Some(dup) = root_duplicate(text) {
            return Err(dup);
        }
        let mut what = e.message.to_string();
        if let Some(first) = what.get(..1) {
            what = first.to_uppercase() + &what[1..];
        }
        return Err(parse_error(text, e.ptr, &what, TOML_HINT));
    }
    let entries = match statements(text) {
        Ok(entries) => entries,
        Err(Stop::Psmc(e)) => return Err(e),
        Err(Stop::At(offset)) => return Err(parse_error(text, offset, "Unexpected text", TOML_HINT)),
    };
    check_duplicates(text, &entries)?;
    Ok(Layout { entries, version, open: 0, close: 0 })
}

fn is_comment(line: &str) -> bool {
    line.trim_start_matches([' ', '\t']).starts_with('#')
}

/// The span edits of §mirror.update for TOML.
pub struct Editor;

impl super::common::Editor for Editor {
    fn scan(&self, text: &str) -> Result<Layout> {
        scan(text)
    }
    fn replace(&self, text: &str, layout: &Layout, index: usize, value: &Value) -> Result<String> {
        let e = &layout.entries[index];
        Ok(format!("{}{}{}", &text[..e.start], toml_entry(&e.key, value), &text[e.end..]))
    }
    fn remove(&self, text: &str, layout: &Layout, index: usize) -> Result<String> {
        let e = &layout.entries[index];
        Ok(remove_lines(text, e.start, e.end))
    }
    fn insert(&self, text: &str, layout: &Layout, key: &str, value: &Value) -> Result<String> {
        Ok(insert_lines(text, layout, key, &|_, _| toml_entry(key, value), &is_comment))
    }
}
