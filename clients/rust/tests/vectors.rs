//! The Rust runner of the conformance vectors (spec/vectors/README.md), following the
//! TypeScript runner test/spec/vectors.test.ts.
//!
//! One test runs every case of every `spec/vectors/**/*.json` and prints
//! `N passed, N failed (N expected failures, N skipped)` plus the failing ids.
//! `spec/expected-failures/rust.txt` lists cases known to fail (`<id> <reason>`): a listed case
//! that passes fails the run, and so does a listed id that no vector has.
//!
//! Two kinds of input cannot be expressed through the Rust API and are mapped here, at the
//! boundary, to the error the spec names:
//! - a lone UTF-16 surrogate: the vector files are parsed with a marker character in its place;
//!   JSON text members (`valueJson`, `docJson` …) holding one fail with `PSMC_VALUE_INVALID`
//!   (README: "a runner whose parser rejects such text itself must map it"), and a `source`
//!   holding one fails with `PSMC_USAGE` (a Rust `&str` cannot be ill-formed; the CLI refuses a
//!   non-UTF-8 `--source` the same way);
//! - a non-integer revision (`expectRevision: 1.5`): the API takes `i64`, so the runner reports
//!   `PSMC_USAGE`, the code of an out-of-range revision.
//!
//! The runner is split by family: `vectors/load.rs` (files, expected failures),
//! `vectors/check.rs` (outcomes), `vectors/common.rs` (result type, arguments), and one module
//! per family of ops: `vectors/core_ops.rs`, `mirror.rs`, `snapshot.rs`, `store.rs` (stateful cases).

// The crate root is tests/vectors.rs, so its modules are found through `path` (Cargo builds
// every tests/*.rs as its own test; tests/vectors/ holds this one's parts).
#[path = "vectors/check.rs"]
mod check;
#[path = "vectors/common.rs"]
mod common;
#[path = "vectors/core_ops.rs"]
mod core_ops;
#[path = "vectors/load.rs"]
mod load;
#[path = "vectors/mirror.rs"]
mod mirror;
#[path = "vectors/snapshot.rs"]
mod snapshot;
#[path = "vectors/store.rs"]
mod store;

use std::panic::{catch_unwind, AssertUnwindSafe};

use psmc::json::{self, LoneSurrogates, Value};

use check::check;
use common::{root, R, LONE};
use load::{expand, expected_failures, list_json, semver, spec_version};

/// A pure case's op, dispatched to its family.
fn run_pure(op: &str, i: &Value) -> R {
    match op {
        "mirror.merge" => mirror::merge(i),
        "snapshot.name" | "snapshot.render" | "snapshot.parse" | "snapshot.diff" => snapshot::snapshot_op(op, i),
        "mirror.parse" | "mirror.render" | "mirror.update" => mirror::mirror_op(op, i),
        _ => core_ops::run_core(op, i),
    }
}

fn run_case(c: &Value) -> Result<(), String> {
    if c.get("steps").is_some() {
        return store::run_stateful(c);
    }
    let op = c.get("op").and_then(Value::as_str).ok_or("a pure case needs op")?;
    let input = c.get("input").ok_or("a pure case needs input")?;
    let expect = c.get("expect").ok_or("a pure case needs expect")?;
    check(expect, run_pure(op, input), op)
}

#[test]
fn conformance_vectors() {
    let version = spec_version();
    let expected = expected_failures();
    let mut files = Vec::new();
    list_json(&root().join("vectors"), &mut files);
    files.sort();
    let (mut passed, mut failed, mut xfail, mut skipped) = (0, 0, 0, 0);
    let mut failures: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let doc = expand(json::parse_with(&text, LoneSurrogates::Replace(LONE)).unwrap_or_else(|e| panic!("{}: {}", file.display(), e)));
        for c in doc.get("cases").and_then(Value::as_array).unwrap() {
            let id = c.get("id").and_then(Value::as_str).unwrap().to_string();
            seen.insert(id.clone());
            let since = c.get("since").and_then(Value::as_str).unwrap_or("0.0.0");
            let until = c.get("until").and_then(Value::as_str);
            if semver(since) > semver(&version) || until.is_some_and(|u| semver(u) <= semver(&version)) {
                skipped += 1;
                continue;
            }
            let outcome = match catch_unwind(AssertUnwindSafe(|| run_case(c))) {
                Ok(r) => r,
                Err(p) => Err(format!(
                    "panicked: {}",
                    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
                )),
            };
            let desc = c.get("description").and_then(Value::as_str).unwrap_or("");
            match (outcome, expected.get(&id)) {
                (Ok(()), None) => passed += 1,
                (Err(msg), None) => {
                    failed += 1;
                    failures.push(format!("FAIL {} {}: {}", id, desc, msg));
                }
                (Err(_), Some(_)) => xfail += 1,
                (Ok(()), Some(reason)) => {
                    failed += 1;
                    failures.push(format!("FAIL {} is listed in spec/expected-failures/rust.txt ({}) but passes: remove it from the list", id, reason));
                }
            }
        }
    }
    for id in expected.keys() {
        if !seen.contains(id) {
            failed += 1;
            failures.push(format!("FAIL spec/expected-failures/rust.txt lists {}, which no vector has", id));
        }
    }
    for f in &failures {
        println!("{}", f);
    }
    println!("vectors: {} passed, {} failed ({} expected failures, {} skipped)", passed, failed, xfail, skipped);
    if !failures.is_empty() {
        let ids: Vec<&str> = failures.iter().filter_map(|f| f.split_whitespace().nth(1)).collect();
        panic!("{} vector case(s) failed: {}", failed, ids.join(", "));
    }
}
