//! What the mirror protocol costs the Rust store: `cargo run --release --example mirror_bench`.
//!
//! Prints a table and saves it as JSON in `bench/results/rust-mirror-<time>.json` and
//! `bench/results/rust-mirror-latest.json`:
//! - warm `set` throughput with the mirror on and off, durability full and normal;
//! - a full export (the file written from the database) of stores of 100, 1,000 and 10,000 keys;
//! - importing a hand edit of one key in those stores (`sync_mirror` after the save);
//! - an export of one changed key in a file of those sizes (span edit, comments kept).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use psmc::json::{obj, Value};
use psmc::{ChangeRequest, Durability, OpenOptions, SetOptions, Store};

fn open(dir: &Path, durability: Durability, mirror: bool) -> Store {
    Store::open(OpenOptions { dir: Some(dir.to_path_buf()), durability, env: Some(Default::default()), mirror: Some(mirror), ..Default::default() }).unwrap()
}

fn fresh(root: &Path, name: &str) -> PathBuf {
    let d = root.join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let root = std::env::temp_dir().join(format!("psmc-rs-mirror-bench-{}", std::process::id()));
    let mut rows: Vec<(String, f64, &str)> = Vec::new();

    for durability in [Durability::Full, Durability::Normal] {
        for mirror in [false, true] {
            let dir = fresh(&root, "set");
            let store = open(&dir, durability, mirror);
            store.set("warm", 0, SetOptions::default()).unwrap();
            let n = 2000;
            let t = Instant::now();
            for i in 0..n {
                store.set("bench.counter", i, SetOptions::default()).unwrap();
            }
            let el = t.elapsed();
            rows.push((format!("set, durability {:?}, mirror {}", durability, if mirror { "on" } else { "off" }), n as f64 / el.as_secs_f64(), "ops/s"));
        }
    }

    for size in [100usize, 1000, 10_000] {
        let dir = fresh(&root, &format!("size-{}", size));
        let loader = open(&dir, Durability::Normal, false);
        let changes: Vec<ChangeRequest> = (0..size).map(|i| ChangeRequest::set(format!("group{}.key{}", i % 50, i), format!("value number {}", i))).collect();
        loader.batch(changes, None).unwrap();
        drop(loader);
        // Full export: the file is missing, the first handle with the mirror on writes it.
        let t = Instant::now();
        let store = open(&dir, Durability::Normal, true);
        rows.push((format!("open + full export, {} keys", size), t.elapsed().as_secs_f64() * 1e3, "ms"));
        let file = dir.join("config.json");
        // One changed key exported into the file (span edit).
        let mut spans = Vec::new();
        for i in 0..9 {
            let t = Instant::now();
            store.set("group0.key0", i, SetOptions::default()).unwrap();
            store.flush_mirror().unwrap();
            spans.push(t.elapsed().as_secs_f64() * 1e3);
            std::thread::sleep(Duration::from_millis(55));
        }
        rows.push((format!("set + export of one key, {} keys", size), median(spans), "ms"));
        // A hand edit of one key imported.
        let mut imports = Vec::new();
        for i in 0..9 {
            let text = std::fs::read_to_string(&file).unwrap();
            let from = if i == 0 { "\"value number 1\"".to_string() } else { format!("\"edited {}\"", i - 1) };
            let edited = text.replacen(&from, &format!("\"edited {}\"", i), 1);
            std::fs::write(&file, edited).unwrap();
            std::fs::File::options().write(true).open(&file).unwrap().set_modified(SystemTime::now() - Duration::from_secs(1)).unwrap();
            let t = Instant::now();
            let r = store.sync_mirror().unwrap();
            imports.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(r.imported.is_some(), "{:?}", r);
        }
        rows.push((format!("import of a hand edit of one key, {} keys", size), median(imports), "ms"));
    }
    let _ = std::fs::remove_dir_all(&root);

    println!("{:<52} {:>12}", "measure", "result");
    for (name, v, unit) in &rows {
        println!("{:<52} {:>9.1} {}", name, v, unit);
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results");
    let now = psmc::clock::iso_time(psmc::clock::system_ms());
    let doc = obj([
        ("bench", Value::String("rust-mirror".into())),
        ("at", Value::String(now.clone())),
        ("results", Value::Array(rows.iter().map(|(n, v, u)| obj([("measure", Value::String(n.clone())), ("value", Value::Number((*v * 10.0).round() / 10.0)), ("unit", Value::String((*u).into()))])).collect())),
    ]);
    let text = format!("{}\n", doc.to_json_pretty());
    if std::fs::create_dir_all(&out).is_ok() {
        let stamp = now.replace([':', '.'], "-");
        let _ = std::fs::write(out.join(format!("rust-mirror-{}.json", &stamp[..19])), &text);
        let _ = std::fs::write(out.join("rust-mirror-latest.json"), &text);
        println!("saved in {}", out.display());
    }
}
