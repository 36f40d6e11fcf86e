//! Family: the stateful cases (`setup` + `steps`), run against real SQLite stores in a fresh
//! temporary directory through the public store API, with the wall clock fixed per step
//! (spec/vectors/README.md "Stateful cases").

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use psmc::errors::PsmcError;
use psmc::json::{obj, Object, Value};
use psmc::{ChangeRequest, Durability, EnvPrefix, HistoryOptions, ImportOptions, OpenOptions, Project, SetOptions, Store, UndoOptions};

use super::check::check;
use super::common::{default_arg, json_text, opt_json, plain, revision_arg, source_arg, value_arg, Res, START_CLOCK, R};

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

pub fn run_stateful(c: &Value) -> Result<(), String> {
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
