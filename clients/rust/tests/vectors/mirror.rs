//! Family: the mirror ops, the codecs (`mirror.render`, `mirror.parse`, `mirror.update`;
//! spec/sections/mirror-format.md) and the 3-way merge (`mirror.merge`;
//! spec/sections/mirror-sync.md).

use std::collections::HashMap;

use psmc::errors::PsmcError;
use psmc::json::{obj, Object, Value};

use super::common::{json_text, s, usage, Res, R};

/// The 3-way merge (`mirror.merge`, spec/sections/mirror-sync.md "Vectors").
pub fn merge(i: &Value) -> R {
    let v = |x: Value| Ok(Res::Value(x));
    let text_or_null = |x: Option<&Value>| -> Option<String> { x.and_then(Value::as_str).map(str::to_string) };
        let empty = Object::new();
        let base = i.get("base").and_then(Value::as_object).unwrap_or(&empty);
        let theirs_o = i.get("theirs").and_then(Value::as_object).unwrap_or(&empty);
        let ours = i.get("ours").and_then(Value::as_object).unwrap_or(&empty);
        let theirs: HashMap<String, String> = theirs_o.iter().filter_map(|(k, t)| t.as_str().map(|t| (k.clone(), t.to_string()))).collect();
        let keys: Vec<String> = base.keys().chain(theirs_o.keys()).chain(ours.keys()).cloned().collect();
        let r = psmc::merge::merge_mirror(
            keys,
            &theirs,
            |k| text_or_null(base.get(k)),
            |k| match ours.get(k) {
                None => psmc::merge::OursEntry { text: None, time_ms: 0, source: "file".into() },
                Some(o) => psmc::merge::OursEntry {
                    text: text_or_null(o.get("valueJson")),
                    time_ms: o.get("timeMs").and_then(Value::as_f64).unwrap_or(0.0) as i64,
                    source: o.get("source").and_then(Value::as_str).unwrap_or("").to_string(),
                },
            },
            i.get("fileTimeMs").and_then(Value::as_f64).unwrap_or(0.0) as i64,
        );
        let opt = |t: &Option<String>| t.clone().map(Value::String).unwrap_or(Value::Null);
        v(obj([
            ("apply", Value::Array(r.apply.iter().map(|(k, t)| Value::Array(vec![Value::String(k.clone()), opt(t)])).collect())),
            (
                "conflicts",
                Value::Array(
                    r.conflicts
                        .iter()
                        .map(|c| {
                            obj([
                                ("key", Value::String(c.key.clone())),
                                ("winner", Value::String(c.winner.as_str().into())),
                                ("lostJson", opt(&c.lost)),
                                ("wonJson", opt(&c.won)),
                                ("loserSource", Value::String(c.loser_source.clone())),
                            ])
                        })
                        .collect(),
                ),
            ),
        ]))
}

/// The mirror codec ops (spec/sections/mirror-format.md "Vectors"; shapes as in
/// test/mirror/codecs-vectors.test.ts): `entries`/`changes` are `[key, valueJson]` pairs, a
/// `null` valueJson deletes; `parse` answers `{entries: [[key, valueJson]…], version?}`.
pub fn mirror_op(op: &str, i: &Value) -> R {
    use psmc::mirror::{self, MirrorChange, MirrorFormat};
    let format = MirrorFormat::from_name(s(i, "format")?)?;
    let pairs = |name: &str| -> Result<Vec<(String, Option<Value>)>, PsmcError> {
        let mut out = Vec::new();
        for p in i.get(name).and_then(Value::as_array).ok_or_else(|| usage(name))? {
            let p = p.as_array().ok_or_else(|| usage(name))?;
            let key = p.first().and_then(Value::as_str).ok_or_else(|| usage(name))?.to_string();
            let value = match p.get(1).and_then(Value::as_str) {
                Some(t) => Some(json_text(t)?),
                None => None,
            };
            out.push((key, value));
        }
        Ok(out)
    };
    match op {
        "mirror.render" => {
            let entries: Vec<(String, Value)> = pairs("entries")?.into_iter().map(|(k, v)| (k, v.unwrap_or(Value::Null))).collect();
            Ok(Res::Value(Value::String(mirror::render(format, &entries)?)))
        }
        "mirror.parse" => {
            let p = mirror::parse(format, s(i, "text")?)?;
            let entries = p.entries.iter().map(|(k, v)| Value::Array(vec![Value::String(k.clone()), Value::String(v.to_json())])).collect();
            let mut o = Object::new();
            o.insert("entries", Value::Array(entries));
            if let Some(version) = p.version {
                o.insert("version", Value::Number(version as f64));
            }
            Ok(Res::Value(Value::Object(o)))
        }
        "mirror.update" => {
            let changes: Vec<MirrorChange> = pairs("changes")?.into_iter().map(|(key, value)| MirrorChange { key, value }).collect();
            Ok(Res::Value(Value::String(mirror::update(format, s(i, "text")?, &changes)?)))
        }
        other => panic!("unknown mirror op {:?}", other),
    }
}
