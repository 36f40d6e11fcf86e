//! `psmc-rs`: the fast psmc command line for shell scripts. Same commands, output and exit
//! codes as the TypeScript `psmc` (src/cli/, docs/cli.md) for get, set, unset, list, explain,
//! history and undo. Errors: `psmc: <message>` and `  hint: <hint>` on stderr (and
//! `{"error": …}` on stdout with `--json`); exit codes from §errors.
//!
//! `get` opens the database and runs a few prepared SELECTs; nothing else is read.

use std::ffi::OsString;
use std::io::Write;

use clap::error::{ContextKind, ContextValue, ErrorKind};

#[path = "psmc_rs/watch.rs"]
mod watch;
use clap::{Parser, Subcommand};

use psmc::json::Value;
use psmc::value::parse_loose_value;
use psmc::{ErrorCode, HistoryOptions, Layer, OpenOptions, Project, PsmcError, SetOptions, Store, UndoOptions};

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
// Help texts (the TypeScript CLI's, word for word)

const COMMANDS: &[(&str, &str)] = &[
    ("get", "Print the value of a key"),
    ("set", "Set a key to a value"),
    ("unset", "Remove a key from the store"),
    ("list", "List keys and their values, optionally under a prefix"),
    ("explain", "Show every layer's value for a key, and which one wins and why"),
    ("history", "Show recorded changes, newest first"),
    ("undo", "Revert a revision as a new change"),
    ("watch", "Print changes as they are committed (and keep the mirror in sync)"),
    ("help", "Show help for psmc or for a command"),
];

/// Commands of the TypeScript CLI that psmc-rs leaves to it.
const TS_ONLY: &[&str] = &["export", "import", "init", "schema", "revision"];

const GLOBAL_HELP: &str = "Global options (before or after the command):
  --store <dir>     Use this store directory (no user/project lookup)
  --app <name>      Use the user store of this app ($XDG_CONFIG_HOME/<name>, ~/.config/<name>,
                    ~/Library/Application Support/<name>, %APPDATA%\\<name>); default psmc
  --project <dir>   Use the project store in <dir>/.psmc/ (default: found by walking up from
                    the current directory, like git)
  --source <name>   Record writes as made by <name> (default: $PSMC_SOURCE, else cli)
  --json            Print results (and errors) as JSON on stdout, for scripts
  --debug           Print error details on errors
  -h, --help        Show help
  --version         Print the psmc-rs version";

