//! The Store: one handle on the layered configuration of an app (spec/SPEC.md §layers). It
//! wires the pure core to the SQLite adapter, the platform paths and the environment.
//! Mirrors src/store/store.ts.
//!
//! Opening has no side effects beyond opening databases that exist; reads never create a
//! store, the first write does. `get()` and `set()` never start threads, timers or watchers.
//!
//! Read freshness (§read.freshness): this client keeps no value cache. Every read is one
//! prepared `SELECT` on the store's connection, so it sees every commit of every process at
//! once (a freshness bound of 0). Only the compiled schema is cached, keyed by the revision
//! that set it, which is re-read (one cheap `SELECT`) whenever the schema is needed.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::{system_ms, WallClock};
use crate::engine::{
    assert_source, commit_changes, commit_schema, plan_undo, prepare_changes, to_record, ChangeRecord, ChangeRequest, CommitResult,
    PreparedChange, WriteContext, SCHEMA_HISTORY_KEY,
};
use crate::env::{coerce_env, env_name, is_reserved_env_name, is_valid_prefix, prefix_from_app, snapshot_env};
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{quote_str, Object, Value};
use crate::keys::{assert_key, is_valid_key, key_has_prefix, normalize_prefix};
use crate::paths::{assert_app_name, canonical_dir, ensure_dir, find_project_store, user_store_dir, DATABASE_FILE, PROJECT_DIR};
use crate::schema::{parse_schema_document, CompiledSchema};
use crate::storage::{Durability, HistoryQuery, Storage, StorageOptions, StoredRow, WriteTx};
use crate::value::{checked, decode_stored, encode_value};

/// The layers a value can come from, highest first (§layers.order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    Override,
    Env,
    Project,
    User,
    Default,
    Caller,
}

impl Layer {
    pub const ORDER: [Layer; 6] = [Layer::Override, Layer::Env, Layer::Project, Layer::User, Layer::Default, Layer::Caller];
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Override => "override",
            Layer::Env => "env",
            Layer::Project => "project",
            Layer::User => "user",
            Layer::Default => "default",
            Layer::Caller => "caller",
        }
    }
    fn text(self) -> &'static str {
        match self {
            Layer::Override => "a process override (a CLI flag or code)",
            Layer::Env => "an environment variable",
            Layer::Project => "the project store",
            Layer::User => "the user store",
            Layer::Default => "a default",
            Layer::Caller => "the caller's default",
        }
    }
}

/// Which project store to use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Project {
    /// No project store.
    #[default]
    None,
    /// Find `.psmc/` by walking up from `cwd`, like git.
    Discover,
    /// The project directory that holds (or will hold) `.psmc/`.
    Dir(PathBuf),
}

/// The environment-variable prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EnvPrefix {
    /// Derived from the app name (`PSMC` for app `psmc`).
    #[default]
    FromApp,
    /// The environment layer is off.
    Off,
    /// This prefix (`^[A-Z][A-Z0-9_]*$`).
    Prefix(String),
}

/// Options of [`Store::open`]. `Default` gives the user store of app `psmc`, source `rust`.
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// The application name: picks the user store directory and the env prefix. Default `psmc`.
    pub app: Option<String>,
    /// An explicit store directory: the one store (layer `user`), no project discovery.
    pub dir: Option<PathBuf>,
    pub project: Project,
    /// Create `<project>/.psmc/` when `project` is a directory without one.
    pub create_project: bool,
    /// Where project discovery starts. Default: the working directory.
    pub cwd: Option<PathBuf>,
    /// The environment to read (once, at open). Default: the process environment.
    pub env: Option<HashMap<String, String>>,
    pub env_prefix: EnvPrefix,
    /// Values above every other layer. Keys must be legal.
    pub overrides: Vec<(String, Value)>,
    /// Shipped defaults, below the stores.
    pub defaults: Vec<(String, Value)>,
    /// Recorded with every write. Default `rust`.
    pub source: Option<String>,
    pub durability: Durability,
    /// How long a writer waits for the lock before `PSMC_BUSY`. Default 10,000 ms.
    pub busy_timeout_ms: Option<u64>,
    /// The wall clock for timestamps (a test hook). Default: the system clock.
    pub clock: Option<WallClock>,
    /// Create nothing; refuse writes with `PSMC_READ_ONLY`.
    pub read_only: bool,
    /// Keep the write store's plaintext mirror (`config.json` …) true in both directions
    /// (spec/sections/mirror-sync.md): `None` (the default) or `Some(true)` keeps it,
    /// `Some(false)` leaves the file alone. Read-only handles never touch it.
    pub mirror: Option<bool>,
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions").field("app", &self.app).field("dir", &self.dir).field("project", &self.project).finish_non_exhaustive()
    }
}

