/**
 * Bundles the CLI for start-up speed: `psmc get` then loads one module instead
 * of ~60 (module resolution and linking dominate a one-shot command).
 *
 * - dist/bundle/psmc.mjs: the CLI. better-sqlite3 stays external (a native addon).
 * - dist/bundle/codecs.cjs: the mirror codecs with their parsers (JSONC, TOML,
 *   YAML: most of the code by size). src/mirror/codecs-load.ts is swapped for
 *   a lazy `require` of this file, so they are parsed only when a mirror file
 *   must actually be read or written.
 * The banner gives the ESM bundle a `require` (for that, and for CommonJS
 * dependencies that ask for Node built-ins).
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

const lazyCodecs: Plugin = {
  name: 'lazy-codecs',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]mirror[\\/]codecs-load\.ts$/ }, () => ({
      loader: 'ts',
      contents: `
        import { createRequire } from 'node:module';
        const load = createRequire(import.meta.url);
        let mod: typeof import('./codecs/index.js') | undefined;
        export function codecs(): typeof import('./codecs/index.js') {
          return (mod ??= load('./codecs.cjs'));
        }`,
    }));
  },
};

// psmc serve / psmc token: the HTTP service and its framework live in dist/bundle/server.cjs,
// required on first use, so the other commands never parse them.
const lazyServer: Plugin = {
  name: 'lazy-server',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]cli[\\/]server-load\.ts$/ }, () => ({
      loader: 'ts',
      contents: `
        import { createRequire } from 'node:module';
        const load = createRequire(import.meta.url);
        export async function loadServer() {
          return load('./server.cjs');
        }`,
    }));
  },
};

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['src/mirror/codecs/index.ts'],
  outfile: 'dist/bundle/codecs.cjs',
  format: 'cjs',
});
await build({
  ...common,
  entryPoints: ['src/server/index.ts'],
  outfile: 'dist/bundle/server.cjs',
  format: 'cjs',
  external: ['better-sqlite3'],
  define: { 'import.meta.url': '__psmcModuleUrl' },
  banner: { js: "const __psmcModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// CommonJS on purpose: started from bin/psmc.cjs, a one-shot command never initialises Node's
// ESM loader (several ms). `import.meta.url` is provided by the banner.
await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/bundle/psmc.cjs',
  format: 'cjs',
  external: ['better-sqlite3'],
  plugins: [lazyCodecs, lazyServer],
  define: { 'import.meta.url': '__psmcModuleUrl' },
  banner: { js: "const __psmcModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