fn usage_of(cmd: &str) -> &'static str {
    match cmd {
        "get" => "Usage: psmc get <key> [--default <value>]

Prints the value of <key> from the highest layer that has it (override, env,
project store, user store, default). A string is printed as is; any other
value as JSON. With --json, prints an object with key, value, found, layer,
revision, source and updatedAt.

Exits 3 (PSMC_NOT_FOUND) when no layer has the key and no --default is given.

Options:
  --default <value>   Print this when no layer has the key (parsed as JSON when
                      it parses, else taken as a string)

Examples:
  psmc get display.units
  psmc get display.units --json
  psmc get retries --default 3
  PSMC_DISPLAY__UNITS=imperial psmc get display.units",
        "set" => "Usage: psmc set <key> <value> [--string] [--expect-revision <n>]

Sets <key> in the store that receives writes (the project store when there is
one, else the user store), recorded in history with the --source.

<value> is parsed as JSON when it parses (1 is a number, true a boolean,
{\"x\":1} an object, \"1\" the string 1); anything else is taken as a string
(hello, metric). --string always takes it as a string.

With --expect-revision <n> the write is a compare-and-set: it succeeds only
if the key is still at revision <n> (0: the key must not exist yet), else it
fails with PSMC_CONFLICT (exit 4) and shows the current value. Take <n> from
`psmc get <key> --json`.

Options:
  --string                  Take <value> as a string, never as JSON
  --expect-revision <n>     Fail unless the key is at revision <n>

Examples:
  psmc set display.units metric
  psmc set retries 3
  psmc set build.tag 1.0 --string
  psmc set plot.range '{\"min\":0,\"max\":10}'
  psmc set display.units imperial --expect-revision 7
  psmc set offset -- -x",
        "unset" => "Usage: psmc unset <key> [--expect-revision <n>]

Removes <key> from the store that receives writes (recorded in history, so
`psmc undo` brings it back). A key that is not set there is left alone.
Other layers (env, the user store under a project store, defaults) may
still give the key a value: `psmc explain <key>` shows them.

With --expect-revision <n>, fails with PSMC_CONFLICT (exit 4) unless the key
is still at revision <n>.

Options:
  --expect-revision <n>     Fail unless the key is at revision <n>

Examples:
  psmc unset display.units
  psmc unset display.units --expect-revision 7
  psmc unset display.units --json",
        "list" => "Usage: psmc list [prefix]

Lists every key that has a value in some layer, sorted, with its resolved
value (cut to fit), the layer it comes from and its source. With a prefix,
only keys under it: `list display` gives display.units but not displays.x.
With --json, prints an array of objects like `psmc get --json` does.

Examples:
  psmc list
  psmc list display
  psmc list --json",
        "explain" => "Usage: psmc explain <key>

Shows, highest first, what every layer holds for <key>: process overrides,
the environment variable (PSMC_<KEY> with . written as __), the project
store, the user store, defaults. The winning layer is marked with *, and a
last line says why it wins. An environment variable that does not parse is
shown with its error. With --json, prints the whole explanation object.

Examples:
  psmc explain display.units
  PSMC_DISPLAY__UNITS=imperial psmc explain display.units
  psmc explain display.units --json",
        "history" => "Usage: psmc history [key] [--prefix] [--limit <n>] [--since <revision>]

Lists the recorded changes of the store that receives writes, newest first:
revision, time (UTC), source, key, operation, and old → new value. A schema
change shows as key @schema. With a key, only its changes; with --prefix,
also those of the keys under it. With --json, prints an array of change
records ({revision, seq, key, op, oldValue, newValue, source, at, note});
an absent oldValue/newValue means the key did not exist.

Options:
  --prefix             With <key>: include the keys under it (display → display.units)
  --limit <n>          At most <n> changes
  --since <revision>   Only changes after <revision>

Examples:
  psmc history
  psmc history display.units
  psmc history display --prefix --limit 20
  psmc history --since 41 --json",
        "undo" => "Usage: psmc undo [revision] [--force]

Reverts the changes of one revision (the newest by default) as a new change,
so the undo itself is in history and can be undone. A key changed again
after that revision is not overwritten: the undo fails with PSMC_CONFLICT
(exit 4) unless --force is given. Nothing to undo exits 3.

Options:
  --force   Revert even keys that were changed again later (those later
            changes stay in history)

Examples:
  psmc undo
  psmc undo 41
  psmc undo 41 --force
  psmc history --limit 5 && psmc undo",
        "watch" => watch::USAGE,
        _ => "Usage: psmc help [command]",
    }
}

fn args_of(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "get" | "explain" | "unset" => &["<key>"],
        "set" => &["<key>", "<value>"],
        "list" => &["[prefix]"],
        "history" => &["[key]"],
        "undo" => &["[revision]"],
        "watch" => &["[prefix]"],
        _ => &["[command]"],
    }
}

fn options_of(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "get" => &["default"],
        "set" => &["string", "expect-revision"],
        "unset" => &["expect-revision"],
        "history" => &["prefix", "limit", "since"],
        "undo" => &["force"],
        "watch" => &["since"],
        _ => &[],
    }
}

const GLOBAL_OPTIONS: &[&str] = &["store", "app", "project", "source", "json", "debug", "help", "version"];

fn main_usage() -> String {
    let width = COMMANDS.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let commands: Vec<String> = COMMANDS.iter().map(|(n, s)| format!("  {:width$}  {}", n, s, width = width)).collect();
    format!(
        "Usage: psmc-rs <command> [arguments] [options]

psmc-rs: the fast psmc command line (Rust). It reads and writes the same store
as psmc, with the same output and exit codes, and keeps the store's mirror file
(config.json) in sync as psmc does. For export, import, init, schema, revision,
status, snapshot and doctor use psmc.

Commands:
{}

{}

Environment:
  PSMC_HOME         The user store directory (instead of the platform config directory)
  PSMC_SOURCE       The default --source
  PSMC_DEBUG=1      Same as --debug
  PSMC_<KEY>        A value for a key: PSMC_DISPLAY__UNITS feeds display.units

Exit codes: 0 ok, 1 internal error, 2 usage, 3 not found, 4 conflict,
5 invalid input, 6 store unavailable, 7 store format (see docs/cli.md).

Examples:
  psmc-rs set display.units metric
  psmc-rs get display.units
  psmc-rs explain display.units
  psmc-rs help set",
        commands.join("\n"),
        GLOBAL_HELP
    )
}