/// Options of a single write.
#[derive(Clone, Debug, Default)]
pub struct SetOptions {
    /// Compare-and-set: the revision the key must be at (0: it must not exist).
    pub expect_revision: Option<i64>,
    /// Overrides the handle's source for this write.
    pub source: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct HistoryOptions {
    /// Keys under the given key too.
    pub prefix: bool,
    /// Records newer than this revision only.
    pub since_revision: Option<i64>,
    /// Records up to and including this revision.
    pub until_revision: Option<i64>,
    /// At most this many, newest first.
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct UndoOptions {
    /// The revision to revert. Default: the newest.
    pub revision: Option<i64>,
    /// Revert even keys changed again later.
    pub force: bool,
    pub source: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Delete the store's keys that the document lacks.
    pub replace: bool,
    pub source: Option<String>,
    /// The file the document came from: the source defaults to `import:<file name>`.
    pub file: Option<String>,
    /// Skip the automatic `before-import` snapshot (a restore takes its own).
    pub skip_snapshot: bool,
}

/// The result of a committed write.
#[derive(Clone, Debug, PartialEq)]
pub struct Commit {
    /// The store revision after the write.
    pub revision: i64,
    /// HLC text of the commit.
    pub at: String,
    /// What was recorded; empty when nothing changed.
    pub changes: Vec<ChangeRecord>,
}

/// The resolved value of a key and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub key: String,
    pub value: Option<Value>,
    pub found: bool,
    pub layer: Option<Layer>,
    /// Revision of the key in its store (store layers only; else 0).
    pub revision: i64,
    /// The writer for store layers, else the layer detail (`env:PSMC_X`, `shipped default` …).
    pub source: Option<String>,
    pub updated_at: Option<String>,
}

impl Resolved {
    /// `{key, value?, found, layer?, revision, source?, updatedAt?}` as `get --json` prints it.
    pub fn to_json(&self) -> Value {
        let mut o = Object::new();
        o.insert("key", self.key.clone().into());
        if let Some(v) = &self.value {
            o.insert("value", v.clone());
        }
        o.insert("found", self.found.into());
        if let Some(l) = self.layer {
            o.insert("layer", l.as_str().into());
        }
        o.insert("revision", Value::Number(self.revision as f64));
        if let Some(s) = &self.source {
            o.insert("source", s.clone().into());
        }
        if let Some(u) = &self.updated_at {
            o.insert("updatedAt", u.clone().into());
        }
        Value::Object(o)
    }
}

/// An error a layer reports instead of a value.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerError {
    pub code: String,
    pub message: String,
    pub hint: String,
}

/// One layer's candidate for a key.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerCandidate {
    pub layer: Layer,
    pub present: bool,
    pub value: Option<Value>,
    /// Where: the variable name, the store directory, `schema default` …
    pub origin: String,
    pub revision: Option<i64>,
    pub source: Option<String>,
    pub updated_at: Option<String>,
    pub error: Option<LayerError>,
}

impl LayerCandidate {
    fn absent(layer: Layer, origin: impl Into<String>) -> Self {
        LayerCandidate { layer, present: false, value: None, origin: origin.into(), revision: None, source: None, updated_at: None, error: None }
    }
    fn present(layer: Layer, value: Value, origin: impl Into<String>) -> Self {
        LayerCandidate { present: true, value: Some(value), ..LayerCandidate::absent(layer, origin) }
    }
    pub fn to_json(&self) -> Value {
        let mut o = Object::new();
        o.insert("layer", self.layer.as_str().into());
        o.insert("present", self.present.into());
        if let Some(v) = &self.value {
            o.insert("value", v.clone());
        }
        o.insert("origin", self.origin.clone().into());
        if let Some(r) = self.revision {
            o.insert("revision", Value::Number(r as f64));
        }
        if let Some(s) = &self.source {
            o.insert("source", s.clone().into());
        }
        if let Some(u) = &self.updated_at {
            o.insert("updatedAt", u.clone().into());
        }
        if let Some(e) = &self.error {
            o.insert(
                "error",
                crate::json::obj([("code", e.code.clone().into()), ("message", e.message.clone().into()), ("hint", e.hint.clone().into())]),
            );
        }
        Value::Object(o)
    }
}

/// Every layer's candidate, the winner, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub resolved: Resolved,
    pub layers: Vec<LayerCandidate>,
    pub reason: String,
}

impl Explanation {
    pub fn to_json(&self) -> Value {
        let mut v = self.resolved.to_json();
        if let Value::Object(o) = &mut v {
            o.insert("layers", Value::Array(self.layers.iter().map(LayerCandidate::to_json).collect()));
            o.insert("reason", self.reason.clone().into());
        }
        v
    }
}

/// Paths and settings of a handle.
#[derive(Clone, Debug)]
pub struct StoreInfo {
    pub app: String,
    /// None when the env layer is off.
    pub env_prefix: Option<String>,
    /// The store that receives writes (`Project` or `User`).
    pub write_layer: Layer,
    pub user_dir: PathBuf,
    pub project_dir: Option<PathBuf>,
}

struct Slot {
    layer: Layer,
    dir: PathBuf,
    file: PathBuf,
    storage: OnceCell<Storage>,
}

type EnvCandidate = (String, std::result::Result<Value, PsmcError>);

