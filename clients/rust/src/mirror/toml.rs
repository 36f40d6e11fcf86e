//! The TOML codec: `config.toml` (§mirror.canonical.toml; TypeScript: src/mirror/codecs/toml.ts).
//!
//! Reading takes two passes, as in the TypeScript codec: pass 1 ([`super::toml_check`]) checks
//! the whole file against TOML and finds the first syntax error; pass 2 (the statements here,
//! the reader of keys and values in [`super::toml_reader`]) walks the valid text again for what
//! the mirror needs: the position of every top-level entry and the exact text of date-time
//! literals, checking keys and values in file order.
//!
//! TOML cannot hold null, so a value holding null (or a value that is itself a one-member object
//! named `$json`) is written `{ "$json" = "<JSON text>" }`.

use std::collections::HashMap;

use super::common::{
    at_entry, check_duplicates, check_key, check_line_breaks, check_value, depth_error, duplicate_error, holds_null, insert_lines, parse_error, read_header, remove_lines,
    Entry, Layout,
};
use super::toml_check::check_toml;
use super::toml_reader::{Reader, Stop, R};
use super::HEADER_TEXT;
use crate::errors::{PsmcError, Result};
use crate::json::{quote_str, Value};
use crate::value::decode_value;

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

// ── reading (pass 2): the root statements ────────────────────────────────

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
    check_line_breaks(text)?;
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
