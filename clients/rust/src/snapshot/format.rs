//! The snapshot file (spec/sections/snapshots.md §snapshot.format; TypeScript:
//! src/snapshot/format.ts; Python: clients/python/src/psmc/snapshot/format.py). Pure: no I/O.
//!
//! A snapshot is one JSON document, pretty-printed so that it reads and diffs well under git.
//! [`render_snapshot`] writes the exact bytes every language writes (members in the spec's
//! order, entries sorted by key in byte order, two-space indentation, a final LF).
//! [`parse_snapshot`] checks every member, so a file edited by hand, truncated or written by a
//! stranger is refused with a clear error instead of being restored.

use crate::clock::parse_hlc;
use crate::engine::assert_source;
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{self, quote_str, Object, ParseError, Value};
use crate::keys::assert_key;
use crate::schema::parse_schema_document;
use crate::value::{encode_checked, lone_surrogate_error_at, type_of, ValueType, MAX_SAFE_INTEGER};

use super::names::assert_stored_name;

/// The `format` member of every snapshot.
pub const SNAPSHOT_FORMAT: &str = "psmc-snapshot";
/// The snapshot format version this client writes and reads.
pub const SNAPSHOT_VERSION: i64 = 1;
/// Why a snapshot was taken. Only `manual` snapshots are kept forever; the others rotate.
pub const SNAPSHOT_REASONS: &[&str] = &["manual", "before-restore", "before-import", "every-changes"];

const TOP_MEMBERS: &[&str] = &["format", "version", "name", "createdAt", "revision", "reason", "source", "entries", "schema"];
const ENTRY_MEMBERS: &[&str] = &["value", "type", "revision", "updatedAt", "source"];

const PARSE_HINT: &str = "A snapshot file is written by psmc; if it was edited by hand, fix the member named in the message (spec/sections/snapshots.md §snapshot.format), or delete the file.";

/// One key of a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotEntry {
    /// The checked value.
    pub value: Value,
    /// Its type name, computed from the value.
    pub value_type: ValueType,
    /// The store revision of the key's last change.
    pub revision: i64,
    /// That change's clock text (§clock.format).
    pub updated_at: String,
    /// That change's source.
    pub source: String,
}

/// A checked snapshot. `entries` is sorted by key in byte order.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotDocument {
    pub name: String,
    /// `YYYY-MM-DDTHH:MM:SS.sssZ`.
    pub created_at: String,
    pub revision: i64,
    /// One of [`SNAPSHOT_REASONS`].
    pub reason: String,
    pub source: String,
    pub entries: Vec<(String, SnapshotEntry)>,
    /// The store's schema document at that revision, when it had one.
    pub schema: Option<Value>,
}

impl SnapshotDocument {
    /// The key → value pairs, as an object.
    pub fn values(&self) -> Object {
        Object::from_members(self.entries.iter().map(|(k, e)| (k.clone(), e.value.clone())).collect())
    }
}

/// The inputs of [`build_snapshot`]: one entry per key, in any order.
pub struct SnapshotParts {
    pub name: String,
    pub created_at: String,
    pub revision: i64,
    pub reason: String,
    pub source: String,
    /// `(key, value, revision, updatedAt, source)`.
    pub entries: Vec<(String, Value, i64, String, String)>,
    pub schema: Option<Value>,
}

/// True when `text` is a `createdAt` text: ISO 8601 UTC with milliseconds, a real date.
pub fn is_iso_time(text: &str) -> bool {
    text.len() == 24 && parse_hlc(&format!("{}-0000", text)).is_ok()
}

fn indent(text: &str, by: &str) -> String {
    text.replace('\n', &format!("\n{}", by))
}