// ---------------------------------------------------------------------------
// Output helpers (src/cli/format.ts)

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `s.slice(0, n)` in UTF-16 units, never splitting a character.
fn slice_utf16(s: &str, n: usize) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        if units + c.len_utf16() > n {
            return &s[..i];
        }
        units += c.len_utf16();
    }
    s
}

/// A value as one line of JSON cut to `max` characters with `…`; `(unset)` for None.
fn inline_value(value: Option<&Value>, max: usize) -> String {
    match value {
        None => "(unset)".into(),
        Some(v) => {
            let text = v.to_json();
            if utf16_len(&text) > max {
                format!("{}…", slice_utf16(&text, max - 1))
            } else {
                text
            }
        }
    }
}

/// A value as `get` prints it: a string raw, anything else as JSON.
fn plain_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_json(),
    }
}

/// `2026-11-26T04:03:25.146Z-0003` → `2026-11-26 04:03:25`.
fn short_time(hlc: Option<&str>) -> String {
    match hlc {
        None => String::new(),
        Some(t) => {
            let b = t.as_bytes();
            if b.len() >= 19 && b[10] == b'T' && b[..10].iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() }) {
                format!("{} {}", &t[..10], &t[11..19])
            } else {
                t.to_string()
            }
        }
    }
}

/// Rows as aligned columns two spaces apart; the last column is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r.get(i).map(|c| utf16_len(c)).unwrap_or(0)).chain([utf16_len(header[i])]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<String>| -> String {
        let n = cells.len();
        let parts: Vec<String> = cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| if i == n - 1 { c } else { format!("{}{}", c, " ".repeat(widths[i].saturating_sub(utf16_len(&c)))) })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(header.iter().map(|s| s.to_string()).collect())];
    for r in rows {
        out.push(line(r.clone()));
    }
    out
}

// ---------------------------------------------------------------------------
// Errors (src/cli/errors.ts)

fn usage_error(message: impl Into<String>, hint: impl Into<String>) -> PsmcError {
    PsmcError::usage(message, hint)
}

fn inline(v: &Value) -> String {
    let text = v.to_json();
    if utf16_len(&text) > 200 {
        format!("{}…", slice_utf16(&text, 199))
    } else {
        text
    }
}

fn report_error(e: &PsmcError, json: bool, debug: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut lines = vec![format!("psmc: {}", e.message())];
    let d = e.details();
    if e.error_code() == ErrorCode::Conflict && d.get("currentRevision").and_then(Value::as_f64).is_some() && d.get("key").is_some() && !d.contains_key("revision") {
        let key = d.get("key").and_then(Value::as_str).unwrap_or("");
        let rev = psmc::json::format_number(d.get("currentRevision").and_then(Value::as_f64).unwrap_or(0.0));
        lines.push(match d.get("currentValue") {
            Some(v) => format!("  current: {} = {} (revision {})", key, inline(v), rev),
            None => format!("  current: {} is not set (revision 0)", key),
        });
    }
    if let Some(x) = d.get("excerpt").and_then(Value::as_str) {
        for l in x.split('\n') {
            lines.push(format!("  {}", l));
        }
    }
    lines.push(format!("  hint: {}", e.hint()));
    if debug {
        lines.push(format!("{}: {}", e.code(), e.message()));
        lines.push(format!("details: {}", Value::Object(d.clone()).to_json()));
    }
    let _ = writeln!(err, "{}", lines.join("\n"));
    if json {
        let _ = writeln!(out, "{}", psmc::json::obj([("error", e.to_json())]).to_json_pretty());
    }
    e.exit_code()
}

// ---------------------------------------------------------------------------
// Edit distance for "Did you mean …?" (src/cli/suggest.ts)

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (rows, cols) = (a.len() + 1, b.len() + 1);
    let mut d = vec![0usize; rows * cols];
    for i in 0..rows {
        d[i * cols] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(cols) {
        *cell = j;
    }
    for i in 1..rows {
        for j in 1..cols {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * cols + j] + 1).min(d[i * cols + j - 1] + 1).min(d[(i - 1) * cols + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * cols + j - 2] + 1);
            }
            d[i * cols + j] = best;
        }
    }
    d[a.len() * cols + b.len()]
}

fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_lowercase();
    let mut best: Option<&str> = None;
    let mut best_d = usize::MAX;
    let mut prefixed = Vec::new();
    for c in candidates {
        if lower.chars().count() >= 2 && c.starts_with(&lower) {
            prefixed.push(c);
        }
        let dist = edit_distance(&lower, c);
        if dist < best_d {
            best = Some(c);
            best_d = dist;
        }
    }
    let allowed = if lower.chars().count() <= 4 { 1 } else { 2 };
    if best.is_some() && best_d <= allowed {
        return best;
    }
    if prefixed.len() == 1 {
        Some(prefixed[0])
    } else {
        None
    }
}

