//! What a file dropped into `imports/` means: which names are skipped or refused, the format
//! its extension says, the document it holds (the plain form, or the full form of an export or
//! snapshot document), and the `.reason` text written beside a refused file.

use crate::clock::iso_time;
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{self, quote_str, Object, Value};
use crate::mirror::{self, MirrorFormat};

const MAX_SOURCE_LENGTH: usize = 128;

/// Hidden files, editor swap/backup files and partial downloads: never imported.
pub fn is_temp_name(name: &str) -> bool {
    if name.starts_with('.') || name.ends_with('~') {
        return true;
    }
    if name.len() > 1 && name.starts_with('#') && name.ends_with('#') {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    ["tmp", "temp", "swp", "swx", "swo", "part", "partial", "crdownload", "download", "bak", "lock"].iter().any(|ext| lower.ends_with(&format!(".{}", ext)))
}
/// The full form: an export document as is; a snapshot document as its entries; other psmc
/// documents refused. None when `doc` is no psmc document (the plain form).
fn full_form(doc: &Object) -> Result<Option<Value>> {
    let format = match doc.get("format").and_then(Value::as_str) {
        Some(f) if f.starts_with("psmc-") => f,
        _ => return Ok(None),
    };
    if format == "psmc-export" {
        return Ok(Some(Value::Object(doc.clone())));
    }
    if format == "psmc-snapshot" {
        let mut out = Object::new();
        out.insert("format", Value::String("psmc-export".into()));
        out.insert("version", doc.get("version").cloned().unwrap_or(Value::Null));
        out.insert("entries", doc.get("entries").cloned().unwrap_or(Value::Null));
        return Ok(Some(Value::Object(out)));
    }
    Err(PsmcError::new(
        ErrorCode::Parse,
        format!("The file is a {} document, which cannot be imported.", quote_str(format)),
        "Drop a psmc export document ({\"format\":\"psmc-export\",…}), a snapshot file, or a flat file of key = value.",
    ))
}

/// The document to give the store's import: the full form, or a flat object of key → value.
pub fn parse_import_text(text: &str, format: MirrorFormat) -> Result<Value> {
    let parsed = match mirror::parse(format, text) {
        Ok(p) => p,
        Err(e) => {
            // An export document whose values break a mirror-file rule (e.g. depth) is still one.
            if format == MirrorFormat::Json {
                if let Ok(Value::Object(raw)) = json::parse(text) {
                    if let Some(full) = full_form(&raw)? {
                        return Ok(full);
                    }
                }
            }
            return Err(e);
        }
    };
    let flat = Object::from_members(parsed.entries);
    Ok(full_form(&flat)?.unwrap_or(Value::Object(flat)))
}
/// Why a file name cannot be imported (recorded as `import:<name>`), if it cannot.
pub(super) fn name_problem(name: &str) -> Option<String> {
    if name == "." || name == ".." || name.contains('/') || name.contains('\\') {
        return Some("it is not a plain file name".into());
    }
    if name.chars().any(|c| (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32))) {
        return Some("it holds control characters or broken Unicode".into());
    }
    if format!("import:{}", name).chars().count() > MAX_SOURCE_LENGTH {
        return Some(format!("it is too long to record as the source (import:<name> is at most {} characters)", MAX_SOURCE_LENGTH));
    }
    None
}

/// The format a file name's extension says, and the extension as written.
pub(super) fn format_of(name: &str) -> (Option<MirrorFormat>, String) {
    let ext = match name.rfind('.') {
        Some(i) if i > 0 => name[i..].to_string(),
        _ => String::new(),
    };
    let f = match ext.to_ascii_lowercase().as_str() {
        ".json" => Some(MirrorFormat::Json),
        ".toml" => Some(MirrorFormat::Toml),
        ".yaml" | ".yml" => Some(MirrorFormat::Yaml),
        _ => None,
    };
    (f, ext)
}

/// What a `.reason` file (and the report) says about a refused file.
pub(super) struct Facts {
    pub(super) code: String,
    pub(super) message: String,
    pub(super) hint: String,
    pub(super) line: Option<i64>,
    pub(super) column: Option<i64>,
    pub(super) key: Option<String>,
}

/// The text of `rejected/<file>.reason`.
pub(super) fn reason_text(file: &str, r: &Facts, at: i64) -> String {
    let mut lines = vec![format!("file: {}", file), format!("rejected: {}", iso_time(at)), format!("code: {}", r.code)];
    if let Some(l) = r.line {
        lines.push(format!("line: {}", l));
    }
    if let Some(c) = r.column {
        lines.push(format!("column: {}", c));
    }
    if let Some(k) = &r.key {
        lines.push(format!("key: {}", k));
    }
    lines.push(format!("message: {}", r.message));
    lines.push(format!("hint: {}", r.hint));
    lines.push(String::new());
    lines.push("The store was not changed by this file. Fix it and drop it into imports/ again.".into());
    lines.push(String::new());
    lines.join("\n")
}
