//! Import (§mirror.detect, §mirror.merge, §mirror.invalid): under the write lock, notice a hand
//! edit (or a deleted or emptied file), merge it 3-way with source `file`, keep the losing side
//! of a conflict as a `conflict` history record, and correct the file where the database now
//! disagrees with it; record an invalid edit for status instead of applying it.

use std::collections::{BTreeSet, HashMap};
use std::fs;

use super::{meta, now_iso, read_meta_num, MirrorError, MirrorSync, SyncHost, SyncResult, EMPTY_GRACE_MS, SETTLE_MS};
use crate::clock::{format_hlc, next_hlc, parse_hlc};
use crate::engine::{commit_changes, CommitResult, PreparedChange, WriteContext};
use crate::errors::{PsmcError, Result};
use crate::json::Value;
use crate::merge::{merge_mirror, OursEntry, Winner};
use crate::mirror::{self, MirrorChange};
use crate::paths::io_error;
use crate::storage::{Storage, StoredChange, StoredRow, WriteTx};
use crate::sync::atomic::write_file_atomic;
use crate::sync::file::{decode_utf8, file_stat, locate_key, sha256_hex, stat_of, FileStat, Known};
use crate::value::{decode_stored, encode_value, values_equal};

impl MirrorSync {
    /// Under the write lock: notices a hand edit (or a deleted file) and imports it.
    pub(super) fn import_in(&mut self, tx: &WriteTx<'_>, host: &SyncHost<'_>) -> Result<SyncResult> {
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
        let age = (host.clock)() - st.mtime_ms;
        if parsed.entries.is_empty() && age < EMPTY_GRACE_MS && bases.values().any(Option::is_some) {
            // No entries over a base with keys: maybe an in-place save cut in its header; wait as for an empty file.
            return Ok(SyncResult { retry_in_ms: Some(EMPTY_GRACE_MS - age.max(0)), ..SyncResult::default() });
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

    /// Records an invalid hand edit (what, where, how to fix) for status; the file stays as the
    /// user saved it.
    pub(super) fn record_error(&mut self, storage: &Storage, e: &PsmcError) -> Result<MirrorError> {
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
}