/// One handle on an app's layered configuration. `Send`, not `Sync`: give each thread its own.
pub struct Store {
    info: StoreInfo,
    slots: Vec<Slot>,
    write: usize,
    overrides: HashMap<String, Value>,
    defaults: HashMap<String, Value>,
    override_keys: Vec<String>,
    default_keys: Vec<String>,
    env_vars: HashMap<String, String>,
    env_prefix: Option<String>,
    source: String,
    clock: WallClock,
    read_only: bool,
    storage_options: StorageOptions,
    closed: bool,
    schema_cache: RefCell<Option<(i64, Option<Arc<CompiledSchema>>)>>,
    /// The mirror engine (src/store/mirror_hooks.rs), once the write store exists.
    mirror_on: bool,
    mirror: RefCell<Option<crate::sync::MirrorSync>>,
    last_mirror_check: Cell<Option<std::time::Instant>>,
    /// The automatic-snapshot settings and last revision, read at most once a second.
    auto_cache: Cell<Option<(std::time::Instant, snapshot_ops::SnapshotSettings, i64)>>,
}

mod mirror_hooks;
pub mod snapshot_ops;

// A handle may move between threads (each thread should own its own handle).
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Store>();
};

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("info", &self.info).finish_non_exhaustive()
    }
}

fn layer_map(what: &str, input: &[(String, Value)]) -> Result<(HashMap<String, Value>, Vec<String>)> {
    let mut m = HashMap::new();
    let mut order = Vec::new();
    for (k, v) in input {
        if !is_valid_key(k) {
            let e = crate::keys::key_error(k);
            return Err(PsmcError::new(e.error_code(), format!("{} key: {}", what, e.message()), e.hint().to_string()));
        }
        let text = encode_value(v, Some(k))?;
        let v = decode_stored(&text)?;
        if m.insert(k.clone(), v).is_none() {
            order.push(k.clone());
        }
    }
    Ok((m, order))
}

fn process_env() -> HashMap<String, String> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

fn check_rows(doc_text: Option<&str>, rows: &[StoredRow]) -> Result<()> {
    let text = match doc_text {
        None => return Ok(()),
        Some(t) => t,
    };
    let schema = CompiledSchema::from_text(text)?;
    for r in rows {
        schema.validate(&r.key, &decode_stored(&r.value)?)?;
    }
    Ok(())
}

fn to_commit(r: CommitResult) -> Result<Commit> {
    let changes = r.records.iter().map(to_record).collect::<Result<Vec<_>>>()?;
    Ok(Commit { revision: r.revision, at: r.at, changes })
}

fn explain_reason(key: &str, layers: &[LayerCandidate]) -> String {
    let winner = match layers.iter().find(|c| c.present) {
        None => {
            return format!(
                "No layer has a value for {}: it is not set in any store, environment variable, override or default.",
                quote_str(key)
            )
        }
        Some(w) => w,
    };
    let beaten: Vec<&str> = layers.iter().filter(|c| c.present && c.layer != winner.layer).map(|c| c.layer.text()).collect();
    let beat = if beaten.is_empty() { String::new() } else { format!(", which outranks {}", beaten.join(" and ")) };
    format!("The value comes from {} ({}){}.", winner.layer.text(), winner.origin, beat)
}

