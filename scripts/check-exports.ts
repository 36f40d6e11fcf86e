// Checks the package's public entry as a consumer sees it, after `npm run build`.
//
// Usage: node dist/scripts/check-exports.js   (run by `npm run check`)
//
// 1. Every target of the `exports` map (and the top-level `types`/`main`) exists.
// 2. `import('psmc')` resolves by package name, both by self-reference from the repo and from a
//    consumer directory whose node_modules/psmc links to the repo, to the `import` target.
// 3. Importing has no side effects: the child runs with HOME, XDG_* , APPDATA, TMPDIR and its cwd
//    pointed at empty temp directories, none of which may gain a file, and it must exit by itself
//    within CHILD_DEADLINE_MS (a timer, watcher or socket started on import would keep it alive).
// 4. The runtime named exports equal scripts/exports.txt (one name per line, `#` comments).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGE_NAME = 'psmc';
const CHILD_DEADLINE_MS = 5000;

interface PackageJson {
  name?: unknown;
  exports?: unknown;
  types?: unknown;
  main?: unknown;
}

interface ProbeResult {
  resolved: string;
  names: string[];
  /** Active resources (timers, handles) left after import, beyond those present before it. */
  lingering: string[];
}

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as PackageJson).name === PACKAGE_NAME) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`check-exports: cannot find the ${PACKAGE_NAME} package.json`);
    dir = parent;
  }
}

/** Collects every string target in an exports map, with the condition path that leads to it. */
function exportTargets(value: unknown, path: string, out: Array<{ path: string; target: string }>): void {
  if (typeof value === 'string') out.push({ path, target: value });
  else if (Array.isArray(value)) value.forEach((v, i) => exportTargets(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) exportTargets(v, path === '' ? k : `${path} > ${k}`, out);
  }
}

