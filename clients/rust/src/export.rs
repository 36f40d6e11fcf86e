//! The JSON export/import document (spec/SPEC.md §export). Mirrors src/store/export.ts.
//!
//! Export: `{"format":"psmc-export","version":1,"revision":N,"entries":{key:{value,type,
//! revision,updatedAt,source}},"schema":{…}?}`. Import accepts that document (recognised by
//! `format` being the string `psmc-export`) or any other object as a flat key → value map.

use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{quote_str, Value};
use crate::keys::assert_key;
use crate::value::checked;

fn import_error(message: String, file: Option<&str>, key: Option<&str>) -> PsmcError {
    let mut e = PsmcError::new(
        ErrorCode::Parse,
        format!("{}: {}", file.unwrap_or("The import document"), message),
        "Give an export document ({\"format\":\"psmc-export\",\"version\":1,\"entries\":{…}}) or a flat object of dotted key → value, e.g. {\"display.units\": \"metric\"}.",
    );
    if let Some(f) = file {
        e = e.with("file", f);
    }
    if let Some(k) = key {
        e = e.with("key", k);
    }
    e
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Object(_) => "object",
    }
}

/// The key → value pairs of an import document, checked, in document order.
pub fn parse_export(doc: &Value, file: Option<&str>) -> Result<Vec<(String, Value)>> {
    let o = match doc {
        Value::Object(o) => o,
        other => return Err(import_error(format!("expected a JSON object, found {}.", describe(other)), file, None)),
    };
    let mut out = Vec::new();
    if o.get("format").and_then(Value::as_str) == Some("psmc-export") {
        let version = o.get("version");
        let n = match version {
            Some(Value::Number(n)) if crate::value::is_integer(*n) && *n >= 1.0 => *n,
            other => {
                let shown = match other {
                    None => "undefined".to_string(),
                    Some(v) => v.to_json(),
                };
                return Err(import_error(format!("\"version\" must be a whole number ≥ 1, found {}.", shown), file, None));
            }
        };
        if n != 1.0 {
            return Err(PsmcError::new(
                ErrorCode::FormatTooNew,
                format!(
                    "{} has export version {}; this psmc reads version 1.",
                    file.unwrap_or("The import document"),
                    crate::json::format_number(n)
                ),
                "Export it again with this psmc version, or upgrade psmc.",
            ));
        }
        let entries = match o.get("entries") {
            Some(Value::Object(e)) => e,
            _ => return Err(import_error("\"entries\" must be an object.".into(), file, None)),
        };
        for (key, e) in entries.iter() {
            assert_key(key)?;
            let value = match e {
                Value::Object(eo) if eo.contains_key("value") => eo.get("value").cloned().unwrap_or(Value::Null),
                _ => return Err(import_error(format!("entry {} must be an object with a \"value\".", quote_str(key)), file, Some(key))),
            };
            out.push((key.clone(), checked(value, Some(key))?));
        }
        return Ok(out);
    }
    for (key, v) in o.iter() {
        assert_key(key)?;
        out.push((key.clone(), checked(v.clone(), Some(key))?));
    }
    Ok(out)
}