impl Store {
    /// Opens the configuration of an app: its user store, optionally a project store, the
    /// environment, overrides and defaults. Creates nothing (except with `create_project`).
    pub fn open(options: OpenOptions) -> Result<Store> {
        let app = options.app.clone().unwrap_or_else(|| "psmc".to_string());
        assert_app_name(&app)?;
        let env = options.env.clone().unwrap_or_else(process_env);
        let env_prefix = match &options.env_prefix {
            EnvPrefix::Off => None,
            EnvPrefix::FromApp => Some(prefix_from_app(&app)?),
            EnvPrefix::Prefix(p) => {
                if !is_valid_prefix(p) {
                    return Err(PsmcError::usage(
                        format!("envPrefix must be upper-case letters, digits and \"_\", starting with a letter, received {}", quote_str(p)),
                        "Check the arguments and options; `psmc help` lists them.",
                    ));
                }
                Some(p.clone())
            }
        };
        let source = options.source.clone().unwrap_or_else(|| "rust".to_string());
        assert_source(&source)?;
        let (overrides, override_keys) = layer_map("overrides", &options.overrides)?;
        let (defaults, default_keys) = layer_map("defaults", &options.defaults)?;
        let env_vars = match &env_prefix {
            None => HashMap::new(),
            Some(p) => snapshot_env(env.iter().map(|(k, v)| (k.as_str(), v.as_str())), p, cfg!(windows)),
        };

        let user_dir: PathBuf;
        let mut project_dir: Option<PathBuf> = None;
        if let Some(dir) = &options.dir {
            if dir.as_os_str().is_empty() {
                return Err(PsmcError::usage("dir must be a non-empty path", "Check the arguments and options; `psmc help` lists them."));
            }
            user_dir = dir.clone();
        } else {
            let home = env_prefix.as_ref().and_then(|p| env.get(&format!("{}_HOME", p))).filter(|h| !h.is_empty());
            user_dir = match home {
                Some(h) => PathBuf::from(h),
                None => user_store_dir(&app, &env)?,
            };
            let cwd = match &options.cwd {
                Some(c) => crate::paths::absolute(c),
                None => std::env::current_dir().map_err(|e| crate::paths::io_error(&e, Path::new(".")))?,
            };
            match &options.project {
                Project::None => {}
                Project::Discover => project_dir = find_project_store(&cwd)?,
                Project::Dir(p) => {
                    let d = crate::paths::absolute(&cwd.join(p)).join(PROJECT_DIR);
                    if !d.exists() {
                        if options.create_project && !options.read_only {
                            ensure_dir(&d)?;
                        } else {
                            return Err(PsmcError::new(
                                ErrorCode::StoreNotFound,
                                format!("There is no project store at {}.", d.display()),
                                "Create one with `psmc init` in that directory (or pass createProject: true).",
                            )
                            .with("path", d.display().to_string()));
                        }
                    }
                    project_dir = Some(d);
                }
            }
        }
        let slot = |layer: Layer, dir: &Path| {
            let canonical = canonical_dir(dir);
            Slot { layer, file: canonical.join(DATABASE_FILE), dir: canonical, storage: OnceCell::new() }
        };
        let user = slot(Layer::User, &user_dir);
        let project = project_dir.as_deref().map(|d| slot(Layer::Project, d));
        let info = StoreInfo {
            app,
            env_prefix: env_prefix.clone(),
            write_layer: if project.is_some() { Layer::Project } else { Layer::User },
            user_dir: user.dir.clone(),
            project_dir: project.as_ref().map(|p| p.dir.clone()),
        };
        let slots: Vec<Slot> = match project {
            Some(p) => vec![p, user],
            None => vec![user],
        };
        let store = Store {
            info,
            slots,
            write: 0,
            overrides,
            defaults,
            override_keys,
            default_keys,
            env_vars,
            env_prefix,
            source,
            clock: options.clock.clone().unwrap_or_else(|| Arc::new(system_ms)),
            read_only: options.read_only,
            storage_options: StorageOptions {
                durability: options.durability,
                busy_timeout_ms: options.busy_timeout_ms.unwrap_or(10_000),
                read_only: false,
            },
            closed: false,
            schema_cache: RefCell::new(None),
            mirror_on: options.mirror.unwrap_or(true) && !options.read_only,
            mirror: RefCell::new(None),
            last_mirror_check: Cell::new(None),
            auto_cache: Cell::new(None),
        };
        for i in 0..store.slots.len() {
            store.try_attach(i)?;
        }
        if store.read_only && store.slots[store.write].storage.get().is_none() {
            return Err(PsmcError::new(
                ErrorCode::StoreNotFound,
                format!("There is no store at {} to open read-only.", store.slots[store.write].dir.display()),
                "Write a value first (which creates the store), or check the path, --store and PSMC_HOME.",
            )
            .with("path", store.slots[store.write].dir.display().to_string()));
        }
        store.mirror_on_open();
        Ok(store)
    }

    /// Paths and settings of this handle.
    pub fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn ensure_open(&self) -> Result<()> {
        if self.closed {
            return Err(PsmcError::new(ErrorCode::Closed, "This store handle was closed.", "Open the store again; a handle cannot be used after close()."));
        }
        Ok(())
    }

    /// Opens the slot's database when it exists.
    fn try_attach(&self, i: usize) -> Result<Option<&Storage>> {
        let slot = &self.slots[i];
        if let Some(s) = slot.storage.get() {
            return Ok(Some(s));
        }
        if !slot.file.exists() {
            return Ok(None);
        }
        let s = Storage::open(&slot.file, &self.storage_options)?;
        Ok(Some(slot.storage.get_or_init(|| s)))
    }

    /// The write slot's database, created on first write.
    fn write_storage(&self) -> Result<&Storage> {
        self.ensure_open()?;
        if self.read_only {
            return Err(PsmcError::new(
                ErrorCode::ReadOnly,
                format!("This handle on {} was opened read-only.", self.slots[self.write].dir.display()),
                "Open the store without readOnly to write.",
            ));
        }
        if let Some(s) = self.try_attach(self.write)? {
            return Ok(s);
        }
        let slot = &self.slots[self.write];
        ensure_dir(&slot.dir)?;
        let s = Storage::open(&slot.file, &self.storage_options)?;
        Ok(slot.storage.get_or_init(|| s))
    }

    fn compiled(text: &str) -> Result<Arc<CompiledSchema>> {
        CompiledSchema::from_text(text).map(Arc::new)
    }

    /// The schema that governs this handle: the write store's.
    pub fn compiled_schema(&self) -> Result<Option<Arc<CompiledSchema>>> {
        let st = match self.try_attach(self.write)? {
            None => return Ok(None),
            Some(s) => s,
        };
        let rev = st.read_schema_revision()?;
        if let Some((r, c)) = &*self.schema_cache.borrow() {
            if *r == rev {
                return Ok(c.clone());
            }
        }
        let (rev, compiled) = match st.read_schema()? {
            None => (0, None),
            Some(s) => (s.revision, Some(Self::compiled(&s.doc)?)),
        };
        *self.schema_cache.borrow_mut() = Some((rev, compiled.clone()));
        Ok(compiled)
    }

