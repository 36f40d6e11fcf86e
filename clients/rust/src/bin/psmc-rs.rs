//! `psmc-rs`: the fast psmc command line for shell scripts. Same commands, output and exit
//! codes as the TypeScript `psmc` (src/cli/, docs/cli.md) for get, set, unset, list, explain,
//! history, undo, status and watch. Errors: `psmc: <message>` and `  hint: <hint>` on stderr (and
//! `{"error": …}` on stdout with `--json`); exit codes from §errors. Its writes follow the mirror
//! protocol through the `Store` (a hand edit is imported first, the file exported after).
//!
//! `get` opens the database and runs a few prepared SELECTs (and one stat of the mirror file).
//!
//! Modules (src/bin/psmc_rs/): `help` (texts and arguments), `format` (output helpers),
//! `errors` (error layout, suggestions, clap errors), `status` and `watch` (those commands).

use std::ffi::OsString;
use std::io::Write;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand};

use psmc::json::Value;
use psmc::value::parse_loose_value;
use psmc::{ErrorCode, HistoryOptions, Layer, OpenOptions, Project, PsmcError, SetOptions, Store, UndoOptions};

#[path = "psmc_rs/errors.rs"]
mod errors;
#[path = "psmc_rs/format.rs"]
mod format;
#[path = "psmc_rs/help.rs"]
mod help;
#[path = "psmc_rs/status.rs"]
mod status;
#[path = "psmc_rs/watch.rs"]
mod watch;

use errors::*;
use format::*;
use help::*;

#[derive(Parser, Debug)]
#[command(
    name = "psmc-rs",
    disable_help_flag = true,
    disable_help_subcommand = true,
    disable_version_flag = true,
    args_override_self = true
)]
struct Cli {
    /// Use this store directory (no user/project lookup).
    #[arg(long, global = true, value_name = "dir")]
    store: Option<String>,
    /// Use the user store of this app.
    #[arg(long, global = true, value_name = "name")]
    app: Option<String>,
    /// Use the project store in <dir>/.psmc/.
    #[arg(long, global = true, value_name = "dir")]
    project: Option<String>,
    /// Record writes as made by <name>.
    #[arg(long, global = true, value_name = "name")]
    source: Option<String>,
    #[arg(long, global = true)]
    json: bool,
    #[arg(long, global = true)]
    debug: bool,
    #[arg(short = 'h', long, global = true)]
    help: bool,
    #[arg(long, global = true)]
    version: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    Get {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        #[arg(long)]
        default: Option<String>,
    },
    Set {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        #[arg(long)]
        string: bool,
        #[arg(long = "expect-revision")]
        expect_revision: Option<String>,
    },
    Unset {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        #[arg(long = "expect-revision")]
        expect_revision: Option<String>,
    },
    List {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
    },
    Explain {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
    },
    History {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        #[arg(long)]
        prefix: bool,
        #[arg(long)]
        limit: Option<String>,
        #[arg(long)]
        since: Option<String>,
    },
    Undo {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        #[arg(long)]
        force: bool,
    },
    Status {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
    },
    Watch {
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        #[arg(long)]
        since: Option<String>,
    },
    Help {
        args: Vec<String>,
    },
}

// ---------------------------------------------------------------------------
// Commands

struct Ctx {
    store: Option<String>,
    app: Option<String>,
    project: Option<String>,
    source: Option<String>,
    json: bool,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn open_store(ctx: &Ctx) -> Result<Store, PsmcError> {
    let source = ctx.source.clone().or_else(|| env_var("PSMC_SOURCE")).unwrap_or_else(|| "rust".into());
    let mut o = OpenOptions { source: Some(source), ..OpenOptions::default() };
    if let Some(dir) = &ctx.store {
        if ctx.project.is_some() {
            return Err(usage_error("--store and --project cannot be used together.", "--store names the one store to use; drop one of them."));
        }
        o.dir = Some(dir.into());
        o.app = ctx.app.clone();
    } else {
        o.app = Some(ctx.app.clone().unwrap_or_else(|| "psmc".into()));
        o.project = match &ctx.project {
            Some(p) => Project::Dir(p.into()),
            None => Project::Discover,
        };
    }
    Store::open(o)
}

fn positional(args: &[String], cmd: &str) -> Result<Vec<Option<String>>, PsmcError> {
    let spec = args_of(cmd);
    let required = spec.iter().filter(|a| a.starts_with('<')).count();
    let line = usage_line(Some(cmd));
    if args.len() < required {
        let missing = spec.get(args.len()).copied().unwrap_or("<argument>");
        return Err(usage_error(format!("psmc {} needs {}.", cmd, missing), format!("{}. See `psmc help {}`.", line, cmd)));
    }
    if args.len() > spec.len() {
        let extra = &args[spec.len()];
        let takes = if spec.is_empty() {
            "no arguments".to_string()
        } else {
            format!("at most {} argument{}", spec.len(), if spec.len() == 1 { "" } else { "s" })
        };
        return Err(usage_error(
            format!("psmc {} takes {}; unexpected {}.", cmd, takes, psmc::json::quote_str(extra)),
            format!("{}. Quote a value that contains spaces: psmc set key \"two words\".", line),
        ));
    }
    Ok((0..spec.len()).map(|i| args.get(i).cloned()).collect())
}

fn int_option(text: Option<&str>, name: &str, min: i64, hint: &str) -> Result<Option<i64>, PsmcError> {
    let t = match text {
        None => return Ok(None),
        Some(t) => t,
    };
    let ok = !t.is_empty() && t.len() <= 16 && t.bytes().all(|c| c.is_ascii_digit());
    let n = if ok { t.parse::<i64>().ok() } else { None };
    match n {
        Some(n) if n >= min && n <= 9_007_199_254_740_991 => Ok(Some(n)),
        _ => Err(usage_error(format!("--{} must be a whole number ≥ {}, received {}.", name, min, psmc::json::quote_str(t)), hint)),
    }
}

struct Out<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
}

