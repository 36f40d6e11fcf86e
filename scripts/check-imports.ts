// Enforces the folder dependency rules of ARCHITECTURE.md over the TypeScript sources in src/.
//
// Usage: node dist/scripts/check-imports.js   (run by `npm run check`)
//
// Every .ts file under src/ must belong to one zone of RULES, and may import only what its zone
// allows. A file in no zone (a new folder) is an error, so adding a folder forces a decision here.
// Type-only imports count like any other: the layering is about knowledge, not only runtime code.
// Imports are found with regular expressions after comments and template literals are blanked,
// which is enough for the import forms this codebase uses (static import/export ... from, bare
// import, import('...'), require('...')).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What an import points at: a zone under src/ (`core`, `storage/sqlite`, `store`, `cli`, `index`,
 * or the first folder name for anything else), `node:` for a built-in, `pkg:<name>`
 * for an npm package, or `outside` for a relative path that leaves src/.
 */
type Target = string;

interface Rule {
  /** Zone name used in messages and in other rules' allow lists. */
  zone: string;
  /** Does this file (path relative to src/, posix separators) belong to the zone? */
  matches: (file: string) => boolean;
  /** Allowed targets. `X/*` allows X and everything below it; `*` allows every zone under src/. */
  allow: readonly string[];
  /** Zones excluded from a `*` allowance. */
  deny?: readonly string[];
}

// The table. Keep it in step with the "May import" column of ARCHITECTURE.md.
const RULES: readonly Rule[] = [
  {
    zone: 'core',
    matches: (f) => f.startsWith('core/'),
    // Pure, and home of the storage port: no I/O, so no node: modules at all (the Buffer global is
    // fine) and no packages.
    allow: ['core'],
  },
  {
    zone: 'storage/sqlite',
    matches: (f) => f.startsWith('storage/sqlite/'),
    allow: ['core', 'storage/sqlite', 'pkg:better-sqlite3', 'node:'],
  },
  {
    zone: 'mirror/codecs',
    matches: (f) => f.startsWith('mirror/codecs/'),
    // Pure text ↔ values: no I/O.
    allow: ['core', 'mirror/codecs', 'pkg:jsonc-parser', 'pkg:yaml', 'pkg:smol-toml'],
  },
  {
    zone: 'mirror',
    matches: (f) => f.startsWith('mirror/') && !f.startsWith('mirror/codecs/'),
    // The mirror engine: file I/O around the pure codecs and the core's merge.
    allow: ['core', 'mirror/*', 'node:'],
  },
  {
    zone: 'snapshot',
    matches: (f) => f.startsWith('snapshot/'),
    // Plaintext snapshots of a store: files around the store's export/import.
    allow: ['core', 'store', 'snapshot', 'node:'],
  },
  {
    zone: 'watch',
    matches: (f) => f.startsWith('watch/'),
    // The Watcher: the one component that subscribes to files or polls.
    allow: ['core', 'store', 'watch', 'node:'],
  },
  {
    zone: 'doctor',
    matches: (f) => f.startsWith('doctor/'),
    // Checks and repairs a store: opens it, reads its files, rebuilds a damaged database.
    allow: ['core', 'store', 'storage/*', 'mirror/*', 'snapshot', 'doctor', 'node:'],
  },
  {
    zone: 'store',
    matches: (f) => f.startsWith('store/'),
    allow: ['core', 'storage/*', 'store', 'mirror/*', 'snapshot', 'watch', 'node:'],
  },
  {
    zone: 'server',
    matches: (f) => f.startsWith('server/'),
    // The HTTP service (psmc serve): works on a Store handed to it (store.watch gives the Watcher).
    allow: ['core', 'store', 'watch', 'snapshot', 'mirror', 'server', 'node:', 'pkg:hono', 'pkg:@hono/node-server'],
  },
  {
    zone: 'cli/server-load',
    matches: (f) => f === 'cli/server-load.ts',
    // The one door from the CLI to the server: a separate bundle, loaded by psmc serve and psmc token only.
    allow: ['server'],
  },
  {
    zone: 'cli',
    matches: (f) => f.startsWith('cli/'),
    allow: ['node:', '*'],
    deny: ['server', 'gui'],
  },
  {
    zone: 'gui',
    matches: (f) => f.startsWith('gui/'),
    // The web GUI runs in a browser: no node: modules. It reuses the pure core (schema checks,
    // value rules) so its inline errors are the store's own. preact renders it.
    allow: ['core', 'gui', 'pkg:preact'],
  },
  {
    zone: 'index',
    matches: (f) => f === 'index.ts',
    // Re-exports only.
    allow: ['core', 'store', 'watch', 'snapshot', 'mirror/*'],
  },
];

interface Violation {
  file: string;
  line: number;
  message: string;
}

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'psmc') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('check-imports: cannot find the psmc package.json above ' + import.meta.url);
    dir = parent;
  }
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(full));
    else if (entry.isFile() && (entry.name.endsWith('.ts') || entry.name.endsWith('.tsx'))) out.push(full);
  }
  return out.sort();
}

/**
 * Replaces comments and template-literal contents with spaces (newlines kept, so offsets and line
 * numbers stay valid). Ordinary string literals are kept: import specifiers live in them.
 */
function blankNonCode(src: string): string {
  const out = src.split('');
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      const stop = end === -1 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      i = j + 1;
    } else if (c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== '`') j += src[j] === '\\' ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