    /// The compiled schema as stored inside a write transaction.
    fn schema_in(&self, tx: &WriteTx<'_>) -> Result<Option<Arc<CompiledSchema>>> {
        let rev = tx.read_schema_revision()?;
        if let Some((r, c)) = &*self.schema_cache.borrow() {
            if *r == rev {
                return Ok(c.clone());
            }
        }
        let compiled = match tx.read_schema()? {
            None => None,
            Some(s) => Some(Self::compiled(&s.doc)?),
        };
        *self.schema_cache.borrow_mut() = Some((rev, compiled.clone()));
        Ok(compiled)
    }

    /// The env candidate for a (valid) key: None when its variable is unset or reserved.
    fn env_candidate(&self, key: &str) -> Result<Option<EnvCandidate>> {
        let prefix = match &self.env_prefix {
            None => return Ok(None),
            Some(p) => p,
        };
        let variable = env_name(prefix, key)?;
        if is_reserved_env_name(prefix, &variable) {
            return Ok(None);
        }
        let raw = match self.env_vars.get(&variable) {
            None => return Ok(None),
            Some(r) => r,
        };
        let schema = self.compiled_schema()?;
        let ks = schema.as_ref().and_then(|s| s.schema_for(key));
        Ok(Some((variable.clone(), coerce_env(raw, ks, &variable, key))))
    }

    fn read_slot(&self, i: usize, key: &str) -> Result<Option<StoredRow>> {
        match self.try_attach(i)? {
            None => Ok(None),
            Some(s) => s.read_row(key),
        }
    }

    /// The value of `key` from the highest layer that has it, or None.
    /// `PSMC_KEY_SYNTAX`/`PSMC_KEY_RESERVED` for an illegal key, `PSMC_ENV_COERCE` when the
    /// key's environment variable does not parse.
    pub fn get(&self, key: &str) -> Result<Option<Value>> {
        self.get_or(key, None)
    }

    /// Like [`Store::get`], with the caller's default (the lowest layer).
    pub fn get_or(&self, key: &str, default: Option<&Value>) -> Result<Option<Value>> {
        self.ensure_open()?;
        self.mirror_on_read();
        if let Some(o) = self.overrides.get(key) {
            return Ok(Some(o.clone()));
        }
        assert_key(key)?;
        if !self.env_vars.is_empty() {
            if let Some((_, r)) = self.env_candidate(key)? {
                return r.map(Some);
            }
        }
        for i in 0..self.slots.len() {
            if let Some(row) = self.read_slot(i, key)? {
                return decode_stored(&row.value).map(Some);
            }
        }
        if let Some(d) = self.defaults.get(key) {
            return Ok(Some(d.clone()));
        }
        if let Some(s) = self.compiled_schema()? {
            if let Some(d) = s.default_for(key) {
                return Ok(Some(d.clone()));
            }
        }
        match default {
            None => Ok(None),
            Some(d) => checked(d.clone(), Some(key)).map(Some),
        }
    }

    /// Like get, plus where the value came from.
    pub fn resolve(&self, key: &str) -> Result<Resolved> {
        self.resolve_or(key, None)
    }

    /// Like [`Store::resolve`] with the caller's default. Walks the layers from the top and
    /// stops at the first that has a value, so a key set in the store costs one `SELECT`
    /// (the result equals `explain_or(key, default).resolved`, and a bad env value fails).
    pub fn resolve_or(&self, key: &str, default: Option<&Value>) -> Result<Resolved> {
        self.ensure_open()?;
        self.mirror_on_read();
        assert_key(key)?;
        // explain checks the caller's default whatever wins; so does this.
        let caller = match default {
            None => None,
            Some(d) => Some(checked(d.clone(), Some(key))?),
        };
        let found = |layer: Layer, value: Value, source: String| Resolved {
            key: key.to_string(),
            value: Some(value),
            found: true,
            layer: Some(layer),
            revision: 0,
            source: Some(source),
            updated_at: None,
        };
        if let Some(o) = self.overrides.get(key) {
            return Ok(found(Layer::Override, o.clone(), "process override".into()));
        }
        if let Some((variable, r)) = self.env_candidate(key)? {
            return r.map(|v| found(Layer::Env, v, format!("env:{}", variable)));
        }
        for i in 0..self.slots.len() {
            if let Some(row) = self.read_slot(i, key)? {
                return Ok(Resolved {
                    revision: row.revision,
                    updated_at: Some(row.updated_at),
                    ..found(self.slots[i].layer, decode_stored(&row.value)?, row.source)
                });
            }
        }
        if let Some(d) = self.defaults.get(key) {
            return Ok(found(Layer::Default, d.clone(), "shipped default".into()));
        }
        if let Some(sd) = self.compiled_schema()?.as_ref().and_then(|s| s.default_for(key).cloned()) {
            return Ok(found(Layer::Default, sd, "schema default".into()));
        }
        if let Some(c) = caller {
            return Ok(found(Layer::Caller, c, "caller's default".into()));
        }
        Ok(Resolved { key: key.to_string(), value: None, found: false, layer: None, revision: 0, source: None, updated_at: None })
    }

