/**
 * A project store inside a git repository: `psmc init` (and `psmc serve`, before it first writes
 * http-tokens.json) write `.psmc/.gitignore`, so the database, the tokens and the other files of
 * this machine stay out of git while the mirror file and the named snapshots can be committed;
 * an existing `.gitignore` is never touched; and `psmc init` in a fresh clone builds the database
 * from the committed mirror file. Real `psmc` and real `git` processes, each test in its own temp
 * directory.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { BIN, sandbox, type Sandbox } from './harness.js';

/** Runs git in `cwd` with the sandbox's HOME (no user config of the machine) and fails on a non-zero exit. */
function git(sb: Sandbox, cwd: string, args: readonly string[], okCodes: readonly number[] = [0]): string {
  const r = spawnSync('git', ['-c', 'user.name=psmc test', '-c', 'user.email=test@psmc.invalid', ...args], {
    cwd,
    env: { ...sb.env, GIT_CONFIG_NOSYSTEM: '1' },
    encoding: 'utf8',
  });
  if (r.error !== undefined)
    throw new Error(
      `git is needed by this test and could not run (${r.error.message}); install it (apt-get install git; .ci/run does)`,
    );
  if (!okCodes.includes(r.status ?? -1))
    throw new Error(`git ${args.join(' ')} exited ${String(r.status)}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** The paths (relative to the repository) that git ignores, of those given. */
function ignored(sb: Sandbox, repo: string, paths: readonly string[]): string[] {
  // Exit 1: none of them is ignored.
  const out = git(sb, repo, ['check-ignore', '--no-index', '--', ...paths], [0, 1]);
  return out.split('\n').filter((l) => l !== '');
}

function project(sb: Sandbox, name = 'plant'): string {
  const dir = join(sb.dir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

test('psmc init writes .psmc/.gitignore (0600); git then ignores exactly the files of this machine', (t) => {
  const sb = sandbox(t);
  const repo = project(sb);
  git(sb, repo, ['init', '-q']);
  const r = sb.run(['init'], { cwd: repo });
  assert.equal(r.status, 0, r.stderr);
  // stdout is unchanged; the note goes to stderr.
  assert.equal(r.stdout, `Initialized empty psmc project store in ${join(repo, '.psmc')}\n`);
  const file = join(repo, '.psmc', '.gitignore');
  assert.match(r.stderr, new RegExp(`Wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\/psmc\.db$/m);
  assert.match(text, /^\/http-tokens\.json$/m);

  const machine = [
    '.psmc/psmc.db',
    '.psmc/psmc.db-wal',
    '.psmc/psmc.db-shm',
    '.psmc/psmc.db-journal',
    '.psmc/psmc.db.corrupt-20261126-090000',
    '.psmc/psmc.db.corrupt-20261126-090000-wal',
    '.psmc/http-tokens.json',
    '.psmc/http-tokens.json.lock',
    '.psmc/http-tokens.json.4242.0a1b2c3d.tmp',
    '.psmc/imports/extra.toml',
    '.psmc/imports/done/extra.toml',
    '.psmc/imports/rejected/bad.json.reason',
    '.psmc/snapshots/auto-41-before-restore.json',
    '.psmc/snapshots/auto-100-every-changes-2.json',
    '.psmc/snapshots/.release.json.4242.k3j4h5g6.tmp',
    '.psmc/.config.json.psmc-tmp-4242-ab12cd34',
  ];
  const shared = [
    '.psmc/.gitignore',
    '.psmc/config.json',
    '.psmc/config.toml',
    '.psmc/config.yaml',
    '.psmc/snapshots/release.json',
    '.psmc/snapshots/before-upgrade.json',
  ];
  assert.deepEqual(ignored(sb, repo, machine), machine, 'every machine-local file is ignored');
  assert.deepEqual(ignored(sb, repo, shared), [], 'the mirror file, named snapshots and .gitignore are not');
  // The patterns are anchored to .psmc/: a project file of the same name elsewhere is not ignored.
  assert.deepEqual(ignored(sb, repo, ['psmc.db', 'data/http-tokens.json', 'imports/a.json']), []);

  // With real files: a value, a named snapshot, a restore (an automatic snapshot), a token.
  sb.ok(['set', 'display.units', 'metric'], { cwd: repo });
  sb.ok(['snapshot', 'create', 'release'], { cwd: repo });
  sb.ok(['set', 'display.units', 'imperial'], { cwd: repo });
  sb.ok(['snapshot', 'restore', 'release', '--yes'], { cwd: repo });
  sb.ok(['token', 'create', '--name', 'ci'], { cwd: repo });
  assert.ok(existsSync(join(repo, '.psmc', 'http-tokens.json')));
  assert.ok(existsSync(join(repo, '.psmc', 'psmc.db')));
  const untracked = git(sb, repo, ['status', '--porcelain', '--untracked-files=all'])
    .split('\n')
    .filter((l) => l !== '')
    .sort();
  assert.deepEqual(untracked, ['?? .psmc/.gitignore', '?? .psmc/config.json', '?? .psmc/snapshots/release.json']);
  // doctor does not mind the extra file.
  const d = sb.run(['doctor', '--json'], { cwd: repo });
  assert.equal(d.status, 0, d.stdout + d.stderr);
  assert.doesNotMatch(d.stdout, /gitignore/);
});

