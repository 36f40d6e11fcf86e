/**
 * psmc doctor: checks a store directory and, with `repair`, fixes what can be
 * fixed safely. Every check yields findings `{check, ok, severity, message,
 * hint, repaired?}`.
 *
 * Checks, per store directory:
 * - `database`: the database opens (a damaged file is reported as PSMC_CORRUPT
 *   by openStore, which doctor catches) and passes SQLite's integrity check.
 * - `mirror`: the plaintext mirror parses and validates (no pending invalid
 *   hand edit), and is in step with the database.
 * - `schema`: every stored value satisfies the store's schema.
 * - `snapshots`: every file in snapshots/ is a readable snapshot.
 * - `permissions`: store dir and snapshots/, imports/ 0700; psmc.db, -wal,
 *   -shm, the mirror file and snapshot files 0600 (not checked on Windows).
 * - `temp-files`: temp files left by a crashed writer (`.*.psmc-tmp-*` in the
 *   store dir and snapshots/, snapshot temp files, import claims).
 * - `imports`: files waiting in imports/.
 *
 * Repairs (only with `repair`; each says exactly what it did in `actions`):
 * - A damaged database is never deleted: `psmc.db` (and its -wal/-shm) is
 *   moved aside to `psmc.db.corrupt-<UTC timestamp>` (-wal/-shm keep their
 *   suffix, so the trio still opens together), a fresh store is created, the
 *   newest snapshot that parses is restored into it (values and schema,
 *   source `restore:<name>`), and the mirror file's values are merged on top
 *   (source `repair:mirror`); the mirror file then gets the keys it lacked.
 *   History before the repair stays in the moved-aside file. When the
 *   database still opens but fails the integrity check, its readable values
 *   are carried over instead of a snapshot's (source `repair:database`).
 * - Permissions: chmod to the modes above.
 * - Temp files older than a minute: deleted.
 * - Pending imports: imported now (processImports).
 * - A mirror out of step: synced now.
 *
 * Doctor opens its own handles (by directory). A database rebuild needs every
 * handle on it closed: when called with a live Store, doctor refuses that one
 * repair and says so.
 */
import { chmodSync, existsSync, readdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { isPsmcError } from '../core/errors.js';
import { compileSchema, parseSchemaDocument } from '../core/schema.js';
import type { JsonValue } from '../core/value.js';
import { TEMP_MARK } from '../mirror/atomic.js';
import { MIRROR_FILES } from '../mirror/codecs/types.js';
import { importsDir, pendingImports, processImports } from '../mirror/imports.js';
import { listSnapshots } from '../snapshot/index.js';
import type { ExportDocument } from '../store/export.js';
import { DATABASE_FILE, HTTP_TOKENS_FILE } from '../store/paths.js';
import { openStore, type Store } from '../store/store.js';
import { rebuildDatabase, type RebuildContext } from './rebuild.js';
import { errText, FORMATS, lstatOrUndefined, settle } from './util.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Which check: database, mirror, schema, snapshots, permissions, temp-files, imports. */
  readonly check: string;
  /** The store directory it is about. */
  readonly store: string;
  /** True when the check passed (a repaired problem stays ok: false, repaired: true). */
  readonly ok: boolean;
  /** How bad a failure is: an `error` that is not repaired makes the store unhealthy. */
  readonly severity: Severity;
  readonly message: string;
  /** How to fix it (empty when ok). */
  readonly hint: string;
  /** Set when a repair was attempted: whether it fixed the problem. */
  readonly repaired?: boolean;
}

export interface DoctorReport {
  /** The store directories checked. */
  readonly stores: string[];
  /** No error remains (warnings and info do not count). */
  readonly healthy: boolean;
  readonly findings: Finding[];
  /** What the repairs did, in order, in plain words. */
  readonly actions: string[];
}

export interface DoctorOptions {
  /** Fix what can be fixed (see the module comment). @default false */
  readonly repair?: boolean;
  /** The source recorded for repair writes other than restores and merges. @default 'doctor' */
  readonly source?: string;
  /** Wall clock (tests). @default Date.now */
  readonly now?: () => number;
  /** Temp files older than this are deleted by a repair. @default 60000 */
  readonly tempAgeMs?: number;
  /** The platform whose permission rules apply (tests). @default process.platform */
  readonly platform?: NodeJS.Platform;
}

const SNAPSHOT_TEMP_RE = /^\..+\.json\.\d+\.[a-z0-9]+\.tmp$/;
const CLAIM_RE = /^\.psmc-import-\d+-[0-9a-f]{8}-/;