    /// Every layer's candidate for `key`, which one won, and why. A bad env value is
    /// reported as that layer's error, never thrown.
    pub fn explain(&self, key: &str) -> Result<Explanation> {
        self.explain_or(key, None)
    }

    pub fn explain_or(&self, key: &str, default: Option<&Value>) -> Result<Explanation> {
        self.ensure_open()?;
        self.mirror_on_read();
        assert_key(key)?;
        let mut layers: Vec<LayerCandidate> = Vec::with_capacity(6);
        layers.push(match self.overrides.get(key) {
            None => LayerCandidate::absent(Layer::Override, "process override"),
            Some(o) => LayerCandidate::present(Layer::Override, o.clone(), "process override"),
        });
        match &self.env_prefix {
            None => layers.push(LayerCandidate::absent(Layer::Env, "environment layer turned off")),
            Some(prefix) => {
                let variable = env_name(prefix, key)?;
                if is_reserved_env_name(prefix, &variable) {
                    layers.push(LayerCandidate::absent(Layer::Env, format!("{} (reserved by psmc, not read as a value)", variable)));
                } else {
                    match self.env_candidate(key)? {
                        None => layers.push(LayerCandidate::absent(Layer::Env, variable)),
                        Some((_, Err(e))) => {
                            let mut c = LayerCandidate::absent(Layer::Env, variable);
                            c.error = Some(LayerError { code: e.code().to_string(), message: e.message().to_string(), hint: e.hint().to_string() });
                            layers.push(c);
                        }
                        Some((_, Ok(v))) => {
                            let mut c = LayerCandidate::present(Layer::Env, v, variable.clone());
                            c.source = Some(format!("env:{}", variable));
                            layers.push(c);
                        }
                    }
                }
            }
        }
        for layer in [Layer::Project, Layer::User] {
            let i = match self.slots.iter().position(|s| s.layer == layer) {
                None => {
                    layers.push(LayerCandidate::absent(layer, if layer == Layer::Project { "no project store" } else { "no user store" }));
                    continue;
                }
                Some(i) => i,
            };
            let dir = self.slots[i].dir.display().to_string();
            match self.read_slot(i, key)? {
                None => layers.push(LayerCandidate::absent(layer, dir)),
                Some(row) => {
                    let mut c = LayerCandidate::present(layer, decode_stored(&row.value)?, dir);
                    c.revision = Some(row.revision);
                    c.source = Some(row.source);
                    c.updated_at = Some(row.updated_at);
                    layers.push(c);
                }
            }
        }
        match self.defaults.get(key) {
            Some(d) => layers.push(LayerCandidate::present(Layer::Default, d.clone(), "shipped default")),
            None => match self.compiled_schema()?.as_ref().and_then(|s| s.default_for(key).cloned()) {
                Some(sd) => layers.push(LayerCandidate::present(Layer::Default, sd, "schema default")),
                None => layers.push(LayerCandidate::absent(Layer::Default, "no default")),
            },
        }
        match default {
            None => layers.push(LayerCandidate::absent(Layer::Caller, "no caller's default")),
            Some(d) => layers.push(LayerCandidate::present(Layer::Caller, checked(d.clone(), Some(key))?, "caller's default")),
        }

        // A bad env value fails the read unless an override (the only higher layer) wins.
        let override_wins = layers[0].present;
        let env_error = if override_wins { None } else { layers.iter().find(|l| l.layer == Layer::Env).and_then(|l| l.error.clone()) };
        let winner = if env_error.is_some() { None } else { layers.iter().find(|l| l.present) };
        let mut reason = explain_reason(key, &layers);
        if let Some(e) = &env_error {
            reason = format!("{} A read of this key fails until it is fixed. {}", e.message, e.hint);
        }
        let resolved = Resolved {
            key: key.to_string(),
            value: winner.and_then(|w| w.value.clone()),
            found: winner.is_some(),
            layer: winner.map(|w| w.layer).or(if env_error.is_some() { Some(Layer::Env) } else { None }),
            revision: winner.and_then(|w| w.revision).unwrap_or(0),
            source: winner.map(|w| w.source.clone().unwrap_or_else(|| w.origin.clone())),
            updated_at: winner.and_then(|w| w.updated_at.clone()),
        };
        Ok(Explanation { resolved, layers, reason })
    }

