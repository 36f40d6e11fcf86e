//! Family: the pure snapshot ops (`snapshot.*`, spec/sections/snapshots.md "Vectors").

use psmc::errors::{ErrorCode, PsmcError};
use psmc::json::{obj, Object, Value};

use super::common::{json_text, plain, s, usage, Res, LONE, R};

/// The `snapshot.*` pure ops.
pub fn snapshot_op(op: &str, i: &Value) -> R {
    use psmc::snapshot::{self, SnapshotParts};
    let v = |x: Value| Ok(Res::Value(x));
    match op {
        "snapshot.name" => {
            snapshot::assert_snapshot_name(s(i, "name")?)?;
            v(Value::Bool(true))
        }
        "snapshot.render" => {
            let mut entries = Vec::new();
            for e in i.get("entries").and_then(Value::as_array).ok_or_else(|| usage("entries"))? {
                entries.push((
                    s(e, "key")?.to_string(),
                    json_text(s(e, "valueJson")?)?,
                    e.get("revision").and_then(Value::as_f64).unwrap_or(-1.0) as i64,
                    s(e, "updatedAt")?.to_string(),
                    s(e, "source")?.to_string(),
                ));
            }
            let schema = match i.get("schemaJson").and_then(Value::as_str) {
                Some(t) => Some(json_text(t)?),
                None => None,
            };
            let doc = snapshot::build_snapshot(SnapshotParts {
                name: s(i, "name")?.to_string(),
                created_at: s(i, "createdAt")?.to_string(),
                revision: i.get("revision").and_then(Value::as_f64).unwrap_or(-1.0) as i64,
                reason: s(i, "reason")?.to_string(),
                source: s(i, "source")?.to_string(),
                entries,
                schema,
            })?;
            v(Value::String(snapshot::render_snapshot(&doc)))
        }
        "snapshot.parse" => {
            let text = s(i, "text")?;
            let file = i.get("file").and_then(Value::as_str);
            let mut expect = None;
            if let Some(f) = file {
                let n = snapshot::name_of_file(f);
                let problem = match n {
                    None => Some("it is not <name>.json".to_string()),
                    Some(n) => snapshot::name_problem(n),
                };
                if let Some(p) = problem {
                    return Err(PsmcError::new(ErrorCode::Parse, format!("{:?} is not a snapshot file name: {}", f, p), "vector"));
                }
                expect = n;
            }
            if text.contains(LONE) {
                return Err(psmc::value::lone_surrogate_error(None));
            }
            let doc = snapshot::parse_snapshot(text, Some(file.unwrap_or("vector")), expect)?;
            v(obj([
                ("name", Value::String(doc.name.clone())),
                ("createdAt", Value::String(doc.created_at.clone())),
                ("revision", Value::Number(doc.revision as f64)),
                ("reason", Value::String(doc.reason.clone())),
                ("source", Value::String(doc.source.clone())),
                (
                    "entries",
                    Value::Array(
                        doc.entries
                            .iter()
                            .map(|(k, e)| {
                                obj([
                                    ("key", Value::String(k.clone())),
                                    ("valueJson", Value::String(e.value.to_json())),
                                    ("type", Value::String(e.value_type.as_str().into())),
                                    ("revision", Value::Number(e.revision as f64)),
                                    ("updatedAt", Value::String(e.updated_at.clone())),
                                    ("source", Value::String(e.source.clone())),
                                ])
                            })
                            .collect(),
                    ),
                ),
                ("schemaJson", doc.schema.as_ref().map(|x| Value::String(x.to_json())).unwrap_or(Value::Null)),
            ]))
        }
        "snapshot.diff" => {
            let a = plain(i.get("a").ok_or_else(|| usage("a"))?)?;
            let b = plain(i.get("b").ok_or_else(|| usage("b"))?)?;
            let empty = Object::new();
            let items = snapshot::diff_entries(a.as_object().unwrap_or(&empty), b.as_object().unwrap_or(&empty));
            v(snapshot::diff_to_json(&items))
        }
        _ => Err(usage("unknown op")),
    }
}
