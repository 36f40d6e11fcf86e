//! Comparing a result with a case's `expect` (spec/vectors/README.md "Outcomes").

use psmc::errors::PsmcError;
use psmc::json::{self, Value};

use super::common::{Res, R};

pub fn json_equal(a: &Value, b: &Value, ordered: bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q, ordered)),
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return false;
            }
            if ordered && x.keys().zip(y.keys()).any(|(p, q)| p != q) {
                return false;
            }
            x.iter().all(|(k, v)| y.get(k).is_some_and(|w| match_member(k, v, w)))
        }
        _ => a == b,
    }
}

pub fn match_member(name: &str, actual: &Value, expected: &Value) -> bool {
    if let (true, Value::String(a), Value::String(e)) = (name.ends_with("Json"), actual, expected) {
        return match (json::parse(a), json::parse(e)) {
            (Ok(x), Ok(y)) => json_equal(&x, &y, true),
            _ => a == e,
        };
    }
    json_equal(actual, expected, false)
}

/// With `error`: every member listed in `details` must be in the error's details, equal as JSON.
fn check_details(want: Option<&Value>, e: &PsmcError, what: &str) -> Result<(), String> {
    for (name, w) in want.and_then(Value::as_object).map(|o| o.iter().collect::<Vec<_>>()).unwrap_or_default() {
        let got = e.details().get(name);
        if !got.is_some_and(|g| json_equal(g, w, false)) {
            let shown = got.map(Value::to_json).unwrap_or_else(|| "nothing".into());
            return Err(format!("{}: expected details.{} {}, got {}: {}", what, name, w.to_json(), shown, e.message()));
        }
    }
    Ok(())
}

pub fn show_res(r: &Res) -> String {
    match r {
        Res::Value(v) => v.to_json(),
        Res::Absent => "absent".into(),
        Res::Commit(c) => format!("commit {{revision: {}, changes: {}, at: {}}}", c.revision, c.changes.len(), c.at),
    }
}

pub fn check(outcome: &Value, result: R, what: &str) -> Result<(), String> {
    let o = outcome.as_object().ok_or_else(|| format!("{}: expect must be an object", what))?;
    let result = match result {
        Err(e) => {
            return match o.get("error").and_then(Value::as_str) {
                Some(code) if code == e.code() => check_details(o.get("details"), &e, what),
                Some(code) => Err(format!("{}: expected error {}, got {}: {}", what, code, e.code(), e.message())),
                None => Err(format!("{}: expected {}, got error {}: {}", what, outcome.to_json(), e.code(), e.message())),
            }
        }
        Ok(r) => r,
    };
    if let Some(code) = o.get("error") {
        return Err(format!("{}: expected error {}, got {}", what, code.to_json(), show_res(&result)));
    }
    if let Some(want) = o.get("commit") {
        let c = match &result {
            Res::Commit(c) => c,
            other => return Err(format!("{}: expected a commit, got {}", what, show_res(other))),
        };
        let rev = want.get("revision").and_then(Value::as_f64).unwrap_or(-1.0);
        let n = want.get("changes").and_then(Value::as_f64).unwrap_or(-1.0);
        let at_ok = want.get("at").and_then(Value::as_str).map(|a| a == c.at).unwrap_or(true);
        if c.revision as f64 == rev && c.changes.len() as f64 == n && at_ok {
            return Ok(());
        }
        return Err(format!("{}: expected commit {}, got {}", what, want.to_json(), show_res(&result)));
    }
    let got = match result {
        Res::Commit(_) => return Err(format!("{}: a write's expectation must be \"commit\" or \"error\"", what)),
        Res::Absent => {
            if o.get("absent") == Some(&Value::Bool(true)) {
                return Ok(());
            }
            return Err(format!("{}: expected {}, got absent", what, outcome.to_json()));
        }
        Res::Value(v) => v,
    };
    if o.get("absent").is_some() {
        return Err(format!("{}: expected absent, got {}", what, got.to_json()));
    }
    if let Some(t) = o.get("okText") {
        return if Some(&got) == Some(t) && got.as_str().is_some() {
            Ok(())
        } else {
            Err(format!("{}: expected text {}, got {}", what, t.to_json(), got.to_json()))
        };
    }
    if let Some(t) = o.get("okJson").and_then(Value::as_str) {
        let want = json::parse(t).map_err(|e| format!("{}: bad okJson: {}", what, e))?;
        return if json_equal(&got, &want, true) { Ok(()) } else { Err(format!("{}: expected {}, got {}", what, t, got.to_json())) };
    }
    if let Some(want) = o.get("ok") {
        return if json_equal(&got, want, false) {
            Ok(())
        } else {
            Err(format!("{}: expected {}, got {}", what, want.to_json(), got.to_json()))
        };
    }
    Err(format!("{}: the expectation {} has no outcome", what, outcome.to_json()))
}
