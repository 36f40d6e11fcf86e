//! What the mirror codecs cost, alone: `cargo run --release --example codec_bench`.
//!
//! For files of 1,000 and 10,000 keys (each an object with a string, an array of numbers and a
//! boolean) in JSONC, TOML and YAML: render the canonical file, parse it, update one key (span
//! edit), and parse a file of one value with 60,000 members. Prints a table (median of 7 runs)
//! and saves it as JSON in `bench/results/rust-codecs-<time>.json` and
//! `bench/results/rust-codecs-latest.json`. Nothing here is asserted; timings vary with the
//! machine and its load.

use std::path::Path;
use std::time::Instant;

use psmc::json::{obj, Value};
use psmc::mirror::{self, MirrorChange, MirrorFormat};

fn median_ms(mut run: impl FnMut()) -> f64 {
    run(); // warm
    let mut v: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let mut rows: Vec<(String, f64, &str)> = Vec::new();
    for n in [1_000usize, 10_000] {
        let entries: Vec<(String, Value)> = (0..n)
            .map(|i| {
                let v = obj([
                    ("name", Value::String(format!("unit {}", i))),
                    ("limits", Value::Array(vec![Value::from(i as i64), Value::Number(i as f64 + 0.5)])),
                    ("on", Value::Bool(i % 2 == 0)),
                ]);
                (format!("plant.k{:05}", i), v)
            })
            .collect();
        for f in MirrorFormat::ALL {
            let text = mirror::render(f, &entries).unwrap();
            let kib = text.len() as f64 / 1024.0;
            rows.push((format!("{} file of {} keys: size", f, n), kib, "KiB"));
            rows.push((format!("{} render, {} keys", f, n), median_ms(|| drop(mirror::render(f, &entries).unwrap())), "ms"));
            rows.push((format!("{} parse, {} keys", f, n), median_ms(|| drop(mirror::parse(f, &text).unwrap())), "ms"));
            let change = [MirrorChange::set(format!("plant.k{:05}", n / 2), 1)];
            rows.push((format!("{} update of one key, {} keys", f, n), median_ms(|| drop(mirror::update(f, &text, &change).unwrap())), "ms"));
        }
    }
    let members: Vec<(String, Value)> = (0..60_000).map(|i| (format!("k{}", i), Value::from(i as i64))).collect();
    let wide = vec![("a".to_string(), Value::Object(psmc::json::Object::from_members(members)))];
    for f in MirrorFormat::ALL {
        let text = mirror::render(f, &wide).unwrap();
        rows.push((format!("{} parse, one value of 60,000 members", f), median_ms(|| drop(mirror::parse(f, &text).unwrap())), "ms"));
    }

    println!("{:<52} {:>12}", "measure", "result");
    for (name, v, unit) in &rows {
        println!("{:<52} {:>9.1} {}", name, v, unit);
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/results");
    let now = psmc::clock::iso_time(psmc::clock::system_ms());
    let doc = obj([
        ("bench", Value::String("rust-codecs".into())),
        ("at", Value::String(now.clone())),
        (
            "results",
            Value::Array(
                rows.iter()
                    .map(|(n, v, u)| obj([("measure", Value::String(n.clone())), ("value", Value::Number((*v * 10.0).round() / 10.0)), ("unit", Value::String((*u).into()))]))
                    .collect(),
            ),
        ),
    ]);
    let text = format!("{}\n", doc.to_json_pretty());
    if std::fs::create_dir_all(&out).is_ok() {
        let stamp = now.replace([':', '.'], "-");
        let _ = std::fs::write(out.join(format!("rust-codecs-{}.json", &stamp[..19])), &text);
        let _ = std::fs::write(out.join("rust-codecs-latest.json"), &text);
        println!("saved in {}", out.display());
    }
}
