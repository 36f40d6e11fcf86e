//! The write engine (spec/SPEC.md §revision, §write.noop, §history.record, §cas, §batch,
//! §undo, §schema.change). Runs inside a storage write transaction ([`WriteTx`]); the wall
//! clock reading and the source are parameters. A returned error rolls the whole
//! transaction back, so a failed batch leaves the store unchanged.

use std::collections::{HashMap, HashSet};

use crate::clock::{format_hlc, next_hlc, parse_hlc};
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{quote_str, Value};
use crate::keys::assert_key;
use crate::schema::CompiledSchema;
use crate::storage::{StoredChange, StoredRow, WriteTx};
use crate::value::{decode_stored, encode_checked, type_of};

/// The key under which schema changes appear in history.
pub const SCHEMA_HISTORY_KEY: &str = "@schema";
pub const MAX_SOURCE_LENGTH: usize = 128;
pub const MAX_BATCH: usize = 100_000;

/// What a caller asks for: set a key to a value, or delete it.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeRequest {
    Set { key: String, value: Value, expect_revision: Option<i64> },
    Delete { key: String, expect_revision: Option<i64> },
}

impl ChangeRequest {
    pub fn set(key: impl Into<String>, value: impl Into<Value>) -> Self {
        ChangeRequest::Set { key: key.into(), value: value.into(), expect_revision: None }
    }
    pub fn delete(key: impl Into<String>) -> Self {
        ChangeRequest::Delete { key: key.into(), expect_revision: None }
    }
    /// The same change with a compare-and-set expectation.
    pub fn expect(self, revision: i64) -> Self {
        match self {
            ChangeRequest::Set { key, value, .. } => ChangeRequest::Set { key, value, expect_revision: Some(revision) },
            ChangeRequest::Delete { key, .. } => ChangeRequest::Delete { key, expect_revision: Some(revision) },
        }
    }
    pub fn key(&self) -> &str {
        match self {
            ChangeRequest::Set { key, .. } | ChangeRequest::Delete { key, .. } => key,
        }
    }
}

/// A request whose key and value were checked and encoded (before the lock is taken).
#[derive(Clone, Debug)]
pub struct PreparedChange {
    pub key: String,
    /// The checked value and its stored text; None for a delete.
    pub set: Option<(Value, String)>,
    pub expect_revision: Option<i64>,
}

/// One change, as recorded in history (values decoded).
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRecord {
    pub revision: i64,
    pub seq: i64,
    /// The key; `@schema` for a schema change.
    pub key: String,
    /// `set`, `delete`, `schema` or `conflict` (format 2: the losing side of a conflict; the
    /// key's value did not change by it).
    pub op: String,
    /// The value before; None when the key did not exist.
    pub old_value: Option<Value>,
    /// The value after; None for a delete.
    pub new_value: Option<Value>,
    pub source: String,
    pub at: String,
    pub note: Option<String>,
}

impl ChangeRecord {
    /// `{revision, seq, key, op, oldValue?, newValue?, source, at, note?}` as the TypeScript
    /// record serialises (absent members left out).
    pub fn to_json(&self) -> Value {
        let mut o = crate::json::Object::new();
        o.insert("revision", Value::Number(self.revision as f64));
        o.insert("seq", Value::Number(self.seq as f64));
        o.insert("key", self.key.clone().into());
        o.insert("op", self.op.clone().into());
        if let Some(v) = &self.old_value {
            o.insert("oldValue", v.clone());
        }
        if let Some(v) = &self.new_value {
            o.insert("newValue", v.clone());
        }
        o.insert("source", self.source.clone().into());
        o.insert("at", self.at.clone().into());
        if let Some(n) = &self.note {
            o.insert("note", n.clone().into());
        }
        Value::Object(o)
    }
}

/// What a write transaction did.
#[derive(Clone, Debug)]
pub struct CommitResult {
    pub revision: i64,
    pub at: String,
    pub records: Vec<StoredChange>,
    pub previous_revision: i64,
}

