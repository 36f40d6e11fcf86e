//! The YAML codec: `config.yaml` (§mirror.canonical.yaml; TypeScript: src/mirror/codecs/yaml.ts).
//!
//! Writing follows §mirror.canonical.yaml: block collections, strings always double-quoted,
//! names plain only when no YAML reader could take them for anything but that string. Reading
//! parses the node tree ([`super::yaml_parse`]) and converts it to values here, refusing anchors,
//! aliases and tags in file order, and finding each top-level entry's span for §mirror.update.

use std::collections::HashMap;

use super::common::{
    at_entry, check_duplicates, check_key, check_line_breaks, check_value, depth_error, duplicate_error, indent_at, insert_lines, is_blank, line_start, newline_of,
    parse_error, read_header, remove_lines, with_stack, Entry, Layout,
};
use super::yaml_parse::{Node, NodeKind, Parser, Style};
use super::HEADER_TEXT;
use crate::errors::Result;
use crate::json::{quote_str, Object, Value};
use crate::json::LoneAt;
use crate::value::{lone_surrogate_error_at, pointer_segment};

// ── writing ──────────────────────────────────────────────────────────────

/// A YAML double-quoted string: JSON's escaping plus `\uXXXX` for what YAML does not allow raw
/// or some readers take as a line break.
pub fn yaml_string(s: &str) -> String {
    let q = quote_str(s);
    if !q.chars().any(needs_escape) {
        return q;
    }
    let mut out = String::with_capacity(q.len() + 8);
    for c in q.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

const WORDS: &[&str] = &[
    "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On",
    "ON", "off", "Off", "OFF",
];

/// A key or member name: plain when it matches `^[A-Za-z_][A-Za-z0-9_.-]*$` and is no word a
/// YAML 1.1 or 1.2 reader resolves, else a double-quoted string.
pub fn yaml_name(name: &str) -> String {
    let b = name.as_bytes();
    let plain = !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        && !WORDS.contains(&name);
    if plain {
        name.to_string()
    } else {
        yaml_string(name)
    }
}

/// The text of an inline value (a scalar, `[]` or `{}`), or None for a block collection.
fn inline(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(yaml_string(s)),
        Value::Array(a) => a.is_empty().then(|| "[]".to_string()),
        Value::Object(o) => o.is_empty().then(|| "{}".to_string()),
        other => Some(other.to_json()),
    }
}

fn mapping_lines<'v>(members: impl Iterator<Item = (&'v String, &'v Value)>, indent: &str, out: &mut Vec<String>) {
    for (name, v) in members {
        match inline(v) {
            Some(text) => out.push(format!("{}{}: {}", indent, yaml_name(name), text)),
            None => {
                out.push(format!("{}{}:", indent, yaml_name(name)));
                block(v, &format!("{}  ", indent), out);
            }
        }
    }
}

fn block(v: &Value, indent: &str, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => {
            for item in items {
                match inline(item) {
                    Some(text) => out.push(format!("{}- {}", indent, text)),
                    None => {
                        let at = out.len();
                        block(item, &format!("{}  ", indent), out);
                        out[at] = format!("{}- {}", indent, &out[at][indent.len() + 2..]);
                    }
                }
            }
        }
        Value::Object(o) => mapping_lines(o.iter(), indent, out),
        _ => {}
    }
}

/// The canonical lines of one entry, at indent 0.
pub fn entry_lines(key: &str, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let key = key.to_string();
    mapping_lines(std::iter::once((&key, v)), "", &mut out);
    out
}

