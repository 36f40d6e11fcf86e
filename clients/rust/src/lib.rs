//! psmc — Plaintext, Stable, Mutable Config: the Rust client.
//!
//! It reads and writes the same SQLite store as the TypeScript reference (`src/` of the
//! repository) and the Python client, following `spec/SPEC.md` byte for byte: key rules,
//! the canonical value encoding, the hybrid logical clock, revisions, history,
//! compare-and-set, batches, undo, layers, environment coercion and the schema subset.
//!
//! ```no_run
//! use psmc::{Store, OpenOptions, SetOptions};
//! let store = Store::open(OpenOptions { app: Some("plantctl".into()), ..Default::default() })?;
//! store.set("display.units", "imperial", SetOptions::default())?;
//! assert_eq!(store.get("display.units")?, Some("imperial".into()));
//! # Ok::<(), psmc::PsmcError>(())
//! ```
//!
//! Modules mirror the TypeScript names (`src/core/*.ts`, `src/store/*.ts`,
//! `src/storage/sqlite/*.ts`): `mirror` holds the JSONC/TOML/YAML codecs, `sync` the mirror
//! protocol (hand-edit import with the 3-way `merge`, atomic exports, the `imports/` folder),
//! `snapshot` the snapshot files, and `service` the `psmcd` daemon. `get`/`set` never start
//! threads or timers; `psmc-rs watch` and `psmcd` are the pollers.

pub mod clock;
pub mod engine;
pub mod env;
pub mod errors;
pub mod export;
pub mod json;
pub mod keys;
pub mod merge;
pub mod mirror;
pub mod paths;
pub mod schema;
pub mod service;
pub mod snapshot;
pub mod storage;
pub mod sync;
pub mod store;
pub mod value;

pub use engine::{ChangeRecord, ChangeRequest};
pub use errors::{ErrorCode, PsmcError, Result};
pub use json::{Object, Value};
pub use storage::Durability;
pub use store::{
    Commit, EnvPrefix, Explanation, HistoryOptions, ImportOptions, Layer, LayerCandidate, OpenOptions, Project, Resolved, SetOptions, Store,
    StoreInfo, UndoOptions,
};

/// The spec version this client implements (`**Spec version X.Y.Z**` in spec/SPEC.md).
pub const SPEC_VERSION: &str = "1.1.0";