/** Files below dir, relative to it; used to detect writes made by the child. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      out.push(relative(dir, full).split(sep).join('/') + (e.isDirectory() ? '/' : ''));
    }
  };
  walk(dir);
  return out.sort();
}

// Runs in the child. Compares active resources before the import and one macrotask after it, then
// prints one JSON line. It must not keep anything alive itself.
const PROBE = `
const before = process.getActiveResourcesInfo();
const resolved = import.meta.resolve(${JSON.stringify(PACKAGE_NAME)});
const ns = await import(${JSON.stringify(PACKAGE_NAME)});
await new Promise((r) => setImmediate(r));
const after = process.getActiveResourcesInfo();
const lingering = [...after];
for (const b of before) { const i = lingering.indexOf(b); if (i !== -1) lingering.splice(i, 1); }
process.stdout.write(JSON.stringify({ resolved, names: Object.keys(ns).sort(), lingering }) + '\\n');
`;

function probe(cwd: string, sandbox: string, label: string, problems: string[]): ProbeResult | undefined {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('PSMC_') && !k.startsWith('XDG_')) env[k] = v;
  }
  Object.assign(env, {
    HOME: join(sandbox, 'home'),
    USERPROFILE: join(sandbox, 'home'),
    XDG_CONFIG_HOME: join(sandbox, 'xdg-config'),
    XDG_DATA_HOME: join(sandbox, 'xdg-data'),
    XDG_STATE_HOME: join(sandbox, 'xdg-state'),
    XDG_CACHE_HOME: join(sandbox, 'xdg-cache'),
    APPDATA: join(sandbox, 'appdata'),
    LOCALAPPDATA: join(sandbox, 'localappdata'),
    TMPDIR: join(sandbox, 'tmp'),
    TMP: join(sandbox, 'tmp'),
    TEMP: join(sandbox, 'tmp'),
  });
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: CHILD_DEADLINE_MS,
    killSignal: 'SIGKILL',
  });
  const elapsed = Date.now() - started;
  if (child.error !== undefined && (child.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    problems.push(
      `${label}: the importing process did not exit within ${CHILD_DEADLINE_MS} ms; ` +
        'importing the entry must not start timers, watchers or sockets',
    );
    return undefined;
  }
  if (child.error !== undefined) {
    problems.push(`${label}: could not run node: ${child.error.message}`);
    return undefined;
  }
  if (child.status !== 0) {
    problems.push(`${label}: import('${PACKAGE_NAME}') failed (exit ${child.status}):\n${child.stderr.trim()}`);
    return undefined;
  }
  const line = child.stdout.trim().split('\n').pop() ?? '';
  let result: ProbeResult;
  try {
    result = JSON.parse(line) as ProbeResult;
  } catch (cause) {
    problems.push(`${label}: unexpected probe output ${JSON.stringify(child.stdout)} (${String(cause)})`);
    return undefined;
  }
  if (child.stdout.trim().includes('\n') || child.stderr.trim() !== '') {
    problems.push(
      `${label}: importing printed output (stdout ${JSON.stringify(child.stdout.trim())}, ` +
        `stderr ${JSON.stringify(child.stderr.trim())}); the entry must be silent`,
    );
  }
  if (result.lingering.length > 0) {
    problems.push(`${label}: importing left active resources: ${result.lingering.join(', ')}`);
  }
  console.log(`  ${label}: resolved to ${result.resolved}, exited after ${elapsed} ms`);
  return result;
}

function readExpectedNames(file: string): string[] | undefined {
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .sort();
}

function main(): number {
  const root = findRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const problems: string[] = [];
  console.log(`check-exports: ${root}`);

  // 1. Targets exist.
  if (pkg.exports === undefined) {
    console.error('check-exports: package.json has no "exports" map');
    return 1;
  }
  const targets: Array<{ path: string; target: string }> = [];
  exportTargets(pkg.exports, '', targets);
  if (typeof pkg.types === 'string') targets.push({ path: '(types)', target: pkg.types });
  if (typeof pkg.main === 'string') targets.push({ path: '(main)', target: pkg.main });
  const rootExport =
    typeof pkg.exports === 'object' && pkg.exports !== null ? (pkg.exports as Record<string, unknown>)['.'] : undefined;
  const importTarget =
    typeof rootExport === 'string'
      ? rootExport
      : typeof rootExport === 'object' && rootExport !== null
        ? (rootExport as Record<string, unknown>)['import']
        : undefined;
  if (typeof importTarget !== 'string') {
    console.error('check-exports: exports["."] has no "import" target');
    return 1;
  }
  const entry = join(root, importTarget);
  if (!existsSync(entry)) {
    console.error(
      `check-exports: ${importTarget} does not exist. Run \`npm run build\` first ` +
        '(and make sure src/index.ts exists), then run this check again.',
    );
    return 1;
  }
  for (const { path, target } of targets) {
    if (target.includes('*'))
      problems.push(`exports ${path}: pattern targets (${target}) are not checked by this script`);
    else if (!target.startsWith('./') && !path.startsWith('('))
      problems.push(`exports ${path}: target ${target} must start with ./`);
    else if (!existsSync(join(root, target))) problems.push(`exports ${path}: ${target} does not exist`);
  }
  console.log(`  ${targets.length} export targets checked`);

  // 2 and 3. Resolve and import by name, sandboxed, from the repo and from a consumer directory.
  const work = mkdtempSync(join(tmpdir(), 'psmc-check-exports-'));
  let names: string[] | undefined;
  try {
    const expectedUrl = pathToFileURL(entry).href;
    const runs: Array<{ label: string; cwd: string; sandbox: string }> = [];
    const selfSandbox = join(work, 'self');
    runs.push({ label: 'self-reference from the repo', cwd: root, sandbox: selfSandbox });
    const consumerSandbox = join(work, 'consumer');
    const consumer = join(consumerSandbox, 'cwd');
    mkdirSync(join(consumer, 'node_modules'), { recursive: true });
    symlinkSync(root, join(consumer, 'node_modules', PACKAGE_NAME), process.platform === 'win32' ? 'junction' : 'dir');
    runs.push({ label: 'consumer with node_modules/psmc', cwd: consumer, sandbox: consumerSandbox });

    for (const run of runs) {
      for (const d of ['home', 'xdg-config', 'xdg-data', 'xdg-state', 'xdg-cache', 'appdata', 'localappdata', 'tmp']) {
        mkdirSync(join(run.sandbox, d), { recursive: true });
      }
      const before = listFiles(run.sandbox);
      const result = probe(run.cwd, run.sandbox, run.label, problems);
      const created = listFiles(run.sandbox).filter((f) => !before.includes(f));
      if (created.length > 0) {
        problems.push(`${run.label}: importing created files: ${created.join(', ')}`);
      }
      if (result === undefined) continue;
      if (result.resolved !== expectedUrl) {
        problems.push(
          `${run.label}: import('${PACKAGE_NAME}') resolved to ${result.resolved}, expected ${expectedUrl}`,
        );
      }
      if (names === undefined) names = result.names;
      else if (names.join() !== result.names.join()) {
        problems.push(`${run.label}: different named exports than the first run`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  // 4. Named exports match the list.
  const listFile = join(root, 'scripts', 'exports.txt');
  const expected = readExpectedNames(listFile);
  if (names !== undefined) {
    if (expected === undefined) problems.push('scripts/exports.txt is missing');
    else {
      const missing = expected.filter((n) => !names?.includes(n));
      const extra = names.filter((n) => !expected.includes(n));
      if (missing.length > 0) problems.push(`named exports missing from the entry: ${missing.join(', ')}`);
      if (extra.length > 0) {
        problems.push(
          `named exports not listed in scripts/exports.txt: ${extra.join(', ')} ` +
            '(add them to the list if they are meant to be public)',
        );
      }
    }
    console.log(`  ${names.length} named exports: ${names.join(', ')}`);
  }

  if (problems.length > 0) {
    for (const p of problems) console.error('FAIL ' + p);
    console.error(`check-exports: ${problems.length} problem(s)`);
    return 1;
  }
  console.log('check-exports: ok');
  return 0;
}

process.exitCode = main();
