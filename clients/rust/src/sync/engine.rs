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

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;


use crate::clock::{format_hlc, iso_time, next_hlc, parse_hlc, WallClock};
use crate::engine::{commit_changes, CommitResult, PreparedChange, WriteContext};
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{self, Value};
use crate::merge::{merge_mirror, OursEntry, Winner};
use crate::mirror::{self, MirrorChange};
use crate::paths::io_error;
use crate::schema::CompiledSchema;
use crate::storage::{Storage, StoredChange, StoredRow, WriteTx};
use crate::value::{decode_stored, encode_value, values_equal};

pub use super::state::{meta, MirrorError, MirrorSetting, MirrorState, MirrorStatus, SyncResult};

use super::atomic::{commit_temp, discard_temp, sweep_temps, temp_metadata, write_file_atomic, write_temp};

/// A file modified less than this long ago may still be being written: wait before importing.
pub const SETTLE_MS: i64 = 30;
/// An empty file is an editor mid-save; after this long it counts as deleted and is regenerated.
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

use super::file::{decode_utf8, file_stat, stat_of, FileStat, Known};
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

    /// Under the write lock: notices a hand edit (or a deleted file) and imports it.
    fn import_in(&mut self, tx: &WriteTx<'_>, host: &SyncHost<'_>) -> Result<SyncResult> {
        let file = self.file();
        let state = tx.read_state()?;
        let st = match stat_of(&file)? {
            None => {
                // No file (first export, or the user deleted it): write it from the database.
                self.export_full(tx, host, state.revision)?;
                return Ok(SyncResult { exported: true, ..SyncResult::default() });
            }
            Some(s) => s,
        };
        if read_meta_num(tx, meta::SIZE)? == Some(st.size as i64) && read_meta_num(tx, meta::MTIME)? == Some(st.mtime_ms) {
            if tx.read_meta(meta::ERROR)?.is_some() {
                return Ok(SyncResult { waiting: true, ..SyncResult::default() });
            }
            self.known = Some(Known::Stat(st));
            return Ok(SyncResult::default());
        }
        let bytes = fs::read(&file).map_err(|e| io_error(&e, &file))?;
        let hash = sha256_hex(&bytes);
        if Some(&hash) == tx.read_meta(meta::HASH)?.as_ref() {
            // Touched, not changed (or rewritten with the same bytes); a fixed-back file clears the error.
            self.record_stat(tx, st)?;
            tx.write_meta(meta::ERROR, None)?;
            tx.write_meta(meta::ERROR_HASH, None)?;
            return Ok(SyncResult::default());
        }
        if Some(&hash) == tx.read_meta(meta::ERROR_HASH)?.as_ref() {
            // The same invalid edit as before: still waiting for the user to fix it.
            self.known = Some(Known::Stat(st));
            return Ok(SyncResult { waiting: true, ..SyncResult::default() });
        }
        let text = decode_utf8(&bytes, &file)?;
        let age = (host.clock)() - st.mtime_ms;
        if text.trim().is_empty() {
            // Editors truncate, then write: an empty file is a save in progress, until it stays empty.
            if age < EMPTY_GRACE_MS {
                return Ok(SyncResult { retry_in_ms: Some(EMPTY_GRACE_MS - age.max(0)), ..SyncResult::default() });
            }
            self.export_full(tx, host, state.revision)?;
            return Ok(SyncResult { exported: true, ..SyncResult::default() });
        }
        if age < SETTLE_MS && age > -1000 {
            return Ok(SyncResult { retry_in_ms: Some(SETTLE_MS - age.max(0) + 1), ..SyncResult::default() });
        }
        let base = read_meta_num(tx, meta::REVISION)?.unwrap_or(0);
        self.import(tx, host, &text, &hash, st, base)
    }

    fn import(&mut self, tx: &WriteTx<'_>, host: &SyncHost<'_>, text: &str, hash: &str, st: FileStat, base_revision: i64) -> Result<SyncResult> {
        let format = self.setting.format();
        let parsed = mirror::parse(format, text)?;
        let mut theirs: HashMap<String, String> = HashMap::with_capacity(parsed.entries.len());
        for (key, value) in &parsed.entries {
            theirs.insert(key.clone(), encode_value(value, Some(key))?);
        }
        let rows: HashMap<String, StoredRow> = tx.all_rows()?.into_iter().map(|r| (r.key.clone(), r)).collect();
        let mut keys: BTreeSet<String> = theirs.keys().cloned().collect();
        keys.extend(rows.keys().cloned());
        keys.extend(tx.keys_changed_after(base_revision)?);
        // The closures of the merge cannot fail: collect the database's side first.
        let mut bases: HashMap<String, Option<String>> = HashMap::with_capacity(keys.len());
        let mut ours: HashMap<String, OursEntry> = HashMap::with_capacity(keys.len());
        for key in &keys {
            let b = match rows.get(key) {
                Some(r) if r.revision <= base_revision => Some(r.value.clone()),
                _ => tx.value_at(key, base_revision)?,
            };
            bases.insert(key.clone(), b);
            let o = match rows.get(key) {
                Some(r) => OursEntry { text: Some(r.value.clone()), time_ms: parse_hlc(&r.updated_at)?.ms, source: r.source.clone() },
                None => {
                    let last = tx.last_revision_of(key)?;
                    let record = if last == 0 { None } else { tx.changes_at(last)?.into_iter().find(|c| &c.key == key) };
                    match record {
                        None => OursEntry { text: None, time_ms: 0, source: "file".into() },
                        Some(c) => OursEntry { text: None, time_ms: parse_hlc(&c.at)?.ms, source: c.source },
                    }
                }
            };
            ours.insert(key.clone(), o);
        }
        let merge = merge_mirror(
            keys.iter().cloned(),
            &theirs,
            |k| bases.get(k).cloned().flatten(),
            |k| ours.get(k).cloned().unwrap_or(OursEntry { text: None, time_ms: 0, source: "file".into() }),
            st.mtime_ms,
        );
        let mut imported = None;
        if !merge.apply.is_empty() || !merge.conflicts.is_empty() {
            if let Some(f) = host.before_import {
                f(tx)?;
            }
            let mut prepared = Vec::with_capacity(merge.apply.len());
            for (key, t) in &merge.apply {
                prepared.push(PreparedChange {
                    key: key.clone(),
                    set: match t {
                        None => None,
                        Some(t) => Some((decode_stored(t)?, t.clone())),
                    },
                    expect_revision: None,
                });
            }
            let wall = (host.clock)();
            let ctx = WriteContext { wall_ms: wall as f64, source: "file", note: None, schema_of: host.schema_in };
            let mut result = commit_changes(tx, &prepared, &ctx)?;
            if !merge.conflicts.is_empty() {
                if result.records.is_empty() {
                    // Conflict records alone also take a revision (the reference's commitChanges).
                    let state = tx.read_state()?;
                    let at = format_hlc(next_hlc(parse_hlc(&state.clock)?, wall as f64)?);
                    result = CommitResult { revision: state.revision + 1, at, records: Vec::new(), previous_revision: state.revision };
                    tx.write_state(result.revision, &result.at)?;
                }
                let file_name = format.file_name();
                for c in &merge.conflicts {
                    let record = StoredChange {
                        revision: result.revision,
                        seq: result.records.len() as i64,
                        key: c.key.clone(),
                        op: "conflict".into(),
                        old_value: c.lost.clone(),
                        new_value: c.won.clone(),
                        source: c.loser_source.clone(),
                        at: result.at.clone(),
                        note: Some(match c.winner {
                            Winner::File => format!("lost to a hand edit of {}", file_name),
                            Winner::Store => format!("hand edit of {} lost to a later change", file_name),
                        }),
                    };
                    tx.append_change(&record)?;
                    result.records.push(record);
                }
            }
            tx.write_meta(meta::IMPORTED_AT, Some(&now_iso(host.clock)))?;
            imported = Some(result);
        }
        // Where the database now disagrees with the file, correct the file: a conflict the store
        // won, or (with no base yet: a first import, a new format) keys the file never had.
        let mut after: HashMap<&str, Option<&str>> = rows.iter().map(|(k, r)| (k.as_str(), Some(r.value.as_str()))).collect();
        for (k, t) in &merge.apply {
            after.insert(k.as_str(), t.as_deref());
        }
        let mut all: BTreeSet<&str> = after.keys().copied().collect();
        all.extend(theirs.keys().map(String::as_str));
        let mut fix = Vec::new();
        for key in all {
            let db = after.get(key).copied().flatten();
            let file = theirs.get(key).map(String::as_str);
            let equal = match (db, file) {
                (None, None) => true,
                (Some(a), Some(b)) => a == b || values_equal(&decode_stored(a)?, &decode_stored(b)?),
                _ => false,
            };
            if !equal {
                fix.push(MirrorChange { key: key.to_string(), value: match db {
                    None => None,
                    Some(t) => Some(decode_stored(t)?),
                } });
            }
        }
        let revision = tx.read_state()?.revision;
        let conflicts = merge.conflicts.len();
        if !fix.is_empty() {
            let next = mirror::update(format, text, &fix)?;
            let written = write_file_atomic(&self.file(), next.as_bytes())?;
            self.record_written(tx, host, &next, revision, file_stat(&written))?;
        } else {
            tx.write_meta(meta::REVISION, Some(&revision.to_string()))?;
            tx.write_meta(meta::HASH, Some(hash))?;
            tx.write_meta(meta::ERROR, None)?;
            tx.write_meta(meta::ERROR_HASH, None)?;
            self.record_stat(tx, st)?;
        }
        Ok(SyncResult { imported, conflicts, exported: !fix.is_empty(), ..SyncResult::default() })
    }

    fn record_stat(&mut self, tx: &WriteTx<'_>, st: FileStat) -> Result<()> {
        tx.write_meta(meta::SIZE, Some(&st.size.to_string()))?;
        tx.write_meta(meta::MTIME, Some(&st.mtime_ms.to_string()))?;
        self.known = Some(Known::Stat(st));
        Ok(())
    }

    /// Records a file this engine wrote: `st` is the stat of the written temp file (see
    /// [`temp_metadata`]), so a save made right after the rename is still noticed.
    fn record_written(&mut self, tx: &WriteTx<'_>, host: &SyncHost<'_>, text: &str, revision: i64, st: FileStat) -> Result<()> {
        tx.write_meta(meta::REVISION, Some(&revision.to_string()))?;
        tx.write_meta(meta::HASH, Some(&sha256_hex(text.as_bytes())))?;
        tx.write_meta(meta::EXPORTED_AT, Some(&now_iso(host.clock)))?;
        tx.write_meta(meta::ERROR, None)?;
        tx.write_meta(meta::ERROR_HASH, None)?;
        self.record_stat(tx, st)
    }

    fn render_full(&self, tx: &WriteTx<'_>) -> Result<String> {
        let rows = tx.all_rows()?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in rows {
            let v = decode_stored(&r.value)?;
            entries.push((r.key, v));
        }
        mirror::render(self.setting.format(), &entries)
    }

    fn export_full(&mut self, tx: &WriteTx<'_>, host: &SyncHost<'_>, revision: i64) -> Result<()> {
        let text = self.render_full(tx)?;
        let written = write_file_atomic(&self.file(), text.as_bytes())?;
        self.record_written(tx, host, &text, revision, file_stat(&written))
    }

    /// The file with `changes` applied (§mirror.update). A file that is exactly canonical has
    /// nothing to preserve, and updating a canonical file gives the canonical file: for many
    /// changes to a canonical file, render it anew — the same bytes in one pass.
    fn updated_text(&self, base: &str, changes: &[MirrorChange]) -> Result<String> {
        let format = self.setting.format();
        if changes.len() > 16 {
            let parsed = mirror::parse(format, base)?;
            if mirror::render(format, &parsed.entries)? == base {
                let mut values: std::collections::BTreeMap<String, Value> = parsed.entries.into_iter().collect();
                for c in changes {
                    match &c.value {
                        None => values.remove(&c.key),
                        Some(v) => values.insert(c.key.clone(), v.clone()),
                    };
                }
                let entries: Vec<(String, Value)> = values.into_iter().collect();
                return mirror::render(format, &entries);
            }
        }
        mirror::update(format, base, changes)
    }

    /// Exports the changes committed since the file was last written, under the write lock.
    /// Returns whether the file was rewritten.
    fn export_if_needed(&mut self, host: &SyncHost<'_>) -> Result<bool> {
        host.storage.write(|tx| {
            let meta_revision = read_meta_num(tx, meta::REVISION)?;
            let revision = tx.read_state()?.revision;
            if meta_revision.is_some_and(|m| m >= revision) {
                return Ok(false);
            }
            if tx.read_meta(meta::ERROR)?.is_some() {
                return Ok(false);
            }
            let file = self.file();
            let before = match stat_of(&file)? {
                None => {
                    self.export_full(tx, host, revision)?;
                    return Ok(true);
                }
                Some(s) => s,
            };
            let bytes = match fs::read(&file) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    self.export_full(tx, host, revision)?;
                    return Ok(true);
                }
                Err(e) => return Err(io_error(&e, &file)),
            };
            if Some(sha256_hex(&bytes)) != tx.read_meta(meta::HASH)? {
                return Ok(false); // a hand edit: the next sync imports it first
            }
            let mut changes = Vec::new();
            let mut changed = tx.keys_changed_after(meta_revision.unwrap_or(0))?;
            changed.sort();
            for key in changed {
                let value = match tx.read_row(&key)? {
                    None => None,
                    Some(r) => Some(decode_stored(&r.value)?),
                };
                changes.push(MirrorChange { key, value });
            }
            let base = String::from_utf8_lossy(&bytes).into_owned();
            let text = match self.updated_text(&base, &changes) {
                Ok(t) => t,
                Err(_) => {
                    // The file parses no more although its hash matched (should not happen): write it anew.
                    self.export_full(tx, host, revision)?;
                    return Ok(true);
                }
            };
            let tmp = write_temp(&file, text.as_bytes())?;
            let written = file_stat(&temp_metadata(&tmp)?);
            // A hand save between our read and now must not be overwritten: look again.
            if stat_of(&file)? != Some(before) {
                discard_temp(&tmp);
                return Ok(false);
            }
            commit_temp(&tmp, &file)?;
            self.record_written(tx, host, &text, revision, written)?;
            Ok(true)
        })
    }

    /// Records an invalid hand edit (what, where, how to fix) for status; the file stays as the
    /// user saved it.
    fn record_error(&mut self, storage: &Storage, e: &PsmcError) -> Result<MirrorError> {
        let file = self.file();
        let d = e.details();
        let mut line = d.get("line").and_then(Value::as_f64).map(|n| n as i64);
        let mut column = d.get("column").and_then(Value::as_f64).map(|n| n as i64);
        let key = d.get("key").and_then(Value::as_str).map(str::to_string);
        let bytes = match fs::read(&file) {
            Ok(b) => Some(b),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(io_error(&err, &file)),
        };
        if line.is_none() {
            if let (Some(k), Some(b)) = (&key, &bytes) {
                // Schema errors know the key, not the place: find the key's line in the file.
                if let Some((l, c)) = locate_key(&String::from_utf8_lossy(b), k) {
                    line = Some(l);
                    column = Some(c);
                }
            }
        }
        let shown = file.display().to_string();
        let where_ = match (line, column) {
            (None, _) => shown.clone(),
            (Some(l), None) => format!("{}:{}", shown, l),
            (Some(l), Some(c)) => format!("{}:{}:{}", shown, l, c),
        };
        let error = MirrorError {
            code: e.code().to_string(),
            message: format!("{}: {}", where_, e.message()),
            hint: format!(
                "{} The store keeps working from the database and the file is left as you saved it; fix the file and save again (psmc status shows this error until then).",
                e.hint()
            ),
            file: shown,
            line,
            column,
            key,
        };
        let st = stat_of(&file)?;
        let text = error.to_json().to_json();
        storage.write(|tx| {
            tx.write_meta(meta::ERROR, Some(&text))?;
            if let Some(b) = &bytes {
                tx.write_meta(meta::ERROR_HASH, Some(&sha256_hex(b)))?;
            }
            Ok(())
        })?;
        self.known = Some(match st {
            None => Known::Missing,
            Some(s) => Known::Stat(s),
        });
        Ok(error)
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
