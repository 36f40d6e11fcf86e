#!/usr/bin/env node
// The psmc command. All the work is in dist/src/cli/main.js (built by `npm run build`).

// `psmc history | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

let cli;
try {
  // The one-file bundle (npm run build makes it) starts faster than the ~40 modules of dist/src.
  cli = await import('../dist/bundle/psmc.mjs').catch((e) => {
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('bundle')) return import('../dist/src/cli/main.js');
    throw e;
  });
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist')) throw e;
  process.stderr.write(
    `psmc: the compiled code is missing (${e.message}).\n  hint: run \`npm run build\` in the psmc checkout.\n`,
  );
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