pub struct WriteContext<'a> {
    pub wall_ms: f64,
    pub source: &'a str,
    pub note: Option<String>,
    /// The compiled schema as stored in this transaction.
    pub schema_of: &'a dyn Fn(&WriteTx<'_>) -> Result<Option<std::sync::Arc<CompiledSchema>>>,
}

fn source_error(source: &str) -> PsmcError {
    PsmcError::usage(
        format!("The source {} is not usable.", quote_str(source)),
        format!(
            "A source is 1–{} printable characters naming the writer, e.g. cli, gui, http:deploy-bot.",
            MAX_SOURCE_LENGTH
        ),
    )
}

/// `PSMC_USAGE` unless `source` is 1–128 code points with no C0/C1 control character or DEL.
pub fn assert_source(source: &str) -> Result<()> {
    let mut n = 0;
    for c in source.chars() {
        n += 1;
        if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) {
            return Err(source_error(source));
        }
    }
    if n == 0 || n > MAX_SOURCE_LENGTH {
        return Err(source_error(source));
    }
    Ok(())
}

fn assert_revision_arg(n: i64, what: &str) -> Result<()> {
    if !(0..=9_007_199_254_740_991).contains(&n) {
        return Err(PsmcError::usage(
            format!("{} must be a whole number ≥ 0, received {}.", what, n),
            "Pass the revision shown by get --json or history (0 means \"the key must not exist\").",
        ));
    }
    Ok(())
}

/// Checks and encodes a batch before the lock is taken; fails on the first bad request.
pub fn prepare_changes(requests: Vec<ChangeRequest>) -> Result<Vec<PreparedChange>> {
    if requests.len() > MAX_BATCH {
        return Err(PsmcError::usage(
            format!("A batch holds {} changes; the limit is {}.", requests.len(), MAX_BATCH),
            "Split it into several batches.",
        ));
    }
    let mut seen: HashSet<String> = HashSet::with_capacity(requests.len());
    let mut out = Vec::with_capacity(requests.len());
    for (i, r) in requests.into_iter().enumerate() {
        let (key, value, expect) = match r {
            ChangeRequest::Set { key, value, expect_revision } => (key, Some(value), expect_revision),
            ChangeRequest::Delete { key, expect_revision } => (key, None, expect_revision),
        };
        assert_key(&key)?;
        if !seen.insert(key.clone()) {
            return Err(PsmcError::usage(
                format!("The key {} appears twice in one batch (change {}).", quote_str(&key), i),
                "Give each key at most once per batch.",
            )
            .with("key", key.as_str()));
        }
        if let Some(e) = expect {
            assert_revision_arg(e, "expectRevision")?;
        }
        let set = match value {
            None => None,
            Some(mut v) => {
                let text = encode_checked(&mut v, Some(&key))?;
                Some((v, text))
            }
        };
        out.push(PreparedChange { key, set, expect_revision: expect });
    }
    Ok(out)
}

/// The `PSMC_CONFLICT` error of a failed compare-and-set.
pub fn conflict(key: &str, current: Option<&StoredRow>, expected: i64) -> PsmcError {
    let current_revision = current.map(|r| r.revision).unwrap_or(0);
    let what = match current {
        None => "does not exist (it was deleted or never set)".to_string(),
        Some(r) => format!("is at revision {} (set by {} at {})", current_revision, r.source, r.updated_at),
    };
    let mut e = PsmcError::new(
        ErrorCode::Conflict,
        format!("The key {} {}, but the write expected revision {}.", quote_str(key), what, expected),
        "Someone else changed it first. Read the current value, merge your change into it, and retry with its revision.",
    )
    .with("key", key)
    .with("expectedRevision", expected as f64)
    .with("currentRevision", current_revision as f64);
    if let Some(r) = current {
        if let Ok(v) = decode_stored(&r.value) {
            e = e.with("currentValue", v);
        }
    }
    e
}

