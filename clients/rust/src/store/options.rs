//! The public options and result types of [`Store::open`](super::Store::open) and the handle
//! API: the layers, what to open, how to write, what a read or a write returns. Mirrors
//! src/store/options.ts.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::clock::WallClock;
use crate::engine::ChangeRecord;
use crate::json::{Object, Value};
use crate::storage::Durability;

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
    pub(super) fn text(self) -> &'static str {
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

/// Options of [`Store::open`](super::Store::open). `Default` gives the user store of app `psmc`, source `rust`.
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
    /// How late (milliseconds) a read may see another process's commit (§read.freshness):
    /// reads are served from an in-process cache that checks `PRAGMA data_version` at most
    /// once per this interval. `None` means 5; `Some(0)` checks on every read. At most 10,000.
    /// This handle's own writes are always visible at once.
    pub freshness_ms: Option<u64>,
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
    pub(super) fn absent(layer: Layer, origin: impl Into<String>) -> Self {
        LayerCandidate { layer, present: false, value: None, origin: origin.into(), revision: None, source: None, updated_at: None, error: None }
    }
    pub(super) fn present(layer: Layer, value: Value, origin: impl Into<String>) -> Self {
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
