/**
 * `npm run spec:check`: the self-check of the conformance vectors.
 *
 * 1. Every `spec/vectors/**\/*.json` file validates against
 *    `spec/vectors/vector.schema.json` (with the small validator below, which
 *    supports exactly the JSON Schema keywords that file uses).
 * 2. Case ids are well-formed and unique across all files.
 * 3. Every case's `spec` anchor is a `### §anchor — Title` heading in
 *    spec/SPEC.md or spec/sections/*.md.
 * 4. Every normative anchor has at least one vector. A heading whose title
 *    says `(informative)` is not normative; anchors named in a
 *    `<!-- no-vector: §a §b — reason -->` comment are exempt.
 *
 * Exits 1 when any of these fails, printing every problem and a summary.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/scripts/ → the repository root is two levels up.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VECTORS = join(ROOT, 'spec', 'vectors');
const SCHEMA_FILE = join(VECTORS, 'vector.schema.json');
const SPEC_FILE = join(ROOT, 'spec', 'SPEC.md');
const SECTIONS = join(ROOT, 'spec', 'sections');
const ID_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*-[0-9]{3,}$/;

type Schema = { [keyword: string]: unknown } | boolean;

// ---------------------------------------------------------------------------
// A JSON Schema validator for the keywords vector.schema.json uses:
// $ref (local "#/$defs/…"), type, const, enum, properties, required,
// additionalProperties, items, minItems, minLength, minimum, pattern,
// allOf, anyOf, oneOf, not. Any other keyword is reported, so the schema
// cannot silently grow beyond what is checked.

const KNOWN = new Set([
  '$schema',
  '$id',
  '$defs',
  '$ref',
  'title',
  'description',
  'type',
  'const',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'minLength',
  'minimum',
  'pattern',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Validator {
  readonly #root: Record<string, unknown>;
  readonly #patterns = new Map<string, RegExp>();

  constructor(root: Record<string, unknown>) {
    this.#root = root;
  }

  #resolve(ref: string): Schema {
    if (!ref.startsWith('#/')) throw new Error(`only local $ref is supported, found ${ref}`);
    let node: unknown = this.#root;
    for (const raw of ref.slice(2).split('/')) {
      const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      node =
        node !== null && typeof node === 'object' && Object.hasOwn(node, part)
          ? (node as Record<string, unknown>)[part]
          : undefined;
      if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
    }
    return node as Schema;
  }

  /** The problems of `v` against `s` at JSON pointer `at` (empty: valid). */
  validate(v: unknown, s: Schema, at: string): string[] {
    if (s === true) return [];
    if (s === false) return [`${at || '/'}: no value is allowed here`];
    const errs: string[] = [];
    for (const kw of Object.keys(s))
      if (!KNOWN.has(kw)) errs.push(`schema keyword ${kw} is not supported by spec-check`);
    if (typeof s['$ref'] === 'string') errs.push(...this.validate(v, this.#resolve(s['$ref']), at));
    const t = typeOf(v);
    const where = at || '/';
    if (s['type'] !== undefined) {
      const types = Array.isArray(s['type']) ? (s['type'] as string[]) : [s['type'] as string];
      if (!types.some((x) => x === t || (x === 'number' && t === 'integer')))
        return [...errs, `${where}: expected ${types.join(' or ')}, found ${t}`];
    }
    if (Object.hasOwn(s, 'const') && !sameJson(v, s['const']))
      errs.push(`${where}: must be ${JSON.stringify(s['const'])}`);
    if (Array.isArray(s['enum']) && !s['enum'].some((e) => sameJson(e, v)))
      errs.push(`${where}: must be one of ${JSON.stringify(s['enum'])}`);
    if (typeof v === 'string') {
      if (typeof s['minLength'] === 'number' && [...v].length < s['minLength'])
        errs.push(`${where}: shorter than ${s['minLength']}`);
      if (typeof s['pattern'] === 'string') {
        let re = this.#patterns.get(s['pattern']);
        if (re === undefined) this.#patterns.set(s['pattern'], (re = new RegExp(s['pattern'], 'u')));
        if (!re.test(v)) errs.push(`${where}: ${JSON.stringify(v)} does not match ${s['pattern']}`);
      }
    }
    if (typeof v === 'number' && typeof s['minimum'] === 'number' && v < s['minimum'])
      errs.push(`${where}: less than ${s['minimum']}`);
    if (Array.isArray(v)) {
      if (typeof s['minItems'] === 'number' && v.length < s['minItems'])
        errs.push(`${where}: fewer than ${s['minItems']} items`);
      if (s['items'] !== undefined)
        v.forEach((item, i) => errs.push(...this.validate(item, s['items'] as Schema, `${at}/${i}`)));
    }
    if (t === 'object') {
      const o = v as Record<string, unknown>;
      const props = (s['properties'] ?? {}) as Record<string, Schema>;
      for (const r of (s['required'] ?? []) as string[])
        if (!Object.hasOwn(o, r)) errs.push(`${where}: missing "${r}"`);
      for (const k of Object.keys(o)) {
        const child = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (Object.hasOwn(props, k)) errs.push(...this.validate(o[k], props[k] as Schema, child));
        else if (s['additionalProperties'] !== undefined) {
          const ap = s['additionalProperties'] as Schema;
          if (ap === false) errs.push(`${where}: unexpected member "${k}"`);
          else errs.push(...this.validate(o[k], ap, child));
        }
      }
    }
    for (const sub of (s['allOf'] ?? []) as Schema[]) errs.push(...this.validate(v, sub, at));
    if (Array.isArray(s['anyOf'])) {
      const results = (s['anyOf'] as Schema[]).map((sub) => this.validate(v, sub, at));
      if (!results.some((r) => r.length === 0)) errs.push(...this.#best(at, 'anyOf', results));
    }
    if (Array.isArray(s['oneOf'])) {
      const results = (s['oneOf'] as Schema[]).map((sub) => this.validate(v, sub, at));
      const passing = results.filter((r) => r.length === 0).length;
      if (passing === 0) errs.push(...this.#best(at, 'oneOf', results));
      else if (passing > 1) errs.push(`${where}: matches ${passing} alternatives of a oneOf, expected exactly one`);
    }
    if (s['not'] !== undefined && this.validate(v, s['not'] as Schema, at).length === 0)
      errs.push(`${where}: matches a forbidden shape`);
    return errs;
  }

  /**
   * For a failed anyOf/oneOf: the problems of the closest alternative (fewest
   * problems), ignoring alternatives for another `op`; "unknown op" when the
   * value's op matches none.
   */
  #best(at: string, kw: string, results: string[][]): string[] {
    const opMismatch = `${at}/op: must be `;
    const viable = results.filter((r) => !r.some((m) => m.startsWith(opMismatch)));
    if (viable.length === 0 && results.length > 1) return [`${at}/op: unknown op for this position`];
    const best = (viable.length > 0 ? viable : results).reduce((a, b) => (b.length < a.length ? b : a));
    return best.length === 0 ? [`${at || '/'}: no alternative of ${kw} matches`] : best;
  }
}

// ---------------------------------------------------------------------------
// Anchors

interface Anchors {
  /** Every anchor that has a heading, with the file it is in. */
  readonly all: Map<string, string>;
  /** Anchors that need a vector. */
  readonly normative: Set<string>;
  readonly problems: string[];
}

function readAnchors(): Anchors {
  const all = new Map<string, string>();
  const normative = new Set<string>();
  const exempt = new Set<string>();
  const problems: string[] = [];
  const files = [SPEC_FILE];
  if (existsSync(SECTIONS)) {
    for (const f of readdirSync(SECTIONS).sort()) if (f.endsWith('.md')) files.push(join(SECTIONS, f));
  }
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(ROOT, file);
    for (const m of text.matchAll(/^###\s+(§[a-z][a-z0-9]*(?:\.[a-z][a-z0-9]*)*)\s+—\s+(.*)$/gmu)) {
      const anchor = m[1] as string;
      if (all.has(anchor)) problems.push(`${rel}: anchor ${anchor} is defined twice (also in ${all.get(anchor)})`);
      all.set(anchor, rel);
      if (!/\(informative\)/i.test(m[2] as string)) normative.add(anchor);
    }
    for (const m of text.matchAll(/<!--\s*no-vector:([\s\S]*?)-->/g)) {
      for (const a of (m[1] as string).matchAll(/§[a-z][a-z0-9]*(?:\.[a-z][a-z0-9]*)*/g)) exempt.add(a[0]);
    }
  }
  for (const a of exempt) {
    if (!all.has(a)) problems.push(`a no-vector comment names ${a}, which has no heading`);
    normative.delete(a);
  }
  return { all, normative, problems };
}

// ---------------------------------------------------------------------------

function listVectorFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listVectorFiles(p));
    else if (e.name.endsWith('.json') && p !== SCHEMA_FILE) out.push(p);
  }
  return out.sort();
}