/// The canonical YAML file of checked, sorted entries.
pub fn render(list: &[(String, Value)]) -> Result<String> {
    let mut out = format!("# {}\n", HEADER_TEXT);
    for (k, v) in list {
        for line in entry_lines(k, v) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    Ok(out)
}

// ── reading: values ──────────────────────────────────────────────────────

fn refuse<T>(text: &str, offset: usize, what: &str, hint: &str) -> Result<T> {
    Err(parse_error(text, offset, what, hint))
}

/// The string a mapping key stands for: a plain key as written, a quoted key decoded.
/// `path`: the member's JSON Pointer inside the entry's value (for a lone surrogate's message).
fn key_name(text: &str, node: &Node, at: usize, key: Option<&str>, path: &dyn Fn(&str) -> String) -> Result<String> {
    if node.kind != NodeKind::Scalar {
        return refuse(
            text,
            at,
            "A mapping key is not a plain or quoted string",
            "Write keys as plain words or quoted strings: name: value or \"my key\": value.",
        );
    }
    if node.anchor.is_some() || node.tag.is_some() {
        return refuse(
            text,
            node.props_at,
            "Anchors (&name) and tags (!tag) are not used in the mirror file",
            "Remove the & or ! part; write every value out in full.",
        );
    }
    if node.style == Style::Plain {
        if node.source.contains('\n') {
            return refuse(text, node.start, "A plain key spans lines", "Write the key on one line, or quote it.");
        }
        if node.source.is_empty() {
            return refuse(text, at, "A mapping key is empty", "Give every value a key: name: value.");
        }
        return Ok(node.source.clone());
    }
    if let (Some((unit, index)), Some(k)) = (node.lone, key) {
        let name = node.value.as_str().unwrap_or("");
        let at_ = LoneAt { unit, index, path: path(name), name: true };
        return Err(at_entry(lone_surrogate_error_at(Some(k), &at_), k, text, at, ""));
    }
    Ok(node.value.as_str().unwrap_or("").to_string())
}

/// `path`: the node's JSON Pointer inside the entry's value.
fn convert(text: &str, key: &str, node: Option<&Node>, depth: usize, path: &str) -> Result<Value> {
    let Some(node) = node else { return Ok(Value::Null) };
    let start = node.start;
    if node.kind == NodeKind::Alias {
        return refuse(
            text,
            start,
            "Aliases (*name) are not used in the mirror file",
            "Write the value out in full instead of referring to an anchor.",
        );
    }
    if node.anchor.is_some() {
        return refuse(text, start, "Anchors (&name) are not used in the mirror file", "Remove the &name; write every value out in full.");
    }
    if node.tag.is_some() {
        return refuse(
            text,
            start,
            "Tags (!!str, !name …) are not used in the mirror file",
            "Remove the tag; quote a value to make it a string (\"123\").",
        );
    }
    match node.kind {
        NodeKind::Scalar => {
            if let Some((unit, index)) = node.lone {
                let at = LoneAt { unit, index, path: path.to_string(), name: false };
                return Err(at_entry(lone_surrogate_error_at(Some(key), &at), key, text, start, ""));
            }
            Ok(node.value.clone())
        }
        _ if depth > 64 => Err(depth_error(text, start, Some(key))),
        NodeKind::Seq => node
            .seq
            .iter()
            .enumerate()
            .map(|(i, item)| convert(text, key, item.as_ref(), depth + 1, &format!("{}/{}", path, i)))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        _ => {
            let mut out = Vec::with_capacity(node.map.len());
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (k, v, _) in &node.map {
                let member_path = |name: &str| format!("{}/{}", path, pointer_segment(name));
                let name = key_name(text, k, k.start, Some(key), &member_path)?;
                if let Some(&first) = seen.get(&name) {
                    return Err(duplicate_error(text, &name, first, k.start, Some(key)));
                }
                seen.insert(name.clone(), k.start);
                let value = convert(text, key, v.as_ref(), depth + 1, &member_path(&name))?;
                out.push((name, value));
            }
            // Names are unique, so the object is built once (linear, however many members).
            Ok(Value::Object(Object::from_members(out)))
        }
    }
}

/// Offset just after a value's last character (not its trailing comments or blank lines).
fn end_of(node: Option<&Node>, colon_after: usize) -> usize {
    let Some(node) = node else { return colon_after };
    match node.kind {
        NodeKind::Scalar => {
            if node.style == Style::Plain && node.value.is_null() && node.source.is_empty() && node.end == node.start {
                colon_after
            } else {
                node.end
            }
        }
        NodeKind::Seq if !node.flow && !node.seq.is_empty() => end_of(node.seq[node.seq.len() - 1].as_ref(), node.end),
        NodeKind::Map if !node.flow && !node.map.is_empty() => {
            let (_, v, after) = &node.map[node.map.len() - 1];
            end_of(v.as_ref(), *after)
        }
        _ => node.end,
    }
}

/// Parses with positions (text without BOM).
pub fn scan(text: &str) -> Result<Layout> {
    let version = read_header(text, "#")?;
    check_line_breaks(text)?;
    let root = with_stack(|| Parser::new(text).document())?;
    let mut entries = Vec::new();
    if let Some(root) = root {
        if root.kind != NodeKind::Map || root.flow {
            return refuse(
                text,
                root.start,
                "The top level of the file is not a block mapping",
                "Write one \"key: value\" line per key, e.g. display.units: \"metric\".",
            );
        }
        if root.anchor.is_some() || root.tag.is_some() {
            return refuse(text, root.start, "Anchors and tags are not used in the mirror file", "Remove the & or ! part.");
        }
        for (k, v, after_colon) in &root.map {
            let at = k.start;
            if !is_blank(&text[line_start(text, at)..at]) {
                return refuse(
                    text,
                    at,
                    "A top-level entry does not start its own line",
                    "Write each top-level entry as \"key: value\" at the start of a line (no \"?\" or \"---\" before it).",
                );
            }
            let key = key_name(text, k, at, None, &|_| String::new())?;
            check_key(&key, text, at)?;
            let value_at = v.as_ref().map_or(at, |v| v.start);
            let mut value = convert(text, &key, v.as_ref(), 1, "")?;
            let encoded = check_value(&mut value, &key, text, value_at)?;
            entries.push(Entry { key, value, encoded, start: at, end: end_of(v.as_ref(), *after_colon), comma: None });
        }
    }
    check_duplicates(text, &entries)?;
    Ok(Layout { entries, version, open: 0, close: 0 })
}

fn entry_text(key: &str, value: &Value, indent: &str, nl: &str) -> String {
    entry_lines(key, value).join(&format!("{}{}", nl, indent))
}

fn is_comment(line: &str) -> bool {
    line.trim_start_matches([' ', '\t']).starts_with('#')
}

/// The span edits of §mirror.update for YAML.
pub struct Editor;

/// The offset of a `...` document-end line (at a line start, then a blank, a line break or the
/// end), if any. Only used when the file has no entries, so no scalar can hold such a line.
fn document_end(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut p = 0;
    loop {
        if b[p..].starts_with(b"...") && matches!(b.get(p + 3), None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            return Some(p);
        }
        p += b[p..].iter().position(|&c| c == b'\n')? + 1;
    }
}

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
        Ok(remove_lines(text, e.start, e.end))
    }
    fn insert(&self, text: &str, layout: &Layout, key: &str, value: &Value) -> Result<String> {
        // A file with no entries that ends its document with `...`: the entry goes before that line.
        if layout.entries.is_empty() {
            if let Some(at) = document_end(text) {
                let nl = newline_of(text);
                return Ok(format!("{}{}{}{}", &text[..at], entry_text(key, value, "", nl), nl, &text[at..]));
            }
        }
        Ok(insert_lines(text, layout, key, &|indent, nl| entry_text(key, value, indent, nl), &is_comment))
    }
}
