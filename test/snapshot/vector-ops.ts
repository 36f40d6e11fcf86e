/**
 * The pure snapshot operations of spec/vectors/snapshot/*.json (see the
 * table in spec/sections/snapshots.md, "Vectors"), for the TypeScript
 * runners: test/snapshot/vectors.test.ts, and the general vector runner.
 *
 * | op                | input                                                         | result |
 * | snapshot.name     | name                                                          | true, or PSMC_USAGE |
 * | snapshot.render   | name, createdAt, revision, reason, source,                    | the file text (okText) |
 * |                   | entries: [{key, valueJson, revision, updatedAt, source}],     |        |
 * |                   | schemaJson?                                                   |        |
 * | snapshot.parse    | text, file? (the file name, e.g. "one.json")                  | {name, createdAt, revision, reason, source, entries: [{key, valueJson, type, revision, updatedAt, source}] (byte order), schemaJson (or null)} |
 * | snapshot.diff     | a, b (plain objects key → value)                              | [{key, change, before?, after?}] |
 */
import { PsmcError } from '../../src/core/errors.js';
import { decodeValue, type JsonValue } from '../../src/core/value.js';
import {
  buildSnapshot,
  compareKeys,
  parseSnapshot,
  renderSnapshot,
  type SnapshotReason,
} from '../../src/snapshot/format.js';
import { assertSnapshotName, nameOfFile, nameProblem } from '../../src/snapshot/names.js';
import { diffEntries } from '../../src/snapshot/diff.js';

export const SNAPSHOT_OPS = ['snapshot.name', 'snapshot.render', 'snapshot.parse', 'snapshot.diff'] as const;

type Input = Record<string, unknown>;

/** Runs one pure snapshot op; throws PsmcError for an error outcome. */
export function runSnapshotOp(op: string, input: Input): unknown {
  switch (op) {
    case 'snapshot.name':
      assertSnapshotName(input['name']);
      return true;
    case 'snapshot.render': {
      const entries: Record<string, { value: unknown; revision: number; updatedAt: string; source: string }> = {};
      for (const e of input['entries'] as Input[]) {
        Object.defineProperty(entries, e['key'] as string, {
          value: {
            value: decodeValue(e['valueJson'] as string),
            revision: e['revision'] as number,
            updatedAt: e['updatedAt'] as string,
            source: e['source'] as string,
          },
          enumerable: true,
        });
      }
      const schemaJson = input['schemaJson'];
      return renderSnapshot(
        buildSnapshot({
          name: input['name'] as string,
          createdAt: input['createdAt'] as string,
          revision: input['revision'] as number,
          reason: input['reason'] as SnapshotReason,
          source: input['source'] as string,
          entries,
          ...(typeof schemaJson === 'string' ? { schema: JSON.parse(schemaJson) as unknown } : {}),
        }),
      );
    }
    case 'snapshot.parse': {
      const file = input['file'];
      let expectName: string | undefined;
      if (typeof file === 'string') {
        const n = nameOfFile(file);
        const problem = n === undefined ? 'it is not <name>.json' : nameProblem(n);
        if (problem !== undefined || n === undefined) {
          throw new PsmcError('PSMC_PARSE', `${JSON.stringify(file)} is not a snapshot file name: ${problem ?? ''}`, {
            hint: 'vector',
          });
        }
        expectName = n;
      }
      const doc = parseSnapshot(input['text'] as string, {
        file: typeof file === 'string' ? file : 'vector',
        ...(expectName === undefined ? {} : { expectName }),
      });
      return {
        name: doc.name,
        createdAt: doc.createdAt,
        revision: doc.revision,
        reason: doc.reason,
        source: doc.source,
        entries: Object.keys(doc.entries)
          .sort(compareKeys)
          .map((key) => {
            const e = doc.entries[key];
            if (e === undefined) throw new Error('unreachable');
            return {
              key,
              valueJson: JSON.stringify(e.value),
              type: e.type,
              revision: e.revision,
              updatedAt: e.updatedAt,
              source: e.source,
            };
          }),
        schemaJson: doc.schema === undefined ? null : JSON.stringify(doc.schema),
      };
    }
    case 'snapshot.diff':
      return diffEntries(input['a'] as Record<string, JsonValue>, input['b'] as Record<string, JsonValue>);
    default:
      throw new TypeError(`unknown snapshot op ${op}`);
  }
}
