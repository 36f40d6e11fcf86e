//! Loading: the vector files, `$text` expansion, the spec version and the expected-failure list
//! (spec/vectors/README.md "Files", "Generated text", "Expected failures").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use psmc::json::{Object, Value};

use super::common::root;

pub fn list_json(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            list_json(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") && p.file_name().is_some_and(|n| n != "vector.schema.json") {
            out.push(p);
        }
    }
}

pub fn expand(v: Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.into_iter().map(expand).collect()),
        Value::Object(o) => {
            if o.len() == 1 && o.contains_key("$text") {
                let parts = o.get("$text").and_then(Value::as_array).expect("$text must hold an array");
                let mut s = String::new();
                for p in parts {
                    match p {
                        Value::String(t) => s.push_str(t),
                        Value::Object(r) => {
                            let rep = r.get("repeat").and_then(Value::as_str).expect("repeat");
                            let n = r.get("count").and_then(Value::as_f64).expect("count") as usize;
                            s.push_str(&rep.repeat(n));
                        }
                        _ => panic!("bad $text part"),
                    }
                }
                return Value::String(s);
            }
            Value::Object(Object::from_members(o.into_members().into_iter().map(|(k, v)| (k, expand(v))).collect()))
        }
        other => other,
    }
}

pub fn semver(v: &str) -> Vec<u64> {
    v.split('.').map(|x| x.parse().unwrap_or(0)).collect()
}

pub fn spec_version() -> String {
    let text = std::fs::read_to_string(root().join("SPEC.md")).unwrap();
    let i = text.find("**Spec version ").expect("spec version line") + "**Spec version ".len();
    text[i..].split("**").next().unwrap().trim().to_string()
}

pub fn expected_failures() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let path = root().join("expected-failures/rust.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line.split_once(char::is_whitespace).unwrap_or_else(|| panic!("rust.txt: {:?} must be \"<id> <reason>\"", line));
        assert!(!reason.trim().is_empty(), "rust.txt: {:?} must be \"<id> <reason>\"", line);
        out.insert(id.to_string(), reason.trim().to_string());
    }
    out
}