    /// The resolved value of every known key under `prefix` (all keys when None), by key.
    pub fn list(&self, prefix: Option<&str>) -> Result<Vec<Resolved>> {
        self.ensure_open()?;
        self.mirror_on_read();
        let p = normalize_prefix(prefix)?;
        let mut keys: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for k in self.override_keys.iter().chain(&self.default_keys) {
            if key_has_prefix(k, &p) {
                keys.insert(k.clone());
            }
        }
        if let Some(s) = self.compiled_schema()? {
            for k in s.keys() {
                if key_has_prefix(&k, &p) && is_valid_key(&k) {
                    keys.insert(k);
                }
            }
        }
        for i in 0..self.slots.len() {
            if let Some(st) = self.try_attach(i)? {
                for row in st.list_rows(&p)? {
                    keys.insert(row.key);
                }
            }
        }
        let mut out = Vec::new();
        for k in keys {
            let r = self.resolve(&k)?;
            if r.found {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// [`Store::list`] as an object of key → value.
    pub fn all(&self, prefix: Option<&str>) -> Result<Object> {
        let mut o = Object::new();
        for r in self.list(prefix)? {
            if let Some(v) = r.value {
                o.insert(r.key, v);
            }
        }
        Ok(o)
    }

    /// Sets `key` in the write store, recorded with this handle's source.
    pub fn set(&self, key: &str, value: impl Into<Value>, options: SetOptions) -> Result<Commit> {
        let req = ChangeRequest::Set { key: key.to_string(), value: value.into(), expect_revision: options.expect_revision };
        self.commit(prepare_changes(vec![req])?, options.source.as_deref(), None)
    }

    /// Deletes `key` from the write store (recorded). Deleting an absent key changes nothing.
    pub fn delete(&self, key: &str, options: SetOptions) -> Result<Commit> {
        let req = ChangeRequest::Delete { key: key.to_string(), expect_revision: options.expect_revision };
        self.commit(prepare_changes(vec![req])?, options.source.as_deref(), None)
    }

    /// Several changes in one transaction: all or none, one revision.
    pub fn batch(&self, changes: Vec<ChangeRequest>, source: Option<&str>) -> Result<Commit> {
        self.commit(prepare_changes(changes)?, source, None)
    }

    fn commit(&self, prepared: Vec<PreparedChange>, source: Option<&str>, note: Option<String>) -> Result<Commit> {
        let src = source.unwrap_or(&self.source);
        assert_source(src)?;
        self.ensure_open()?;
        if self.try_attach(self.write)?.is_none() {
            // The store does not exist yet: every key is absent. Refuse what would fail before creating it.
            for c in &prepared {
                if let Some(e) = c.expect_revision {
                    if e != 0 {
                        return Err(PsmcError::new(
                            ErrorCode::Conflict,
                            format!(
                                "The key {} does not exist (the store is empty), but the write expected revision {}.",
                                quote_str(&c.key),
                                e
                            ),
                            "Someone else changed it first. Read the current value, merge your change into it, and retry with its revision.",
                        )
                        .with("key", c.key.as_str())
                        .with("expectedRevision", e as f64)
                        .with("currentRevision", 0.0));
                    }
                }
            }
        }
        let storage = self.write_storage()?;
        let wall = (self.clock)() as f64;
        let schema_of = |tx: &WriteTx<'_>| self.schema_in(tx);
        let ctx = WriteContext { wall_ms: wall, source: src, note, schema_of: &schema_of };
        self.mirror_before_write(storage);
        let result = storage.write(|tx| commit_changes(tx, &prepared, &ctx))?;
        self.mirror_after_commit(storage, &result);
        to_commit(result)
    }

    /// Reverts one revision (the newest by default) as a new change.
    pub fn undo(&self, options: UndoOptions) -> Result<Commit> {
        let src = options.source.as_deref().unwrap_or(&self.source);
        assert_source(src)?;
        self.ensure_open()?;
        if self.try_attach(self.write)?.is_none() && !self.read_only {
            return Err(PsmcError::new(
                ErrorCode::NothingToUndo,
                format!("The store at {} has no changes to undo (it does not exist yet).", self.slots[self.write].dir.display()),
                "Nothing was ever written to this store.",
            ));
        }
        let storage = self.write_storage()?;
        let wall = (self.clock)() as f64;
        let schema_of = |tx: &WriteTx<'_>| self.schema_in(tx);
        self.mirror_before_write(storage);
        let result = storage.write(|tx| {
            let plan = plan_undo(tx, options.revision, options.force)?;
            let ctx = WriteContext { wall_ms: wall, source: src, note: Some(format!("undo of revision {}", plan.revision)), schema_of: &schema_of };
            match &plan.schema {
                Some(doc) => commit_schema(tx, doc.as_deref(), &ctx, &|rows| check_rows(doc.as_deref(), rows)),
                None => commit_changes(tx, &plan.changes, &ctx),
            }
        })?;
        self.mirror_after_commit(storage, &result);
        to_commit(result)
    }

    /// Recorded changes of the write store, newest first; of one key (or a prefix) when given.
    /// `@schema` lists schema changes.
    pub fn history(&self, key: Option<&str>, options: HistoryOptions) -> Result<Vec<ChangeRecord>> {
        self.ensure_open()?;
        if let Some(k) = key {
            if k != SCHEMA_HISTORY_KEY {
                assert_key(k)?;
            }
        }
        let st = match self.try_attach(self.write)? {
            None => return Ok(Vec::new()),
            Some(s) => s,
        };
        let q = HistoryQuery {
            key: key.map(String::from),
            prefix: key.is_some() && options.prefix,
            after_revision: options.since_revision,
            upto_revision: options.until_revision,
            limit: options.limit,
            ascending: false,
        };
        st.history(&q)?.iter().map(to_record).collect()
    }

    /// The write store's revision (0 before the first write).
    pub fn revision(&self) -> Result<i64> {
        self.ensure_open()?;
        match self.try_attach(self.write)? {
            None => Ok(0),
            Some(s) => Ok(s.read_state()?.revision),
        }
    }

    /// The write store's schema document, or None.
    pub fn schema(&self) -> Result<Option<Value>> {
        self.ensure_open()?;
        match self.try_attach(self.write)? {
            None => Ok(None),
            Some(s) => match s.read_schema()? {
                None => Ok(None),
                Some(d) => decode_stored(&d.doc).map(Some),
            },
        }
    }

    /// Replaces the write store's schema (None removes it), recorded as `@schema`.
    pub fn set_schema(&self, doc: Option<&Value>, source: Option<&str>) -> Result<Commit> {
        let src = source.unwrap_or(&self.source);
        assert_source(src)?;
        let text = match doc {
            None => None,
            Some(d) => Some(parse_schema_document(d)?.to_json()),
        };
        let storage = self.write_storage()?;
        let wall = (self.clock)() as f64;
        let schema_of = |tx: &WriteTx<'_>| self.schema_in(tx);
        let ctx = WriteContext { wall_ms: wall, source: src, note: None, schema_of: &schema_of };
        self.mirror_before_write(storage);
        let result = storage.write(|tx| commit_schema(tx, text.as_deref(), &ctx, &|rows| check_rows(text.as_deref(), rows)))?;
        self.mirror_after_commit(storage, &result);
        to_commit(result)
    }

    /// The write store's keys with metadata (§export), read in one consistent transaction.
    pub fn export_data(&self) -> Result<Value> {
        self.ensure_open()?;
        let mut out = Object::new();
        out.insert("format", "psmc-export".into());
        out.insert("version", Value::Number(1.0));
        let st = match self.try_attach(self.write)? {
            None => {
                out.insert("revision", Value::Number(0.0));
                out.insert("entries", Value::Object(Object::new()));
                return Ok(Value::Object(out));
            }
            Some(s) => s,
        };
        let (state, rows, schema) = st.read_all()?;
        let mut members = Vec::with_capacity(rows.len());
        for r in rows {
            let mut e = Object::new();
            e.insert("value", decode_stored(&r.value)?);
            e.insert("type", r.type_name.into());
            e.insert("revision", Value::Number(r.revision as f64));
            e.insert("updatedAt", r.updated_at.into());
            e.insert("source", r.source.into());
            members.push((r.key, Value::Object(e)));
        }
        out.insert("revision", Value::Number(state.revision as f64));
        out.insert("entries", Value::Object(Object::from_members(members)));
        if let Some(s) = schema {
            out.insert("schema", decode_stored(&s.doc)?);
        }
        Ok(Value::Object(out))
    }

    /// Merges an export document (or a flat object of key → value) as one batch. With
    /// `replace`, keys absent from the document are deleted. All or nothing.
    pub fn import_data(&self, doc: &Value, options: ImportOptions) -> Result<Commit> {
        self.ensure_open()?;
        let values = crate::export::parse_export(doc, options.file.as_deref())?;
        let mut changes: Vec<ChangeRequest> = Vec::with_capacity(values.len());
        let mut present: std::collections::HashSet<String> = std::collections::HashSet::new();
        for (k, v) in values {
            present.insert(k.clone());
            changes.push(ChangeRequest::Set { key: k, value: v, expect_revision: None });
        }
        if options.replace {
            if let Some(st) = self.try_attach(self.write)? {
                for row in st.list_rows("")? {
                    if !present.contains(&row.key) {
                        changes.push(ChangeRequest::delete(row.key));
                    }
                }
            }
        }
        let source = options.source.clone().or_else(|| {
            options.file.as_ref().map(|f| {
                let base = Path::new(f).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| f.clone());
                format!("import:{}", base)
            })
        });
        let prepared = prepare_changes(changes)?;
        if !options.skip_snapshot && !prepared.is_empty() && self.try_attach(self.write)?.is_some() {
            self.auto_snapshot("before-import", source.as_deref().unwrap_or(&self.source), None)?;
        }
        self.commit(prepared, source.as_deref(), None)
    }

    /// Checks the integrity of every open database; returns the problems found.
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        self.ensure_open()?;
        let mut problems = Vec::new();
        for i in 0..self.slots.len() {
            if let Some(st) = self.try_attach(i)? {
                for p in st.check_integrity()? {
                    problems.push(format!("{}: {}", self.slots[i].file.display(), p));
                }
            }
        }
        Ok(problems)
    }

    /// Closes the handle (its connections). Later calls fail with `PSMC_CLOSED`. Safe twice.
    pub fn close(&mut self) {
        self.mirror_close();
        self.closed = true;
        for s in &mut self.slots {
            s.storage.take();
        }
    }
}
