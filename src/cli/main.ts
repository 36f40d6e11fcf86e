/**
 * The `psmc` command line: parses argv, then imports the one subcommand file
 * it needs (`commands/<name>.ts`) and runs it. No CLI library, and nothing of
 * the store is loaded before a command needs it, so `--help`, `--version`
 * and usage errors start in a few milliseconds.
 *
 * Global options may stand before or after the command name; a command's own
 * options go after it. `--` ends the options (for values that start with `-`;
 * negative numbers such as `-5` need no `--`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PsmcError } from '../core/errors.js';
import { usageError, type CommandModule, type Context, type GlobalOptions, type OptionSpec } from './context.js';
import { reportError } from './errors.js';
import { closest } from './suggest.js';

/** Every command with its one-line summary (for `psmc help`, without importing the command files). */
export const COMMANDS: Readonly<Record<string, string>> = {
  get: 'Print the value of a key',
  set: 'Set a key to a value',
  unset: 'Remove a key from the store',
  list: 'List keys and their values, optionally under a prefix',
  explain: "Show every layer's value for a key, and which one wins and why",
  history: 'Show recorded changes, newest first',
  undo: 'Revert a revision as a new change',
  export: 'Write the whole store as a JSON document',
  import: 'Merge a JSON document into the store',
  init: 'Create a project store (.psmc/) in a directory',
  schema: "Show, set or clear the store's JSON Schema",
  revision: 'Print the store revision',
  snapshot: 'Create, list, show, diff, restore or delete snapshots of the store',
  watch: 'Print changes as they happen, by any process (until Ctrl-C)',
  status: 'Show where the store is and how its database and mirror file stand',
  edit: 'Edit the plaintext mirror file in $EDITOR, then merge and check it',
  mirror: "Show or switch the mirror file's format (json, toml, yaml, off)",
  doctor: 'Check the store (and with --repair, fix it)',
  serve: 'Serve the HTTP API, live change feed and web GUI (until Ctrl-C)',
  token: 'Create, list or revoke tokens for the HTTP service',
  help: 'Show help for psmc or for a command',
};

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  store: { type: 'string' },
  app: { type: 'string' },
  project: { type: 'string' },
  source: { type: 'string' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
};

const GLOBAL_HELP = `Global options (before or after the command):
  --store <dir>     Use this store directory (no user/project lookup)
  --app <name>      Use the user store of this app ($XDG_CONFIG_HOME/<name>, ~/.config/<name>,
                    ~/Library/Application Support/<name>, %APPDATA%\\<name>); default psmc
  --project <dir>   Use the project store in <dir>/.psmc/ (default: found by walking up from
                    the current directory, like git)
  --source <name>   Record writes as made by <name> (default: $PSMC_SOURCE, else cli)
  --json            Print results (and errors) as JSON on stdout, for scripts
  --debug           Print stack traces on errors
  -h, --help        Show help
  --version         Print the psmc version`;

function mainUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const commands = Object.entries(COMMANDS).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return `Usage: psmc <command> [arguments] [options]

psmc: Plaintext, Stable, Mutable Config. One configuration store shared by a
CLI, a GUI, services and scripts, with history and undo.

Commands:
${commands.join('\n')}

${GLOBAL_HELP}

Environment:
  PSMC_HOME         The user store directory (instead of the platform config directory)
  PSMC_SOURCE       The default --source
  PSMC_DEBUG=1      Same as --debug
  PSMC_<KEY>        A value for a key: PSMC_DISPLAY__UNITS feeds display.units

Exit codes: 0 ok, 1 internal error, 2 usage, 3 not found, 4 conflict,
5 invalid input, 6 store unavailable, 7 store format (see docs/cli.md).

Examples:
  psmc set display.units metric
  psmc get display.units
  psmc explain display.units
  psmc help set`;
}

/**
 * The version from psmc's package.json, read as text (no JSON module import). This module
 * runs from dist/src/cli/ or from the bundle in dist/bundle/, so look upwards for it.
 */
function version(): string {
  for (const up of ['../../', '../../../']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'psmc') return pkg.version;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return 'unknown';
}

interface Token {
  readonly kind: 'option' | 'positional' | 'option-terminator';
  readonly index: number;
  readonly name?: string;
  readonly rawName?: string;
  readonly value?: string | undefined;
  readonly inlineValue?: boolean | undefined;
}

interface Parsed {
  readonly values: Record<string, string | boolean>;
  readonly positionals: { readonly index: number; readonly text: string }[];
  /** First option not in `options`, with the argv text that named it. */
  readonly unknown: { readonly index: number; readonly raw: string } | undefined;
}

