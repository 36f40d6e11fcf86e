//! Warm-handle throughput for the cross-language client bench (bench/clients-bench.ts in the
//! repository root). The same workload as the TypeScript and Python parts of that bench:
//!
//! `clients_bench <storeDir> <getOps> <setOps>` — open a fresh store (defaults: durability full,
//! mirror on), write 1,000 keys `bench.k<i>` = `"value <i>"` in one batch, time `getOps` gets
//! cycling over them (every one must be found), then `setOps` sets of `bench.counter` = i, and
//! print one JSON line: `{"get":{"ops","seconds"},"set":{"ops","seconds"}}`.
//!
//! Build: `cargo build --release --example clients_bench`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use psmc::{ChangeRequest, OpenOptions, SetOptions, Store};

const KEYS: usize = 1000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 3 {
        eprintln!("usage: clients_bench <storeDir> <getOps> <setOps>");
        std::process::exit(2);
    }
    let dir = PathBuf::from(&args[0]);
    let get_ops: usize = args[1].parse().expect("<getOps> must be an integer");
    let set_ops: usize = args[2].parse().expect("<setOps> must be an integer");
    let store = Store::open(OpenOptions { dir: Some(dir), env: Some(HashMap::new()), ..Default::default() }).expect("open the store");
    let keys: Vec<String> = (0..KEYS).map(|i| format!("bench.k{}", i)).collect();
    let changes = keys.iter().enumerate().map(|(i, k)| ChangeRequest::set(k.clone(), format!("value {}", i))).collect();
    store.batch(changes, None).expect("populate");

    let t = Instant::now();
    let mut found = 0usize;
    for i in 0..get_ops {
        if store.get(&keys[i % KEYS]).expect("get").is_some() {
            found += 1;
        }
    }
    let get_s = t.elapsed().as_secs_f64();
    assert_eq!(found, get_ops, "every get finds its key");

    let t = Instant::now();
    for i in 0..set_ops {
        store.set("bench.counter", i as i64, SetOptions::default()).expect("set");
    }
    let set_s = t.elapsed().as_secs_f64();
    println!("{{\"get\":{{\"ops\":{},\"seconds\":{}}},\"set\":{{\"ops\":{},\"seconds\":{}}}}}", get_ops, get_s, set_ops, set_s);
}
