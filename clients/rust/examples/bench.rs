//! Warm throughput of get and set on one handle: `cargo run --release --example bench [dir]`.

use std::time::Instant;

use psmc::{Durability, OpenOptions, SetOptions, Store};

fn main() {
    let dir = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(|| std::env::temp_dir().join(format!("psmc-rs-bench-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir);
    for durability in [Durability::Full, Durability::Normal] {
        let store = Store::open(OpenOptions { dir: Some(dir.clone()), durability, env: Some(Default::default()), ..Default::default() }).unwrap();
        let n = 2000;
        let t = Instant::now();
        for i in 0..n {
            store.set("bench.counter", i, SetOptions::default()).unwrap();
        }
        let set = t.elapsed();
        println!("set  ({:?}): {:>8.0} ops/s  ({:.1} µs/op)", durability, n as f64 / set.as_secs_f64(), set.as_secs_f64() * 1e6 / n as f64);
    }
    let store = Store::open(OpenOptions { dir: Some(dir.clone()), env: Some(Default::default()), ..Default::default() }).unwrap();
    for i in 0..1000 {
        store.set(&format!("k.{}", i), format!("value {}", i), SetOptions::default()).unwrap();
    }
    let n = 200_000;
    let t = Instant::now();
    let mut hits = 0;
    for i in 0..n {
        if store.get(&format!("k.{}", i % 1000)).unwrap().is_some() {
            hits += 1;
        }
    }
    let get = t.elapsed();
    assert_eq!(hits, n);
    println!("get  (1000 keys): {:>8.0} ops/s  ({:.2} µs/op)", n as f64 / get.as_secs_f64(), get.as_secs_f64() * 1e6 / n as f64);
    let t = Instant::now();
    for i in 0..n / 10 {
        store.resolve(&format!("k.{}", i % 1000)).unwrap();
    }
    let r = t.elapsed();
    println!("resolve:          {:>8.0} ops/s  ({:.2} µs/op)", (n / 10) as f64 / r.as_secs_f64(), r.as_secs_f64() * 1e6 / (n / 10) as f64);
    let _ = std::fs::remove_dir_all(&dir);
}