const NEGATIVE_NUMBER = /^-(?:[0-9]|\.[0-9])/;

/**
 * Splits argv into options and positionals with parseArgs' tokenizer, leaving
 * judgement to us: unknown options are reported (not thrown) so that the
 * caller can suggest a spelling, and `-5` is a positional, not an option.
 */
function tokenize(argv: readonly string[], options: Readonly<Record<string, OptionSpec>>): Parsed {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries(options))
    config[name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  const { tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean> = {};
  const positionals: { index: number; text: string }[] = [];
  let unknown: { index: number; raw: string } | undefined;
  const seenIndex = new Set<number>();
  for (const t of tokens as Token[]) {
    if (t.kind === 'option-terminator') continue;
    const raw = argv[t.index] ?? '';
    if (t.kind === 'positional') {
      positionals.push({ index: t.index, text: raw });
      continue;
    }
    if (seenIndex.has(t.index)) continue; // the later letters of a short-option group such as -5.5
    seenIndex.add(t.index);
    const spec = t.name === undefined ? undefined : options[t.name];
    if (spec === undefined || t.name === undefined) {
      if (NEGATIVE_NUMBER.test(raw)) positionals.push({ index: t.index, text: raw });
      else unknown ??= { index: t.index, raw: raw.split('=')[0] ?? raw };
      continue;
    }
    const shown = t.rawName ?? `--${t.name}`;
    if (spec.type === 'boolean') {
      if (t.inlineValue === true)
        throw usageError(`${shown} takes no value (received ${JSON.stringify(raw)}).`, `Write ${shown} alone.`);
      values[t.name] = true;
    } else {
      if (t.value === undefined) {
        throw usageError(`${shown} needs a value.`, `Write ${shown} <value> or ${shown}=<value>.`);
      }
      values[t.name] = t.value;
    }
  }
  return { values, positionals, unknown };
}

function unknownOption(raw: string, known: readonly string[], usageLine: string): PsmcError {
  const name = raw.replace(/^-+/, '');
  const guess = closest(name, known);
  const did = guess === undefined ? '' : ` Did you mean --${guess}?`;
  const dash = /^-[^-]/.test(raw)
    ? ' To pass a value that starts with "-", put -- before it (psmc set key -- -x).'
    : '';
  return usageError(`Unknown option ${raw}.${did}`, `${usageLine}.${dash}`);
}

function globalsFrom(
  values: Record<string, string | boolean>,
  env: Readonly<Record<string, string | undefined>>,
): GlobalOptions {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const debugEnv = env['PSMC_DEBUG'];
  return {
    store: str('store'),
    app: str('app'),
    project: str('project'),
    source: str('source'),
    json: values['json'] === true,
    debug: values['debug'] === true || (debugEnv !== undefined && debugEnv !== '' && debugEnv !== '0'),
  };
}

/** One loader per command file: static specifiers, so the import checker sees them all. */
const LOADERS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  get: () => import('./commands/get.js'),
  set: () => import('./commands/set.js'),
  unset: () => import('./commands/unset.js'),
  list: () => import('./commands/list.js'),
  explain: () => import('./commands/explain.js'),
  history: () => import('./commands/history.js'),
  undo: () => import('./commands/undo.js'),
  export: () => import('./commands/export.js'),
  import: () => import('./commands/import.js'),
  init: () => import('./commands/init.js'),
  schema: () => import('./commands/schema.js'),
  revision: () => import('./commands/revision.js'),
  snapshot: () => import('./commands/snapshot.js'),
  watch: () => import('./commands/watch.js'),
  status: () => import('./commands/status.js'),
  edit: () => import('./commands/edit.js'),
  mirror: () => import('./commands/mirror.js'),
  doctor: () => import('./commands/doctor.js'),
  serve: () => import('./commands/serve.js'),
  token: () => import('./commands/token.js'),
};

async function loadCommand(name: string): Promise<CommandModule> {
  const load = LOADERS[name];
  if (load === undefined) throw new TypeError(`no command file for ${JSON.stringify(name)}`);
  return load();
}

function usageLineOf(usage: string): string {
  return (usage.split('\n')[0] ?? '').trim();
}

export interface MainIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly readStdin: () => Promise<string>;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function processIO(): MainIO {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    readStdin: readAllStdin,
  };
}

