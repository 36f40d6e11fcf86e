//! psmc-rs help texts (the TypeScript CLI's, word for word) and the commands' arguments.

use super::*;
// ---------------------------------------------------------------------------
// Help texts (the TypeScript CLI's, word for word)

pub(crate) const COMMANDS: &[(&str, &str)] = &[
    ("get", "Print the value of a key"),
    ("set", "Set a key to a value"),
    ("unset", "Remove a key from the store"),
    ("list", "List keys and their values, optionally under a prefix"),
    ("explain", "Show every layer's value for a key, and which one wins and why"),
    ("history", "Show recorded changes, newest first"),
    ("undo", "Revert a revision as a new change"),
    ("status", "Show the store, its mirror's state (and any invalid hand edit), snapshots and imports"),
    ("watch", "Print changes as they are committed (and keep the mirror in sync)"),
    ("help", "Show help for psmc or for a command"),
];

/// Commands of the TypeScript CLI that psmc-rs leaves to it.
pub(crate) const TS_ONLY: &[&str] = &["export", "import", "init", "schema", "revision"];

pub(crate) const GLOBAL_HELP: &str = "Global options (before or after the command):
  --store <dir>     Use this store directory (no user/project lookup)
  --app <name>      Use the user store of this app ($XDG_CONFIG_HOME/<name>, ~/.config/<name>,
                    ~/Library/Application Support/<name>, %APPDATA%\\<name>); default psmc
  --project <dir>   Use the project store in <dir>/.psmc/ (default: found by walking up from
                    the current directory, like git)
  --source <name>   Record writes as made by <name> (default: $PSMC_SOURCE, else cli)
  --json            Print results (and errors) as JSON on stdout, for scripts
  --debug           Print error details on errors
  -h, --help        Show help
  --version         Print the psmc-rs version";

