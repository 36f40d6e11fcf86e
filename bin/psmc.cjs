#!/usr/bin/env node
'use strict';
// The psmc command. The work is in dist/bundle/psmc.cjs (a one-file CommonJS bundle that starts
// fast), or dist/src/cli/main.js when the bundle has not been built; `npm run build` makes both.

// `psmc history | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

function run(cli) {
  cli.main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`psmc: ${e && e.stack ? e.stack : e}\n`);
      process.exitCode = 1;
    },
  );
}

let bundle;
try {
  bundle = require('../dist/bundle/psmc.cjs');
} catch (e) {
  if (e.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes('psmc.cjs')) throw e;
}
if (bundle !== undefined) {
  run(bundle);
} else {
  import('../dist/src/cli/main.js').then(run, (e) => {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    process.stderr.write(
      `psmc: the compiled code is missing (${e.message}).\n  hint: run \`npm run build\` in the psmc checkout.\n`,
    );
    process.exit(1);
  });
}
