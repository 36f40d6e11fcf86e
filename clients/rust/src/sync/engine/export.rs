//! Export (§mirror.export): write the file from the database, atomically — after commits only
//! the changed spans (comments, order and layout survive), and never over a hand save made
//! meanwhile — and record what was written (revision, hash, stat) in `meta`.

use std::fs;

use super::{meta, now_iso, read_meta_num, MirrorSync, SyncHost};
use crate::errors::Result;
use crate::json::Value;
use crate::mirror::{self, MirrorChange};
use crate::paths::io_error;
use crate::storage::WriteTx;
use crate::sync::atomic::{commit_temp, discard_temp, temp_metadata, write_file_atomic, write_temp};
use crate::sync::file::{file_stat, sha256_hex, stat_of, FileStat, Known};
use crate::value::decode_stored;

impl MirrorSync {
    pub(super) fn record_stat(&mut self, tx: &WriteTx<'_>, st: FileStat) -> Result<()> {
        tx.write_meta(meta::SIZE, Some(&st.size.to_string()))?;
        tx.write_meta(meta::MTIME, Some(&st.mtime_ms.to_string()))?;
        self.known = Some(Known::Stat(st));
        Ok(())
    }

    /// Records a file this engine wrote: `st` is the stat of the written temp file (see
    /// [`temp_metadata`]), so a save made right after the rename is still noticed.
    pub(super) fn record_written(&mut self, tx: &WriteTx<'_>, host: &SyncHost<'_>, text: &str, revision: i64, st: FileStat) -> Result<()> {
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

    pub(super) fn export_full(&mut self, tx: &WriteTx<'_>, host: &SyncHost<'_>, revision: i64) -> Result<()> {
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
    pub(super) fn export_if_needed(&mut self, host: &SyncHost<'_>) -> Result<bool> {
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
}
