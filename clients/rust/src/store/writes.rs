//! Writes to the write store — `set`, `delete`, `batch`, `undo`, schema changes, `import_data`
//! — and what they leave there: `history`, `revision`, `schema`, `export_data`. Every write
//! runs the mirror hooks (src/store/mirror_hooks.rs) around its commit. Mirrors the write half
//! of src/store/store.ts.

use std::path::Path;

use super::{Commit, HistoryOptions, ImportOptions, SetOptions, Store, UndoOptions};
use crate::engine::{
    assert_source, commit_changes, commit_schema, plan_undo, prepare_changes, to_record, ChangeRecord, ChangeRequest, CommitResult,
    PreparedChange, WriteContext, SCHEMA_HISTORY_KEY,
};
use crate::errors::{ErrorCode, PsmcError, Result};
use crate::json::{quote_str, Object, Value};
use crate::keys::assert_key;
use crate::schema::{parse_schema_document, CompiledSchema};
use crate::storage::{HistoryQuery, StoredRow, WriteTx};
use crate::value::decode_stored;

fn check_rows(doc_text: Option<&str>, rows: &[StoredRow]) -> Result<()> {
    let text = match doc_text {
        None => return Ok(()),
        Some(t) => t,
    };
    let schema = CompiledSchema::from_text(text)?;
    for r in rows {
        schema.validate(&r.key, &decode_stored(&r.value)?)?;
    }
    Ok(())
}

fn to_commit(r: CommitResult) -> Result<Commit> {
    let changes = r.records.iter().map(to_record).collect::<Result<Vec<_>>>()?;
    Ok(Commit { revision: r.revision, at: r.at, changes })
}

impl Store {
    /// Sets `key` in the write store, recorded with this handle's source.
    pub fn set(&self, key: &str, value: impl Into<Value>, options: SetOptions) -> Result<Commit> {
        let req = ChangeRequest::Set { key: key.to_string(), value: value.into(), expect_revision: options.expect_revision };
        self.commit(prepare_changes(vec![req])?, options.source.as_deref(), None)
    }

    /// Deletes `key` from the write store (recorded). Deleting an absent key changes nothing.
    pub fn delete(&self, key: &str, options: SetOptions) -> Result<Commit> {
        let req = ChangeRequest::Delete { key: key.to_string(), expect_revision: options.expect_revision };
        self.commit(prepare_changes(vec![req])?, options.source.as_deref(), None)
    }

    /// Several changes in one transaction: all or none, one revision.
    pub fn batch(&self, changes: Vec<ChangeRequest>, source: Option<&str>) -> Result<Commit> {
        self.commit(prepare_changes(changes)?, source, None)
    }

    fn commit(&self, prepared: Vec<PreparedChange>, source: Option<&str>, note: Option<String>) -> Result<Commit> {
        let src = source.unwrap_or(&self.source);
        assert_source(src)?;
        self.ensure_open()?;
        if self.try_attach(self.write)?.is_none() {
            // The store does not exist yet: every key is absent. Refuse what would fail before creating it.
            for c in &prepared {
                if let Some(e) = c.expect_revision {
                    if e != 0 {
                        return Err(PsmcError::new(
                            ErrorCode::Conflict,
                            format!(
                                "The key {} does not exist (the store is empty), but the write expected revision {}.",
                                quote_str(&c.key),
                                e
                            ),
                            "Someone else changed it first. Read the current value, merge your change into it, and retry with its revision.",
                        )
                        .with("key", c.key.as_str())
                        .with("expectedRevision", e as f64)
                        .with("currentRevision", 0.0));
                    }
                }
            }
        }
        let storage = self.write_storage()?;
        let wall = (self.clock)() as f64;
        let schema_of = |tx: &WriteTx<'_>| self.schema_in(tx);
        let ctx = WriteContext { wall_ms: wall, source: src, note, schema_of: &schema_of };
        self.mirror_before_write(storage);
        let result = storage.write(|tx| commit_changes(tx, &prepared, &ctx))?;
        self.mirror_after_commit(storage, &result);
        to_commit(result)
    }

    /// Reverts one revision (the newest by default) as a new change.
    pub fn undo(&self, options: UndoOptions) -> Result<Commit> {
        let src = options.source.as_deref().unwrap_or(&self.source);
        assert_source(src)?;
        self.ensure_open()?;
        if self.try_attach(self.write)?.is_none() && !self.read_only {
            return Err(PsmcError::new(
                ErrorCode::NothingToUndo,
                format!("The store at {} has no changes to undo (it does not exist yet).", self.slots[self.write].dir.display()),
                "Nothing was ever written to this store.",
            ));
        }
        let storage = self.write_storage()?;
        let wall = (self.clock)() as f64;
        let schema_of = |tx: &WriteTx<'_>| self.schema_in(tx);
        self.mirror_before_write(storage);
        let result = storage.write(|tx| {
            let plan = plan_undo(tx, options.revision, options.force)?;
            let ctx = WriteContext { wall_ms: wall, source: src, note: Some(format!("undo of revision {}", plan.revision)), schema_of: &schema_of };
            match &plan.schema {
                Some(doc) => commit_schema(tx, doc.as_deref(), &ctx, &|rows| check_rows(doc.as_deref(), rows)),
                None => commit_changes(tx, &plan.changes, &ctx),
            }
        })?;
        self.mirror_after_commit(storage, &result);
        to_commit(result)
    }

