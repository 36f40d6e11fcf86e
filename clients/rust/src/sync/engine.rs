//! The mirror engine (spec/sections/mirror-sync.md; TypeScript: src/mirror/mirror.ts).
//!
//! - Export: after commits, atomic, editing only the changed spans of the file so comments,
//!   order and formatting survive (§mirror.export).
//! - Import: a hand edit is detected by size and mtime, then the SHA-256 recorded in the
//!   database (§mirror.detect); it is merged 3-way ([`crate::merge`]) with source `file`,
//!   conflicts resolved by time with the loser kept as a `conflict` history record
//!   (§mirror.merge).
//! - An invalid edit is never applied and never overwritten: the error is recorded in `meta`
//!   (`mirror.error`, `mirror.error_hash`: what `psmc status` shows in every language), the
//!   store keeps working from the database, and exports wait until the file changes
//!   (§mirror.invalid).
//!
//! Concurrency: the import runs inside one storage write transaction (the store's write lock),
//! so two processes never import at once and the file and the bookkeeping change together.
//! The export also runs under the write lock (unlike the TypeScript reference, which holds it
//! only for the rename): it checks the file's stat again just before the rename, so a hand
//! save made meanwhile is never overwritten. A crash between the rename and the commit leaves a
//! file that the next sync sees as a hand edit equal to the database: merging it changes
//! nothing.
//!
//! No timers: the caller (the [`crate::Store`], the `psmcd` service) decides when to sync.
//!
//! This file holds the engine's state and the sync cycle, status and format changes; the
//! import of a hand edit (and the record of an invalid one) is `engine/import.rs`, the export
//! `engine/export.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::clock::{iso_time, WallClock};
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json;
use crate::paths::io_error;
use crate::schema::CompiledSchema;
use crate::storage::{Storage, WriteTx};

pub use super::state::{meta, MirrorError, MirrorSetting, MirrorState, MirrorStatus, SyncResult};

use super::atomic::sweep_temps;

mod export;
mod import;

/// A file modified less than this long ago may still be being written: wait before importing.
pub const SETTLE_MS: i64 = 30;
/// An empty file is an editor mid-save; after this long it counts as deleted and is regenerated. A file
/// with no entries over a base with keys waits as long, then imports (§mirror.detect).
pub const EMPTY_GRACE_MS: i64 = 2000;
/// A handle exports at most once per this interval while commits keep coming.
pub const EXPORT_INTERVAL_MS: u64 = 50;
/// Reads look at the mirror file (one stat) at most this often (§mirror.detect).
pub const MIRROR_CHECK_MS: u64 = 50;

/// The hook called inside an import's transaction before a hand edit is applied.
pub type BeforeImport<'a> = dyn Fn(&WriteTx<'_>) -> Result<()> + 'a;

/// What the engine needs from the store it mirrors.
pub struct SyncHost<'a> {
    pub storage: &'a Storage,
    pub clock: &'a WallClock,
    /// The compiled schema as stored in a write transaction.
    pub schema_in: &'a dyn Fn(&WriteTx<'_>) -> Result<Option<Arc<CompiledSchema>>>,
    /// Called inside the import transaction, before a hand edit is applied (the store's
    /// automatic `before-import` snapshot).
    pub before_import: Option<&'a BeforeImport<'a>>,
}

use super::file::{stat_of, Known};
pub use super::file::{locate_key, sha256_hex};

fn read_meta_num(tx: &WriteTx<'_>, name: &str) -> Result<Option<i64>> {
    Ok(tx.read_meta(name)?.and_then(|v| v.parse::<f64>().ok()).map(|n| n as i64))
}

fn storage_meta_num(s: &Storage, name: &str) -> Result<Option<i64>> {
    Ok(s.read_meta(name)?.and_then(|v| v.parse::<f64>().ok()).map(|n| n as i64))
}

fn now_iso(clock: &WallClock) -> String {
    iso_time(clock())
}

/// Errors that are the store's, not the file's: a sync passes them on instead of recording
/// them as an invalid edit.
fn is_store_error(e: &PsmcError) -> bool {
    matches!(e.error_code(), ErrorCode::Busy | ErrorCode::Io | ErrorCode::Closed | ErrorCode::Corrupt | ErrorCode::ReadOnly | ErrorCode::Internal)
}

