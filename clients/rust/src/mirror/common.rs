//! What the three codecs share (TypeScript: src/mirror/codecs/common.ts, render.ts): positions,
//! the header line, errors that carry line and column, the key and value checks, canonical
//! entries and the span-edit engine of §mirror.update. Pure: no I/O.
//!
//! Offsets are byte offsets into the UTF-8 text; a column counts code points from the start of
//! its line, as §mirror.parse counts it.

use std::collections::{HashMap, HashSet};

use super::{MirrorChange, ParsedMirror, MIRROR_VERSION};
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{quote_str, Value};
use crate::keys::{assert_key, is_valid_key, key_error};
use crate::value::encode_checked;

/// One top-level entry of a parsed file and where its text lies.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    /// The checked value (§value.limits).
    pub value: Value,
    /// Its encoded form (§value.encoding), to tell a changed value from an unchanged one.
    pub encoded: String,
    /// Offset of the entry's first character (the key, at its opening quote if quoted).
    pub start: usize,
    /// Offset just after the entry's value.
    pub end: usize,
    /// JSONC only: offset of the `,` after this member.
    pub comma: Option<usize>,
}

/// A parsed file with positions.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub entries: Vec<Entry>,
    pub version: Option<u32>,
    /// JSONC only: offsets of the root object's `{` and `}`.
    pub open: usize,
    pub close: usize,
}

impl Layout {
    pub fn into_parsed(self) -> ParsedMirror {
        ParsedMirror { entries: self.entries.into_iter().map(|e| (e.key, e.value)).collect(), version: self.version }
    }
}

// ── positions ────────────────────────────────────────────────────────────

/// 1-based line and column (in code points) of byte `offset` in `text`.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let ls = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[ls..].chars().count() + 1)
}

pub fn line_start(text: &str, offset: usize) -> usize {
    if offset == 0 {
        0
    } else {
        text[..offset].rfind('\n').map_or(0, |i| i + 1)
    }
}

/// Offset of the `\n` ending the line holding `offset`, or `text.len()`.
pub fn line_end(text: &str, offset: usize) -> usize {
    text[offset..].find('\n').map_or(text.len(), |i| offset + i)
}

/// The newline of inserted lines: CRLF when the file already uses it, else LF.
pub fn newline_of(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// Only spaces, tabs and CRs.
pub fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b == b' ' || b == b'\t' || b == b'\r')
}

/// JavaScript's `/^\s*$/`.
pub fn is_space(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c == '\u{feff}')
}

/// The offset after the run of spaces and tabs starting at `at`.
pub fn skip_blanks(text: &str, mut at: usize) -> usize {
    let b = text.as_bytes();
    while at < b.len() && (b[at] == b' ' || b[at] == b'\t') {
        at += 1;
    }
    at
}

