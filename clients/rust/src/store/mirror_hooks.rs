//! Where the [`Store`] meets the mirror engine ([`crate::sync`]), as the TypeScript store does
//! (src/store/shared.ts, src/store/store.ts):
//!
//! - on open, when the write store exists: one check (a stat and a few `meta` rows); a sync
//!   when the file changed or the database moved past it;
//! - before every write: a stat; a hand edit saved since the last look is imported first, so
//!   the write merges with it;
//! - after every commit: an export, coalesced — at most one per 50 ms per handle: a commit
//!   within 50 ms of the last export defers it to the first commit, write or read check after
//!   the interval, or to `flush_mirror`, `close` or drop (a burst gives one rewrite);
//! - on reads, at most every 50 ms: a stat, and an import when the file changed
//!   (§mirror.detect: a read may be up to that late in seeing a hand edit).
//!
//! None of these start a thread or a timer. Failures never fail the read or write that
//! triggered them (the database is the authority): they are kept for [`Store::mirror_status`].

use std::time::{Duration, Instant};

use super::Store;
use crate::engine::CommitResult;
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::storage::{Storage, WriteTx};
use crate::sync::engine::{MirrorSetting, SyncHost, MIRROR_CHECK_MS};
use crate::sync::{process_imports, ImportsReport, MirrorStatus, MirrorSync, SyncResult};

impl Store {
    fn with_mirror<T>(&self, storage: &Storage, f: impl FnOnce(&mut MirrorSync, &SyncHost<'_>) -> T) -> Option<T> {
        if !self.mirror_on || self.closed {
            return None;
        }
        let mut slot = self.mirror.borrow_mut();
        if slot.is_none() {
            match MirrorSync::new(&self.slots[self.write].dir, storage) {
                Ok(m) => *slot = Some(m),
                Err(_) => return None,
            }
        }
        let m = slot.as_mut()?;
        let schema_in = |tx: &WriteTx<'_>| self.schema_in(tx);
        let before_import = |tx: &WriteTx<'_>| self.auto_snapshot_in(tx);
        let host = SyncHost { storage, clock: &self.clock, schema_in: &schema_in, before_import: Some(&before_import) };
        Some(f(m, &host))
    }

    fn keep(m: &mut MirrorSync, r: Result<()>) {
        match r {
            Ok(()) => m.last_background_error = None,
            Err(e) => m.last_background_error = Some(e),
        }
    }

    pub(super) fn mirror_on_open(&self) {
        let Some(storage) = self.slots[self.write].storage.get() else { return };
        self.with_mirror(storage, |m, host| {
            let r = match m.needs_sync(storage) {
                Ok(true) => m.sync(host).map(|_| ()),
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            };
            Self::keep(m, r);
        });
        self.last_mirror_check.set(Some(Instant::now()));
    }

    pub(super) fn mirror_before_write(&self, storage: &Storage) {
        self.with_mirror(storage, |m, host| {
            if m.changed_on_disk() || m.export_due() {
                let r = m.sync(host).map(|_| ());
                Self::keep(m, r);
            }
        });
    }

    /// After a commit: the mirror's export, then (every `every` revisions) an automatic snapshot.
    pub(super) fn mirror_after_commit(&self, storage: &Storage, result: &CommitResult) {
        if result.records.is_empty() {
            return;
        }
        self.maybe_auto_snapshot(result.revision);
        self.with_mirror(storage, |m, host| {
            let r = m.after_commit(host);
            Self::keep(m, r);
        });
    }

    pub(super) fn mirror_on_read(&self) {
        self.mirror_on_read_at(Instant::now());
    }

    /// [`Store::mirror_on_read`] with the time already read (a cached `get` reads the clock once).
    pub(super) fn mirror_on_read_at(&self, now: Instant) {
        if !self.mirror_on {
            return;
        }
        let due = self.last_mirror_check.get().is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_millis(MIRROR_CHECK_MS));
        if !due {
            return;
        }
        self.last_mirror_check.set(Some(now));
        let Some(storage) = self.slots[self.write].storage.get() else { return };
        self.with_mirror(storage, |m, host| {
            if m.changed_on_disk() || m.export_due() {
                let r = m.sync(host).map(|_| ());
                Self::keep(m, r);
            }
        });
    }

