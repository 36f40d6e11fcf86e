//! `psmc-rs`: the fast psmc command line for shell scripts. Same commands, output and exit
//! codes as the TypeScript `psmc` (src/cli/, docs/cli.md) for get, set, unset, list, explain,
//! history, undo, status and watch. Errors: `psmc: <message>` and `  hint: <hint>` on stderr (and
//! `{"error": …}` on stdout with `--json`); exit codes from §errors. Its writes follow the mirror
//! protocol through the `Store` (a hand edit is imported first, the file exported after).
//!
//! `get` opens the database and runs a few prepared SELECTs (and one stat of the mirror file).
//!
//! Modules (src/bin/psmc_rs/): `help` (texts and arguments), `format` (output helpers),
//! `errors` (error layout, suggestions, clap errors), the commands `reads` (get, list, explain,
//! history), `writes` (set, unset, undo), `status` and `watch`. This file holds the arguments
//! (clap), opening the store, the shared argument checks and the dispatch.

use std::ffi::OsString;
use std::io::Write;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand};

use psmc::json::Value;
use psmc::{ErrorCode, OpenOptions, Project, PsmcError, Store};

#[path = "psmc_rs/errors.rs"]
mod errors;
#[path = "psmc_rs/format.rs"]
mod format;
#[path = "psmc_rs/help.rs"]
mod help;
#[path = "psmc_rs/reads.rs"]
mod reads;
#[path = "psmc_rs/status.rs"]
mod status;
#[path = "psmc_rs/watch.rs"]
mod watch;
#[path = "psmc_rs/writes.rs"]
mod writes;

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
        Cmd::Get { args, default } => reads::get(&ctx, o, args, default),
        Cmd::Set { args, string, expect_revision } => writes::set(&ctx, o, args, string, expect_revision),
        Cmd::Unset { args, expect_revision } => writes::unset(&ctx, o, args, expect_revision),
        Cmd::List { args } => reads::list(&ctx, o, args),
        Cmd::Explain { args } => reads::explain(&ctx, o, args),
        Cmd::History { args, prefix, limit, since } => reads::history(&ctx, o, args, prefix, limit, since),
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
        Cmd::Undo { args, force } => writes::undo(&ctx, o, args, force),
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
