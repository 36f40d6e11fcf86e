/**
 * The compiled document (spec/SPEC.md §schema.keys, §schema.enforce, §schema.default): one
 * precompiled check per entry, lookup of the entry governing a key (exact key first, then the
 * most specific pattern; see key-pattern.ts), and PSMC_SCHEMA_VIOLATION errors naming the key,
 * the path inside the value, what is wrong and how to fix it.
 */
import { PsmcError } from '../errors.js';
import type { JsonValue } from '../value.js';
import { checkForKeySchema } from './compile.js';
import { parseSchemaDocument } from './document.js';
import { comparePatterns, parseKeyName } from './key-pattern.js';
import type { ParsedPattern } from './key-pattern.js';
import { quote } from './messages.js';
import type { KeySchema, SchemaDocument } from './types.js';
import { violationError } from './violation.js';
import type { ValueCheck, Violation } from './violation.js';

interface Entry {
  readonly name: string;
  readonly schema: KeySchema;
  readonly check: ValueCheck;
}

interface PatternEntry extends ParsedPattern {
  readonly entry: Entry;
}

const MATCH_CACHE_LIMIT = 4096;

export class CompiledSchema {
  /** The parsed, frozen document. */
  readonly document: SchemaDocument;
  readonly additionalKeys: boolean;
  readonly #exact = new Map<string, Entry>();
  readonly #patterns: PatternEntry[] = [];
  readonly #matchCache = new Map<string, Entry | null>();

  /** Parses (PSMC_SCHEMA_INVALID) and compiles `doc`. */
  constructor(doc: unknown) {
    this.document = parseSchemaDocument(doc);
    this.additionalKeys = this.document.additionalKeys !== false;
    const keys = this.document.keys;
    for (const name of Object.keys(keys)) {
      const schema = keys[name] as KeySchema;
      const entry: Entry = { name, schema, check: checkForKeySchema(schema) };
      const pattern = parseKeyName(name, `/keys/${name}`);
      if (pattern === undefined) this.#exact.set(name, entry);
      else this.#patterns.push({ ...pattern, entry });
    }
    this.#patterns.sort(comparePatterns);
  }

  #lookup(key: string): Entry | undefined {
    const exact = this.#exact.get(key);
    if (exact !== undefined || this.#patterns.length === 0) return exact;
    const cached = this.#matchCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const segs = key.split('.');
    let found: Entry | null = null;
    for (const p of this.#patterns) {
      if (p.segments.length !== segs.length) continue;
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const ps = p.segments[i];
        if (ps !== '*' && ps !== segs[i]) {
          ok = false;
          break;
        }
      }
      if (ok) {
        found = p.entry;
        break;
      }
    }
    if (this.#matchCache.size >= MATCH_CACHE_LIMIT) this.#matchCache.clear();
    this.#matchCache.set(key, found);
    return found ?? undefined;
  }

  /** The schema governing `key` (exact entry, else the most specific pattern), or undefined. */
  schemaFor(key: string): KeySchema | undefined {
    return this.#lookup(key)?.schema;
  }

  /** The document entry (exact key or pattern) governing `key`, or undefined. */
  entryFor(key: string): string | undefined {
    return this.#lookup(key)?.name;
  }

  /** True when an exact entry or a pattern covers `key`. */
  isKnown(key: string): boolean {
    return this.#lookup(key) !== undefined;
  }

  /** The exact (non-pattern) keys of the document, in document order. */
  keys(): string[] {
    return [...this.#exact.keys()];
  }

  /** The pattern entries, most specific first. */
  patterns(): string[] {
    return this.#patterns.map((p) => p.pattern);
  }

  /** The schema's `default` for `key` (deeply frozen), or undefined. */
  defaultFor(key: string): JsonValue | undefined {
    const s = this.#lookup(key)?.schema;
    return s !== undefined && Object.hasOwn(s, 'default') ? s.default : undefined;
  }

  /** Returns the first violation of `key`'s schema by `value`, or undefined (never throws). */
  check(key: string, value: JsonValue): Violation | undefined {
    const entry = this.#lookup(key);
    if (entry === undefined) {
      return this.additionalKeys
        ? undefined
        : { rpath: [], keyword: 'additionalKeys', problem: 'is not declared', expected: 'a declared key' };
    }
    return entry.check(value);
  }

  /** Throws PSMC_SCHEMA_VIOLATION unless `value` is acceptable for `key`. */
  validate(key: string, value: JsonValue): void {
    const entry = this.#lookup(key);
    if (entry === undefined) {
      if (this.additionalKeys) return;
      const first = key.split('.')[0] ?? '';
      const near = this.keys()
        .filter((k) => k.split('.')[0] === first)
        .slice(0, 5);
      throw new PsmcError(
        'PSMC_SCHEMA_VIOLATION',
        `The key ${quote(key)} is not declared in the schema, and the schema does not allow other keys (additionalKeys is false).`,
        {
          hint: `Check the spelling of the key${near.length > 0 ? ` (declared keys nearby: ${near.join(', ')})` : ''}, or declare it in the schema's "keys".`,
          details: { key, path: '', keyword: 'additionalKeys' },
        },
      );
    }
    const f = entry.check(value);
    if (f !== undefined) throw violationError(key, f);
  }
}

/** Parses and compiles a schema document (PSMC_SCHEMA_INVALID when it is not valid). */
export function compileSchema(doc: unknown): CompiledSchema {
  return new CompiledSchema(doc);
}