/** Runs psmc with these arguments (without `node` and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: MainIO = processIO()): Promise<number> {
  let json = argv.includes('--json');
  let debug = argv.includes('--debug') || ((io.env['PSMC_DEBUG'] ?? '0') !== '0' && io.env['PSMC_DEBUG'] !== '');
  try {
    // Pass 1: global options only, to find the command name wherever it stands.
    const first = tokenize(argv, GLOBAL_OPTIONS);
    const head = first.positionals[0];
    if (first.unknown !== undefined && (head === undefined || first.unknown.index < head.index)) {
      const known = Object.keys(GLOBAL_OPTIONS);
      const e = unknownOption(first.unknown.raw, known, 'Usage: psmc <command> [arguments] [options]');
      if (head === undefined) throw e;
      throw usageError(`${e.message} (a command's own options go after the command name)`, e.hint);
    }
    if (head === undefined) {
      if (first.values['version'] === true) {
        io.stdout(`psmc ${version()}\n`);
        return 0;
      }
      if (first.values['help'] === true) {
        io.stdout(mainUsage() + '\n');
        return 0;
      }
      throw usageError('No command given.', 'Run `psmc help` to see the commands, e.g. psmc get <key>.');
    }
    let name = head.text;
    if (!Object.hasOwn(COMMANDS, name)) {
      const guess = closest(name, Object.keys(COMMANDS));
      throw usageError(
        `Unknown command ${JSON.stringify(name)}.${guess === undefined ? '' : ` Did you mean ${guess}?`}`,
        `Run \`psmc help\` to see the commands. Usage: psmc <command> [arguments] [options]`,
      );
    }
    const rest = argv.filter((_, i) => i !== head.index);

    if (name === 'help') {
      const target = tokenize(rest, GLOBAL_OPTIONS).positionals[0]?.text;
      if (target === undefined) {
        io.stdout(mainUsage() + '\n');
        return 0;
      }
      if (!Object.hasOwn(COMMANDS, target) || target === 'help') {
        if (target === 'help') {
          io.stdout(mainUsage() + '\n');
          return 0;
        }
        const guess = closest(target, Object.keys(COMMANDS));
        throw usageError(
          `Unknown command ${JSON.stringify(target)}.${guess === undefined ? '' : ` Did you mean ${guess}?`}`,
          'Run `psmc help` to see the commands.',
        );
      }
      name = target;
      const cmd = await loadCommand(name);
      io.stdout(`${cmd.usage}\n\n${GLOBAL_HELP}\n`);
      return 0;
    }

    // Pass 2: the command's own options beside the global ones.
    const cmd = await loadCommand(name);
    const usageLine = usageLineOf(cmd.usage);
    const options = { ...GLOBAL_OPTIONS, ...cmd.spec.options };
    const parsed = tokenize(rest, options);
    json = parsed.values['json'] === true;
    debug = parsed.values['debug'] === true || debug;
    if (parsed.values['help'] === true) {
      io.stdout(`${cmd.usage}\n\n${GLOBAL_HELP}\n`);
      return 0;
    }
    if (parsed.values['version'] === true) {
      io.stdout(`psmc ${version()}\n`);
      return 0;
    }
    if (parsed.unknown !== undefined) throw unknownOption(parsed.unknown.raw, Object.keys(options), usageLine);

    const required = cmd.spec.args.filter((a) => a.startsWith('<')).length;
    const given = parsed.positionals.map((p) => p.text);
    if (given.length < required) {
      const missing = cmd.spec.args[given.length] ?? '<argument>';
      throw usageError(`psmc ${name} needs ${missing}.`, `${usageLine}. See \`psmc help ${name}\`.`);
    }
    if (given.length > cmd.spec.args.length) {
      const extra = given[cmd.spec.args.length] ?? '';
      throw usageError(
        `psmc ${name} takes ${cmd.spec.args.length === 0 ? 'no arguments' : `at most ${cmd.spec.args.length} argument${cmd.spec.args.length === 1 ? '' : 's'}`}; unexpected ${JSON.stringify(extra)}.`,
        `${usageLine}. Quote a value that contains spaces: psmc set key "two words".`,
      );
    }
    const commandOptions: Record<string, string | boolean | undefined> = {};
    for (const k of Object.keys(cmd.spec.options)) commandOptions[k] = parsed.values[k];
    const global = globalsFrom(parsed.values, io.env);
    const ctx: Context = {
      command: name,
      args: cmd.spec.args.map((_, i) => given[i]),
      options: commandOptions,
      global,
      env: io.env,
      cwd: io.cwd,
      usageLine,
      out: (line) => io.stdout(line + '\n'),
      note: (line) => io.stderr(line + '\n'),
      json: (value) => io.stdout(JSON.stringify(value, null, 2) + '\n'),
      readStdin: io.readStdin,
    };
    return (await cmd.run(ctx)) ?? 0;
  } catch (e) {
    return reportError(e, { json, debug, stdout: io.stdout, stderr: io.stderr });
  }
}