fn noop(tx: &WriteTx<'_>) -> Result<CommitResult> {
    let state = tx.read_state()?;
    Ok(CommitResult { revision: state.revision, at: state.clock, records: Vec::new(), previous_revision: state.revision })
}

/// Applies a prepared batch: compare-and-set and schema checks, then — when anything
/// changes — the next revision and clock, one history record per effective change.
pub fn commit_changes(tx: &WriteTx<'_>, changes: &[PreparedChange], ctx: &WriteContext<'_>) -> Result<CommitResult> {
    let state = tx.read_state()?;
    let schema = (ctx.schema_of)(tx)?;
    let mut effective: Vec<(&PreparedChange, Option<StoredRow>)> = Vec::new();
    for c in changes {
        let old = tx.read_row(&c.key)?;
        if let Some(exp) = c.expect_revision {
            if old.as_ref().map(|r| r.revision).unwrap_or(0) != exp {
                return Err(conflict(&c.key, old.as_ref(), exp));
            }
        }
        match &c.set {
            Some((value, text)) => {
                if let Some(s) = &schema {
                    s.validate(&c.key, value)?;
                }
                if old.as_ref().is_some_and(|o| &o.value == text) {
                    continue;
                }
            }
            None => {
                if old.is_none() {
                    continue;
                }
            }
        }
        effective.push((c, old));
    }
    if effective.is_empty() {
        return Ok(CommitResult { revision: state.revision, at: state.clock, records: Vec::new(), previous_revision: state.revision });
    }
    let revision = state.revision + 1;
    let at = format_hlc(next_hlc(parse_hlc(&state.clock)?, ctx.wall_ms)?);
    let mut records = Vec::with_capacity(effective.len());
    let mut rows: HashMap<&str, Option<StoredRow>> = HashMap::with_capacity(effective.len());
    for (seq, (c, old)) in effective.iter().enumerate() {
        records.push(StoredChange {
            revision,
            seq: seq as i64,
            key: c.key.clone(),
            op: if c.set.is_some() { "set".into() } else { "delete".into() },
            old_value: old.as_ref().map(|o| o.value.clone()),
            new_value: c.set.as_ref().map(|(_, t)| t.clone()),
            source: ctx.source.to_string(),
            at: at.clone(),
            note: ctx.note.clone(),
        });
        rows.insert(
            c.key.as_str(),
            c.set.as_ref().map(|(v, t)| StoredRow {
                key: c.key.clone(),
                value: t.clone(),
                type_name: type_of(v).as_str().to_string(),
                revision,
                updated_at: at.clone(),
                source: ctx.source.to_string(),
            }),
        );
    }
    // Write in key order for big batches: sequential B-tree inserts. `seq` keeps the order given.
    let mut order: Vec<&StoredChange> = records.iter().collect();
    if order.len() > 64 {
        order.sort_by(|a, b| a.key.cmp(&b.key));
    }
    for record in order {
        match rows.get(record.key.as_str()).and_then(Option::as_ref) {
            None => tx.delete_row(&record.key)?,
            Some(row) => tx.put_row(row)?,
        }
        tx.append_change(record)?;
    }
    tx.write_state(revision, &at)?;
    Ok(CommitResult { revision, at, records, previous_revision: state.revision })
}

/// Replaces the stored schema (None removes it), recorded under `@schema`. `check` validates
/// every stored value against the new schema first.
pub fn commit_schema(
    tx: &WriteTx<'_>,
    doc_text: Option<&str>,
    ctx: &WriteContext<'_>,
    check: &dyn Fn(&[StoredRow]) -> Result<()>,
) -> Result<CommitResult> {
    let state = tx.read_state()?;
    let old = tx.read_schema()?;
    if old.as_ref().map(|o| o.doc.as_str()) == doc_text {
        return noop(tx);
    }
    if doc_text.is_some() {
        check(&tx.all_rows()?)?;
    }
    let revision = state.revision + 1;
    let at = format_hlc(next_hlc(parse_hlc(&state.clock)?, ctx.wall_ms)?);
    tx.write_schema(doc_text, revision)?;
    let record = StoredChange {
        revision,
        seq: 0,
        key: SCHEMA_HISTORY_KEY.into(),
        op: "schema".into(),
        old_value: old.map(|o| o.doc),
        new_value: doc_text.map(String::from),
        source: ctx.source.to_string(),
        at: at.clone(),
        note: ctx.note.clone(),
    };
    tx.append_change(&record)?;
    tx.write_state(revision, &at)?;
    Ok(CommitResult { revision, at, records: vec![record], previous_revision: state.revision })
}