test('an existing .gitignore is never changed (nor a link of that name followed); init again only adds a missing one', (t) => {
  const sb = sandbox(t);
  const repo = project(sb);
  mkdirSync(join(repo, '.psmc'));
  const mine = '# mine\n*\n';
  writeFileSync(join(repo, '.psmc', '.gitignore'), mine, { mode: 0o644 });
  let r = sb.run(['init'], { cwd: repo });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `psmc project store already exists in ${join(repo, '.psmc')}\n`);
  assert.doesNotMatch(r.stderr, /Wrote/);
  assert.equal(readFileSync(join(repo, '.psmc', '.gitignore'), 'utf8'), mine);
  if (process.platform !== 'win32') assert.equal(statSync(join(repo, '.psmc', '.gitignore')).mode & 0o777, 0o644);

  // A store made before psmc wrote the file (or the file deleted): init adds it, once.
  rmSync(join(repo, '.psmc', '.gitignore'));
  sb.ok(['set', 'a', '1'], { cwd: repo });
  r = sb.run(['init'], { cwd: repo });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Wrote .*\.gitignore/);
  const written = readFileSync(join(repo, '.psmc', '.gitignore'), 'utf8');
  r = sb.run(['init', '--json'], { cwd: repo });
  assert.deepEqual(r.json(), { path: join(repo, '.psmc'), created: false });
  assert.equal(r.stderr, '');
  assert.equal(readFileSync(join(repo, '.psmc', '.gitignore'), 'utf8'), written);
  assert.equal(sb.run(['get', 'a'], { cwd: repo }).stdout, '1\n');

  if (process.platform !== 'win32') {
    // A dangling link named .gitignore: left as it is, its target never created.
    const other = project(sb, 'other');
    mkdirSync(join(other, '.psmc'));
    const target = join(sb.dir, 'elsewhere.txt');
    symlinkSync(target, join(other, '.psmc', '.gitignore'));
    r = sb.run(['init'], { cwd: other });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(join(other, '.psmc', '.gitignore')).isSymbolicLink());
    assert.equal(readlinkSync(join(other, '.psmc', '.gitignore')), target);
    assert.equal(existsSync(target), false);
  }
});

test('a fresh clone: the database is not in git; psmc init builds it from the committed mirror file', (t) => {
  const sb = sandbox(t);
  const origin = project(sb, 'origin');
  git(sb, origin, ['init', '-q']);
  sb.ok(['init'], { cwd: origin });
  sb.ok(['set', 'plant.name', '"North Works"'], { cwd: origin });
  sb.ok(['set', 'display.units', 'metric'], { cwd: origin });
  sb.ok(['snapshot', 'create', 'release'], { cwd: origin });
  git(sb, origin, ['add', '.']);
  git(sb, origin, ['commit', '-q', '-m', 'project with its settings']);
  const committed = git(sb, origin, ['ls-files']).split('\n').filter(Boolean).sort();
  assert.deepEqual(committed, ['.psmc/.gitignore', '.psmc/config.json', '.psmc/snapshots/release.json']);

  const clone = join(sb.dir, 'clone');
  git(sb, sb.dir, ['clone', '-q', origin, clone]);
  assert.equal(existsSync(join(clone, '.psmc', 'psmc.db')), false);
  // Before init: reads never create a store, so they do not see the committed values.
  assert.equal(sb.run(['get', 'plant.name'], { cwd: clone }).status, 3);
  const r = sb.run(['init'], { cwd: clone });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `psmc project store already exists in ${join(clone, '.psmc')}\n`);
  assert.match(r.stderr, /Built its database from .*config\.json: 2 key\(s\)/);
  assert.doesNotMatch(r.stderr, /Wrote/, 'the committed .gitignore is kept');
  assert.equal(sb.run(['get', 'plant.name'], { cwd: clone }).stdout, 'North Works\n');
  const got = sb.run(['get', 'display.units', '--json'], { cwd: clone }).json<{ layer: string; value: unknown }>();
  assert.deepEqual([got.layer, got.value], ['project', 'metric']);
  assert.match(sb.ok(['history', 'plant.name'], { cwd: clone }), /file/);
  assert.match(sb.ok(['snapshot', 'list'], { cwd: clone }), /release/);
  // The clone's working tree stays clean: the new database and its automatic snapshot are ignored.
  assert.equal(git(sb, clone, ['status', '--porcelain', '--untracked-files=all']), '');
  // Again: nothing more to do.
  const again = sb.run(['init'], { cwd: clone });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stderr, '');
});

