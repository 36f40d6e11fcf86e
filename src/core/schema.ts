/**
 * Key schemas (spec/SPEC.md §schema.document … §schema.default). Pure: no I/O.
 *
 * A schema document declares, per key (or per key pattern), a JSON Schema in a
 * deliberately small subset that TypeScript, Python and Rust enforce
 * identically without any dependency:
 *
 *     { "version": 1,
 *       "additionalKeys": true,
 *       "keys": {
 *         "display.units": { "type": "string", "enum": ["metric", "imperial"], "default": "metric" },
 *         "sensors.*.max": { "type": "number", "maximum": 1000 } } }
 *
 * Key patterns. A key in `keys` is either a legal psmc key or a pattern in
 * which one or more whole segments are `*`; a `*` matches exactly one
 * segment. When several entries match a key the most specific one wins:
 *   1. an exact key beats every pattern;
 *   2. among patterns, the one with fewer `*` segments wins;
 *   3. then the one whose `*` positions, compared left to right, come later
 *      (so `sensors.a.*` beats `sensors.*.max`, and `*.x.*` beats `*.*.y`).
 * Two distinct patterns of the same length can never tie after rule 3.
 *
 * `parseSchemaDocument` checks the document itself and throws
 * PSMC_SCHEMA_INVALID with a JSON-pointer path (`/keys/display.units/minimum`).
 * `CompiledSchema` precompiles one validator per entry and throws
 * PSMC_SCHEMA_VIOLATION naming the key, the path inside the value, what is
 * wrong and how to fix it.
 *
 * Member names coming from a document are only ever looked up with
 * Object.hasOwn or through Maps, and `__proto__` is refused anywhere, so a
 * schema can never reach an object's prototype.
 */
//
// This file is the facade: each idea lives in its own file under ./schema/, and importers keep
// importing from here.
//   schema/types.ts        the vocabulary: type names, keywords, KeySchema, SchemaDocument
//   schema/messages.ts     how PSMC_SCHEMA_INVALID messages are worded
//   schema/pattern.ts      the portable regex subset checker for `pattern`
//   schema/key-pattern.ts  `*` key patterns and their precedence
//   schema/document.ts     parseSchemaDocument
//   schema/numbers.ts      code-point length and exact multipleOf
//   schema/violation.ts    Violation and the PSMC_SCHEMA_VIOLATION error
//   schema/compile.ts      compileNode: one key schema -> one check
//   schema/compiled.ts     CompiledSchema: the whole document, lookup and validate

export { SCHEMA_TYPES, SUPPORTED_KEYWORDS } from './schema/types.js';
export type { KeySchema, SchemaDocument, SchemaType } from './schema/types.js';
export { checkPatternSubset, MAX_GROUP_DEPTH, MAX_REPEAT } from './schema/pattern.js';
export { parseSchemaDocument } from './schema/document.js';
export { codePointLength, isMultipleOf } from './schema/numbers.js';
export { violationError, violationPath } from './schema/violation.js';
export type { ValueCheck, Violation } from './schema/violation.js';
export { checkForKeySchema, compileNode } from './schema/compile.js';
export { CompiledSchema, compileSchema } from './schema/compiled.js';