    /// Recorded changes of the write store, newest first; of one key (or a prefix) when given.
    /// `@schema` lists schema changes.
    pub fn history(&self, key: Option<&str>, options: HistoryOptions) -> Result<Vec<ChangeRecord>> {
        self.ensure_open()?;
        if let Some(k) = key {
            if k != SCHEMA_HISTORY_KEY {
                assert_key(k)?;
            }
        }
        let st = match self.try_attach(self.write)? {
            None => return Ok(Vec::new()),
            Some(s) => s,
        };
        let q = HistoryQuery {
            key: key.map(String::from),
            prefix: key.is_some() && options.prefix,
            after_revision: options.since_revision,
            upto_revision: options.until_revision,
            limit: options.limit,
            ascending: false,
        };
        st.history(&q)?.iter().map(to_record).collect()
    }

    /// The write store's revision (0 before the first write).
    pub fn revision(&self) -> Result<i64> {
        self.ensure_open()?;
        match self.try_attach(self.write)? {
            None => Ok(0),
            Some(s) => Ok(s.read_state()?.revision),
        }
    }

    /// The write store's schema document, or None.
    pub fn schema(&self) -> Result<Option<Value>> {
        self.ensure_open()?;
        match self.try_attach(self.write)? {
            None => Ok(None),
            Some(s) => match s.read_schema()? {
                None => Ok(None),
                Some(d) => decode_stored(&d.doc).map(Some),
            },
        }
    }

    /// Replaces the write store's schema (None removes it), recorded as `@schema`.
    pub fn set_schema(&self, doc: Option<&Value>, source: Option<&str>) -> Result<Commit> {
        let src = source.unwrap_or(&self.source);
        assert_source(src)?;
        let text = match doc {
            None => None,
            Some(d) => Some(parse_schema_document(d)?.to_json()),
        };
        let storage = self.write_storage()?;
        let wall = (self.clock)() as f64;
        let schema_of = |tx: &WriteTx<'_>| self.schema_in(tx);
        let ctx = WriteContext { wall_ms: wall, source: src, note: None, schema_of: &schema_of };
        self.mirror_before_write(storage);
        let result = storage.write(|tx| commit_schema(tx, text.as_deref(), &ctx, &|rows| check_rows(text.as_deref(), rows)))?;
        self.mirror_after_commit(storage, &result);
        to_commit(result)
    }

    /// The write store's keys with metadata (§export), read in one consistent transaction.
    pub fn export_data(&self) -> Result<Value> {
        self.ensure_open()?;
        let mut out = Object::new();
        out.insert("format", "psmc-export".into());
        out.insert("version", Value::Number(1.0));
        let st = match self.try_attach(self.write)? {
            None => {
                out.insert("revision", Value::Number(0.0));
                out.insert("entries", Value::Object(Object::new()));
                return Ok(Value::Object(out));
            }
            Some(s) => s,
        };
        let (state, rows, schema) = st.read_all()?;
        let mut members = Vec::with_capacity(rows.len());
        for r in rows {
            let mut e = Object::new();
            e.insert("value", decode_stored(&r.value)?);
            e.insert("type", r.type_name.into());
            e.insert("revision", Value::Number(r.revision as f64));
            e.insert("updatedAt", r.updated_at.into());
            e.insert("source", r.source.into());
            members.push((r.key, Value::Object(e)));
        }
        out.insert("revision", Value::Number(state.revision as f64));
        out.insert("entries", Value::Object(Object::from_members(members)));
        if let Some(s) = schema {
            out.insert("schema", decode_stored(&s.doc)?);
        }
        Ok(Value::Object(out))
    }

    /// Merges an export document (or a flat object of key → value) as one batch. With
    /// `replace`, keys absent from the document are deleted. All or nothing.
    pub fn import_data(&self, doc: &Value, options: ImportOptions) -> Result<Commit> {
        self.ensure_open()?;
        let values = crate::export::parse_export(doc, options.file.as_deref())?;
        let mut changes: Vec<ChangeRequest> = Vec::with_capacity(values.len());
        let mut present: std::collections::HashSet<String> = std::collections::HashSet::new();
        for (k, v) in values {
            present.insert(k.clone());
            changes.push(ChangeRequest::Set { key: k, value: v, expect_revision: None });
        }
        if options.replace {
            if let Some(st) = self.try_attach(self.write)? {
                for row in st.list_rows("")? {
                    if !present.contains(&row.key) {
                        changes.push(ChangeRequest::delete(row.key));
                    }
                }
            }
        }
        let source = options.source.clone().or_else(|| {
            options.file.as_ref().map(|f| {
                let base = Path::new(f).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| f.clone());
                format!("import:{}", base)
            })
        });
        let prepared = prepare_changes(changes)?;
        if !options.skip_snapshot && !prepared.is_empty() && self.try_attach(self.write)?.is_some() {
            self.auto_snapshot("before-import", source.as_deref().unwrap_or(&self.source), None)?;
        }
        self.commit(prepared, source.as_deref(), None)
    }
}
