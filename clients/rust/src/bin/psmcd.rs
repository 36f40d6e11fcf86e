//! `psmcd`: the psmc Rust service. Keeps the plaintext mirror and the `imports/` folder of one
//! or more stores in sync, and publishes the heartbeat key `service.psmcd.<host>.heartbeat`.
//! See docs/psmcd.md; the work is in `psmc::service`.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use psmc::service::options::{default_store_dir, parse_duration};
use psmc::service::{resolve_store_dir, run, ExitStatus, ServiceOptions};
use psmc::PsmcError;

#[derive(Parser, Debug)]
#[command(
    name = "psmcd",
    version,
    about = "The psmc service: keeps the plaintext mirror (config.json …) and the imports/ folder of psmc stores in sync, and publishes a heartbeat key.",
    after_help = "STORE is a store directory (holding psmc.db, or named .psmc) or a project directory (holding .psmc/). \
Without one, psmcd watches the project store found from the current directory, else the user store of --app.\n\n\
Durations: a number of milliseconds, or with a unit: 500ms, 10s, 1m.\n\n\
Stop it with SIGTERM or Ctrl-C: the sync in progress finishes, the mirrors are written, a last heartbeat says \"stopped\".\n\n\
Exit codes: 0 ok, 1 a store had a problem (with --once), 2 usage, 3 no such store, 6 a store cannot be used.\n\
Docs: docs/psmcd.md"
)]
struct Cli {
    /// Stores to watch (store or project directories).
    #[arg(value_name = "STORE")]
    stores: Vec<PathBuf>,
    /// How often each store is looked at.
    #[arg(long, value_name = "duration", default_value = "100ms", value_parser = parse_duration)]
    interval: Duration,
    /// How often the heartbeat key is written (0: never).
    #[arg(long = "heartbeat-interval", value_name = "duration", default_value = "30s", value_parser = parse_duration)]
    heartbeat_interval: Duration,
    /// Sync every store once (mirror and imports/, one heartbeat), then exit.
    #[arg(long)]
    once: bool,
    /// Log one JSON object per line on stderr.
    #[arg(long)]
    json: bool,
    /// Log every export and heartbeat too.
    #[arg(long, short)]
    verbose: bool,
    /// Leave the imports/ folders alone.
    #[arg(long = "no-imports")]
    no_imports: bool,
    /// The app whose user store is watched when no STORE is given.
    #[arg(long, value_name = "name", default_value = "psmc")]
    app: String,
    /// The source recorded with heartbeat writes.
    #[arg(long, value_name = "name", default_value = "rust-service")]
    source: String,
}

fn fail(e: &PsmcError) -> i32 {
    eprintln!("psmcd: {}", e.message());
    if !e.hint().is_empty() {
        eprintln!("  hint: {}", e.hint());
    }
    e.exit_code()
}

fn real_main() -> i32 {
    let cli = Cli::parse();
    if cli.interval.is_zero() {
        eprintln!("psmcd: --interval must be above 0");
        return 2;
    }
    if let Err(e) = psmc::engine::assert_source(&cli.source) {
        return fail(&e);
    }
    let mut stores = Vec::new();
    if cli.stores.is_empty() {
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        match default_store_dir(&cli.app, &cwd, &env) {
            Ok(d) => stores.push(d),
            Err(e) => return fail(&e),
        }
    }
    for p in &cli.stores {
        match resolve_store_dir(p) {
            Ok(d) => {
                let d = psmc::paths::canonical_dir(&d);
                if !stores.contains(&d) {
                    stores.push(d);
                }
            }
            Err(e) => return fail(&e),
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("psmcd: cannot handle signal {}: {}", sig, e);
            return 1;
        }
    }
    let opts = ServiceOptions {
        stores,
        interval: cli.interval,
        heartbeat_interval: cli.heartbeat_interval,
        once: cli.once,
        json: cli.json,
        verbose: cli.verbose,
        no_imports: cli.no_imports,
        source: cli.source,
    };
    match run(&opts, &stop) {
        Ok(ExitStatus::Ok) => 0,
        Ok(ExitStatus::Problems) => 1,
        Err(e) => fail(&e),
    }
}

fn main() {
    std::process::exit(real_main());
}