    pub(super) fn mirror_close(&mut self) {
        if self.closed {
            return;
        }
        let Some(storage) = self.slots[self.write].storage.get() else { return };
        self.with_mirror(storage, |m, host| {
            if let Err(e) = m.flush(host) {
                // The database is the authority and the next open exports again; say so once.
                eprintln!("psmc: could not update the mirror {} on close: {}", m.file().display(), e.message());
            }
        });
    }

    fn mirror_disabled() -> PsmcError {
        PsmcError::usage(
            "The mirror is off for this handle (opened read-only or with mirror: Some(false)).",
            "Open the store with the mirror on (the default) to sync its file.",
        )
    }

    /// The write store's directory.
    pub fn store_dir(&self) -> &std::path::Path {
        &self.slots[self.write].dir
    }

    /// The mirror file's path (whether or not it exists yet); None when the mirror is off for
    /// this handle.
    pub fn mirror_file(&self) -> Option<std::path::PathBuf> {
        if !self.mirror_on {
            return None;
        }
        let storage = self.slots[self.write].storage.get()?;
        self.with_mirror(storage, |m, _| m.file())
    }

    /// Imports a pending hand edit of the mirror file and exports pending changes now (the
    /// `imports/` folder is [`Store::process_imports`]). Errors of the store (busy, I/O) are
    /// returned; an invalid edit is in the result (and in [`Store::mirror_status`]).
    pub fn sync_mirror(&self) -> Result<SyncResult> {
        self.ensure_open()?;
        let Some(storage) = self.try_attach(self.write)? else { return Ok(SyncResult::default()) };
        match self.with_mirror(storage, |m, host| {
            let r = m.sync(host);
            if let Err(e) = &r {
                m.last_background_error = Some(e.clone());
            } else {
                m.last_background_error = None;
            }
            r
        }) {
            None => Err(Self::mirror_disabled()),
            Some(r) => r,
        }
    }

    /// True when the mirror has work: the file changed (or vanished) or the database moved past
    /// it. Reads only: a stat and a few `meta` rows.
    pub fn mirror_needs_sync(&self) -> Result<bool> {
        self.ensure_open()?;
        let Some(storage) = self.try_attach(self.write)? else { return Ok(false) };
        self.with_mirror(storage, |m, _| m.needs_sync(storage)).unwrap_or(Ok(false))
    }

    /// Exports a deferred export now (see the module comment).
    pub fn flush_mirror(&self) -> Result<()> {
        self.ensure_open()?;
        let Some(storage) = self.slots[self.write].storage.get() else { return Ok(()) };
        self.with_mirror(storage, |m, host| m.flush(host)).unwrap_or(Ok(()))
    }

    /// Where the write store's mirror stands (None before the store exists), with the error of
    /// the last failed background sync, if any.
    pub fn mirror_status(&self) -> Result<Option<(MirrorStatus, Option<PsmcError>)>> {
        self.ensure_open()?;
        let Some(storage) = self.try_attach(self.write)? else { return Ok(None) };
        let temp;
        let mut slot = self.mirror.borrow_mut();
        let m: &MirrorSync = match slot.as_mut() {
            Some(m) => m,
            None => {
                temp = MirrorSync::new(&self.slots[self.write].dir, storage)?;
                &temp
            }
        };
        Ok(Some((m.status(storage)?, m.last_background_error.clone())))
    }

    /// Switches the write store's mirror format (`json`, `toml`, `yaml`, or `off` to stop
    /// mirroring). The old file stays; a stale file of the new format is renamed aside.
    pub fn set_mirror_format(&self, format: &str) -> Result<()> {
        let setting = MirrorSetting::parse(format)?;
        let storage = self.write_storage()?;
        match self.with_mirror(storage, |m, host| m.set_format(host, setting)) {
            None => Err(Self::mirror_disabled()),
            Some(r) => r,
        }
    }

    /// Imports the files waiting in the write store's `imports/` drop folder (one batch each,
    /// source `import:<file>`), moving each to `imports/done/` or `imports/rejected/`.
    pub fn process_imports(&self) -> Result<ImportsReport> {
        self.ensure_open()?;
        if self.read_only {
            return Err(PsmcError::new(ErrorCode::ReadOnly, "This handle was opened read-only.", "Open the store without readOnly to import files."));
        }
        let dir = self.slots[self.write].dir.clone();
        process_imports(&dir, &mut |doc, source| {
            let c = self.import_data(doc, crate::ImportOptions { source: Some(source.to_string()), ..Default::default() })?;
            Ok((c.revision, c.changes.len()))
        })
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // A deferred export is written before the handle goes (and with it, usually, the process).
        self.mirror_close();
    }
}
