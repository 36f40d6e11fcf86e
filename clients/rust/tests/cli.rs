//! `psmc-rs` end to end: output shapes, exit codes and error layout of the TypeScript CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use psmc::json::{self, Value};

static N: AtomicUsize = AtomicUsize::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("psmc-rs-cli-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_psmc-rs"))
        .arg("--store")
        .arg(dir.join("store"))
        .args(args)
        .current_dir(dir)
        .env_remove("PSMC_SOURCE")
        .env_remove("PSMC_DEBUG")
        .env("PSMC_HOME", dir.join("home"))
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn set_get_and_json_shapes() {
    let t = TempDir::new();
    let o = run(&t.0, &["set", "display.units", "metric"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "display.units = \"metric\" (revision 1)\n");
    let o = run(&t.0, &["get", "display.units"]);
    assert_eq!(out(&o), "metric\n");
    let o = run(&t.0, &["get", "display.units", "--json"]);
    let v = json::parse(&out(&o)).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["key", "value", "found", "layer", "revision", "source", "updatedAt"]);
    assert_eq!(v.get("value"), Some(&Value::from("metric")));
    assert_eq!(v.get("layer"), Some(&Value::from("user")));
    assert_eq!(v.get("revision"), Some(&Value::from(1)));
    assert_eq!(v.get("source"), Some(&Value::from("rust")));
    // The same value again is a no-op.
    let o = run(&t.0, &["set", "display.units", "metric"]);
    assert_eq!(out(&o), "display.units is already \"metric\"; nothing changed (store revision 1)\n");
    // JSON values, negative numbers, --string, and -- for values starting with "-".
    run(&t.0, &["set", "n", "-5"]);
    run(&t.0, &["set", "s", "1.0", "--string"]);
    run(&t.0, &["set", "x", "--", "-x"]);
    assert_eq!(out(&run(&t.0, &["get", "n"])), "-5\n");
    assert!(out(&run(&t.0, &["get", "s", "--json"])).contains("\"value\": \"1.0\""));
    assert_eq!(out(&run(&t.0, &["get", "x"])), "-x\n");
    let o = run(&t.0, &["set", "o", r#"{"b":1,"2":[1.5e-7,-0]}"#]);
    assert_eq!(out(&o), "o = {\"2\":[1.5e-7,0],\"b\":1} (revision 5)\n");
}

#[test]
fn exit_codes_and_error_layout() {
    let t = TempDir::new();
    // A read never creates the store.
    let o = run(&t.0, &["get", "missing"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).starts_with("psmc: The key \"missing\" is not set in any layer.\n  hint: "), "{}", err(&o));
    assert!(!t.0.join("store").exists());
    let o = run(&t.0, &["get", "missing", "--default", "3"]);
    assert_eq!((o.status.code(), out(&o)), (Some(0), "3\n".to_string()));
    // Usage: exit 2.
    assert_eq!(run(&t.0, &["get"]).status.code(), Some(2));
    assert_eq!(run(&t.0, &["frob"]).status.code(), Some(2));
    let o = run(&t.0, &["get", "a", "--bogus"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(err(&o), "psmc: Unknown option --bogus.\n  hint: Usage: psmc get <key> [--default <value>].\n");
    assert_eq!(run(&t.0, &["set", "a", "1", "--expect-revision", "x"]).status.code(), Some(2));
    // Invalid input: exit 5, with --json the error also on stdout.
    let o = run(&t.0, &["get", "a..b", "--json"]);
    assert_eq!(o.status.code(), Some(5));
    let v = json::parse(&out(&o)).unwrap();
    assert_eq!(v.get("error").and_then(|e| e.get("code")), Some(&Value::from("PSMC_KEY_SYNTAX")));
    assert_eq!(run(&t.0, &["set", "a", "9007199254740993"]).status.code(), Some(5));
    // Conflict: exit 4 and the current value.
    run(&t.0, &["set", "a", "1"]);
    let o = run(&t.0, &["set", "a", "2", "--expect-revision", "0"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(err(&o).contains("\n  current: a = 1 (revision 1)\n"), "{}", err(&o));
    assert_eq!(run(&t.0, &["set", "a", "2", "--expect-revision", "1"]).status.code(), Some(0));
    // Store unavailable: a short garbage file is PSMC_CORRUPT, exit 7.
    let t2 = TempDir::new();
    std::fs::create_dir_all(t2.0.join("store")).unwrap();
    std::fs::write(t2.0.join("store").join("psmc.db"), "garbage").unwrap();
    assert_eq!(run(&t2.0, &["get", "a"]).status.code(), Some(7));
}

#[test]
fn history_undo_unset_list_explain() {
    let t = TempDir::new();
    let o = run(&t.0, &["undo"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!t.0.join("store").exists(), "undo must not create the store");
    run(&t.0, &["set", "a", "1"]);
    run(&t.0, &["set", "a", "2"]);
    run(&t.0, &["set", "b.c", "true"]);
    let o = run(&t.0, &["history", "--json"]);
    let v = json::parse(&out(&o)).unwrap();
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    let first = &v.as_array().unwrap()[2];
    assert_eq!(first.get("oldValue"), None);
    assert_eq!(first.get("newValue"), Some(&Value::from(1)));
    let o = run(&t.0, &["undo", "2"]);
    assert_eq!(out(&o), "Undid revision 2 (now revision 4):\n  a: 2 → 1\n");
    let o = run(&t.0, &["undo", "2"]);
    assert_eq!(o.status.code(), Some(4), "a later change must block the undo: {}", err(&o));
    let o = run(&t.0, &["undo", "2", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "Nothing changed: the store already holds the values from before revision 2 (store revision 4).\n");
    let o = run(&t.0, &["list"]);
    assert_eq!(out(&o), "KEY  VALUE  LAYER  SOURCE\na    1      user   rust\nb.c  true   user   rust\n");
    let o = run(&t.0, &["unset", "b.c"]);
    assert_eq!(out(&o), "Unset b.c (was true; revision 5)\n");
    let o = run(&t.0, &["explain", "a"]);
    assert!(out(&o).contains("  *  user"), "{}", out(&o));
    assert!(out(&o).contains("\nThe value comes from the user store ("), "{}", out(&o));
    let o = run(&t.0, &["history", "a", "--limit", "1"]);
    assert_eq!(out(&o).lines().count(), 2);
}

#[cfg(unix)]
#[test]
fn a_source_that_is_not_utf8_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let t = TempDir::new();
    let o = Command::new(env!("CARGO_BIN_EXE_psmc-rs"))
        .args(["set", "a", "1", "--store"])
        .arg(t.0.join("store"))
        .arg("--source")
        .arg(std::ffi::OsStr::from_bytes(b"x\xff"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(!t.0.join("store").exists());
}

#[test]
fn env_layer_and_note() {
    let t = TempDir::new();
    let o = Command::new(env!("CARGO_BIN_EXE_psmc-rs"))
        .args(["set", "a", "3", "--store"])
        .arg(t.0.join("store"))
        .env("PSMC_A", "7")
        .output()
        .unwrap();
    assert_eq!(err(&o), "note: PSMC_A is set, so reads of a still give 7 (see psmc explain a)\n");
    let o = Command::new(env!("CARGO_BIN_EXE_psmc-rs")).args(["get", "a", "--store"]).arg(t.0.join("store")).env("PSMC_A", "7").output().unwrap();
    assert_eq!(out(&o), "7\n");
}