/** True when an unrepaired error remains among the findings. */
export function isHealthy(findings: readonly Finding[]): boolean {
  return !findings.some((f) => !f.ok && f.severity === 'error' && f.repaired !== true);
}

function mode(st: Stats): string {
  return `0${(st.mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Checks (and with `repair`, fixes) the stores: a Store's own directories,
 * one directory, or several. See the module comment.
 */
export function runDoctor(target: Store | string | readonly string[], options: DoctorOptions = {}): DoctorReport {
  let dirs: string[];
  let live = false;
  if (typeof target === 'string') dirs = [target];
  else if (Array.isArray(target)) dirs = [...(target as readonly string[])];
  else {
    const s = target as Store;
    live = true;
    dirs = [s.info.project?.dir, s.info.user?.dir].filter((d): d is string => d !== undefined);
  }
  const findings: Finding[] = [];
  const actions: string[] = [];
  for (const dir of dirs) new StoreDoctor(dir, options, live, findings, actions).run();
  return { stores: dirs, healthy: isHealthy(findings), findings, actions };
}

class StoreDoctor {
  readonly #dir: string;
  readonly #repair: boolean;
  readonly #source: string;
  readonly #now: () => number;
  readonly #tempAgeMs: number;
  readonly #platform: NodeJS.Platform;
  readonly #live: boolean;
  readonly #findings: Finding[];
  readonly #actions: string[];

  constructor(dir: string, options: DoctorOptions, live: boolean, findings: Finding[], actions: string[]) {
    this.#dir = dir;
    this.#repair = options.repair ?? false;
    this.#source = options.source ?? 'doctor';
    this.#now = options.now ?? Date.now;
    this.#tempAgeMs = options.tempAgeMs ?? 60_000;
    this.#platform = options.platform ?? process.platform;
    this.#live = live;
    this.#findings = findings;
    this.#actions = actions;
  }

  #add(f: Omit<Finding, 'store'>): void {
    this.#findings.push({ store: this.#dir, ...f });
  }

  #ok(check: string, message: string): void {
    this.#add({ check, ok: true, severity: 'info', message, hint: '' });
  }

  #open(mirror = true): Store {
    return openStore({ dir: this.#dir, env: {}, envPrefix: false, source: this.#source, mirror });
  }

  #rebuildContext(): RebuildContext {
    return { dir: this.#dir, now: this.#now, actions: this.#actions, open: (mirror) => this.#open(mirror) };
  }

  get #db(): string {
    return join(this.#dir, DATABASE_FILE);
  }

  run(): void {
    if (!existsSync(this.#db)) {
      this.#ok('database', `There is no database at ${this.#db} (nothing was written to this store yet).`);
      if (existsSync(this.#dir)) {
        this.#guard('permissions', () => this.#checkPermissions());
        this.#guard('temp-files', () => this.#checkTempFiles());
      }
      return;
    }
    let store: Store | undefined;
    try {
      store = this.#open();
    } catch (e) {
      if (!isPsmcError(e)) throw e;
      if (e.code === 'PSMC_CORRUPT') {
        const rebuilt = this.#repair
          ? rebuildDatabase(this.#rebuildContext(), undefined, 'it cannot be opened')
          : false;
        this.#add({
          check: 'database',
          ok: false,
          severity: 'error',
          message: `The database cannot be opened: ${e.message}`,
          hint: this.#repair
            ? rebuilt
              ? 'Rebuilt (see the repairs below). Check the values, and stop and restart other programs that had the store open.'
              : 'The rebuild failed (see the repairs below). The damaged file is kept; restore an export with `psmc import`.'
            : 'Run `psmc doctor --repair`: it moves the damaged file aside (never deletes it) and rebuilds the store from the newest snapshot and the mirror file. Stop other programs using the store first.',
          ...(this.#repair ? { repaired: rebuilt } : {}),
        });
        if (!rebuilt) {
          this.#checkPermissions();
          this.#checkTempFiles();
          return;
        }
        store = this.#open();
      } else {
        this.#add({
          check: 'database',
          ok: false,
          severity: 'error',
          message: `The database cannot be opened: ${e.message}`,
          hint: e.hint,
        });
        this.#checkPermissions();
        this.#checkTempFiles();
        return;
      }
    }
    let sound = false;
    try {
      const checked = this.#guard('database', () => this.#checkIntegrity(store as Store));
      if (checked !== undefined) ({ store, sound } = checked);
      const s = store;
      // On a damaged database, checks that read it would only repeat the damage: skip them.
      if (sound) {
        this.#guard('mirror', () => this.#checkMirror(s));
        this.#guard('schema', () => this.#checkSchema(s));
      }
      this.#guard('snapshots', () => this.#checkSnapshots(s));
      this.#guard('permissions', () => this.#checkPermissions());
      this.#guard('temp-files', () => this.#checkTempFiles());
      if (sound) this.#guard('imports', () => this.#checkImports(s));
    } finally {
      store.close();
    }
  }

  /** Runs a check; a failure of the check itself becomes a finding, never a crash of doctor. */
  #guard<T>(check: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      const corrupt =
        (isPsmcError(e) && e.code === 'PSMC_CORRUPT') ||
        /SQLITE_CORRUPT|SQLITE_NOTADB/.test(String((e as { code?: unknown }).code));
      this.#add({
        check,
        ok: false,
        severity: 'error',
        message: `The check could not run: ${errText(e)}`,
        hint: corrupt
          ? 'The database is damaged. Run `psmc doctor --repair` (it keeps the damaged file and rebuilds the store).'
          : isPsmcError(e)
            ? e.hint
            : 'Run doctor again with --debug and report the output if it keeps failing.',
        ...(this.#repair ? { repaired: false } : {}),
      });
      return undefined;
    }
  }

  #checkIntegrity(store: Store): { store: Store; sound: boolean } {
    let problems: string[];
    try {
      problems = store.checkIntegrity();
    } catch (e) {
      problems = [errText(e)];
    }
    if (problems.length === 0) {
      this.#ok('database', `${this.#db} opens and passes the integrity check (revision ${store.revision()}).`);
      return { store, sound: true };
    }
    const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? ` … (${problems.length} in all)` : '');
    if (!this.#repair || this.#live) {
      this.#add({
        check: 'database',
        ok: false,
        severity: 'error',
        message: `The database fails the integrity check: ${shown}`,
        hint: this.#live
          ? 'Close every handle on the store, then run `psmc doctor --repair` (a rebuild needs the database closed).'
          : 'Run `psmc doctor --repair`: it carries the readable values over to a fresh database and keeps the damaged file beside it.',
        ...(this.#repair ? { repaired: false } : {}),
      });
      return { store, sound: false };
    }
    let doc: ExportDocument | undefined;
    try {
      doc = store.exportData();
    } catch (e) {
      this.#actions.push(
        `${this.#dir}: could not read the values out of the damaged database (${errText(e)}); using the newest snapshot instead.`,
      );
    }
    store.close();
    const rebuilt = rebuildDatabase(this.#rebuildContext(), doc, 'it fails the integrity check');
    this.#add({
      check: 'database',
      ok: false,
      severity: 'error',
      message: `The database failed the integrity check: ${shown}`,
      hint: rebuilt
        ? 'Rebuilt (see the repairs below).'
        : 'The rebuild failed (see the repairs below); the damaged file is kept.',
      repaired: rebuilt,
    });
    return { store: this.#open(), sound: rebuilt };
  }

  /**
   * Moves the damaged database aside and builds a fresh one from `doc` (the
   * damaged database's readable values) or the newest snapshot that parses,
   * then the mirror file's values on top. Returns whether a fresh store now exists.
   */
  #checkMirror(store: Store): void {
    let m = store.status().mirror;
    if (m === undefined) {
      this.#ok('mirror', 'The mirror is not open for this store.');
      return;
    }
    if (m.state === 'off') {
      this.#ok('mirror', 'The plaintext mirror is turned off for this store.');
      return;
    }
    if (m.state === 'invalid-edit') {
      const e = m.error;
      this.#add({
        check: 'mirror',
        ok: false,
        severity: 'error',
        message: `${e?.message ?? `${m.file} holds an invalid edit`} (not applied; the store works from the database).`,
        hint: `${e?.hint ?? 'Fix the file and save it again.'} \`psmc edit\` opens it and checks it again.`,
        ...(this.#repair ? { repaired: false } : {}),
      });
      return;
    }
    if (m.state === 'in-sync' && m.syncError === undefined) {
      this.#ok('mirror', `${m.file} parses, validates and is in step with the database (revision ${m.revision}).`);
      return;
    }
    const what =
      m.syncError !== undefined
        ? `The last background sync of ${m.file} failed: ${m.syncError}`
        : `${m.file} is ${m.state === 'missing' ? 'missing' : m.state === 'pending-export' ? 'behind the database' : 'edited and not merged yet'}.`;
    let repaired: boolean | undefined;
    if (this.#repair) {
      const r = settle(store);
      m = store.status().mirror;
      repaired = r.error === undefined && m?.state === 'in-sync';
      if (repaired) this.#actions.push(`${this.#dir}: synced the mirror file ${m?.file ?? ''}.`);
    }
    this.#add({
      check: 'mirror',
      ok: false,
      severity: 'warning',
      message: what,
      hint: 'Any psmc command brings it in step; `psmc doctor --repair` does it now. If it keeps failing, check the permissions of the store directory.',
      ...(repaired === undefined ? {} : { repaired }),
    });
  }

  #checkSchema(store: Store): void {
    const doc = store.schema();
    if (doc === undefined) {
      this.#ok('schema', 'No schema: every value is accepted.');
      return;
    }
    let compiled;
    try {
      compiled = compileSchema(parseSchemaDocument(doc));
    } catch (e) {
      this.#add({
        check: 'schema',
        ok: false,
        severity: 'error',
        message: `The stored schema does not compile: ${errText(e)}`,
        hint: 'Set a valid schema with `psmc schema set <file>`.',
      });
      return;
    }
    const entries = store.exportData().entries;
    const bad: string[] = [];
    for (const key of Object.keys(entries)) {
      try {
        compiled.validate(key, (entries[key] as { value: JsonValue }).value);
      } catch (e) {
        bad.push(isPsmcError(e) ? e.message : `${key}: ${errText(e)}`);
      }
    }
    if (bad.length === 0) {
      this.#ok('schema', `All ${Object.keys(entries).length} stored value(s) satisfy the schema.`);
      return;
    }
    this.#add({
      check: 'schema',
      ok: false,
      severity: 'error',
      message: `${bad.length} stored value(s) break the schema: ${bad.slice(0, 5).join(' ')}${bad.length > 5 ? ' …' : ''}`,
      hint: 'Set each to a value the schema allows (psmc set <key> <value>), or change the schema (psmc schema set). Doctor does not change values on its own.',
      ...(this.#repair ? { repaired: false } : {}),
    });
  }

  #checkSnapshots(store: Store): void {
    let problems;
    try {
      problems = listSnapshots(store).problems;
    } catch (e) {
      problems = [{ file: join(this.#dir, 'snapshots'), code: 'PSMC_IO', message: errText(e) }];
    }
    if (problems.length === 0) {
      this.#ok('snapshots', 'Every snapshot file is readable.');
      return;
    }
    this.#add({
      check: 'snapshots',
      ok: false,
      severity: 'warning',
      message: `${problems.length} file(s) in snapshots/ are not readable snapshots: ${problems.map((p) => `${basename(p.file)} (${p.message})`).join('; ')}`,
      hint: 'They are ignored by list and restore. Fix or delete them; doctor never deletes snapshots.',
    });
  }

  #checkPermissions(): void {
    if (this.#platform === 'win32') {
      this.#ok('permissions', 'Not checked on Windows (files inherit the ACLs of your profile directory).');
      return;
    }
    const dir = this.#dir;
    const want: [string, number][] = [[dir, 0o700]];
    for (const suffix of ['', '-wal', '-shm']) want.push([join(dir, `${DATABASE_FILE}${suffix}`), 0o600]);
    for (const f of FORMATS) want.push([join(dir, MIRROR_FILES[f]), 0o600]);
    want.push([join(dir, HTTP_TOKENS_FILE), 0o600]);
    const snapshots = join(dir, 'snapshots');
    want.push([snapshots, 0o700]);
    try {
      for (const f of readdirSync(snapshots))
        if (f.endsWith('.json') && !f.startsWith('.')) want.push([join(snapshots, f), 0o600]);
    } catch {
      // No snapshots directory: nothing to check there.
    }
    const imports = importsDir(dir);
    want.push([imports, 0o700], [join(imports, 'done'), 0o700], [join(imports, 'rejected'), 0o700]);
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    let bad = 0;
    for (const [path, expected] of want) {
      const st = lstatOrUndefined(path);
      if (st === undefined || st.isSymbolicLink()) continue;
      if (uid !== undefined && st.uid !== uid) {
        bad++;
        this.#add({
          check: 'permissions',
          ok: false,
          severity: 'error',
          message: `${path} belongs to user ${st.uid}, not to you (${uid}).`,
          hint: `Give it back to the user that runs psmc (e.g. sudo chown ${uid} '${path}'); doctor cannot do that.`,
          ...(this.#repair ? { repaired: false } : {}),
        });
        continue;
      }
      if ((st.mode & 0o077) === 0) continue;
      bad++;
      let repaired: boolean | undefined;
      if (this.#repair) {
        try {
          chmodSync(path, expected);
          repaired = (statSync(path).mode & 0o077) === 0;
          this.#actions.push(`${dir}: chmod ${expected.toString(8).padStart(4, '0')} ${path} (was ${mode(st)}).`);
        } catch (e) {
          repaired = false;
          this.#actions.push(`${dir}: could not chmod ${path}: ${errText(e)}.`);
        }
      }
      this.#add({
        check: 'permissions',
        ok: false,
        severity: 'error',
        message: `${path} is mode ${mode(st)}: readable or writable by others (should be 0${expected.toString(8)}).`,
        hint: `Run \`psmc doctor --repair\`, or chmod ${expected.toString(8)} '${path}'.`,
        ...(repaired === undefined ? {} : { repaired }),
      });
    }
    if (bad === 0) this.#ok('permissions', 'The store directory and its files are private (0700/0600).');
  }

  #checkTempFiles(): void {
    const found: { path: string; ageMs: number }[] = [];
    const scan = (d: string, match: (name: string) => boolean): void => {
      let names: string[];
      try {
        names = readdirSync(d);
      } catch {
        return;
      }
      for (const n of names) {
        if (!match(n)) continue;
        const st = lstatOrUndefined(join(d, n));
        if (st === undefined || !st.isFile()) continue;
        found.push({ path: join(d, n), ageMs: this.#now() - st.mtimeMs });
      }
    };
    const isMirrorTemp = (n: string): boolean => n.startsWith('.') && n.includes(TEMP_MARK);
    scan(this.#dir, isMirrorTemp);
    scan(join(this.#dir, 'snapshots'), (n) => isMirrorTemp(n) || SNAPSHOT_TEMP_RE.test(n));
    scan(importsDir(this.#dir), (n) => CLAIM_RE.test(n));
    if (found.length === 0) {
      this.#ok('temp-files', 'No leftover temp files.');
      return;
    }
    for (const f of found) {
      const old = f.ageMs >= this.#tempAgeMs;
      const claim = CLAIM_RE.test(basename(f.path));
      let repaired: boolean | undefined;
      if (this.#repair && old && !claim) {
        try {
          unlinkSync(f.path);
          repaired = true;
          this.#actions.push(`${this.#dir}: deleted the leftover temp file ${f.path}.`);
        } catch (e) {
          repaired = false;
          this.#actions.push(`${this.#dir}: could not delete ${f.path}: ${errText(e)}.`);
        }
      } else if (this.#repair) repaired = false;
      this.#add({
        check: 'temp-files',
        ok: false,
        severity: 'warning',
        message: claim
          ? `${f.path} is an import being processed (or left by a process that died).`
          : `${f.path} is a temp file left by a writer (${Math.round(f.ageMs / 1000)} s old).`,
        hint: claim
          ? 'The next import run puts it back if its process is gone (psmc doctor --repair runs one).'
          : old
            ? 'Run `psmc doctor --repair` to delete it (the file it was meant to replace is intact).'
            : 'It is less than a minute old and may belong to a running writer; look again later.',
        ...(repaired === undefined ? {} : { repaired }),
      });
    }
  }

  #checkImports(store: Store): void {
    const pending = pendingImports(this.#dir);
    if (pending.length === 0) {
      this.#ok('imports', 'No files wait in imports/.');
      return;
    }
    let repaired: boolean | undefined;
    if (this.#repair) {
      try {
        const r = processImports(store);
        for (const d of r.done)
          this.#actions.push(
            `${this.#dir}: imported imports/${d.file}: ${d.changes} key(s) changed (source ${d.source}); moved to done/.`,
          );
        for (const d of r.rejected)
          this.#actions.push(
            `${this.#dir}: rejected imports/${d.file}: ${d.message} (moved to rejected/, reason in ${basename(d.reasonFile)}).`,
          );
        for (const d of r.skipped)
          if (pending.includes(d.file)) this.#actions.push(`${this.#dir}: left imports/${d.file}: ${d.reason}.`);
        repaired = pendingImports(this.#dir).length === 0;
      } catch (e) {
        repaired = false;
        this.#actions.push(`${this.#dir}: the import run failed: ${errText(e)}.`);
      }
    }
    this.#add({
      check: 'imports',
      ok: false,
      severity: 'warning',
      message: `${pending.length} file(s) wait in ${importsDir(this.#dir)}: ${pending.slice(0, 5).join(', ')}${pending.length > 5 ? ' …' : ''}.`,
      hint: 'They are merged by a running watcher or service; `psmc doctor --repair` imports them now.',
      ...(repaired === undefined ? {} : { repaired }),
    });
  }
}
