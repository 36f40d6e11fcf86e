/**
 * `npm test`: runs every `dist/test/**\/*.test.js` with Node's test runner.
 *
 * Node 20's `node --test <dir>` runs every .js file in the directory, helpers and
 * worker scripts included; Node 20 has no glob support. So the files are listed
 * here and passed explicitly. Extra arguments are passed through
 * (e.g. `npm test -- --test-name-pattern=cas`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function find(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) find(path, out);
    else if (entry.name.endsWith('.test.js')) out.push(relative(root, path));
  }
  return out;
}

const files = find(join(root, 'dist', 'test'), []).sort();
if (files.length === 0) {
  process.stderr.write('run-tests: no test files under dist/test (run `npm run build` first)\n');
  process.exit(1);
}
const args = ['--test', '--test-concurrency=2', ...process.argv.slice(2), ...files];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