/// `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?`
pub fn is_float_text(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let mant_ok = match mant.split_once('.') {
        None => digits(mant),
        Some((a, b)) => (digits(a) && (b.is_empty() || digits(b))) || (a.is_empty() && digits(b)),
    };
    mant_ok && exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// Runs one level of a recursive descent with enough stack: on a thread with little stack left
/// (a debug build uses several KiB per level), the next levels run on a heap segment. The
/// readers also cap their nesting, so the stack they can take is bounded either way.
pub fn with_stack<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

// ── errors ───────────────────────────────────────────────────────────────

/// PSMC_PARSE at `offset`: the message says what, the hint how to fix it.
pub fn parse_error(text: &str, offset: usize, what: &str, hint: &str) -> PsmcError {
    let (line, column) = position(text, offset);
    parse_error_at(line, column, what, hint)
}

/// PSMC_PARSE at a known line and column.
pub fn parse_error_at(line: usize, column: usize, what: &str, hint: &str) -> PsmcError {
    PsmcError::new(ErrorCode::Parse, format!("{} (line {}, column {}).", what, line, column), hint)
        .with("line", line as u64)
        .with("column", column as u64)
}

/// Adds `key`, `line` and `column` of `offset` to an error's details, and the position to its
/// message (`sep` goes between the message and the position).
fn locate(e: PsmcError, key: Option<&str>, text: &str, offset: usize, message: String) -> PsmcError {
    let (line, column) = position(text, offset);
    let mut details = e.details().clone();
    if let Some(k) = key {
        details.insert("key", k.into());
    }
    details.insert("line", (line as u64).into());
    details.insert("column", (column as u64).into());
    let message = message.replace("{line}", &line.to_string()).replace("{column}", &column.to_string());
    PsmcError::new(e.error_code(), message, e.hint()).with_details(details)
}

/// The key error of §key with the entry's position added, unless `name` is a legal key.
pub fn check_key(name: &str, text: &str, offset: usize) -> Result<()> {
    if is_valid_key(name) {
        return Ok(());
    }
    let e = key_error(name);
    let message = format!("{} A top-level name of the mirror is a key (line {{line}}, column {{column}}).", e.message());
    Err(locate(e, Some(name), text, offset, message))
}

/// Checks a value against §value.limits (turning `-0` into `0`), reporting the entry's position
/// on failure. Returns the encoded form.
pub fn check_value(value: &mut Value, key: &str, text: &str, offset: usize) -> Result<String> {
    encode_checked(value, Some(key)).map_err(|e| at_entry(e, key, text, offset, ""))
}

/// An error about the value of `key` with the entry's position added (`what` comes before the
/// position, e.g. ` in the "$json" text,`).
pub fn at_entry(e: PsmcError, key: &str, text: &str, offset: usize, what: &str) -> PsmcError {
    let message = format!("{} ({}line {{line}}, column {{column}})", e.message(), what);
    locate(e, Some(key), text, offset, message)
}

/// The error for a name given twice in one mapping, naming both lines. `key` is the entry's key
/// when the name is a member inside its value.
pub fn duplicate_error(text: &str, name: &str, first: usize, second: usize, key: Option<&str>) -> PsmcError {
    let (al, ac) = position(text, first);
    let (bl, bc) = position(text, second);
    let what = match key {
        None => format!("The key {}", quote_str(name)),
        Some(k) => format!("The member {} in the value of key {}", quote_str(name), quote_str(k)),
    };
    PsmcError::new(
        ErrorCode::Parse,
        format!("{} appears twice: on line {} (column {}) and on line {} (column {}).", what, al, ac, bl, bc),
        "Keep one of the two entries and delete the other.",
    )
    .with("key", key.unwrap_or(name))
    .with("line", bl as u64)
    .with("column", bc as u64)
    .with("firstLine", al as u64)
    .with("firstColumn", ac as u64)
}

/// PSMC_VALUE_INVALID for nesting deeper than the value rules allow, raised before any
/// recursion could overflow.
pub fn depth_error(text: &str, offset: usize, key: Option<&str>) -> PsmcError {
    let (line, column) = position(text, offset);
    let mut e = PsmcError::new(
        ErrorCode::ValueInvalid,
        format!("A value nests deeper than 64 levels (line {}, column {}).", line, column),
        "Flatten the value; at most 64 nested arrays/objects are allowed.",
    );
    if let Some(k) = key {
        e = e.with("key", k);
    }
    e.with("line", line as u64).with("column", column as u64)
}

/// Refuses a CR that does not start a CRLF (§mirror.parse, line breaks), wherever it is:
/// between tokens, in a comment, inside a string, at the end. Lines, columns and the line-wise
/// edits of update count LF only, and readers and editors disagree on whether a lone CR starts a
/// line (YAML says it does, TOML forbids it, JSONC ends a `//` comment there), so one reading is
/// refused by all. Runs after the header and before the format's own syntax.
pub fn check_line_breaks(text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    match bytes.iter().enumerate().position(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
        None => Ok(()),
        Some(at) => Err(parse_error(
            text,
            at,
            "A carriage return (CR) that is not followed by a line feed: lines end with LF or CRLF",
            "Save the file with LF or CRLF line endings (the line-ending setting of your editor); a CR on its own, the classic Mac OS line ending, is not read.",
        )),
    }
}

// ── the header ───────────────────────────────────────────────────────────

/// Reads the header from line 1 (§mirror.header): `^[ \t]*MARK[ \t]*psmc mirror v([0-9]+)`
/// not followed by a word character. `PSMC_FORMAT_TOO_NEW` for a newer version, `PSMC_PARSE`
/// for version 0.
pub fn read_header(text: &str, marker: &str) -> Result<Option<u32>> {
    let first = &text[..line_end(text, 0)];
    let mut i = skip_blanks(first, 0);
    if !first[i..].starts_with(marker) {
        return Ok(None);
    }
    i = skip_blanks(first, i + marker.len());
    const WORDS: &str = "psmc mirror v";
    if !first[i..].starts_with(WORDS) {
        return Ok(None);
    }
    let d0 = i + WORDS.len();
    let digits_len = first[d0..].bytes().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 {
        return Ok(None);
    }
    let digits = &first[d0..d0 + digits_len];
    if first[d0 + digits_len..].bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Ok(None);
    }
    // As the reference reports it: the digits' offset on the line (ASCII up to there).
    let column = d0;
    let trimmed = digits.trim_start_matches('0');
    let version: u64 = if trimmed.len() > 15 { u64::MAX } else { trimmed.parse().unwrap_or(0) };
    if version > MIRROR_VERSION as u64 {
        return Err(PsmcError::new(
            ErrorCode::FormatTooNew,
            format!(
                "The mirror file says it is psmc mirror v{}; this psmc reads v{} (line 1, column {}).",
                digits, MIRROR_VERSION, column
            ),
            "Upgrade psmc, or delete the file to have it written again from the store.",
        )
        .with("line", 1u64)
        .with("column", column as u64)
        .with("version", version as f64));
    }
    if version < 1 {
        return Err(parse_error_at(
            1,
            column,
            &format!("The header names mirror version {}, which does not exist", digits),
            &format!("Write \"psmc mirror v{}\" in the header, or delete the header line.", MIRROR_VERSION),
        ));
    }
    Ok(Some(version as u32))
}