impl Out<'_> {
    fn line(&mut self, s: &str) {
        let _ = writeln!(self.out, "{}", s);
    }
    fn note(&mut self, s: &str) {
        let _ = writeln!(self.err, "{}", s);
    }
    fn json(&mut self, v: &Value) {
        let _ = writeln!(self.out, "{}", v.to_json_pretty());
    }
}

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

fn run(cli: Cli, o: &mut Out<'_>) -> Result<i32, PsmcError> {
    let ctx = Ctx { store: cli.store, app: cli.app, project: cli.project, source: cli.source, json: cli.json };
    let cmd = match cli.command {
        None => return Err(usage_error("No command given.", "Run `psmc help` to see the commands, e.g. psmc get <key>.")),
        Some(c) => c,
    };
    match cmd {
        Cmd::Help { args } => {
            match args.first() {
                None => o.line(&main_usage()),
                Some(t) if t == "help" => o.line(&main_usage()),
                Some(t) if COMMANDS.iter().any(|(n, _)| n == t) => o.line(&format!("{}\n\n{}", usage_of(t), GLOBAL_HELP)),
                Some(t) => return Err(unknown_command(t)),
            }
            Ok(0)
        }
        Cmd::Get { args, default } => {
            let a = positional(&args, "get")?;
            let key = a[0].clone().unwrap_or_default();
            let fallback = match &default {
                None => None,
                Some(d) => Some(parse_loose_value(d, Some(&key))?),
            };
            let store = open_store(&ctx)?;
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
        Cmd::Set { args, string, expect_revision } => {
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
            let store = open_store(&ctx)?;
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
        Cmd::Unset { args, expect_revision } => {
            let a = positional(&args, "unset")?;
            let key = a[0].clone().unwrap_or_default();
            let expect = int_option(expect_revision.as_deref(), "expect-revision", 0, "Pass the revision shown by `psmc get <key> --json`.")?;
            let store = open_store(&ctx)?;
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
        Cmd::List { args } => {
            let a = positional(&args, "list")?;
            let prefix = a[0].clone();
            let store = open_store(&ctx)?;
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
        Cmd::Explain { args } => {
            let a = positional(&args, "explain")?;
            let key = a[0].clone().unwrap_or_default();
            let store = open_store(&ctx)?;
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
        Cmd::History { args, prefix, limit, since } => {
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
            let store = open_store(&ctx)?;
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
        Cmd::Status { args } => {
            positional(&args, "status")?;
            let store = open_store(&ctx)?;
            let Out { out, err } = o;
            let mut lines: Vec<String> = Vec::new();
            let mut notes: Vec<String> = Vec::new();
            let mut doc: Option<Value> = None;
            let code = status::run(&store, ctx.json, &mut |l| lines.push(l.to_string()), &mut |n| notes.push(n.to_string()), &mut |v| doc = Some(v.clone()))?;
            for l in lines {
                let _ = writeln!(out, "{}", l);
            }
            if let Some(v) = doc {
                let _ = writeln!(out, "{}", v.to_json_pretty());
            }
            for n in notes {
                let _ = writeln!(err, "{}", n);
            }
            Ok(code)
        }
        Cmd::Watch { args, since } => {
            let a = positional(&args, "watch")?;
            let since = int_option(since.as_deref(), "since", 0, "Give a revision from `psmc history` or `psmc revision`, e.g. --since 41.")?;
            let store = open_store(&ctx)?;
            watch::run(&store, a[0].as_deref(), since, ctx.json, o.out, o.err, &inline_value)
        }
        Cmd::Undo { args, force } => {
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
            let store = open_store(&ctx)?;
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
    }
}

fn real_main() -> i32 {
    let raw: Vec<OsString> = std::env::args_os().skip(1).collect();
    let argv: Vec<String> = raw.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let before_dashdash: Vec<&String> = argv.iter().take_while(|a| *a != "--").collect();
    let json = before_dashdash.iter().any(|a| *a == "--json");
    let debug = before_dashdash.iter().any(|a| *a == "--debug") || env_var("PSMC_DEBUG").is_some_and(|v| v != "0");
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = stderr.lock();

    // --help and --version before anything else (they never open a store).
    if before_dashdash.iter().any(|a| *a == "--help" || *a == "-h") {
        let text = match find_command(&argv) {
            Some((_, c)) if COMMANDS.iter().any(|(n, _)| *n == c) && c != "help" => format!("{}\n\n{}", usage_of(&c), GLOBAL_HELP),
            _ => main_usage(),
        };
        let _ = writeln!(out, "{}", text);
        return 0;
    }
    if before_dashdash.iter().any(|a| *a == "--version") {
        let _ = writeln!(out, "psmc-rs {} (psmc spec {})", env!("CARGO_PKG_VERSION"), psmc::SPEC_VERSION);
        return 0;
    }

    let mut full: Vec<OsString> = vec![OsString::from("psmc-rs")];
    full.extend(raw);
    let result = match Cli::try_parse_from(full) {
        Err(e) => Err(clap_error(e, &argv)),
        Ok(cli) => run(cli, &mut Out { out: &mut out, err: &mut err }),
    };
    let code = match result {
        Ok(c) => c,
        Err(e) => report_error(&e, json, debug, &mut out, &mut err),
    };
    let _ = out.flush();
    code
}

fn main() {
    std::process::exit(real_main());
}