// The lookbehind skips member calls such as `mirror.import('a.json')`.
const IMPORT_PATTERNS: readonly RegExp[] = [
  // import x from '...'; import { a } from '...'; import type { T } from '...'; export * from '...'
  /(?<![.\w$-])(?:import|export)\s+[^'";]*?\bfrom\s*(['"])([^'"\n]+)\1/g,
  // import '...';
  /(?<![.\w$-])import\s*(['"])([^'"\n]+)\1/g,
  // import('...') and require('...')
  /(?<![.\w$-])(?:import|require)\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
];
// `await import(name)` and the like; a method named `import(...)` is not matched.
const COMPUTED_DYNAMIC_IMPORT = /(?:\bawait|\breturn|[=(,:?])\s*import\s*\(\s*(?!['"])/g;

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let k = 0; k < index; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

/** Zone of a path relative to src/ (posix), or undefined when no rule claims it. */
function zoneOfFile(rel: string): string | undefined {
  return RULES.find((r) => r.matches(rel))?.zone;
}

/** Zone of an import target for matching against allow lists, claimed by a rule or not. */
function zoneOfTarget(relToSrc: string): string {
  const claimed = zoneOfFile(relToSrc.replace(/\.(?:js|mjs|ts|tsx|mts|d\.ts)$/, '.ts'));
  if (claimed !== undefined) return claimed;
  const first = relToSrc.split('/')[0] ?? relToSrc;
  return first.replace(/\.(?:js|ts)$/, '');
}

function classify(specifier: string, fromFileRelToSrc: string): Target {
  if (specifier.startsWith('node:') || isBuiltin(specifier)) return 'node:';
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const resolved = posix.normalize(posix.join(posix.dirname(fromFileRelToSrc), specifier));
    if (resolved.startsWith('../') || resolved === '..' || specifier.startsWith('/')) return 'outside';
    return zoneOfTarget(resolved);
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
  return 'pkg:' + name;
}

function allowed(rule: Rule, target: Target): boolean {
  if (target === 'outside') return false;
  const isSrcZone = target !== 'node:' && !target.startsWith('pkg:');
  for (const a of rule.allow) {
    if (a === target) return true;
    if (a === '*' && isSrcZone && !(rule.deny ?? []).includes(target.split('/')[0] ?? target)) return true;
    if (a.endsWith('/*')) {
      const base = a.slice(0, -2);
      if (target === base || target.startsWith(base + '/')) return true;
    }
  }
  return false;
}

function describe(target: Target, specifier: string): string {
  if (target === 'node:') return `${specifier} (a Node built-in)`;
  if (target.startsWith('pkg:')) return `${specifier} (an npm package)`;
  if (target === 'outside') return `${specifier} (outside src/)`;
  return `${specifier} (${target})`;
}

function allowText(rule: Rule): string {
  const deny = rule.deny !== undefined && rule.deny.length > 0 ? ` except ${rule.deny.join(', ')}` : '';
  return rule.allow
    .map((a) =>
      a === 'node:'
        ? 'node: built-ins'
        : a === '*'
          ? 'anything under src/' + deny
          : a.startsWith('pkg:')
            ? a.slice(4)
            : a,
    )
    .join(', ');
}

function main(): number {
  const root = findRoot();
  const srcDir = join(root, 'src');
  if (!existsSync(srcDir)) {
    console.error('check-imports: no src/ directory at ' + root);
    return 1;
  }
  const files = listTs(srcDir);
  const violations: Violation[] = [];
  const warnings: string[] = [];
  let importCount = 0;

  for (const full of files) {
    const relToSrc = relative(srcDir, full).split(sep).join('/');
    const display = 'src/' + relToSrc;
    const rule = RULES.find((r) => r.matches(relToSrc));
    if (rule === undefined) {
      violations.push({
        file: display,
        line: 1,
        message: `is in no zone of the import rules; add its folder to RULES in scripts/check-imports.ts and to ARCHITECTURE.md`,
      });
      continue;
    }
    const text = blankNonCode(readFileSync(full, 'utf8'));
    const seen = new Set<number>();
    for (const pattern of IMPORT_PATTERNS) {
      for (const m of text.matchAll(pattern)) {
        const specifier = m[2];
        const at = (m.index ?? 0) + m[0].lastIndexOf(m[1] + (specifier ?? ''));
        if (specifier === undefined || seen.has(at)) continue;
        seen.add(at);
        importCount++;
        const target = classify(specifier, relToSrc);
        if (!allowed(rule, target)) {
          violations.push({
            file: display,
            line: lineOf(text, at),
            message: `imports ${describe(target, specifier)}, which ${rule.zone} may not import (allowed: ${allowText(rule)})`,
          });
        }
      }
    }
    for (const m of text.matchAll(COMPUTED_DYNAMIC_IMPORT)) {
      warnings.push(
        `${display}:${lineOf(text, m.index ?? 0)} has a dynamic import with a computed specifier; not checked`,
      );
    }
  }

  violations.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  for (const w of warnings) console.warn('warning: ' + w);
  for (const v of violations) console.error(`${v.file}:${v.line} ${v.message}`);
  const summary = `check-imports: ${files.length} files, ${importCount} imports, ${violations.length} violation(s)`;
  if (violations.length > 0) {
    console.error(summary);
    return 1;
  }
  console.log(summary);
  return 0;
}

process.exitCode = main();
