//! psmc-rs commands that read: `get`, `list`, `explain` and `history` (src/cli/commands/get.ts,
//! list.ts, explain.ts, history.ts): the same text, JSON and exit codes.

use psmc::value::parse_loose_value;
use psmc::{HistoryOptions, Layer};

use super::*;

/// `psmc get <key> [--default <value>]`: the resolved value, `--json` with its layer and revision (src/cli/commands/get.ts).
pub(crate) fn get(ctx: &Ctx, o: &mut Out<'_>, args: Vec<String>, default: Option<String>) -> Result<i32, PsmcError> {
    let a = positional(&args, "get")?;
    let key = a[0].clone().unwrap_or_default();
    let fallback = match &default {
        None => None,
        Some(d) => Some(parse_loose_value(d, Some(&key))?),
    };
    let store = open_store(ctx)?;
    let r = store.resolve_or(&key, fallback.as_ref())?;
    if !r.found {
        return Err(PsmcError::new(
            ErrorCode::NotFound,
            format!("The key {} is not set in any layer.", psmc::json::quote_str(&key)),
            format!(
                "Set it with `psmc set {} <value>`, give --default <value>, or see where psmc looked with `psmc explain {}`.",
                key, key
            ),
        )
        .with("key", key.as_str()));
    }
    if ctx.json {
        o.json(&r.to_json());
    } else {
        o.line(&plain_value(r.value.as_ref().unwrap_or(&Value::Null)));
    }
    Ok(0)
}

/// `psmc list [prefix]`: a table of key, value, layer, source (src/cli/commands/list.ts).
pub(crate) fn list(ctx: &Ctx, o: &mut Out<'_>, args: Vec<String>) -> Result<i32, PsmcError> {
    let a = positional(&args, "list")?;
    let prefix = a[0].clone();
    let store = open_store(ctx)?;
    let rows = store.list(prefix.as_deref())?;
    if ctx.json {
        o.json(&Value::Array(rows.iter().map(psmc::Resolved::to_json).collect()));
        return Ok(0);
    }
    if rows.is_empty() {
        o.note(&match &prefix {
            None => "No keys are set.".to_string(),
            Some(p) => format!("No keys are set under {}.", p),
        });
        return Ok(0);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.key.clone(),
                inline_value(r.value.as_ref(), 50),
                r.layer.map(|l| l.as_str().to_string()).unwrap_or_default(),
                r.source.clone().unwrap_or_default(),
            ]
        })
        .collect();
    for l in table(&["KEY", "VALUE", "LAYER", "SOURCE"], &cells) {
        o.line(&l);
    }
    Ok(0)
}

/// `psmc explain <key>`: every layer's candidate, the winner and why (src/cli/commands/explain.ts).
pub(crate) fn explain(ctx: &Ctx, o: &mut Out<'_>, args: Vec<String>) -> Result<i32, PsmcError> {
    let a = positional(&args, "explain")?;
    let key = a[0].clone().unwrap_or_default();
    let store = open_store(ctx)?;
    let e = store.explain(&key)?;
    if ctx.json {
        o.json(&e.to_json());
        return Ok(0);
    }
    o.line(&key);
    let rows: Vec<Vec<String>> = e
        .layers
        .iter()
        .map(|l| {
            let won = e.resolved.layer == Some(l.layer) && (l.present || l.error.is_some());
            let value = match (&l.error, l.present) {
                (Some(err), _) => format!("(error: {})", err.code),
                (None, true) => inline_value(l.value.as_ref(), 50),
                (None, false) => "-".into(),
            };
            let mut meta = vec![l.origin.clone()];
            if let Some(r) = l.revision {
                meta.push(format!("revision {}", r));
            }
            if let Some(s) = &l.source {
                if l.layer != Layer::Env {
                    meta.push(format!("by {}", s));
                }
            }
            if let Some(u) = &l.updated_at {
                meta.push(short_time(Some(u)));
            }
            vec![if won { "*".into() } else { " ".into() }, l.layer.as_str().to_string(), value, meta.join(", ")]
        })
        .collect();
    for line in table(&["", "LAYER", "VALUE", "WHERE"], &rows) {
        o.line(&format!("  {}", line));
    }
    for l in &e.layers {
        if let Some(err) = &l.error {
            o.line(&format!("  {}: {}", l.layer.as_str(), err.message));
        }
    }
    o.line(&e.reason);
    Ok(0)
}

/// `psmc history [key] [--prefix] [--limit <n>] [--since <revision>]` (src/cli/commands/history.ts).
pub(crate) fn history(ctx: &Ctx, o: &mut Out<'_>, args: Vec<String>, prefix: bool, limit: Option<String>, since: Option<String>) -> Result<i32, PsmcError> {
    let a = positional(&args, "history")?;
    let key = a[0].clone();
    if prefix && key.is_none() {
        return Err(usage_error(
            "--prefix needs a key to use as the prefix.",
            "Write psmc history <prefix> --prefix, e.g. psmc history display --prefix.",
        ));
    }
    let limit = int_option(limit.as_deref(), "limit", 1, "Give how many changes to show, e.g. --limit 20.")?;
    let since = int_option(since.as_deref(), "since", 0, "Give a revision from `psmc history`, e.g. --since 41.")?;
    let store = open_store(ctx)?;
    let records = store.history(key.as_deref(), HistoryOptions { prefix, limit, since_revision: since, until_revision: None })?;
    if ctx.json {
        o.json(&Value::Array(records.iter().map(psmc::ChangeRecord::to_json).collect()));
        return Ok(0);
    }
    if records.is_empty() {
        o.note(&match &key {
            None => "No changes are recorded.".to_string(),
            Some(k) => format!("No changes are recorded for {}.", k),
        });
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let text = format!("{} → {}", inline_value(r.old_value.as_ref(), 40), inline_value(r.new_value.as_ref(), 40));
            let change = match &r.note {
                None => text,
                Some(n) => format!("{}  ({})", text, n),
            };
            vec![r.revision.to_string(), short_time(Some(&r.at)), r.source.clone(), r.key.clone(), r.op.clone(), change]
        })
        .collect();
    for l in table(&["REV", "TIME (UTC)", "SOURCE", "KEY", "OP", "CHANGE"], &rows) {
        o.line(&l);
    }
    Ok(0)
}
