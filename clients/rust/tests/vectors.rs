//! The Rust runner of the conformance vectors (spec/vectors/README.md), following the
//! TypeScript runner test/spec/vectors.test.ts.
//!
//! One test runs every case of every `spec/vectors/**/*.json` and prints
//! `N passed, N failed (N expected failures, N skipped)` plus the failing ids.
//! `spec/expected-failures/rust.txt` lists cases known to fail (`<id> <reason>`): a listed case
//! that passes fails the run, and so does a listed id that no vector has.
//!
//! Two kinds of input cannot be expressed through the Rust API and are mapped here, at the
//! boundary, to the error the spec names:
//! - a lone UTF-16 surrogate: the vector files are parsed with a marker character in its place;
//!   JSON text members (`valueJson`, `docJson` …) holding one fail with `PSMC_VALUE_INVALID`
//!   (README: "a runner whose parser rejects such text itself must map it"), and a `source`
//!   holding one fails with `PSMC_USAGE` (a Rust `&str` cannot be ill-formed; the CLI refuses a
//!   non-UTF-8 `--source` the same way);
//! - a non-integer revision (`expectRevision: 1.5`): the API takes `i64`, so the runner reports
//!   `PSMC_USAGE`, the code of an out-of-range revision.

use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use psmc::clock::{compare_hlc, format_hlc, next_hlc, parse_hlc, Hlc};
use psmc::env::{coerce_env, env_name, env_variable_for};
use psmc::errors::{ErrorCode, PsmcError};
use psmc::json::{self, obj, LoneSurrogates, Object, ParseError, Value};
use psmc::keys::assert_key;
use psmc::schema::{parse_key_schema, parse_schema_document, CompiledSchema};
use psmc::value::{checked, decode_value, encode_value, type_of, values_equal};
use psmc::{ChangeRequest, Commit, Durability, EnvPrefix, HistoryOptions, ImportOptions, OpenOptions, Project, SetOptions, Store, UndoOptions};

const START_CLOCK: i64 = 1_767_225_600_000;
/// Stands for a lone surrogate of the vector files (a noncharacter no vector uses).
const LONE: char = '\u{FDD0}';

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec")
}

enum Res {
    Value(Value),
    Absent,
    Commit(Commit),
}

type R = Result<Res, PsmcError>;

fn usage(msg: &str) -> PsmcError {
    PsmcError::usage(msg, "vector runner")
}

// ---------------------------------------------------------------------------
// Loading

fn list_json(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            list_json(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") && p.file_name().is_some_and(|n| n != "vector.schema.json") {
            out.push(p);
        }
    }
}