/// The mirror engine of one store directory. Not `Sync`: each handle owns its own.
#[derive(Debug)]
pub struct MirrorSync {
    dir: PathBuf,
    setting: MirrorSetting,
    /// The file's stat after the last sync: a different stat means someone touched the file.
    known: Option<Known>,
    pending: bool,
    last_export: Option<Instant>,
    /// The last error of a sync whose caller could not be told (a read's check), for status.
    pub last_background_error: Option<PsmcError>,
}

impl MirrorSync {
    /// The engine for the store in `dir` whose database is `storage`. Sweeps temp files left by
    /// writers killed mid-export.
    pub fn new(dir: &Path, storage: &Storage) -> Result<MirrorSync> {
        let setting = MirrorSetting::from_meta(storage.read_meta(meta::FORMAT)?.as_deref());
        sweep_temps(dir);
        Ok(MirrorSync { dir: dir.to_path_buf(), setting, known: None, pending: false, last_export: None, last_background_error: None })
    }

    /// The store's mirror setting, as last read.
    pub fn setting(&self) -> MirrorSetting {
        self.setting
    }

    /// The mirror file's path (whether or not it exists).
    pub fn file(&self) -> PathBuf {
        self.dir.join(self.setting.format().file_name())
    }

    /// Cheap check (one stat): true when the file may hold a hand edit (or was deleted) since
    /// the last sync.
    pub fn changed_on_disk(&self) -> bool {
        if self.setting == MirrorSetting::Off {
            return false;
        }
        let st = match stat_of(&self.file()) {
            Ok(s) => s,
            Err(_) => return true,
        };
        match (self.known, st) {
            (None, _) => true,
            (Some(Known::Missing), None) => false,
            (Some(_), None) => true,
            (Some(Known::Missing), Some(_)) => true,
            (Some(Known::Stat(k)), Some(s)) => k != s,
        }
    }

    /// True when a sync has work to do: the file changed (or vanished) since the last export or
    /// import, or the database moved past the revision the file shows. Reads only.
    pub fn needs_sync(&mut self, storage: &Storage) -> Result<bool> {
        self.setting = MirrorSetting::from_meta(storage.read_meta(meta::FORMAT)?.as_deref());
        if self.setting == MirrorSetting::Off {
            return Ok(false);
        }
        let st = match stat_of(&self.file())? {
            None => return Ok(true),
            Some(s) => s,
        };
        if storage_meta_num(storage, meta::SIZE)? != Some(st.size as i64) || storage_meta_num(storage, meta::MTIME)? != Some(st.mtime_ms) {
            return Ok(true);
        }
        if storage_meta_num(storage, meta::REVISION)?.unwrap_or(-1) < storage.read_state()?.revision && storage.read_meta(meta::ERROR)?.is_none() {
            return Ok(true);
        }
        self.known = Some(Known::Stat(st));
        Ok(false)
    }

    /// True when a commit of this handle has not been exported yet.
    pub fn has_pending_export(&self) -> bool {
        self.pending
    }

    /// True when a deferred export is pending and the coalescing interval has passed.
    pub fn export_due(&self) -> bool {
        self.pending && self.last_export.is_none_or(|t| t.elapsed().as_millis() >= EXPORT_INTERVAL_MS as u128)
    }

    /// Called after a commit: exports now, or — when this handle exported less than
    /// [`EXPORT_INTERVAL_MS`] ago — marks the export pending (flushed by the next write, the
    /// next read check, [`MirrorSync::flush`], and the handle's close or drop).
    pub fn after_commit(&mut self, host: &SyncHost<'_>) -> Result<()> {
        if self.setting == MirrorSetting::Off {
            return Ok(());
        }
        self.pending = true;
        let recent = self.last_export.is_some_and(|t| t.elapsed().as_millis() < EXPORT_INTERVAL_MS as u128);
        if recent {
            return Ok(());
        }
        self.sync(host).map(|_| ())
    }

