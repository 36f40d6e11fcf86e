//! psmc-rs commands that write: `set`, `unset` and `undo` (src/cli/commands/set.ts, unset.ts,
//! undo.ts), with the note printed when a higher layer still shadows the key written
//! (src/cli/notes.ts): the same text, JSON and exit codes.

use psmc::value::parse_loose_value;
use psmc::{Layer, SetOptions, UndoOptions};

use super::*;

fn commit_json(c: &psmc::Commit) -> Value {
    Value::Array(c.changes.iter().map(psmc::ChangeRecord::to_json).collect())
}

fn shadow_note(store: &Store, key: &str) -> Result<Option<String>, PsmcError> {
    let e = store.explain(key)?;
    let layer = match e.resolved.layer {
        Some(l @ (Layer::Override | Layer::Env)) => l,
        _ => return Ok(None),
    };
    let winner = e.layers.iter().find(|l| l.layer == layer);
    let origin = winner.map(|w| w.origin.clone()).unwrap_or_else(|| layer.as_str().into());
    if let Some(err) = winner.and_then(|w| w.error.as_ref()) {
        return Ok(Some(format!("note: {} is set but unusable, so reads of {} fail: {}", origin, key, err.message)));
    }
    Ok(Some(format!(
        "note: {} is set, so reads of {} still give {} (see psmc explain {})",
        origin,
        key,
        inline_value(e.resolved.value.as_ref(), 60),
        key
    )))
}

/// `psmc set <key> <value> [--string] [--expect-revision <n>]` (src/cli/commands/set.ts).
pub(crate) fn set(ctx: &Ctx, o: &mut Out<'_>, args: Vec<String>, string: bool, expect_revision: Option<String>) -> Result<i32, PsmcError> {
    let a = positional(&args, "set")?;
    let key = a[0].clone().unwrap_or_default();
    let text = a[1].clone().unwrap_or_default();
    let expect = int_option(
        expect_revision.as_deref(),
        "expect-revision",
        0,
        "Pass the revision shown by `psmc get <key> --json` (0 means \"the key must not exist yet\").",
    )?;
    let value = if string { Value::String(text) } else { parse_loose_value(&text, Some(&key))? };
    let store = open_store(ctx)?;
    let commit = store.set(&key, value.clone(), SetOptions { expect_revision: expect, source: None })?;
    let changed = !commit.changes.is_empty();
    if ctx.json {
        o.json(&psmc::json::obj([
            ("key", Value::String(key.clone())),
            ("value", value.clone()),
            ("changed", Value::Bool(changed)),
            ("revision", Value::Number(commit.revision as f64)),
            ("at", Value::String(commit.at.clone())),
            ("changes", commit_json(&commit)),
        ]));
    } else if changed {
        o.line(&format!("{} = {} (revision {})", key, inline_value(Some(&value), 200), commit.revision));
    } else {
        o.line(&format!(
            "{} is already {}; nothing changed (store revision {})",
            key,
            inline_value(Some(&value), 200),
            commit.revision
        ));
    }
    if let Some(n) = shadow_note(&store, &key)? {
        o.note(&n);
    }
    Ok(0)
}

/// `psmc unset <key> [--expect-revision <n>]` (src/cli/commands/unset.ts).
pub(crate) fn unset(ctx: &Ctx, o: &mut Out<'_>, args: Vec<String>, expect_revision: Option<String>) -> Result<i32, PsmcError> {
    let a = positional(&args, "unset")?;
    let key = a[0].clone().unwrap_or_default();
    let expect = int_option(expect_revision.as_deref(), "expect-revision", 0, "Pass the revision shown by `psmc get <key> --json`.")?;
    let store = open_store(ctx)?;
    let commit = store.delete(&key, SetOptions { expect_revision: expect, source: None })?;
    let removed = commit.changes.first();
    if ctx.json {
        o.json(&psmc::json::obj([
            ("key", Value::String(key.clone())),
            ("changed", Value::Bool(removed.is_some())),
            ("revision", Value::Number(commit.revision as f64)),
            ("at", Value::String(commit.at.clone())),
            ("changes", commit_json(&commit)),
        ]));
    } else if let Some(r) = removed {
        o.line(&format!("Unset {} (was {}; revision {})", key, inline_value(r.old_value.as_ref(), 200), commit.revision));
    } else {
        o.line(&format!("{} is not set in the {} store; nothing changed", key, store.info().write_layer.as_str()));
    }
    let r = store.explain(&key)?;
    if r.resolved.found {
        if let Some(l) = r.resolved.layer {
            o.note(&format!(
                "note: {} still resolves to {} from the {} layer (see psmc explain {})",
                key,
                inline_value(r.resolved.value.as_ref(), 60),
                l.as_str(),
                key
            ));
        }
    }
    Ok(0)
}

/// `psmc undo [revision] [--force]` (src/cli/commands/undo.ts).
pub(crate) fn undo(ctx: &Ctx, o: &mut Out<'_>, args: Vec<String>, force: bool) -> Result<i32, PsmcError> {
    let a = positional(&args, "undo")?;
    let revision = match &a[0] {
        None => None,
        Some(t) => {
            let ok = !t.is_empty() && t.len() <= 16 && t.bytes().all(|c| c.is_ascii_digit());
            match t.parse::<i64>().ok().filter(|n| ok && *n >= 1 && *n <= 9_007_199_254_740_991) {
                Some(n) => Some(n),
                None => {
                    return Err(usage_error(
                        format!("The revision to undo must be a whole number ≥ 1, received {}.", psmc::json::quote_str(t)),
                        "Pick a revision listed by `psmc history`, or give none to undo the newest.",
                    ))
                }
            }
        }
    };
    let store = open_store(ctx)?;
    // Checked before the library opens the database for writing, so that undo on a
    // store that was never written leaves no empty store behind.
    if store.revision()? == 0 {
        let info = store.info();
        let dir = if info.write_layer == Layer::Project { info.project_dir.clone().unwrap_or_default() } else { info.user_dir.clone() };
        return Err(PsmcError::new(
            ErrorCode::NothingToUndo,
            format!("The store has no changes to undo ({} store {}).", info.write_layer.as_str(), dir.display()),
            "Nothing was ever written to this store; check --store/--app/--project if you expected one.",
        ));
    }
    let commit = store.undo(UndoOptions { revision, force, source: None })?;
    let note = commit.changes.first().and_then(|c| c.note.clone());
    if ctx.json {
        let mut obj = psmc::Object::new();
        if let Some(n) = &note {
            obj.insert("undone", Value::String(n.clone()));
        }
        obj.insert("revision", Value::Number(commit.revision as f64));
        obj.insert("at", Value::String(commit.at.clone()));
        obj.insert("changes", commit_json(&commit));
        o.json(&Value::Object(obj));
        return Ok(0);
    }
    let note = match note {
        None => {
            o.line(&format!(
                "Nothing changed: the store already holds the values from before {} (store revision {}).",
                match revision {
                    None => "the newest revision".to_string(),
                    Some(r) => format!("revision {}", r),
                },
                commit.revision
            ));
            return Ok(0);
        }
        Some(n) => n,
    };
    o.line(&format!("Undid {} (now revision {}):", note.strip_prefix("undo of ").unwrap_or(&note), commit.revision));
    for c in &commit.changes {
        if c.op == "delete" {
            o.line(&format!("  {}: unset (was {})", c.key, inline_value(c.old_value.as_ref(), 60)));
        } else {
            o.line(&format!("  {}: {} → {}", c.key, inline_value(c.old_value.as_ref(), 60), inline_value(c.new_value.as_ref(), 60)));
        }
    }
    Ok(0)
}