fn unknown_option(raw: &str, known: &[&str], usage_line: &str) -> PsmcError {
    let name = raw.trim_start_matches('-');
    let did = closest(name, known.iter().copied()).map(|g| format!(" Did you mean --{}?", g)).unwrap_or_default();
    let dash = if raw.starts_with('-') && !raw.starts_with("--") {
        " To pass a value that starts with \"-\", put -- before it (psmc set key -- -x)."
    } else {
        ""
    };
    usage_error(format!("Unknown option {}.{}", raw, did), format!("{}.{}", usage_line, dash))
}

fn usage_line(cmd: Option<&str>) -> String {
    match cmd {
        None => "Usage: psmc <command> [arguments] [options]".into(),
        Some(c) => usage_of(c).lines().next().unwrap_or("").trim().to_string(),
    }
}

fn unknown_command(name: &str) -> PsmcError {
    if TS_ONLY.contains(&name) {
        return usage_error(
            format!("psmc-rs does not implement the command {}.", psmc::json::quote_str(name)),
            format!("Use the TypeScript CLI: psmc {} …; it works on the same store.", name),
        );
    }
    let guess = closest(name, COMMANDS.iter().map(|(c, _)| *c)).map(|g| format!(" Did you mean {}?", g)).unwrap_or_default();
    usage_error(
        format!("Unknown command {}.{}", psmc::json::quote_str(name), guess),
        "Run `psmc help` to see the commands. Usage: psmc <command> [arguments] [options]",
    )
}

/// The first subcommand name among the arguments (skipping global options and their values).
fn find_command(argv: &[String]) -> Option<(usize, String)> {
    let mut i = 0;
    while i < argv.len() {
        let a = &argv[i];
        if a == "--" {
            return None;
        }
        if let Some(name) = a.strip_prefix("--") {
            if ["store", "app", "project", "source"].contains(&name) {
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        if a.starts_with('-') && a.len() > 1 {
            i += 1;
            continue;
        }
        return Some((i, a.clone()));
    }
    None
}

/// Turns a clap error into the psmc usage error the TypeScript CLI prints.
fn clap_error(e: clap::Error, argv: &[String]) -> PsmcError {
    let cmd = find_command(argv).map(|(_, c)| c).filter(|c| COMMANDS.iter().any(|(n, _)| n == c));
    let line = usage_line(cmd.as_deref());
    let ctx = |k: ContextKind| -> Option<String> {
        e.get(k).and_then(|v| match v {
            ContextValue::String(s) => Some(s.clone()),
            ContextValue::Strings(v) => v.first().cloned(),
            _ => None,
        })
    };
    match e.kind() {
        ErrorKind::InvalidSubcommand => unknown_command(&ctx(ContextKind::InvalidSubcommand).unwrap_or_default()),
        ErrorKind::UnknownArgument => {
            let raw = ctx(ContextKind::InvalidArg).unwrap_or_default();
            let raw = raw.split('=').next().unwrap_or("").to_string();
            let mut known: Vec<&str> = GLOBAL_OPTIONS.to_vec();
            if let Some(c) = &cmd {
                known.extend(options_of(c));
            }
            let err = unknown_option(&raw, &known, &line);
            if cmd.is_none() && find_command(argv).is_some() {
                return usage_error(format!("{} (a command's own options go after the command name)", err.message()), err.hint().to_string());
            }
            err
        }
        ErrorKind::InvalidUtf8 => usage_error("An argument is not valid UTF-8 text.", format!("{}. Pass keys, values and sources as UTF-8.", line)),
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::MissingRequiredArgument => {
            let raw = ctx(ContextKind::InvalidArg).unwrap_or_default();
            let shown = raw.split([' ', '=']).next().unwrap_or("").to_string();
            usage_error(format!("{} needs a value.", shown), format!("Write {} <value> or {}=<value>.", shown, shown))
        }
        ErrorKind::TooManyValues | ErrorKind::ArgumentConflict => {
            let raw = ctx(ContextKind::InvalidArg).unwrap_or_default();
            let shown = raw.split([' ', '=']).next().unwrap_or("").to_string();
            usage_error(format!("{} takes no value.", shown), format!("Write {} alone.", shown))
        }
        _ => usage_error(e.to_string().trim().trim_start_matches("error: ").to_string(), format!("{}. See `psmc help`.", line)),
    }
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
