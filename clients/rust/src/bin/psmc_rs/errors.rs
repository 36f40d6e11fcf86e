//! psmc-rs errors (src/cli/errors.ts): the error layout, "Did you mean …?" (src/cli/suggest.ts) and clap's errors as PSMC_USAGE.

use super::*;
// ---------------------------------------------------------------------------
// Errors (src/cli/errors.ts)

pub(crate) fn usage_error(message: impl Into<String>, hint: impl Into<String>) -> PsmcError {
    PsmcError::usage(message, hint)
}

pub(crate) fn inline(v: &Value) -> String {
    let text = v.to_json();
    if utf16_len(&text) > 200 {
        format!("{}…", slice_utf16(&text, 199))
    } else {
        text
    }
}

pub(crate) fn report_error(e: &PsmcError, json: bool, debug: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
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

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
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

pub(crate) fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
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

pub(crate) fn unknown_option(raw: &str, known: &[&str], usage_line: &str) -> PsmcError {
    let name = raw.trim_start_matches('-');
    let did = closest(name, known.iter().copied()).map(|g| format!(" Did you mean --{}?", g)).unwrap_or_default();
    let dash = if raw.starts_with('-') && !raw.starts_with("--") {
        " To pass a value that starts with \"-\", put -- before it (psmc set key -- -x)."
    } else {
        ""
    };
    usage_error(format!("Unknown option {}.{}", raw, did), format!("{}.{}", usage_line, dash))
}

pub(crate) fn usage_line(cmd: Option<&str>) -> String {
    match cmd {
        None => "Usage: psmc <command> [arguments] [options]".into(),
        Some(c) => usage_of(c).lines().next().unwrap_or("").trim().to_string(),
    }
}

pub(crate) fn unknown_command(name: &str) -> PsmcError {
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
pub(crate) fn find_command(argv: &[String]) -> Option<(usize, String)> {
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
pub(crate) fn clap_error(e: clap::Error, argv: &[String]) -> PsmcError {
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
