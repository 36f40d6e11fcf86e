//! The SQLite adapter (spec/SPEC.md §storage.sqlite, §storage.format, §storage.transactions,
//! §durability). Mirrors src/storage/sqlite/{adapter,migrations,errors}.ts.
//!
//! - WAL journal, a busy timeout, and `BEGIN IMMEDIATE` for every transaction that may write.
//! - `synchronous = FULL` by default; `Durability::Normal` gives `NORMAL`.
//! - The database file is created 0600 before SQLite opens it; SQLite gives `-wal`/`-shm` the
//!   same mode. A 1–511-byte file is refused as `PSMC_CORRUPT` (SQLite would write over it).
//! - Nothing here opens, copies or hashes the database file other than through SQLite.
//!
//! The modules, one idea each: `adapter` (the `Storage` handle), `write_tx` (the `WriteTx`
//! port), `rows` (the reads both share), `migrations` (layout, versions, foreign-file checks),
//! `errors` (SQLite → `PsmcError`), `types` (rows and options). Everything public is re-exported
//! here, so `psmc::storage::X` paths do not depend on the layout.

mod adapter;
mod errors;
mod migrations;
mod rows;
mod types;
mod write_tx;

pub use adapter::Storage;
pub use errors::map_sqlite_error;
pub use migrations::{APPLICATION_ID, FORMAT_VERSION, MIGRATIONS};
pub use types::{Durability, HistoryQuery, StorageOptions, StoreState, StoredChange, StoredRow, StoredSchema};
pub use write_tx::WriteTx;