/// `(bom, rest)`: a leading byte order mark is kept by update and ignored by parse.
pub fn split_bom(text: &str) -> (&str, &str) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    }
}

/// The duplicate-key error when a top-level key is given twice.
pub fn check_duplicates(text: &str, entries: &[Entry]) -> Result<()> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for e in entries {
        if let Some(&first) = seen.get(e.key.as_str()) {
            return Err(duplicate_error(text, &e.key, first, e.start, None));
        }
        seen.insert(&e.key, e.start);
    }
    Ok(())
}

// ── rendering ────────────────────────────────────────────────────────────

/// Checks keys (§key) and values (§value.limits; `-0` becomes 0) and sorts by key. A key given
/// twice is caller misuse of one batch: PSMC_USAGE.
pub fn canonical_entries(entries: &[(String, Value)]) -> Result<Vec<(String, Value)>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        assert_key(key)?;
        if !seen.insert(key.as_str()) {
            return Err(PsmcError::usage(format!("The key {} is given twice.", quote_str(key)), "Give each key once.").with("key", key.as_str()));
        }
        let mut v = value.clone();
        encode_checked(&mut v, Some(key))?;
        out.push((key.clone(), v));
    }
    // Keys are ASCII (§key.syntax), so byte order is code point order.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// True when the value holds null at any depth.
pub fn holds_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(holds_null),
        Value::Object(o) => o.iter().any(|(_, x)| holds_null(x)),
        _ => false,
    }
}

// ── update ───────────────────────────────────────────────────────────────

/// What a codec supplies to the span-edit engine. Texts have no byte order mark.
pub trait Editor {
    /// Parses text with positions (fails as `parse` does).
    fn scan(&self, text: &str) -> Result<Layout>;
    /// Replaces entry `index` by the canonical text of its key with `value`.
    fn replace(&self, text: &str, layout: &Layout, index: usize, value: &Value) -> Result<String>;
    fn remove(&self, text: &str, layout: &Layout, index: usize) -> Result<String>;
    fn insert(&self, text: &str, layout: &Layout, key: &str, value: &Value) -> Result<String>;
}

struct Checked {
    key: String,
    /// `(value, encoded)`, or None to delete.
    value: Option<(Value, String)>,
}

