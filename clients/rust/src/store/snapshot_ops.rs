//! Snapshots of the write store (spec/sections/snapshots.md; TypeScript: src/snapshot/
//! snapshots.ts, auto.ts, restore.ts and the Store's snapshot methods): take, list, read,
//! delete, diff and restore snapshot files, and the automatic snapshots (`before-restore`,
//! `before-import` — before an import and before a hand edit of the mirror is applied — and
//! `every-changes`) with their rotation.
//!
//! A snapshot is read in one read transaction (or inside the transaction that is about to apply
//! an import), never by copying the database file.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::Store;
use crate::clock::iso_time;
use crate::engine::assert_source;
use crate::errors::{PsmcError, Result};
use crate::json::{Object, Value};
use crate::snapshot::files::{delete_snapshot_file, not_found, read_snapshot_file, scan_dir, write_snapshot_file, SnapshotProblem};
use crate::snapshot::format::{build_snapshot, render_snapshot, SnapshotDocument, SnapshotParts, SNAPSHOT_REASONS};
use crate::snapshot::names::{assert_snapshot_name, unique_name};
use crate::snapshot::{diff_entries, DiffItem};
use crate::storage::{StoreState, StoredRow, StoredSchema, WriteTx};
use crate::value::decode_stored;
use crate::{Commit, ImportOptions};

/// The name `diff` uses for the live store.
pub const CURRENT: &str = "current";

/// How many automatic snapshots are kept, and every how many revisions one is taken (0: never).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotSettings {
    /// 1 … 10000; default 20.
    pub keep: u32,
    /// ≥ 0; default 100.
    pub every: i64,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        SnapshotSettings { keep: 20, every: 100 }
    }
}

/// What a listing says about one snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotInfo {
    pub name: String,
    pub created_at: String,
    pub revision: i64,
    pub reason: String,
    pub source: String,
    /// How many keys it holds.
    pub keys: usize,
    /// The file's size in bytes.
    pub bytes: usize,
    pub path: PathBuf,
}

impl SnapshotInfo {
    fn of(doc: &SnapshotDocument, bytes: usize, path: PathBuf) -> SnapshotInfo {
        SnapshotInfo {
            name: doc.name.clone(),
            created_at: doc.created_at.clone(),
            revision: doc.revision,
            reason: doc.reason.clone(),
            source: doc.source.clone(),
            keys: doc.entries.len(),
            bytes,
            path,
        }
    }
}

/// Options of [`Store::create_snapshot`].
#[derive(Clone, Debug, Default)]
pub struct CreateSnapshot {
    /// Default `snap-<yyyymmdd-hhmmss>` (UTC) for a manual snapshot, `auto-<revision>-<reason>`
    /// otherwise, made unique with `-2`, `-3` …
    pub name: Option<String>,
    /// `manual` (default), `before-restore`, `before-import` or `every-changes`.
    pub reason: Option<String>,
    /// Who takes it; default the handle's source.
    pub source: Option<String>,
    /// Replace an existing snapshot of the same spelling.
    pub overwrite: bool,
}

fn default_name(reason: &str, revision: i64, ms: i64) -> String {
    if reason != "manual" {
        return format!("auto-{}-{}", revision, reason);
    }
    let iso = iso_time(ms);
    format!("snap-{}-{}", iso[..10].replace('-', ""), iso[11..19].replace(':', ""))
}

/// The snapshot of these rows (one consistent read), not yet named.
struct Contents {
    state: StoreState,
    rows: Vec<StoredRow>,
    schema: Option<StoredSchema>,
}