    /// Exports a pending export now.
    pub fn flush(&mut self, host: &SyncHost<'_>) -> Result<()> {
        if self.pending && self.setting != MirrorSetting::Off {
            self.sync(host)?;
        }
        self.pending = false;
        Ok(())
    }

    /// Imports a pending hand edit and exports pending changes, now.
    pub fn sync(&mut self, host: &SyncHost<'_>) -> Result<SyncResult> {
        let fresh = MirrorSetting::from_meta(host.storage.read_meta(meta::FORMAT)?.as_deref());
        if fresh != self.setting {
            self.setting = fresh;
            self.known = None;
        }
        if self.setting == MirrorSetting::Off {
            self.pending = false;
            return Ok(SyncResult { waiting: true, ..SyncResult::default() });
        }
        let outcome = host.storage.write(|tx| self.import_in(tx, host));
        let result = match outcome {
            Ok(r) => r,
            Err(e) if is_store_error(&e) => return Err(e),
            Err(e) => {
                // The hand edit is invalid (syntax, key, value, schema): the transaction rolled
                // back; record the error so status shows it, keep the file as the user saved it.
                let error = self.record_error(host.storage, &e)?;
                return Ok(SyncResult { error: Some(error), ..SyncResult::default() });
            }
        };
        if result.retry_in_ms.is_some() || result.error.is_some() || result.waiting {
            return Ok(result);
        }
        let exported = result.exported || self.export_if_needed(host)?;
        if exported {
            self.last_export = Some(Instant::now());
        }
        self.pending = false;
        Ok(SyncResult { exported, ..result })
    }

    /// Where the mirror stands.
    pub fn status(&self, storage: &Storage) -> Result<MirrorStatus> {
        let setting = MirrorSetting::from_meta(storage.read_meta(meta::FORMAT)?.as_deref());
        let revision = storage_meta_num(storage, meta::REVISION)?.unwrap_or(0);
        let error = match storage.read_meta(meta::ERROR)? {
            None => None,
            Some(t) => json::parse(&t).ok().as_ref().and_then(MirrorError::from_json),
        };
        let file = self.dir.join(setting.format().file_name());
        let st = if setting == MirrorSetting::Off { None } else { stat_of(&file)? };
        let state = if setting == MirrorSetting::Off {
            MirrorState::Off
        } else if error.is_some() {
            MirrorState::InvalidEdit
        } else if let Some(st) = st {
            if storage_meta_num(storage, meta::SIZE)? != Some(st.size as i64) || storage_meta_num(storage, meta::MTIME)? != Some(st.mtime_ms) {
                MirrorState::PendingImport
            } else if revision < storage.read_state()?.revision {
                MirrorState::PendingExport
            } else {
                MirrorState::InSync
            }
        } else {
            MirrorState::Missing
        };
        Ok(MirrorStatus {
            file,
            format: setting,
            state,
            revision,
            exported_at: storage.read_meta(meta::EXPORTED_AT)?,
            imported_at: storage.read_meta(meta::IMPORTED_AT)?,
            error,
        })
    }

    /// Switches the store's mirror format (or turns it off). The old format's file is left in
    /// place; a stale file of the new format is renamed aside (`config.toml.old-<time>`) and
    /// the new file written from the database.
    pub fn set_format(&mut self, host: &SyncHost<'_>, setting: MirrorSetting) -> Result<()> {
        self.flush(host)?;
        let dir = self.dir.clone();
        host.storage.write(|tx| {
            tx.write_meta(meta::FORMAT, Some(setting.as_str()))?;
            for m in meta::ALL {
                if m != meta::FORMAT {
                    tx.write_meta(m, None)?;
                }
            }
            if let MirrorSetting::On(f) = setting {
                let target = dir.join(f.file_name());
                if stat_of(&target)?.is_some() {
                    let stamp = iso_time((host.clock)()).replace([':', '.'], "-");
                    let aside = dir.join(format!("{}.old-{}", f.file_name(), stamp));
                    fs::rename(&target, &aside).map_err(|e| io_error(&e, &target))?;
                }
            }
            Ok(())
        })?;
        self.setting = setting;
        self.known = None;
        if setting != MirrorSetting::Off {
            self.sync(host)?;
        }
        Ok(())
    }
}