/// Checks the changes as a batch would: legal keys, legal values, no key twice; sorted by key.
fn check_changes(changes: &[MirrorChange]) -> Result<Vec<Checked>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(changes.len());
    for c in changes {
        assert_key(&c.key)?;
        if !seen.insert(c.key.as_str()) {
            return Err(PsmcError::usage(
                format!("The key {} appears twice in one mirror update.", quote_str(&c.key)),
                "Give each key once per update.",
            )
            .with("key", c.key.as_str()));
        }
        let value = match &c.value {
            None => None,
            Some(v) => {
                let mut v = v.clone();
                let encoded = encode_checked(&mut v, Some(&c.key))?;
                Some((v, encoded))
            }
        };
        out.push(Checked { key: c.key.clone(), value });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Applies changes one at a time in key order (§mirror.update), scanning the text again after
/// each edit so every edit sees exact positions.
pub fn run_update(text: &str, changes: &[MirrorChange], editor: &dyn Editor) -> Result<String> {
    let list = check_changes(changes)?;
    let (bom, body) = split_bom(text);
    let mut t = body.to_string();
    let mut layout = editor.scan(&t)?;
    for c in &list {
        let index = layout.entries.iter().position(|e| e.key == c.key);
        let next = match (&c.value, index) {
            (None, None) => continue,
            (None, Some(i)) => editor.remove(&t, &layout, i)?,
            (Some((v, encoded)), Some(i)) => {
                if layout.entries[i].encoded == *encoded {
                    continue;
                }
                editor.replace(&t, &layout, i, v)?
            }
            (Some((v, _)), None) => editor.insert(&t, &layout, &c.key, v)?,
        };
        layout = editor.scan(&next).map_err(|e| {
            PsmcError::new(
                ErrorCode::Internal,
                format!(
                    "Updating the mirror for key {} produced text that does not parse ({}).",
                    quote_str(&c.key),
                    e.message()
                ),
                "This is a bug in psmc; please report it with the file. Deleting the file makes psmc write it again.",
            )
            .with("key", c.key.as_str())
        })?;
        t = next;
    }
    Ok(format!("{}{}", bom, t))
}

/// True when the entries' keys are in strictly ascending byte order (0 or 1 entries count).
pub fn is_sorted(entries: &[Entry]) -> bool {
    entries.windows(2).all(|w| w[0].key < w[1].key)
}

/// The run of blanks at the start of the line holding `offset` (up to `offset`).
pub fn indent_at(text: &str, offset: usize) -> &str {
    let ls = line_start(text, offset);
    let end = skip_blanks(text, ls).min(offset.max(ls));
    &text[ls..end]
}

/// Writes every line break of `s` as `nl` followed by `indent`.
pub fn indent_rest(s: &str, indent: &str, nl: &str) -> String {
    if !s.contains('\n') {
        return s.to_string();
    }
    s.split('\n').collect::<Vec<_>>().join(&format!("{}{}", nl, indent))
}

/// Removes entry text [start, end) line-wise (TOML and YAML, §mirror.update): when nothing but
/// blanks shares its lines, the whole lines go; otherwise only the entry and the blanks after
/// it, so a trailing comment stays.
pub fn remove_lines(text: &str, start: usize, end: usize) -> String {
    let ls = line_start(text, start);
    let le = line_end(text, end);
    if is_blank(&text[ls..start]) && is_blank(&text[end..le]) {
        let after = if le < text.len() { le + 1 } else { le };
        return format!("{}{}", &text[..ls], &text[after..]);
    }
    let e = skip_blanks(text, end);
    format!("{}{}", &text[..start], &text[e..])
}

/// Inserts a new entry as whole lines (TOML and YAML, §mirror.update). `entry_text(indent, nl)`
/// gives the entry's text with later lines indented; `is_comment_line` tells a comment line.
pub fn insert_lines(
    text: &str,
    layout: &Layout,
    key: &str,
    entry_text: &dyn Fn(&str, &str) -> String,
    is_comment_line: &dyn Fn(&str) -> bool,
) -> String {
    let nl = newline_of(text);
    let entries = &layout.entries;
    if entries.is_empty() {
        let sep = if !text.is_empty() && !text.ends_with('\n') { nl } else { "" };
        return format!("{}{}{}{}", text, sep, entry_text("", nl), nl);
    }
    let sorted = is_sorted(entries);
    let first = &entries[0];
    if sorted && key < first.key.as_str() {
        let indent = indent_at(text, first.start);
        let mut at = line_start(text, first.start);
        // Go above the comment lines right over the first entry: they describe it.
        while at > 0 {
            let prev = line_start(text, at - 1);
            if prev == 0 && layout.version.is_some() {
                break;
            }
            if !is_comment_line(&text[prev..at - 1]) {
                break;
            }
            at = prev;
        }
        return format!("{}{}{}{}{}", &text[..at], indent, entry_text(indent, nl), nl, &text[at..]);
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
    let le = line_end(text, p.end);
    if le == text.len() {
        return format!("{}{}{}{}", text, nl, indent, entry_text(indent, nl));
    }
    format!("{}{}{}{}{}", &text[..le + 1], indent, entry_text(indent, nl), nl, &text[le + 1..])
}
