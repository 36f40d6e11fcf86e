//! The rows and options the adapter reads and writes (the shapes of the core's storage port).

/// How hard a commit tries to survive power loss (§durability).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = FULL`: an acknowledged write survives power loss.
    #[default]
    Full,
    /// `synchronous = NORMAL`: faster; the last commits may be lost, never corrupted.
    Normal,
}

#[derive(Clone, Debug)]
pub struct StorageOptions {
    pub durability: Durability,
    pub busy_timeout_ms: u64,
    /// Do not create the file; refuse writes.
    pub read_only: bool,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions { durability: Durability::Full, busy_timeout_ms: 10_000, read_only: false }
    }
}

/// A stored key: its encoded value and metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow {
    pub key: String,
    /// Encoded JSON text (§value.encoding).
    pub value: String,
    pub type_name: String,
    pub revision: i64,
    pub updated_at: String,
    pub source: String,
}

/// One history row.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredChange {
    pub revision: i64,
    pub seq: i64,
    pub key: String,
    pub op: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub source: String,
    pub at: String,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredSchema {
    pub doc: String,
    pub revision: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoreState {
    pub revision: i64,
    /// HLC text of the last commit.
    pub clock: String,
    pub store_id: String,
}

#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    /// Only this key (or keys under it with `prefix`).
    pub key: Option<String>,
    pub prefix: bool,
    /// Only revisions strictly greater than this.
    pub after_revision: Option<i64>,
    /// Only revisions up to and including this.
    pub upto_revision: Option<i64>,
    /// At most this many, newest first.
    pub limit: Option<i64>,
    /// Oldest first.
    pub ascending: bool,
}
