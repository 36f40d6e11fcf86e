/**
 * The mirror codec contract (spec/sections/mirror-format.md). A codec turns the
 * plaintext mirror file of a store into values and back. Codecs are pure: they
 * take and return text, never touch a file, a clock or the store.
 */
import type { JsonValue } from '../../core/value.js';

/** The three file formats of the mirror. */
export type MirrorFormat = 'json' | 'toml' | 'yaml';

/** What `parse` found in a mirror file. */
export interface ParsedMirror {
  /** Key → value, in file order. Every key is legal (§key) and every value obeys §value.limits. */
  values: Map<string, JsonValue>;
  /** The header line's version (`psmc mirror v1` → `{ version: 1 }`), or undefined when line 1 is no header. */
  header: { version: number } | undefined;
}

/** One change given to `update`: a new value, or `undefined` to remove the key. */
export interface MirrorChange {
  key: string;
  value: JsonValue | undefined;
}

export interface MirrorCodec {
  readonly format: MirrorFormat;
  /**
   * Parses file text (§mirror.parse). Throws PsmcError:
   * - PSMC_PARSE: a syntax error, a duplicate member name, or a feature the mirror refuses;
   *   details `{ line, column }` (1-based, columns in code points) and `key` when one is known;
   * - PSMC_KEY_SYNTAX / PSMC_KEY_RESERVED: a top-level name that is not a legal key;
   *   details `{ key, line, column }`;
   * - PSMC_VALUE_INVALID: a value that breaks §value.limits; details `{ key, path, line, column }`;
   * - PSMC_FORMAT_TOO_NEW: the header names a mirror version above 1.
   */
  parse(text: string): ParsedMirror;
  /** The canonical file (§mirror.canonical.*) for these entries, keys sorted by byte order. */
  render(entries: ReadonlyArray<readonly [string, JsonValue]>): string;
  /**
   * Rewrites `text` (a file that parses) so that it holds the changed values
   * (§mirror.update): replaces the text of entries whose value changed, removes
   * deleted entries, inserts new ones (in sorted position when the file's keys
   * are sorted, else after the last entry), and keeps every other byte.
   */
  update(text: string, changes: ReadonlyArray<MirrorChange>): string;
}

/** The file name of the mirror in each format. */
export const MIRROR_FILES = { json: 'config.json', toml: 'config.toml', yaml: 'config.yaml' } as const satisfies Record<
  MirrorFormat,
  string
>;

/** The mirror format version this implementation writes and reads. */
export const MIRROR_VERSION = 1;

/** The header text after the comment marker (`// ` in JSONC, `# ` in TOML and YAML). */
export const HEADER_TEXT = `psmc mirror v${MIRROR_VERSION}: edit freely; saved changes merge into the store. Docs: spec/sections/mirror-format.md`;
