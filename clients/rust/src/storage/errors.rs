//! SQLite failures mapped to `PsmcError` (src/storage/sqlite/errors.ts).

use std::path::Path;

use crate::errors::{ErrorCode, PsmcError};

/// Maps a SQLite failure to a `PsmcError` (src/storage/sqlite/errors.ts).
pub fn map_sqlite_error(e: rusqlite::Error, location: &Path) -> PsmcError {
    use rusqlite::ErrorCode as C;
    let loc = location.display();
    let msg = e.to_string();
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.code {
            C::DatabaseBusy | C::DatabaseLocked => {
                return PsmcError::new(
                    ErrorCode::Busy,
                    format!("The store at {} stayed locked by another writer past the busy timeout ({}).", loc, msg),
                    "Another process holds a long write transaction. Retry, raise busyTimeoutMs, or find the stuck process (psmc doctor).",
                )
            }
            C::DatabaseCorrupt | C::NotADatabase => {
                return PsmcError::new(
                    ErrorCode::Corrupt,
                    format!("The database {} is damaged or is not a SQLite database ({}).", loc, msg),
                    "Move the file aside and restore from a snapshot (psmc doctor --repair, once available), or open another store.",
                )
            }
            C::ReadOnly => {
                return PsmcError::new(
                    ErrorCode::ReadOnly,
                    format!("The database {} cannot be written ({}).", loc, msg),
                    "Check the permissions of the store directory and its files (they should belong to you, mode 0700/0600).",
                )
            }
            C::CannotOpen | C::SystemIoFailure | C::DiskFull | C::PermissionDenied => {
                let hint = if f.code == C::DiskFull {
                    "The disk is full; free space and retry."
                } else {
                    "Check that the directory exists, is writable, and the disk is healthy."
                };
                return PsmcError::new(ErrorCode::Io, format!("Cannot use the database {}: {}.", loc, msg), hint);
            }
            _ => {}
        }
    }
    PsmcError::internal(format!("SQLite failed on {}: {}", loc, msg))
}