/// What an undo will do.
pub struct UndoPlan {
    pub revision: i64,
    pub changes: Vec<PreparedChange>,
    /// `Some(doc)` when the revision changed the schema: the document to put back.
    pub schema: Option<Option<String>>,
}

fn undo_conflict(key: &str, revision: i64, later: i64) -> PsmcError {
    PsmcError::new(
        ErrorCode::Conflict,
        format!("Cannot undo revision {}: {} was changed again at revision {}.", revision, quote_str(key), later),
        format!(
            "Undo revision {} first, or force the undo (psmc undo {} --force) to overwrite the later change (it stays in history).",
            later, revision
        ),
    )
    .with("key", key)
    .with("revision", revision as f64)
    .with("currentRevision", later as f64)
}

/// Plans the undo of one revision (the newest with history records by default).
pub fn plan_undo(tx: &WriteTx<'_>, target: Option<i64>, force: bool) -> Result<UndoPlan> {
    if let Some(t) = target {
        assert_revision_arg(t, "revision")?;
    }
    let revision = match target {
        Some(t) => t,
        None => tx.last_changed_revision()?,
    };
    if revision == 0 && target.is_none() {
        return Err(PsmcError::new(ErrorCode::NothingToUndo, "The store has no changes to undo.", "Nothing was ever written to this store."));
    }
    let records = tx.changes_at(revision)?;
    if records.is_empty() {
        let last = tx.read_state()?.revision;
        return Err(PsmcError::new(
            ErrorCode::NotFound,
            format!("Revision {} has no recorded changes (the store is at revision {}).", revision, last),
            "Pick a revision listed by `psmc history`.",
        )
        .with("revision", revision as f64));
    }
    let mut changes = Vec::new();
    let mut schema = None;
    for r in records {
        // A conflict record changed no value: there is nothing to put back.
        if r.op == "conflict" {
            continue;
        }
        if r.op == "schema" {
            let later = tx.last_revision_of(&r.key)?;
            if !force && later != revision {
                return Err(undo_conflict(&r.key, revision, later));
            }
            schema = Some(r.old_value.clone());
            continue;
        }
        let current = tx.read_row(&r.key)?;
        let current_revision = current.as_ref().map(|c| c.revision).unwrap_or(0);
        if !force && current_revision != revision && !(current.is_none() && r.op == "delete") {
            return Err(undo_conflict(&r.key, revision, current_revision));
        }
        match r.old_value {
            None => changes.push(PreparedChange { key: r.key, set: None, expect_revision: None }),
            Some(text) => {
                let v = decode_stored(&text)?;
                changes.push(PreparedChange { key: r.key, set: Some((v, text)), expect_revision: None });
            }
        }
    }
    Ok(UndoPlan { revision, changes, schema })
}

/// A stored history row as the public record.
pub fn to_record(c: &StoredChange) -> Result<ChangeRecord> {
    let dec = |t: &Option<String>| -> Result<Option<Value>> {
        match t {
            None => Ok(None),
            Some(t) => decode_stored(t).map(Some),
        }
    };
    Ok(ChangeRecord {
        revision: c.revision,
        seq: c.seq,
        key: c.key.clone(),
        op: c.op.clone(),
        old_value: dec(&c.old_value)?,
        new_value: dec(&c.new_value)?,
        source: c.source.clone(),
        at: c.at.clone(),
        note: c.note.clone(),
    })
}