/// The text of a snapshot file: ECMAScript `JSON.stringify(doc, null, 2) + "\n"` with the
/// members in the order of §snapshot.format and the entries in byte order of their keys.
pub fn render_snapshot(doc: &SnapshotDocument) -> String {
    let mut sorted: Vec<&(String, SnapshotEntry)> = doc.entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let entries = if sorted.is_empty() {
        "{}".to_string()
    } else {
        let parts: Vec<String> = sorted
            .iter()
            .map(|(k, e)| {
                format!(
                    "    {}: {{\n      \"value\": {},\n      \"type\": {},\n      \"revision\": {},\n      \"updatedAt\": {},\n      \"source\": {}\n    }}",
                    quote_str(k),
                    indent(&e.value.to_json_pretty(), "      "),
                    quote_str(e.value_type.as_str()),
                    e.revision,
                    quote_str(&e.updated_at),
                    quote_str(&e.source)
                )
            })
            .collect();
        format!("{{\n{}\n  }}", parts.join(",\n"))
    };
    let mut lines = vec![
        format!("  \"format\": {}", quote_str(SNAPSHOT_FORMAT)),
        format!("  \"version\": {}", SNAPSHOT_VERSION),
        format!("  \"name\": {}", quote_str(&doc.name)),
        format!("  \"createdAt\": {}", quote_str(&doc.created_at)),
        format!("  \"revision\": {}", doc.revision),
        format!("  \"reason\": {}", quote_str(&doc.reason)),
        format!("  \"source\": {}", quote_str(&doc.source)),
        format!("  \"entries\": {}", entries),
    ];
    if let Some(s) = &doc.schema {
        lines.push(format!("  \"schema\": {}", indent(&s.to_json_pretty(), "  ")));
    }
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

fn describe(v: Option<&Value>) -> String {
    match v {
        None => "nothing".into(),
        Some(Value::Null) => "null".into(),
        Some(Value::Array(_)) => "an array".into(),
        Some(Value::Object(_)) => "an object".into(),
        Some(other) => {
            let text = other.to_json();
            if text.chars().count() > 60 {
                format!("{}…", text.chars().take(59).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn parse_error(where_: &str, message: String, key: Option<&str>) -> PsmcError {
    let mut e = PsmcError::new(ErrorCode::Parse, format!("{}: {}", where_, message), PARSE_HINT).with("file", where_);
    if let Some(k) = key {
        e = e.with("key", k);
    }
    e
}

fn in_file(e: PsmcError, where_: &str, key: &str) -> PsmcError {
    let mut details = e.details().clone();
    details.insert("file", Value::String(where_.into()));
    details.insert("key", Value::String(key.into()));
    PsmcError::new(e.error_code(), format!("{}: {}", where_, e.message()), e.hint()).with_details(details)
}

/// `v` as an integer when it is a JSON number that is a safe integer ≥ `minimum`.
fn whole_number(v: Option<&Value>, minimum: i64) -> Option<i64> {
    match v {
        Some(Value::Number(n)) if n.is_finite() && n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER && *n >= minimum as f64 => Some(*n as i64),
        _ => None,
    }
}

/// Parses and checks the text of a snapshot file.
///
/// `file` names the file in messages; when `expect_name` is given (the name the file's name
/// says), the `name` member must equal it. `PSMC_PARSE` for text that is not a snapshot,
/// `PSMC_FORMAT_TOO_NEW` for a newer version, `PSMC_KEY_SYNTAX` / `PSMC_KEY_RESERVED` /
/// `PSMC_VALUE_INVALID` / `PSMC_VALUE_TOO_LARGE` for a bad key or value.
pub fn parse_snapshot(text: &str, file: Option<&str>, expect_name: Option<&str>) -> Result<SnapshotDocument> {
    let where_ = file.unwrap_or("the snapshot");
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw = match json::parse(body) {
        Ok(v) => v,
        Err(ParseError::LoneSurrogate(at)) => return Err(in_file(lone_surrogate_error_at(None, &at), where_, "")),
        Err(ParseError::TooDeep) => {
            return Err(parse_error(where_, "it nests too deeply to be a snapshot.".into(), None));
        }
        // Only the position: an excerpt of the text must not reach logs or HTTP bodies.
        Err(e) => return Err(parse_error(where_, format!("not valid JSON ({}); the file may be truncated or damaged.", position_only(&e)), None)),
    };
    check_snapshot(&raw, Some(where_), expect_name)
}

fn position_only(e: &ParseError) -> String {
    match e {
        ParseError::Syntax { offset, .. } => format!("at byte {}", offset + 1),
        _ => "a syntax error".into(),
    }
}

/// Checks a parsed snapshot document (see [`parse_snapshot`]).
pub fn check_snapshot(raw: &Value, file: Option<&str>, expect_name: Option<&str>) -> Result<SnapshotDocument> {
    let where_ = file.unwrap_or("the snapshot");
    let o = match raw {
        Value::Object(o) => o,
        other => return Err(parse_error(where_, format!("expected a JSON object, found {}.", describe(Some(other))), None)),
    };
    let fmt = o.get("format");
    if fmt.and_then(Value::as_str) != Some(SNAPSHOT_FORMAT) {
        return Err(parse_error(
            where_,
            format!("\"format\" must be \"{}\", found {}; this is not a psmc snapshot.", SNAPSHOT_FORMAT, describe(fmt)),
            None,
        ));
    }
    let version = whole_number(o.get("version"), 1)
        .ok_or_else(|| parse_error(where_, format!("\"version\" must be a whole number ≥ 1, found {}.", describe(o.get("version"))), None))?;
    if version > SNAPSHOT_VERSION {
        return Err(PsmcError::new(
            ErrorCode::FormatTooNew,
            format!("{} is snapshot version {}; this psmc reads version {}.", where_, version, SNAPSHOT_VERSION),
            "Upgrade psmc to read it, or take the snapshot again with this version.",
        )
        .with("file", where_));
    }
    for m in o.keys() {
        if !TOP_MEMBERS.contains(&m.as_str()) {
            return Err(parse_error(
                where_,
                format!("unknown member {} (a version {} snapshot has {}).", quote_str(m), SNAPSHOT_VERSION, TOP_MEMBERS.join(", ")),
                None,
            ));
        }
    }
    let name = match o.get("name") {
        Some(Value::String(s)) => s.clone(),
        other => {
            return Err(parse_error(where_, format!("the snapshot name {} is not usable: a snapshot name must be a string.", describe(other)), None));
        }
    };
    assert_stored_name(&name, where_)?;
    if let Some(expect) = expect_name {
        if name != expect {
            return Err(parse_error(
                where_,
                format!("the file is named {} but its \"name\" member says {}.", quote_str(expect), quote_str(&name)),
                None,
            ));
        }
    }
    let created_at = match o.get("createdAt") {
        Some(Value::String(s)) if is_iso_time(s) => s.clone(),
        other => {
            return Err(parse_error(
                where_,
                format!("\"createdAt\" must be an ISO 8601 UTC time such as \"2026-11-26T04:45:41.123Z\", found {}.", describe(other)),
                None,
            ))
        }
    };
    let revision = whole_number(o.get("revision"), 0)
        .ok_or_else(|| parse_error(where_, format!("\"revision\" must be a whole number ≥ 0, found {}.", describe(o.get("revision"))), None))?;
    let reason = match o.get("reason") {
        Some(Value::String(s)) if SNAPSHOT_REASONS.contains(&s.as_str()) => s.clone(),
        other => {
            return Err(parse_error(where_, format!("\"reason\" must be one of {}, found {}.", SNAPSHOT_REASONS.join(", "), describe(other)), None));
        }
    };
    let source = match o.get("source") {
        Some(Value::String(s)) if assert_source(s).is_ok() => s.clone(),
        other => return Err(parse_error(where_, format!("\"source\" must be 1–128 printable characters, found {}.", describe(other)), None)),
    };
    let raw_entries = match o.get("entries") {
        Some(Value::Object(e)) => e,
        other => return Err(parse_error(where_, format!("\"entries\" must be an object of key → entry, found {}.", describe(other)), None)),
    };
    let mut entries = Vec::with_capacity(raw_entries.len());
    for (key, e) in raw_entries.iter() {
        assert_key(key).map_err(|err| in_file(err, where_, key))?;
        let what = format!("entry {}", quote_str(key));
        let eo = match e {
            Value::Object(eo) => eo,
            other => return Err(parse_error(where_, format!("{} must be an object, found {}.", what, describe(Some(other))), Some(key))),
        };
        for m in eo.keys() {
            if !ENTRY_MEMBERS.contains(&m.as_str()) {
                return Err(parse_error(where_, format!("{} has an unknown member {}.", what, quote_str(m)), Some(key)));
            }
        }
        let mut value = match eo.get("value") {
            Some(v) => v.clone(),
            None => return Err(parse_error(where_, format!("{} has no \"value\".", what), Some(key))),
        };
        encode_checked(&mut value, Some(key)).map_err(|err| in_file(err, where_, key))?;
        let typ = type_of(&value);
        if eo.get("type").and_then(Value::as_str) != Some(typ.as_str()) {
            return Err(parse_error(
                where_,
                format!("{}: \"type\" is {} but the value is of type \"{}\".", what, describe(eo.get("type")), typ.as_str()),
                Some(key),
            ));
        }
        let rev = match whole_number(eo.get("revision"), 1) {
            Some(r) if r <= revision => r,
            _ => {
                return Err(parse_error(
                    where_,
                    format!(
                        "{}: \"revision\" must be a whole number from 1 to the snapshot's revision {}, found {}.",
                        what,
                        revision,
                        describe(eo.get("revision"))
                    ),
                    Some(key),
                ))
            }
        };
        let updated_at = match eo.get("updatedAt") {
            Some(Value::String(s)) if parse_hlc(s).is_ok() => s.clone(),
            other => {
                return Err(parse_error(
                    where_,
                    format!(
                        "{}: \"updatedAt\" must be a psmc clock text such as \"2026-11-26T04:45:41.123Z-0000\", found {}.",
                        what,
                        describe(other)
                    ),
                    Some(key),
                ))
            }
        };
        let src = match eo.get("source") {
            Some(Value::String(s)) if assert_source(s).is_ok() => s.clone(),
            other => {
                return Err(parse_error(
                    where_,
                    format!("{}: \"source\" must be 1–128 printable characters, found {}.", what, describe(other)),
                    Some(key),
                ))
            }
        };
        entries.push((key.clone(), SnapshotEntry { value, value_type: typ, revision: rev, updated_at, source: src }));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let schema = match o.get("schema") {
        None => None,
        Some(s) => {
            parse_schema_document(s)
                .map_err(|err| parse_error(where_, format!("\"schema\" is not a valid psmc schema document: {}", err.message()), None))?;
            Some(s.clone())
        }
    };
    Ok(SnapshotDocument { name, created_at, revision, reason, source, entries, schema })
}

/// A checked document from its parts (the same checks as [`parse_snapshot`]).
pub fn build_snapshot(parts: SnapshotParts) -> Result<SnapshotDocument> {
    let mut entries = Object::new();
    for (key, value, revision, updated_at, source) in parts.entries {
        let mut v = value;
        encode_checked(&mut v, Some(&key))?;
        let typ = type_of(&v);
        let mut e = Object::new();
        e.insert("value", v);
        e.insert("type", Value::String(typ.as_str().into()));
        e.insert("revision", Value::Number(revision as f64));
        e.insert("updatedAt", Value::String(updated_at));
        e.insert("source", Value::String(source));
        entries.insert(key, Value::Object(e));
    }
    let mut raw = Object::new();
    raw.insert("format", Value::String(SNAPSHOT_FORMAT.into()));
    raw.insert("version", Value::Number(SNAPSHOT_VERSION as f64));
    raw.insert("name", Value::String(parts.name.clone()));
    raw.insert("createdAt", Value::String(parts.created_at));
    raw.insert("revision", Value::Number(parts.revision as f64));
    raw.insert("reason", Value::String(parts.reason));
    raw.insert("source", Value::String(parts.source));
    raw.insert("entries", Value::Object(entries));
    if let Some(s) = parts.schema {
        raw.insert("schema", s);
    }
    check_snapshot(&Value::Object(raw), Some(&format!("snapshot {}", quote_str(&parts.name))), None)
}
