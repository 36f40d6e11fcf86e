//! The JSONC codec: `config.json` (§mirror.canonical.json; TypeScript: src/mirror/codecs/json.ts).
//!
//! JSON with `//` and `/* */` comments and trailing commas when read. The scanner and the
//! grammar follow jsonc-parser (which the TypeScript codec uses) token for token, so the same
//! texts are accepted and the first syntax error is found at the same place. The parser is
//! iterative, so no nesting can overflow the stack; objects are [`Object`]s (no prototype).

use std::collections::HashMap;

use super::common::{
    check_duplicates, check_key, check_line_breaks, check_value, depth_error, duplicate_error, indent_at, indent_rest, is_blank, is_sorted, is_space,
    line_end, line_start, newline_of, parse_error, read_header, skip_blanks, Entry, Layout,
};
use super::HEADER_TEXT;
use super::jsonc_syntax::{walk, Syntax, Visitor, WalkError};
use crate::errors::Result;
use crate::json::{quote_str, LoneAt, Object, Value};
use crate::value::{lone_surrogate_error_at, pointer_segment};

enum Frame {
    /// Members in file order (names are checked unique, so the object is built once at the end).
    Object { members: Vec<(String, Value)>, names: HashMap<String, usize>, name: String },
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
    /// The first lone surrogate escape in the current entry's value, with its path.
    lone: Option<LoneAt>,
}

/// The JSON Pointer, inside the entry's value, of the place `frames` (below the root object)
/// are at: each array's next index, each object's current member name.
fn pointer(frames: &[Frame]) -> String {
    let mut out = String::new();
    for f in frames {
        out.push('/');
        match f {
            Frame::Array(items) => out.push_str(&items.len().to_string()),
            Frame::Object { name, .. } => out.push_str(&pointer_segment(name)),
        }
    }
    out
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
            Some(Frame::Object { members, name, .. }) => {
                if depth > 1 {
                    members.push((std::mem::take(name), value));
                    return Ok(());
                }
                let mut value = value;
                let encoded = if let Some(at) = &self.lone {
                    let e = lone_surrogate_error_at(Some(&self.key), at);
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
            self.lone = None;
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
        self.stack.push(Frame::Object { members: Vec::new(), names: HashMap::new(), name: String::new() });
        Ok(())
    }

    fn array_begin(&mut self, offset: usize) -> Result<()> {
        self.begin(offset)?;
        self.stack.push(Frame::Array(Vec::new()));
        Ok(())
    }

    fn property(&mut self, member: String, lone: Option<(u32, usize)>, offset: usize) -> Result<()> {
        let depth = self.stack.len();
        if let (None, Some((unit, index)), true) = (&self.lone, lone, depth > 1) {
            let path = format!("{}/{}", pointer(&self.stack[1..depth - 1]), pointer_segment(&member));
            self.lone = Some(LoneAt { unit, index, path, name: true });
        }
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
            Some(Frame::Object { members, .. }) => self.finish(Value::Object(Object::from_members(members)), end),
            Some(Frame::Array(items)) => self.finish(Value::Array(items), end),
            None => Ok(()),
        }
    }

    fn literal(&mut self, value: Value, lone: Option<(u32, usize)>, offset: usize, end: usize) -> Result<()> {
        if self.stack.is_empty() {
            self.begin(offset)?;
        }
        if self.stack.len() == 1 {
            self.value_at = offset;
            self.lone = None;
        }
        if let (None, Some((unit, index))) = (&self.lone, lone) {
            let path = pointer(self.stack.get(1..).unwrap_or(&[]));
            self.lone = Some(LoneAt { unit, index, path, name: false });
        }
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
    check_line_breaks(text)?;
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
    let mut b = Builder { text, entries: Vec::new(), stack: Vec::new(), open: 0, close: 0, key: String::new(), key_at: 0, value_at: 0, lone: None };
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