function main(): number {
  if (!existsSync(SPEC_FILE)) {
    console.error(
      'spec-check: spec/SPEC.md does not exist yet, so no anchor can be checked. Write it first (normative headings: "### §anchor — Title").',
    );
    return 1;
  }
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  const validator = new Validator(schema);
  const anchors = readAnchors();
  const problems: string[] = [...anchors.problems];
  const ids = new Map<string, string>();
  const covered = new Map<string, number>();
  const perTopic = new Map<string, number>();
  let cases = 0;
  const files = listVectorFiles(VECTORS);
  for (const file of files) {
    const rel = relative(ROOT, file);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      problems.push(`${rel}: not JSON: ${(e as Error).message}`);
      continue;
    }
    for (const p of validator.validate(doc, schema, '')) problems.push(`${rel}: ${p}`);
    const list = (doc as { cases?: unknown }).cases;
    if (!Array.isArray(list)) continue;
    const dir = relative(VECTORS, file).split(/[\\/]/)[0] ?? '';
    perTopic.set(dir, (perTopic.get(dir) ?? 0) + list.length);
    list.forEach((c: unknown, i: number) => {
      cases++;
      const { id, spec } = (c ?? {}) as { id?: unknown; spec?: unknown };
      if (typeof id !== 'string' || !ID_RE.test(id))
        problems.push(`${rel}: case ${i} has a malformed id ${JSON.stringify(id)}`);
      else if (ids.has(id)) problems.push(`${rel}: id ${id} is already used in ${ids.get(id)}`);
      else ids.set(id, rel);
      if (typeof spec === 'string') {
        if (!anchors.all.has(spec))
          problems.push(
            `${rel}: ${String(id)} names ${spec}, which is not a "### ${spec} — …" heading in spec/SPEC.md or spec/sections/*.md`,
          );
        covered.set(spec, (covered.get(spec) ?? 0) + 1);
      }
    });
  }
  const uncovered = [...anchors.normative].filter((a) => !covered.has(a)).sort();
  for (const a of uncovered) problems.push(`${a} (${anchors.all.get(a)}) is normative but has no vector`);

  for (const p of problems) console.error(`spec-check: ${p}`);
  const normativeCovered = [...anchors.normative].filter((a) => covered.has(a)).length;
  console.log(`spec-check: ${files.length} files, ${cases} cases, ${ids.size} ids`);
  console.log(`spec-check: cases per topic: ${[...perTopic].map(([t, n]) => `${t} ${n}`).join(', ')}`);
  console.log(
    `spec-check: normative anchors covered ${normativeCovered}/${anchors.normative.size} (${anchors.all.size} anchors in all)`,
  );
  console.log(problems.length === 0 ? 'spec-check: OK' : `spec-check: ${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = main();