fn write_new(dir: &std::path::Path, c: &Contents, opts: &CreateSnapshot, reason: &str, source: &str, ms: i64) -> Result<SnapshotInfo> {
    let mut entries = Vec::with_capacity(c.rows.len());
    for r in &c.rows {
        entries.push((r.key.clone(), decode_stored(&r.value)?, r.revision, r.updated_at.clone(), r.source.clone()));
    }
    let schema = match &c.schema {
        None => None,
        Some(s) => Some(decode_stored(&s.doc)?),
    };
    let parts = |name: String| SnapshotParts {
        name,
        created_at: iso_time(ms),
        revision: c.state.revision,
        reason: reason.to_string(),
        source: source.to_string(),
        entries: entries.clone(),
        schema: schema.clone(),
    };
    if let Some(name) = &opts.name {
        let doc = build_snapshot(parts(name.clone()))?;
        let text = render_snapshot(&doc);
        let path = write_snapshot_file(dir, name, &text, opts.overwrite)?;
        return Ok(SnapshotInfo::of(&doc, text.len(), path));
    }
    // A generated name: another process may take the same one between the scan and the write.
    let base = default_name(reason, c.state.revision, ms);
    let mut attempt = 0;
    loop {
        let taken: HashSet<String> = scan_dir(dir)?.0.into_iter().collect();
        let name = unique_name(&base, &taken);
        let doc = build_snapshot(parts(name.clone()))?;
        let text = render_snapshot(&doc);
        match write_snapshot_file(dir, &name, &text, false) {
            Ok(path) => return Ok(SnapshotInfo::of(&doc, text.len(), path)),
            Err(e) if e.code() == "PSMC_USAGE" && attempt < 20 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The automatic snapshots to delete: all but the newest `keep` (revision, then createdAt,
/// then name, descending), never a manual one nor `protect`.
pub fn rotation_victims(snapshots: &[SnapshotInfo], keep: u32, protect: Option<&str>) -> Vec<String> {
    let mut auto: Vec<&SnapshotInfo> = snapshots.iter().filter(|s| s.reason != "manual").collect();
    auto.sort_by(|a, b| b.revision.cmp(&a.revision).then(b.created_at.cmp(&a.created_at)).then(b.name.cmp(&a.name)));
    auto.into_iter().skip(keep as usize).map(|s| s.name.clone()).filter(|n| Some(n.as_str()) != protect).collect()
}

impl Store {
    /// The write store's snapshots directory (`<dir>/snapshots`).
    pub fn snapshots_dir(&self) -> PathBuf {
        self.slots[self.write].dir.join("snapshots")
    }

    /// The automatic-snapshot settings of the write store (`meta`: `snapshots.keep`,
    /// `snapshots.every`; the defaults when unset).
    pub fn snapshot_settings(&self) -> Result<SnapshotSettings> {
        let mut s = SnapshotSettings::default();
        if let Some(st) = self.try_attach(self.write)? {
            if let Some(k) = st.read_meta("snapshots.keep")?.and_then(|v| v.parse::<f64>().ok()) {
                s.keep = (k as i64).clamp(1, 10_000) as u32;
            }
            if let Some(e) = st.read_meta("snapshots.every")?.and_then(|v| v.parse::<f64>().ok()) {
                s.every = (e as i64).max(0);
            }
        }
        Ok(s)
    }

    /// Changes the automatic-snapshot settings (`keep` 1 … 10000, `every` ≥ 0; `PSMC_USAGE` otherwise).
    pub fn set_snapshot_settings(&self, keep: Option<u32>, every: Option<i64>) -> Result<SnapshotSettings> {
        let mut next = self.snapshot_settings()?;
        if let Some(k) = keep {
            if !(1..=10_000).contains(&k) {
                return Err(PsmcError::usage(format!("snapshot keep must be a whole number from 1 to 10000, received {}", k), "e.g. keep 20"));
            }
            next.keep = k;
        }
        if let Some(e) = every {
            if e < 0 {
                return Err(PsmcError::usage(format!("snapshot every must be a whole number ≥ 0 (0 = off), received {}", e), "e.g. every 100"));
            }
            next.every = e;
        }
        self.write_storage()?.write(|tx| {
            tx.write_meta("snapshots.keep", Some(&next.keep.to_string()))?;
            tx.write_meta("snapshots.every", Some(&next.every.to_string()))
        })?;
        self.auto_cache.set(None);
        Ok(next)
    }

    /// Takes a snapshot of the write store (read in one transaction) and writes it to
    /// `snapshots/<name>.json`. A taken name is `PSMC_USAGE` unless `overwrite`. Does not rotate.
    pub fn create_snapshot(&self, opts: CreateSnapshot) -> Result<SnapshotInfo> {
        self.ensure_open()?;
        let reason = opts.reason.clone().unwrap_or_else(|| "manual".into());
        if !SNAPSHOT_REASONS.contains(&reason.as_str()) {
            return Err(PsmcError::usage(format!("reason must be one of {}, received {:?}", SNAPSHOT_REASONS.join(", "), reason), "Use manual for a snapshot you take yourself."));
        }
        let source = opts.source.clone().unwrap_or_else(|| self.source.clone());
        assert_source(&source)?;
        if let Some(n) = &opts.name {
            assert_snapshot_name(n)?;
        }
        let contents = match self.try_attach(self.write)? {
            None => Contents { state: StoreState { revision: 0, clock: String::new(), store_id: String::new() }, rows: Vec::new(), schema: None },
            Some(st) => {
                let (state, rows, schema) = st.read_all()?;
                Contents { state, rows, schema }
            }
        };
        write_new(&self.snapshots_dir(), &contents, &opts, &reason, &source, (self.clock)())
    }

    /// Every snapshot, newest first (createdAt, revision, then name), and the files of the
    /// directory that are not readable snapshots.
    pub fn list_snapshots(&self) -> Result<(Vec<SnapshotInfo>, Vec<SnapshotProblem>)> {
        self.ensure_open()?;
        let dir = self.snapshots_dir();
        let (names, mut problems) = scan_dir(&dir)?;
        let mut out = Vec::new();
        for name in names {
            match read_snapshot_file(&dir, &name) {
                Ok((doc, bytes, path)) => out.push(SnapshotInfo::of(&doc, bytes, path)),
                Err(e) if e.code() == "PSMC_NOT_FOUND" => {}
                Err(e) => problems.push(SnapshotProblem { file: dir.join(format!("{}.json", name)), code: e.code().into(), message: e.message().into() }),
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.revision.cmp(&a.revision)).then(a.name.cmp(&b.name)));
        Ok((out, problems))
    }

    /// The name as spelled on disk of the snapshot `name` means (case-insensitively).
    pub fn resolve_snapshot_name(&self, name: &str) -> Result<String> {
        assert_snapshot_name(name)?;
        let dir = self.snapshots_dir();
        let (names, _) = scan_dir(&dir)?;
        let lower = name.to_ascii_lowercase();
        match names.iter().find(|n| *n == name).or_else(|| names.iter().find(|n| n.to_ascii_lowercase() == lower)) {
            Some(n) => Ok(n.clone()),
            None => Err(not_found(&dir, name, &names)),
        }
    }

    /// The checked document of snapshot `name`.
    pub fn read_snapshot(&self, name: &str) -> Result<SnapshotDocument> {
        self.ensure_open()?;
        let found = self.resolve_snapshot_name(name)?;
        Ok(read_snapshot_file(&self.snapshots_dir(), &found)?.0)
    }

    /// Deletes snapshot `name`; returns its name as spelled on disk.
    pub fn delete_snapshot(&self, name: &str) -> Result<String> {
        self.ensure_open()?;
        let found = self.resolve_snapshot_name(name)?;
        delete_snapshot_file(&self.snapshots_dir(), &found)?;
        Ok(found)
    }

    /// What differs from snapshot `a` to snapshot `b` (either may be `current`, the live store).
    pub fn diff_snapshots(&self, a: &str, b: &str) -> Result<Vec<DiffItem>> {
        self.ensure_open()?;
        let side = |n: &str| -> Result<Object> {
            if n.eq_ignore_ascii_case(CURRENT) {
                let doc = self.export_data()?;
                let mut o = Object::new();
                if let Some(Value::Object(entries)) = doc.get("entries") {
                    for (k, e) in entries.iter() {
                        o.insert(k.clone(), e.get("value").cloned().unwrap_or(Value::Null));
                    }
                }
                Ok(o)
            } else {
                Ok(self.read_snapshot(n)?.values())
            }
        };
        Ok(diff_entries(&side(a)?, &side(b)?))
    }

    /// Deletes all automatic snapshots but the newest `keep` (never a manual one nor `protect`).
    pub fn rotate_snapshots(&self, keep: u32, protect: Option<&str>) -> Result<Vec<String>> {
        let dir = self.snapshots_dir();
        let (list, _) = self.list_snapshots()?;
        let mut deleted = Vec::new();
        for name in rotation_victims(&list, keep, protect) {
            match delete_snapshot_file(&dir, &name) {
                Ok(()) => deleted.push(name),
                Err(e) if e.code() == "PSMC_NOT_FOUND" => {} // another process rotated it first
                Err(e) => return Err(e),
            }
        }
        Ok(deleted)
    }

    /// An automatic snapshot (`reason` other than manual), then rotation.
    pub fn auto_snapshot(&self, reason: &str, source: &str, protect: Option<&str>) -> Result<SnapshotInfo> {
        let settings = self.snapshot_settings()?;
        let info = self.create_snapshot(CreateSnapshot { name: None, reason: Some(reason.into()), source: Some(source.into()), overwrite: false })?;
        self.rotate_snapshots(settings.keep, protect)?;
        Ok(info)
    }

    /// The `before-import` snapshot of a hand edit's import, taken inside its transaction.
    pub(super) fn auto_snapshot_in(&self, tx: &WriteTx<'_>) -> Result<()> {
        let settings = self.snapshot_settings()?;
        let contents = Contents { state: tx.read_state()?, rows: tx.all_rows()?, schema: tx.read_schema()? };
        let opts = CreateSnapshot { reason: Some("before-import".into()), source: Some("file".into()), ..CreateSnapshot::default() };
        write_new(&self.snapshots_dir(), &contents, &opts, "before-import", "file", (self.clock)())?;
        self.rotate_snapshots(settings.keep, None)?;
        Ok(())
    }

    /// Makes the store hold exactly snapshot `name`'s values: a `before-restore` snapshot first,
    /// then one batch (source `restore:<name>` unless given) that sets and deletes keys to match.
    /// One revision: `undo` reverts it. The schema is not restored. Returns the name as spelled
    /// on disk, the commit and the automatic snapshot.
    pub fn restore_snapshot(&self, name: &str, source: Option<&str>) -> Result<(String, Commit, SnapshotInfo)> {
        self.ensure_open()?;
        let found = self.resolve_snapshot_name(name)?;
        let (doc, _, _) = read_snapshot_file(&self.snapshots_dir(), &found)?;
        let source = source.map(str::to_string).unwrap_or_else(|| format!("restore:{}", found));
        assert_source(&source)?;
        let auto = self.auto_snapshot("before-restore", &source, Some(&found))?;
        // The before-restore snapshot above is the import's snapshot: no second one.
        let commit = self.import_data(&Value::Object(doc.values()), ImportOptions { replace: true, source: Some(source), file: None, skip_snapshot: true })?;
        Ok((found, commit, auto))
    }

    /// After a commit: every `every` revisions, one automatic snapshot. The settings and the last
    /// automatic snapshot's revision are read at most once a second, so this costs no query in
    /// the common case. Failures are reported on stderr, never thrown at the writer.
    pub(super) fn maybe_auto_snapshot(&self, revision: i64) {
        let now = Instant::now();
        let cached = match self.auto_cache.get() {
            Some((at, s, last)) if now.duration_since(at) < Duration::from_secs(1) => (s, last),
            _ => {
                let read = || -> Result<(SnapshotSettings, i64)> {
                    let s = self.snapshot_settings()?;
                    let last = match self.try_attach(self.write)? {
                        None => 0,
                        Some(st) => st.read_meta("snapshots.last_auto")?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0),
                    };
                    Ok((s, last))
                };
                match read() {
                    Ok((s, last)) => {
                        self.auto_cache.set(Some((now, s, last)));
                        (s, last)
                    }
                    Err(_) => return,
                }
            }
        };
        let (settings, last) = cached;
        if settings.every == 0 || revision <= 0 || revision - last < settings.every {
            return;
        }
        self.auto_cache.set(None);
        let taken = self.auto_snapshot("every-changes", &self.source, None).and_then(|info| {
            self.write_storage()?.write(|tx| tx.write_meta("snapshots.last_auto", Some(&info.revision.to_string())))
        });
        if let Err(e) = taken {
            eprintln!("psmc: automatic snapshot failed: {}", e.message());
        }
    }
}