test('a clone whose committed mirror file is broken: init creates the database, warns with where and how, and exits 0', (t) => {
  const sb = sandbox(t);
  const repo = project(sb);
  mkdirSync(join(repo, '.psmc'));
  writeFileSync(join(repo, '.psmc', 'config.json'), '{ "a": 1,, }\n');
  const r = sb.run(['init'], { cwd: repo });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: created its database, but .*config\.json holds an edit psmc cannot use \(line 1/);
  assert.match(r.stderr, /hint: /);
  assert.ok(existsSync(join(repo, '.psmc', 'psmc.db')));
  // Fixed, the next command imports it.
  writeFileSync(join(repo, '.psmc', 'config.json'), '{ "a": 2 }\n');
  sb.ok(['set', 'b', '1'], { cwd: repo });
  assert.equal(sb.run(['get', 'a'], { cwd: repo }).stdout, '2\n');
});

/** Starts `psmc serve --port 0 --json` and resolves once it is ready; the server is stopped after the test. */
async function serveOnce(t: TestContext, sb: Sandbox, args: readonly string[], cwd: string): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args, 'serve', '--port', '0', '--json'], {
    cwd,
    env: sb.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  // 'close', not 'exit': it comes after stderr is read to the end, so no note can be missed.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
    exited.then(() => {
      throw new Error(`psmc serve exited before it was ready:\n${stderr}`);
    }),
  ]);
  assert.equal((JSON.parse(line) as { event: string }).event, 'ready');
  child.kill('SIGTERM');
  await exited;
  return stderr;
}

test('psmc serve writes .psmc/.gitignore before it first writes http-tokens.json into a project store, and only there', async (t) => {
  const sb = sandbox(t);
  const repo = project(sb);
  // A project store made without psmc init (by hand, or by an older psmc).
  mkdirSync(join(repo, '.psmc'));
  sb.ok(['set', 'a', '1'], { cwd: repo });
  assert.equal(existsSync(join(repo, '.psmc', '.gitignore')), false);
  const err = await serveOnce(t, sb, [], repo);
  assert.match(err, /psmc serve: wrote .*\.gitignore so that http-tokens\.json and the database stay out of git/);
  const text = readFileSync(join(repo, '.psmc', '.gitignore'), 'utf8');
  assert.match(text, /^\/http-tokens\.json$/m);

  // The user's own file stays as it is.
  const other = project(sb, 'other');
  mkdirSync(join(other, '.psmc'));
  writeFileSync(join(other, '.psmc', '.gitignore'), 'mine\n');
  const err2 = await serveOnce(t, sb, [], other);
  assert.doesNotMatch(err2, /wrote/);
  assert.equal(readFileSync(join(other, '.psmc', '.gitignore'), 'utf8'), 'mine\n');

  // A store named with --store is not a project store: no .gitignore there.
  const plain = join(sb.dir, 'plain-store');
  sb.ok(['set', 'a', '1', '--store', plain]);
  const err3 = await serveOnce(t, sb, ['--store', plain], sb.dir);
  assert.doesNotMatch(err3, /wrote/);
  assert.equal(existsSync(join(plain, '.gitignore')), false);
});

test('psmc token create also writes .psmc/.gitignore before the first http-tokens.json of a project store', (t) => {
  const sb = sandbox(t);
  const repo = project(sb);
  mkdirSync(join(repo, '.psmc'));
  sb.ok(['set', 'a', '1'], { cwd: repo });
  const r = sb.run(['token', 'create', '--name', 'ci'], { cwd: repo });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /psmc token: wrote .*\.gitignore so that http-tokens\.json and the database stay out of git/);
  assert.match(readFileSync(join(repo, '.psmc', '.gitignore'), 'utf8'), /^\/http-tokens\.json$/m);
  // Once the tokens file exists, nothing more is said or written.
  rmSync(join(repo, '.psmc', '.gitignore'));
  const again = sb.run(['token', 'create', '--name', 'ci2'], { cwd: repo });
  assert.equal(again.status, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /wrote/);
  // A --store store is not a project store.
  const plain = join(sb.dir, 'plain-store');
  sb.ok(['set', 'a', '1', '--store', plain]);
  const p = sb.run(['token', 'create', '--store', plain]);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(existsSync(join(plain, '.gitignore')), false);
});
