/**
 * Builds the web GUI that `psmc serve` serves (run by `npm run build`; users get the result in
 * the package and never run a build step):
 *
 * - dist/gui/assets/app-<hash>.js: src/gui/main.tsx with preact, minified, one ES module.
 * - dist/gui/assets/app-<hash>.css: src/gui/styles.css, minified.
 * - dist/gui/index.html: src/gui/index.html pointing at those two files.
 *
 * Content hashes in the names let a browser cache assets forever; index.html is the only file
 * that changes name-free. No inline script or style anywhere (the server's CSP is
 * `default-src 'self'`), and nothing is loaded from another origin.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'dist', 'gui');
const assets = join(out, 'assets');

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'src/gui/main.tsx', style: 'src/gui/styles.css' },
  outdir: 'dist/gui/assets',
  entryNames: 'app-[hash]',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: 'src/gui/tsconfig.json',
  inject: ['src/gui/buffer-shim.ts'],
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  logLevel: 'warning',
});

let js: string | undefined;
let css: string | undefined;
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (info.entryPoint === 'src/gui/main.tsx') js = basename(file);
  else if (info.entryPoint === 'src/gui/styles.css') css = basename(file);
}
if (js === undefined || css === undefined) throw new Error('bundle-gui: esbuild produced no app script or stylesheet');

const html = readFileSync(join(root, 'src', 'gui', 'index.html'), 'utf8')
  .replace('%JS%', js)
  .replace('%CSS%', css);
writeFileSync(join(out, 'index.html'), html);