pub(crate) fn usage_of(cmd: &str) -> &'static str {
    match cmd {
        "get" => "Usage: psmc get <key> [--default <value>]

Prints the value of <key> from the highest layer that has it (override, env,
project store, user store, default). A string is printed as is; any other
value as JSON. With --json, prints an object with key, value, found, layer,
revision, source and updatedAt.

Exits 3 (PSMC_NOT_FOUND) when no layer has the key and no --default is given.

Options:
  --default <value>   Print this when no layer has the key (parsed as JSON when
                      it parses, else taken as a string)

Examples:
  psmc get display.units
  psmc get display.units --json
  psmc get retries --default 3
  PSMC_DISPLAY__UNITS=imperial psmc get display.units",
        "set" => "Usage: psmc set <key> <value> [--string] [--expect-revision <n>]

Sets <key> in the store that receives writes (the project store when there is
one, else the user store), recorded in history with the --source.

<value> is parsed as JSON when it parses (1 is a number, true a boolean,
{\"x\":1} an object, \"1\" the string 1); anything else is taken as a string
(hello, metric). --string always takes it as a string.

With --expect-revision <n> the write is a compare-and-set: it succeeds only
if the key is still at revision <n> (0: the key must not exist yet), else it
fails with PSMC_CONFLICT (exit 4) and shows the current value. Take <n> from
`psmc get <key> --json`.

Options:
  --string                  Take <value> as a string, never as JSON
  --expect-revision <n>     Fail unless the key is at revision <n>

Examples:
  psmc set display.units metric
  psmc set retries 3
  psmc set build.tag 1.0 --string
  psmc set plot.range '{\"min\":0,\"max\":10}'
  psmc set display.units imperial --expect-revision 7
  psmc set offset -- -x",
        "unset" => "Usage: psmc unset <key> [--expect-revision <n>]

Removes <key> from the store that receives writes (recorded in history, so
`psmc undo` brings it back). A key that is not set there is left alone.
Other layers (env, the user store under a project store, defaults) may
still give the key a value: `psmc explain <key>` shows them.

With --expect-revision <n>, fails with PSMC_CONFLICT (exit 4) unless the key
is still at revision <n>.

Options:
  --expect-revision <n>     Fail unless the key is at revision <n>

Examples:
  psmc unset display.units
  psmc unset display.units --expect-revision 7
  psmc unset display.units --json",
        "list" => "Usage: psmc list [prefix]

Lists every key that has a value in some layer, sorted, with its resolved
value (cut to fit), the layer it comes from and its source. With a prefix,
only keys under it: `list display` gives display.units but not displays.x.
With --json, prints an array of objects like `psmc get --json` does.

Examples:
  psmc list
  psmc list display
  psmc list --json",
        "explain" => "Usage: psmc explain <key>

Shows, highest first, what every layer holds for <key>: process overrides,
the environment variable (PSMC_<KEY> with . written as __), the project
store, the user store, defaults. The winning layer is marked with *, and a
last line says why it wins. An environment variable that does not parse is
shown with its error. With --json, prints the whole explanation object.

Examples:
  psmc explain display.units
  PSMC_DISPLAY__UNITS=imperial psmc explain display.units
  psmc explain display.units --json",
        "history" => "Usage: psmc history [key] [--prefix] [--limit <n>] [--since <revision>]

Lists the recorded changes of the store that receives writes, newest first:
revision, time (UTC), source, key, operation, and old → new value. A schema
change shows as key @schema. With a key, only its changes; with --prefix,
also those of the keys under it. With --json, prints an array of change
records ({revision, seq, key, op, oldValue, newValue, source, at, note});
an absent oldValue/newValue means the key did not exist.

Options:
  --prefix             With <key>: include the keys under it (display → display.units)
  --limit <n>          At most <n> changes
  --since <revision>   Only changes after <revision>

Examples:
  psmc history
  psmc history display.units
  psmc history display --prefix --limit 20
  psmc history --since 41 --json",
        "undo" => "Usage: psmc undo [revision] [--force]

Reverts the changes of one revision (the newest by default) as a new change,
so the undo itself is in history and can be undone. A key changed again
after that revision is not overwritten: the undo fails with PSMC_CONFLICT
(exit 4) unless --force is given. Nothing to undo exits 3.

Options:
  --force   Revert even keys that were changed again later (those later
            changes stay in history)

Examples:
  psmc undo
  psmc undo 41
  psmc undo 41 --force
  psmc history --limit 5 && psmc undo",
        "watch" => watch::USAGE,
        "status" => status::USAGE,
        _ => "Usage: psmc help [command]",
    }
}

pub(crate) fn args_of(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "get" | "explain" | "unset" => &["<key>"],
        "set" => &["<key>", "<value>"],
        "list" => &["[prefix]"],
        "history" => &["[key]"],
        "undo" => &["[revision]"],
        "watch" => &["[prefix]"],
        "status" => &[],
        _ => &["[command]"],
    }
}

pub(crate) fn options_of(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "get" => &["default"],
        "set" => &["string", "expect-revision"],
        "unset" => &["expect-revision"],
        "history" => &["prefix", "limit", "since"],
        "undo" => &["force"],
        "watch" => &["since"],
        _ => &[],
    }
}

pub(crate) const GLOBAL_OPTIONS: &[&str] = &["store", "app", "project", "source", "json", "debug", "help", "version"];

pub(crate) fn main_usage() -> String {
    let width = COMMANDS.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    let commands: Vec<String> = COMMANDS.iter().map(|(n, s)| format!("  {:width$}  {}", n, s, width = width)).collect();
    format!(
        "Usage: psmc-rs <command> [arguments] [options]

psmc-rs: the fast psmc command line (Rust). It reads and writes the same store
as psmc, with the same output and exit codes, and keeps the store's mirror file
(config.json) in sync as psmc does. For export, import, init, schema, revision,
status, snapshot and doctor use psmc.

Commands:
{}

{}

Environment:
  PSMC_HOME         The user store directory (instead of the platform config directory)
  PSMC_SOURCE       The default --source
  PSMC_DEBUG=1      Same as --debug
  PSMC_<KEY>        A value for a key: PSMC_DISPLAY__UNITS feeds display.units

Exit codes: 0 ok, 1 internal error, 2 usage, 3 not found, 4 conflict,
5 invalid input, 6 store unavailable, 7 store format (see docs/cli.md).

Examples:
  psmc-rs set display.units metric
  psmc-rs get display.units
  psmc-rs explain display.units
  psmc-rs help set",
        commands.join("\n"),
        GLOBAL_HELP
    )
}