fn expand(v: Value) -> Value {
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

fn semver(v: &str) -> Vec<u64> {
    v.split('.').map(|x| x.parse().unwrap_or(0)).collect()
}

fn spec_version() -> String {
    let text = std::fs::read_to_string(root().join("SPEC.md")).unwrap();
    let i = text.find("**Spec version ").expect("spec version line") + "**Spec version ".len();
    text[i..].split("**").next().unwrap().trim().to_string()
}

fn expected_failures() -> BTreeMap<String, String> {
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

// ---------------------------------------------------------------------------
// Comparison

fn json_equal(a: &Value, b: &Value, ordered: bool) -> bool {
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

fn match_member(name: &str, actual: &Value, expected: &Value) -> bool {
    if let (true, Value::String(a), Value::String(e)) = (name.ends_with("Json"), actual, expected) {
        return match (json::parse(a), json::parse(e)) {
            (Ok(x), Ok(y)) => json_equal(&x, &y, true),
            _ => a == e,
        };
    }
    json_equal(actual, expected, false)
}

fn show_res(r: &Res) -> String {
    match r {
        Res::Value(v) => v.to_json(),
        Res::Absent => "absent".into(),
        Res::Commit(c) => format!("commit {{revision: {}, changes: {}, at: {}}}", c.revision, c.changes.len(), c.at),
    }
}

fn check(outcome: &Value, result: R, what: &str) -> Result<(), String> {
    let o = outcome.as_object().ok_or_else(|| format!("{}: expect must be an object", what))?;
    let result = match result {
        Err(e) => {
            return match o.get("error").and_then(Value::as_str) {
                Some(code) if code == e.code() => Ok(()),
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

// ---------------------------------------------------------------------------
// Arguments

fn s<'a>(o: &'a Value, k: &str) -> Result<&'a str, PsmcError> {
    o.get(k).and_then(Value::as_str).ok_or_else(|| usage(&format!("input.{} must be a string", k)))
}

/// JSON text from a vector (`valueJson` …), parsed as the spec's readers would.
fn json_text(text: &str) -> Result<Value, PsmcError> {
    if text.contains(LONE) {
        return Err(psmc::value::lone_surrogate_error(None));
    }
    match json::parse(text) {
        Ok(v) => Ok(v),
        Err(ParseError::LoneSurrogate(at)) => Err(psmc::value::lone_surrogate_error_at(None, &at)),
        Err(ParseError::TooDeep) => Err(PsmcError::new(ErrorCode::ValueInvalid, "too deep", "")),
        Err(e) => Err(PsmcError::new(ErrorCode::Parse, e.to_string(), "")),
    }
}

/// A plain JSON value from a vector: refuse values that held a lone surrogate.
fn plain(v: &Value) -> Result<Value, PsmcError> {
    if v.to_json().contains(LONE) {
        return Err(psmc::value::lone_surrogate_error(None));
    }
    Ok(v.clone())
}

fn revision_arg(v: Option<&Value>) -> Result<Option<i64>, PsmcError> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) if n.fract() == 0.0 && n.abs() < 9.1e15 => Ok(Some(*n as i64)),
        Some(other) => Err(usage(&format!("a revision must be a whole number, received {}", other.to_json()))),
    }
}

fn source_arg(o: &Value) -> Result<Option<String>, PsmcError> {
    match o.get("source").and_then(Value::as_str) {
        None => Ok(None),
        Some(src) if src.contains(LONE) => Err(usage("the source is not well-formed Unicode")),
        Some(src) => Ok(Some(src.to_string())),
    }
}

fn value_arg(o: &Value) -> Result<Value, PsmcError> {
    if let Some(t) = o.get("valueJson").and_then(Value::as_str) {
        return json_text(t);
    }
    plain(o.get("value").ok_or_else(|| usage("a set needs \"value\" or \"valueJson\""))?)
}

fn default_arg(o: &Value) -> Result<Option<Value>, PsmcError> {
    match o.get("defaultJson").and_then(Value::as_str) {
        None => Ok(None),
        Some(t) => json_text(t).map(Some),
    }
}

fn opt_json(v: &Option<Value>) -> Value {
    match v {
        None => Value::Null,
        Some(v) => Value::String(v.to_json()),
    }
}

// ---------------------------------------------------------------------------
// Pure operations

fn run_pure(op: &str, i: &Value) -> R {
    let v = |x: Value| Ok(Res::Value(x));
    match op {
        "key.validate" => {
            assert_key(s(i, "key")?)?;
            v(Value::Bool(true))
        }
        "value.encode" => {
            let text = s(i, "valueJson")?;
            if text.contains(LONE) {
                return Err(psmc::value::lone_surrogate_error(None));
            }
            let value = decode_value(text, None)?;
            v(Value::String(encode_value(&value, None)?))
        }
        "value.type" => v(Value::String(type_of(&checked(json_text(s(i, "valueJson")?)?, None)?).as_str().into())),
        "value.equal" => {
            let a = checked(json_text(s(i, "aJson")?)?, None)?;
            let b = checked(json_text(s(i, "bJson")?)?, None)?;
            v(Value::Bool(values_equal(&a, &b)))
        }
        "clock.parse" => {
            let t = parse_hlc(s(i, "text")?)?;
            v(obj([("ms", Value::Number(t.ms as f64)), ("counter", Value::Number(t.counter as f64))]))
        }
        "clock.format" => {
            let ms = i.get("ms").and_then(Value::as_f64).unwrap_or(0.0) as i64;
            let counter = i.get("counter").and_then(Value::as_f64).unwrap_or(0.0) as u32;
            v(Value::String(format_hlc(Hlc { ms, counter })))
        }
        "clock.next" => {
            let last = parse_hlc(s(i, "lastText")?)?;
            let wall = i.get("wallMs").and_then(Value::as_f64).unwrap_or(0.0);
            v(Value::String(format_hlc(next_hlc(last, wall)?)))
        }
        "clock.compare" => {
            let o = compare_hlc(parse_hlc(s(i, "a")?)?, parse_hlc(s(i, "b")?)?);
            v(Value::Number(o as i32 as f64))
        }
        "error.info" => match ErrorCode::parse(s(i, "code")?) {
            None => Ok(Res::Absent),
            Some(c) => v(obj([("exit", Value::Number(c.exit_code() as f64)), ("http", Value::Number(c.http_status() as f64))])),
        },
        "schema.parse" => {
            parse_schema_document(&plain(i.get("schema").unwrap_or(&Value::Null))?)?;
            v(Value::Bool(true))
        }
        "schema.validate" => {
            let schema = CompiledSchema::new(&plain(i.get("schema").unwrap_or(&Value::Null))?)?;
            schema.validate(s(i, "key")?, &json_text(s(i, "valueJson")?)?)?;
            v(Value::Bool(true))
        }
        "env.coerce" => {
            let ks = match i.get("keySchema") {
                None | Some(Value::Null) => None,
                Some(k) => Some(parse_key_schema(&plain(k)?)?),
            };
            let raw = s(i, "raw")?;
            if raw.contains(LONE) {
                return Err(usage("raw is not well-formed Unicode"));
            }
            v(coerce_env(raw, ks.as_ref(), s(i, "variable")?, s(i, "key")?)?)
        }
        "mirror.merge" | "snapshot.name" | "snapshot.render" | "snapshot.parse" | "snapshot.diff" => merge_snapshot_op(op, i),
        "mirror.parse" | "mirror.render" | "mirror.update" => mirror_op(op, i),
        "env.name" => v(Value::String(env_name(s(i, "prefix")?, s(i, "key")?)?)),
        "env.variable" => v(env_variable_for(s(i, "prefix")?, s(i, "key")?)?.map(Value::String).unwrap_or(Value::Null)),
        other => panic!("unknown pure op {:?}", other),
    }
}

// ---------------------------------------------------------------------------
// Stateful cases

static SCENARIO: AtomicUsize = AtomicUsize::new(0);

struct Scenario {
    root: PathBuf,
    user_dir: PathBuf,
    project_root: PathBuf,
    project_dir: PathBuf,
    setup: Value,
    now: Arc<AtomicI64>,
    main: Option<Store>,
    user_only: Option<Store>,
}

impl Scenario {
    fn new(setup: Value) -> Scenario {
        let n = SCENARIO.fetch_add(1, Ordering::SeqCst);
        let root = std::env::temp_dir().join(format!("psmc-rs-vector-{}-{}", std::process::id(), n));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let root = std::fs::canonicalize(&root).unwrap();
        let sc = Scenario {
            user_dir: root.join("user"),
            project_root: root.join("proj"),
            project_dir: root.join("proj").join(".psmc"),
            root,
            setup,
            now: Arc::new(AtomicI64::new(START_CLOCK)),
            main: None,
            user_only: None,
        };
        if sc.is_project() {
            std::fs::create_dir_all(&sc.project_dir).unwrap();
            std::fs::create_dir_all(sc.project_root.join("sub")).unwrap();
        }
        if let Some(db) = sc.setup.get("database") {
            let dir = if db.get("store").and_then(Value::as_str) == Some("user") || !sc.is_project() {
                sc.user_dir.clone()
            } else {
                sc.project_dir.clone()
            };
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join("psmc.db");
            if let Some(t) = db.get("text").and_then(Value::as_str) {
                std::fs::write(&file, t).unwrap();
            } else {
                let c = rusqlite::Connection::open(&file).unwrap();
                c.execute_batch(db.get("sql").and_then(Value::as_str).unwrap_or("")).unwrap();
            }
        }
        sc
    }

    fn is_project(&self) -> bool {
        self.setup.get("project") == Some(&Value::Bool(true))
    }

    fn clock(&self) -> psmc::clock::WallClock {
        let now = self.now.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    }

    /// The handle's source: `setup.source`, else `api` (README: "default `api`"), not the
    /// Rust client's own default `rust`.
    fn source(&self) -> Option<String> {
        Some(self.setup.get("source").and_then(Value::as_str).unwrap_or("api").to_string())
    }

    fn common(&self) -> OpenOptions {
        let st = &self.setup;
        let members = |k: &str| -> Vec<(String, Value)> {
            st.get(k).and_then(Value::as_object).map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
        };
        OpenOptions {
            clock: Some(self.clock()),
            // As the TypeScript runner: steps that write through another connection (`sql`)
            // expect the next read to see it (§read.freshness allows up to 5 ms by default).
            freshness_ms: Some(0),
            env_prefix: match st.get("envPrefix") {
                Some(Value::Bool(false)) => EnvPrefix::Off,
                Some(Value::String(p)) => EnvPrefix::Prefix(p.clone()),
                _ => EnvPrefix::FromApp,
            },
            overrides: members("overrides"),
            defaults: members("defaults"),
            source: self.source(),
            durability: if st.get("durability").and_then(Value::as_str) == Some("normal") { Durability::Normal } else { Durability::Full },
            ..OpenOptions::default()
        }
    }

    fn main(&mut self) -> Result<&Store, PsmcError> {
        if self.main.is_none() {
            let mut env: HashMap<String, String> = HashMap::new();
            if let Some(o) = self.setup.get("env").and_then(Value::as_object) {
                for (k, v) in o.iter() {
                    env.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
            }
            let store = if self.is_project() {
                let prefix = self.setup.get("envPrefix").and_then(Value::as_str).unwrap_or("PSMC").to_string();
                env.insert(format!("{}_HOME", prefix), self.user_dir.display().to_string());
                Store::open(OpenOptions {
                    env: Some(env),
                    project: Project::Discover,
                    cwd: Some(self.project_root.join("sub")),
                    ..self.common()
                })?
            } else {
                Store::open(OpenOptions { env: Some(env), dir: Some(self.user_dir.clone()), ..self.common() })?
            };
            self.main = Some(store);
        }
        Ok(self.main.as_ref().unwrap())
    }

    fn user_only(&mut self) -> Result<&Store, PsmcError> {
        if self.user_only.is_none() {
            self.user_only = Some(Store::open(OpenOptions {
                clock: Some(self.clock()),
                dir: Some(self.user_dir.clone()),
                env_prefix: EnvPrefix::Off,
                env: Some(HashMap::new()),
                source: self.source(),
                freshness_ms: Some(0),
                ..OpenOptions::default()
            })?);
        }
        Ok(self.user_only.as_ref().unwrap())
    }

    fn handle(&mut self, step: &Value) -> Result<&Store, PsmcError> {
        if step.get("store").and_then(Value::as_str) == Some("user") && self.is_project() {
            self.user_only()
        } else {
            self.main()
        }
    }

    fn database(&self, step: &Value) -> PathBuf {
        let project = self.is_project() && step.get("store").and_then(Value::as_str) != Some("user");
        (if project { &self.project_dir } else { &self.user_dir }).join("psmc.db")
    }

    fn close(&mut self) {
        if let Some(mut s) = self.main.take() {
            s.close();
        }
        if let Some(mut s) = self.user_only.take() {
            s.close();
        }
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        self.close();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn sql_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as V;
    match v {
        V::Null => Value::Null,
        V::Integer(i) => Value::Number(i as f64),
        V::Real(f) => Value::Number(f),
        V::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        V::Blob(_) => Value::String("<blob>".into()),
    }
}

fn query_objects(c: &rusqlite::Connection, sql: &str) -> Vec<Value> {
    let mut st = c.prepare(sql).unwrap();
    let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = st.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        let mut o = Object::new();
        for (i, n) in names.iter().enumerate() {
            o.insert(n.clone(), sql_value(r.get_ref(i).unwrap()));
        }
        out.push(Value::Object(o));
    }
    out
}

fn open_ro(file: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn dump(file: &Path) -> Res {
    if !file.exists() {
        return Res::Absent;
    }
    let c = open_ro(file);
    let state = query_objects(&c, "SELECT revision, clock FROM state WHERE id = 1").remove(0);
    let entries = query_objects(&c, "SELECT key, value, type, revision, updated_at AS updatedAt, source FROM entries ORDER BY key");
    let history = query_objects(
        &c,
        "SELECT revision, seq, key, op, old_value AS oldValue, new_value AS newValue, source, at, note FROM history ORDER BY revision, seq",
    );
    let schema = query_objects(&c, "SELECT doc, revision FROM schema_doc WHERE id = 1").into_iter().next().unwrap_or(Value::Null);
    Res::Value(obj([("state", state), ("entries", Value::Array(entries)), ("history", Value::Array(history)), ("schema", schema)]))
}

fn db_info(file: &Path) -> Res {
    if !file.exists() {
        return Res::Absent;
    }
    let c = open_ro(file);
    let names = |t: &str| -> Value {
        let mut st = c
            .prepare("SELECT name FROM sqlite_schema WHERE type = ?1 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
            .unwrap();
        let rows = st.query_map([t], |r| r.get::<_, String>(0)).unwrap();
        Value::Array(rows.map(|r| Value::String(r.unwrap())).collect())
    };
    let int = |p: &str| -> f64 { c.query_row(&format!("PRAGMA {}", p), [], |r| r.get::<_, i64>(0)).unwrap() as f64 };
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    Res::Value(obj([
        ("applicationId", Value::Number(int("application_id"))),
        ("userVersion", Value::Number(int("user_version"))),
        ("journalMode", Value::String(mode.to_lowercase())),
        ("tables", names("table")),
        ("indexes", names("index")),
    ]))
}

fn history_record(r: &psmc::ChangeRecord) -> Value {
    let mut o = Object::new();
    o.insert("revision", Value::Number(r.revision as f64));
    o.insert("seq", Value::Number(r.seq as f64));
    o.insert("key", r.key.clone().into());
    o.insert("op", r.op.clone().into());
    o.insert("oldJson", opt_json(&r.old_value));
    o.insert("newJson", opt_json(&r.new_value));
    o.insert("source", r.source.clone().into());
    o.insert("at", r.at.clone().into());
    if let Some(n) = &r.note {
        o.insert("note", n.clone().into());
    }
    Value::Object(o)
}

fn run_step(sc: &mut Scenario, st: &Value) -> R {
    let op = st.get("op").and_then(Value::as_str).unwrap_or("");
    let key = || st.get("key").and_then(Value::as_str).unwrap_or("").to_string();
    let val = |x: Value| Ok(Res::Value(x));
    match op {
        "set" => {
            let (k, v, e, src) = (key(), value_arg(st)?, revision_arg(st.get("expectRevision"))?, source_arg(st)?);
            Ok(Res::Commit(sc.handle(st)?.set(&k, v, SetOptions { expect_revision: e, source: src })?))
        }
        "delete" => {
            let (k, e, src) = (key(), revision_arg(st.get("expectRevision"))?, source_arg(st)?);
            Ok(Res::Commit(sc.handle(st)?.delete(&k, SetOptions { expect_revision: e, source: src })?))
        }
        "batch" => {
            let mut changes = Vec::new();
            for c in st.get("changes").and_then(Value::as_array).cloned().unwrap_or_default() {
                let k = c.get("key").and_then(Value::as_str).unwrap_or("").to_string();
                let e = revision_arg(c.get("expectRevision"))?;
                let req = match c.get("op").and_then(Value::as_str) {
                    Some("delete") => ChangeRequest::Delete { key: k, expect_revision: e },
                    Some("set") => ChangeRequest::Set { key: k, value: value_arg(&c)?, expect_revision: e },
                    other => panic!("a batch change is \"set\" or \"delete\", not {:?}", other),
                };
                changes.push(req);
            }
            let src = source_arg(st)?;
            Ok(Res::Commit(sc.handle(st)?.batch(changes, src.as_deref())?))
        }
        "get" => {
            let (k, d) = (key(), default_arg(st)?);
            Ok(match sc.handle(st)?.get_or(&k, d.as_ref())? {
                None => Res::Absent,
                Some(v) => Res::Value(v),
            })
        }
        "resolve" => {
            let (k, d) = (key(), default_arg(st)?);
            let r = sc.handle(st)?.resolve_or(&k, d.as_ref())?;
            val(obj([
                ("layer", r.layer.map(|l| Value::String(l.as_str().into())).unwrap_or(Value::Null)),
                ("revision", Value::Number(r.revision as f64)),
                ("source", r.source.map(Value::String).unwrap_or(Value::Null)),
                ("updatedAt", r.updated_at.map(Value::String).unwrap_or(Value::Null)),
                ("valueJson", opt_json(&r.value)),
            ]))
        }
        "explain" => {
            let (k, d) = (key(), default_arg(st)?);
            let e = sc.handle(st)?.explain_or(&k, d.as_ref())?;
            let mut present = Object::new();
            let mut errors = Object::new();
            for l in &e.layers {
                present.insert(l.layer.as_str(), Value::Bool(l.present));
                if let Some(err) = &l.error {
                    errors.insert(l.layer.as_str(), Value::String(err.code.clone()));
                }
            }
            let mut out = Object::new();
            out.insert("layer", e.resolved.layer.map(|l| Value::String(l.as_str().into())).unwrap_or(Value::Null));
            out.insert("valueJson", opt_json(&e.resolved.value));
            out.insert("present", Value::Object(present));
            if !errors.is_empty() {
                out.insert("errors", Value::Object(errors));
            }
            val(Value::Object(out))
        }
        "list" => {
            let prefix = st.get("prefix").and_then(Value::as_str).map(String::from);
            let rows = sc.handle(st)?.list(prefix.as_deref())?;
            val(Value::Array(
                rows.iter()
                    .map(|r| {
                        obj([
                            ("key", Value::String(r.key.clone())),
                            ("layer", r.layer.map(|l| Value::String(l.as_str().into())).unwrap_or(Value::Null)),
                            ("valueJson", opt_json(&r.value)),
                        ])
                    })
                    .collect(),
            ))
        }
        "history" => {
            let k = st.get("key").and_then(Value::as_str).map(String::from);
            let opts = HistoryOptions {
                prefix: st.get("prefix").and_then(Value::as_bool).unwrap_or(false),
                limit: revision_arg(st.get("limit"))?,
                since_revision: revision_arg(st.get("sinceRevision"))?,
                until_revision: revision_arg(st.get("untilRevision"))?,
            };
            let records = sc.handle(st)?.history(k.as_deref(), opts)?;
            val(Value::Array(records.iter().map(history_record).collect()))
        }
        "undo" => {
            let opts = UndoOptions {
                revision: revision_arg(st.get("revision"))?,
                force: st.get("force").and_then(Value::as_bool).unwrap_or(false),
                source: source_arg(st)?,
            };
            Ok(Res::Commit(sc.handle(st)?.undo(opts)?))
        }
        "setSchema" => {
            let doc = match st.get("schema") {
                None | Some(Value::Null) => None,
                Some(d) => Some(plain(d)?),
            };
            let src = source_arg(st)?;
            Ok(Res::Commit(sc.handle(st)?.set_schema(doc.as_ref(), src.as_deref())?))
        }
        "revision" => val(Value::Number(sc.handle(st)?.revision()? as f64)),
        "export" => val(sc.handle(st)?.export_data()?),
        "import" => {
            let doc = match st.get("docJson").and_then(Value::as_str) {
                Some(t) => json_text(t)?,
                None => plain(st.get("doc").unwrap_or(&Value::Null))?,
            };
            let opts = ImportOptions {
                replace: st.get("replace").and_then(Value::as_bool).unwrap_or(false),
                source: source_arg(st)?,
                file: st.get("file").and_then(Value::as_str).map(String::from),
                ..ImportOptions::default()
            };
            Ok(Res::Commit(sc.handle(st)?.import_data(&doc, opts)?))
        }
        "open" => {
            sc.close();
            sc.handle(st)?;
            val(Value::Bool(true))
        }
        "close" => {
            sc.close();
            val(Value::Bool(true))
        }
        "dump" => Ok(dump(&sc.database(st))),
        "dbInfo" => Ok(db_info(&sc.database(st))),
        "sql" => {
            let c = rusqlite::Connection::open_with_flags(sc.database(st), rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            c.execute_batch(st.get("sql").and_then(Value::as_str).unwrap_or("")).unwrap();
            val(Value::Bool(true))
        }
        "exists" => {
            let mut p = sc.root.clone();
            for part in st.get("path").and_then(Value::as_str).unwrap_or("").split('/') {
                p.push(part);
            }
            val(Value::Bool(p.exists()))
        }
        other => panic!("unknown step op {:?}", other),
    }
}

fn run_stateful(c: &Value) -> Result<(), String> {
    let setup = c.get("setup").cloned().unwrap_or(Value::Object(Object::new()));
    let mut sc = Scenario::new(setup.clone());
    if let Some(schema) = setup.get("schema") {
        let store = sc.main().map_err(|e| format!("setup: opening failed: {}", e))?;
        let _ = store.set_schema(Some(schema), None);
    }
    for (n, st) in c.get("steps").and_then(Value::as_array).cloned().unwrap_or_default().iter().enumerate() {
        if let Some(clock) = st.get("clock").and_then(Value::as_f64) {
            sc.now.store(clock.floor() as i64, Ordering::SeqCst);
        }
        let op = st.get("op").and_then(Value::as_str).unwrap_or("?");
        let result = run_step(&mut sc, st);
        check(st.get("expect").unwrap_or(&Value::Null), result, &format!("step {} ({})", n + 1, op))?;
    }
    Ok(())
}

/// The `mirror.merge` and `snapshot.*` pure ops (spec/sections/mirror-sync.md,
/// spec/sections/snapshots.md "Vectors").
fn merge_snapshot_op(op: &str, i: &Value) -> R {
    use psmc::snapshot::{self, SnapshotParts};
    let v = |x: Value| Ok(Res::Value(x));
    let text_or_null = |x: Option<&Value>| -> Option<String> { x.and_then(Value::as_str).map(str::to_string) };
    match op {
        "mirror.merge" => {
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

/// The mirror codec ops (spec/sections/mirror-format.md "Vectors"; shapes as in
/// test/mirror/codecs-vectors.test.ts): `entries`/`changes` are `[key, valueJson]` pairs, a
/// `null` valueJson deletes; `parse` answers `{entries: [[key, valueJson]…], version?}`.
fn mirror_op(op: &str, i: &Value) -> R {
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

fn run_case(c: &Value) -> Result<(), String> {
    if c.get("steps").is_some() {
        return run_stateful(c);
    }
    let op = c.get("op").and_then(Value::as_str).ok_or("a pure case needs op")?;
    let input = c.get("input").ok_or("a pure case needs input")?;
    let expect = c.get("expect").ok_or("a pure case needs expect")?;
    check(expect, run_pure(op, input), op)
}

#[test]
fn conformance_vectors() {
    let version = spec_version();
    let expected = expected_failures();
    let mut files = Vec::new();
    list_json(&root().join("vectors"), &mut files);
    files.sort();
    let (mut passed, mut failed, mut xfail, mut skipped) = (0, 0, 0, 0);
    let mut failures: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let doc = expand(json::parse_with(&text, LoneSurrogates::Replace(LONE)).unwrap_or_else(|e| panic!("{}: {}", file.display(), e)));
        for c in doc.get("cases").and_then(Value::as_array).unwrap() {
            let id = c.get("id").and_then(Value::as_str).unwrap().to_string();
            seen.insert(id.clone());
            let since = c.get("since").and_then(Value::as_str).unwrap_or("0.0.0");
            let until = c.get("until").and_then(Value::as_str);
            if semver(since) > semver(&version) || until.is_some_and(|u| semver(u) <= semver(&version)) {
                skipped += 1;
                continue;
            }
            let outcome = match catch_unwind(AssertUnwindSafe(|| run_case(c))) {
                Ok(r) => r,
                Err(p) => Err(format!(
                    "panicked: {}",
                    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
                )),
            };
            let desc = c.get("description").and_then(Value::as_str).unwrap_or("");
            match (outcome, expected.get(&id)) {
                (Ok(()), None) => passed += 1,
                (Err(msg), None) => {
                    failed += 1;
                    failures.push(format!("FAIL {} {}: {}", id, desc, msg));
                }
                (Err(_), Some(_)) => xfail += 1,
                (Ok(()), Some(reason)) => {
                    failed += 1;
                    failures.push(format!("FAIL {} is listed in spec/expected-failures/rust.txt ({}) but passes: remove it from the list", id, reason));
                }
            }
        }
    }
    for id in expected.keys() {
        if !seen.contains(id) {
            failed += 1;
            failures.push(format!("FAIL spec/expected-failures/rust.txt lists {}, which no vector has", id));
        }
    }
    for f in &failures {
        println!("{}", f);
    }
    println!("vectors: {} passed, {} failed ({} expected failures, {} skipped)", passed, failed, xfail, skipped);
    if !failures.is_empty() {
        let ids: Vec<&str> = failures.iter().filter_map(|f| f.split_whitespace().nth(1)).collect();
        panic!("{} vector case(s) failed: {}", failed, ids.join(", "));
    }
}
