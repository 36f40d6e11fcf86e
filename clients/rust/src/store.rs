//! The Store: one handle on the layered configuration of an app (spec/SPEC.md §layers). It
//! wires the pure core to the SQLite adapter, the platform paths and the environment.
//! Mirrors src/store/store.ts.
//!
//! Opening has no side effects beyond opening databases that exist; reads never create a
//! store, the first write does. `get()` and `set()` never start threads, timers or watchers.
//!
//! Read freshness (§read.freshness): each store database has a read cache (`read_cache.rs`,
//! as src/store/shared.ts): the handle's own writes are visible at once, other processes'
//! (and other handles') commits within `freshness_ms` (default 5; 0 checks on every read).
//! The compiled schema is cached too, keyed by the revision that set it, which is re-read
//! (one cheap `SELECT`) whenever the schema is needed.
//!
//! This file holds the handle: opening (layers, paths, env snapshot), attaching the databases,
//! the schema cache and closing. The rest of the handle API is split by idea: the public option
//! and result types (`store/options.rs`, as src/store/options.ts), reads through the layers
//! (`reads.rs`), writes and the write store's records (`writes.rs`), the mirror hooks
//! (`mirror_hooks.rs`, as src/store/shared.ts) and snapshots (`snapshot_ops.rs`).

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::{system_ms, WallClock};
use crate::engine::assert_source;
use crate::env::{is_valid_prefix, prefix_from_app, snapshot_env};
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{quote_str, Value};
use crate::keys::is_valid_key;
use crate::paths::{assert_app_name, canonical_dir, ensure_dir, find_project_store, user_store_dir, DATABASE_FILE, PROJECT_DIR};
use crate::schema::CompiledSchema;
use crate::storage::{Storage, StorageOptions, WriteTx};
use crate::value::{decode_stored, encode_value};

struct Slot {
    layer: Layer,
    dir: PathBuf,
    file: PathBuf,
    storage: OnceCell<Storage>,
    cache: read_cache::RowCache,
}

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
    /// How stale a cached read may be with respect to other connections' commits.
    freshness: std::time::Duration,
    schema_cache: RefCell<Option<(i64, Option<Arc<CompiledSchema>>)>>,
    /// The mirror engine (src/store/mirror_hooks.rs), once the write store exists.
    mirror_on: bool,
    mirror: RefCell<Option<crate::sync::MirrorSync>>,
    last_mirror_check: Cell<Option<std::time::Instant>>,
    /// The automatic-snapshot settings and last revision, read at most once a second.
    auto_cache: Cell<Option<(std::time::Instant, snapshot_ops::SnapshotSettings, i64)>>,
}

mod mirror_hooks;
mod options;
mod read_cache;
mod reads;
pub mod snapshot_ops;
mod writes;

pub use options::{
    Commit, EnvPrefix, Explanation, HistoryOptions, ImportOptions, Layer, LayerCandidate, LayerError, OpenOptions, Project, Resolved, SetOptions,
    StoreInfo, UndoOptions,
};

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
        let freshness_ms = options.freshness_ms.unwrap_or(5);
        if freshness_ms > 10_000 {
            return Err(PsmcError::usage(
                format!("freshnessMs must be between 0 and 10000, received {}", freshness_ms),
                "Pass a freshness bound in milliseconds from 0 (check on every read) to 10000; the default is 5.",
            ));
        }
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
            Slot { layer, file: canonical.join(DATABASE_FILE), dir: canonical, storage: OnceCell::new(), cache: read_cache::RowCache::default() }
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
            freshness: std::time::Duration::from_millis(freshness_ms),
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
            s.cache.clear();
            s.storage.take();
        }
    }
}