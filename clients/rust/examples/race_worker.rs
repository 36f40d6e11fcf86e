//! Rust worker of the three-language race (test/parity/race.test.ts in the repository root).
//!
//! `race_worker <storeDir> <count> [key]` — the same protocol as the TypeScript and Python
//! workers: open the store, print `{"type":"ready"}`, wait for one line on stdin (the start
//! signal), do `count` compare-and-set increments of `key` (default `counter`), retrying on
//! `PSMC_CONFLICT` and `PSMC_BUSY`, print `{"type":"done","successes","conflicts","busy","errors"}`
//! and exit 0. Any other error stops the loop and is reported. Writes use the Rust client's
//! default source (`rust`).
//!
//! Build: `cargo build --release --example race_worker`.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use psmc::json::Value;
use psmc::{OpenOptions, SetOptions, Store};

fn json_string(s: &str) -> String {
    Value::String(s.to_string()).to_json()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: race_worker <storeDir> <count> [key]");
        std::process::exit(2);
    }
    let dir = PathBuf::from(&args[0]);
    let count: u64 = args[1].parse().unwrap_or_else(|_| {
        eprintln!("race_worker: <count> must be a non-negative integer, received {:?}", args[1]);
        std::process::exit(2);
    });
    let key = args.get(2).cloned().unwrap_or_else(|| "counter".to_string());

    let mut store = match Store::open(OpenOptions { dir: Some(dir), env: Some(HashMap::new()), ..Default::default() }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("race_worker: cannot open the store: {}: {}", e.code(), e.message());
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout();
    writeln!(out, "{{\"type\":\"ready\",\"pid\":{}}}", std::process::id()).unwrap();
    out.flush().unwrap();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();

    let (mut successes, mut conflicts, mut busy) = (0u64, 0u64, 0u64);
    let mut errors: Vec<String> = Vec::new();
    while successes < count && errors.is_empty() {
        // An absent key (revision 0) counts as 0: the store-creation race starts from nothing.
        let attempt = store.resolve(&key).and_then(|r| {
            let n = if r.value.is_none() && r.revision == 0 { Some(0.0) } else { r.value.as_ref().and_then(Value::as_f64) };
            match n {
                Some(n) => store.set(&key, n + 1.0, SetOptions { expect_revision: Some(r.revision), ..Default::default() }).map(|_| true),
                None => Ok(false),
            }
        });
        match attempt {
            Ok(true) => successes += 1,
            Ok(false) => errors.push(format!("{} is not a number", key)),
            Err(e) if e.code() == "PSMC_CONFLICT" => conflicts += 1,
            Err(e) if e.code() == "PSMC_BUSY" => busy += 1,
            Err(e) => errors.push(format!("{}: {}", e.code(), e.message())),
        }
    }
    store.close();
    let errors_json: Vec<String> = errors.iter().map(|e| json_string(e)).collect();
    writeln!(
        out,
        "{{\"type\":\"done\",\"successes\":{},\"conflicts\":{},\"busy\":{},\"errors\":[{}]}}",
        successes,
        conflicts,
        busy,
        errors_json.join(",")
    )
    .unwrap();
    out.flush().unwrap();
}
