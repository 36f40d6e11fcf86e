/**
 * The web GUI's files, from `dist/gui/` (built by the GUI's build step and
 * shipped with the package). This module runs either from
 * `dist/src/server/` (tsc output) or from the CLI bundle in `dist/bundle/`,
 * so the folder is looked up relative to both.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PsmcError } from '../core/errors.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A path segment the server will serve: no dot files, no `..`, no separators or odd characters. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** `dist/gui/` seen from this module (dist/src/server/ or dist/bundle/), or from `override`. */
export function findGuiDir(override?: string): string {
  if (override !== undefined) return override;
  const candidates = ['../../gui/', '../gui/'].map((up) => fileURLToPath(new URL(up, import.meta.url)));
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? (candidates[0] as string);
}

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

/** The file for a URL path (`/` → index.html), or throws PSMC_NOT_FOUND / PSMC_USAGE. */
export function staticFile(dir: string, urlPath: string): StaticFile {
  const rel = urlPath === '/' ? 'index.html' : urlPath.replace(/^\/+/, '');
  const segments = rel.split('/');
  if (segments.length > 8 || !segments.every((s) => SEGMENT.test(s) && !s.includes('..'))) {
    throw new PsmcError('PSMC_NOT_FOUND', `No page ${JSON.stringify(urlPath)}.`, {
      hint: 'The GUI is at /; the API is under /api/v1 (see /api/v1/openapi.json).',
    });
  }
  const file = join(dir, ...segments);
  if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) {
    throw new PsmcError('PSMC_NOT_FOUND', `No page ${JSON.stringify(urlPath)}.`, { hint: 'The GUI is at /.' });
  }
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) {
    if (rel === 'index.html') {
      throw new PsmcError('PSMC_NOT_FOUND', `The web GUI is not built (no ${file}).`, {
        hint: 'Run npm run build in the psmc checkout (packages ship it prebuilt). The API under /api/v1 works without it.',
      });
    }
    throw new PsmcError('PSMC_NOT_FOUND', `No page ${JSON.stringify(urlPath)}.`, {
      hint: 'The GUI is at /; the API is under /api/v1 (see /api/v1/openapi.json).',
    });
  }
  return { body: readFileSync(file), type: TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream' };
}
