// 6. docs/cli.md stays in step with the code: every error code with its exit number, every command.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/core/errors.js';
import { COMMANDS } from '../../src/cli/main.js';
import type { CommandModule } from '../../src/cli/context.js';
import { ROOT } from './harness.js';

const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');

test('6.1 docs/cli.md gives every error code with its exit number', () => {
  for (const [code, { exit }] of Object.entries(ERROR_CODES)) {
    // A row of the exit-code table: | <exit> | `<CODE>` | meaning |
    const rows = doc.split('\n').filter((l) => new RegExp(`^\\|\\s*\\d+\\s*\\|\\s*\`${code}\`\\s*\\|`).test(l));
    assert.equal(rows.length, 1, `docs/cli.md must have exactly one exit-code table row for ${code}`);
    assert.match(
      rows[0] ?? '',
      new RegExp(`^\\|\\s*${exit}\\s*\\|`),
      `docs/cli.md gives ${code} an exit code other than ${exit}: ${rows[0]}`,
    );
  }
});

test('6.2 docs/cli.md has a section for every command; every usage ends with examples', async () => {
  for (const name of Object.keys(COMMANDS)) {
    if (name === 'help') continue;
    assert.match(doc, new RegExp(`^## \`psmc ${name}`, 'm'), `docs/cli.md has no section for ${name}`);
    const cmd = (await import(`../../src/cli/commands/${name}.js`)) as CommandModule;
    assert.match(cmd.usage, new RegExp(`^Usage: psmc ${name}`), name);
    assert.match(cmd.usage, /\nExamples:\n( {2}.+\n?)+$/, `${name}: the usage must end with Examples`);
    for (const option of Object.keys(cmd.spec.options)) {
      assert.ok(cmd.usage.includes(`--${option}`), `${name}: usage does not document --${option}`);
      assert.ok(doc.includes(`--${option}`), `docs/cli.md does not document ${name} --${option}`);
    }
  }
});
