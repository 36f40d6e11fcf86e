/**
 * `psmc doctor --repair` for a database that cannot be opened or fails its integrity check: the
 * damaged files are moved aside (kept), a fresh database is made from what could still be read
 * (or else the newest usable snapshot), the mirror file's values are merged on top, and the mirror
 * is brought in step. Every step is reported in `actions`.
 */
import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { valuesEqual, type JsonValue } from '../core/value.js';
import { writeFileAtomic } from '../mirror/atomic.js';
import { codecs } from '../mirror/codecs-load.js';
import { MIRROR_FILES, type MirrorFormat } from '../mirror/codecs/types.js';
import { listSnapshots, readSnapshot, toExportDocument, type SnapshotDocument } from '../snapshot/index.js';
import type { ExportDocument } from '../store/export.js';
import { DATABASE_FILE } from '../store/paths.js';
import type { Store } from '../store/store.js';
import { errText, FORMATS, lstatOrUndefined, settle, stamp } from './util.js';

/** What the rebuild needs from the doctor run. */
export interface RebuildContext {
  /** The store directory. */
  readonly dir: string;
  readonly now: () => number;
  /** Where each step taken is reported. */
  readonly actions: string[];
  /** Opens a handle on the store directory (`mirror: false` for the fresh database). */
  readonly open: (mirror?: boolean) => Store;
}

/** Returns true when a working database is in place afterwards. */
export function rebuildDatabase(ctx: RebuildContext, doc: ExportDocument | undefined, why: string): boolean {
  const dir = ctx.dir;
  const ts = stamp(ctx.now());
  let aside = `${DATABASE_FILE}.corrupt-${ts}`;
  for (let n = 2; [aside, `${aside}-wal`, `${aside}-shm`].some((f) => existsSync(join(dir, f))); n++)
    aside = `${DATABASE_FILE}.corrupt-${ts}-${n}`;
  try {
    for (const suffix of ['', '-wal', '-shm']) {
      const from = join(dir, `${DATABASE_FILE}${suffix}`);
      if (!existsSync(from)) continue;
      renameSync(from, join(dir, `${aside}${suffix}`));
      ctx.actions.push(
        `${dir}: moved ${DATABASE_FILE}${suffix} aside to ${aside}${suffix} because ${why} (kept, not deleted).`,
      );
    }
  } catch (e) {
    ctx.actions.push(`${dir}: could not move the damaged database aside: ${errText(e)}. Nothing else was changed.`);
    return false;
  }

  // The mirror file: the newest of config.json/.toml/.yaml.
  let mirror:
    { file: string; format: MirrorFormat; text: string; values: Map<string, JsonValue> | undefined } | undefined;
  for (const format of FORMATS) {
    const file = join(dir, MIRROR_FILES[format]);
    const st = lstatOrUndefined(file);
    if (st === undefined || !st.isFile()) continue;
    if (mirror !== undefined && (lstatOrUndefined(mirror.file)?.mtimeMs ?? 0) >= st.mtimeMs) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let values: Map<string, JsonValue> | undefined;
    try {
      values = codecs().codecFor(format).parse(text).values;
    } catch (e) {
      ctx.actions.push(
        `${dir}: the mirror file ${MIRROR_FILES[format]} does not parse (${errText(e)}); its values are not merged.`,
      );
    }
    mirror = { file, format, text, values };
  }
  const jsonExisted = existsSync(join(dir, MIRROR_FILES.json));

  let fresh: Store;
  try {
    fresh = ctx.open(false);
  } catch (e) {
    ctx.actions.push(`${dir}: could not create a fresh database: ${errText(e)}.`);
    return false;
  }
  try {
    fresh.batch([]); // creates psmc.db
    ctx.actions.push(`${dir}: created a fresh ${DATABASE_FILE}.`);
    if (doc !== undefined) {
      if (doc.schema !== undefined) fresh.setSchema(doc.schema, { source: 'repair:database' });
      const c = fresh.importData(doc, { source: 'repair:database', snapshot: false });
      ctx.actions.push(
        `${dir}: carried ${c.changes.length} readable value(s) over from the damaged database (source repair:database)${doc.schema === undefined ? '' : ', and its schema'}.`,
      );
    } else {
      restoreNewestSnapshot(ctx, fresh);
    }
    if (mirror?.values !== undefined) {
      const flat = Object.create(null) as Record<string, JsonValue>;
      for (const [k, v] of mirror.values) flat[k] = v;
      try {
        const c = fresh.importData(flat, { source: 'repair:mirror', snapshot: false });
        ctx.actions.push(
          `${dir}: merged ${MIRROR_FILES[mirror.format]} on top: ${c.changes.length} key(s) changed (source repair:mirror).`,
        );
      } catch (e) {
        mirror.values = undefined;
        ctx.actions.push(`${dir}: could not merge ${MIRROR_FILES[mirror.format]}: ${errText(e)}.`);
      }
    }
    // The mirror file must hold what the database holds: add what it lacks, or start it afresh.
    if (mirror !== undefined) {
      if (mirror.values !== undefined) {
        const entries = fresh.exportData().entries;
        const changes: { key: string; value: JsonValue }[] = [];
        for (const key of Object.keys(entries)) {
          const v = (entries[key] as { value: JsonValue }).value;
          if (!mirror.values.has(key) || !valuesEqual(mirror.values.get(key), v)) changes.push({ key, value: v });
        }
        if (changes.length > 0) {
          writeFileAtomic(mirror.file, codecs().codecFor(mirror.format).update(mirror.text, changes));
          ctx.actions.push(
            `${dir}: wrote ${changes.length} key(s) the mirror file lacked into ${MIRROR_FILES[mirror.format]} (its other lines and comments kept).`,
          );
        }
      } else {
        const kept = `${MIRROR_FILES[mirror.format]}.before-repair-${ts}`;
        renameSync(mirror.file, join(dir, kept));
        ctx.actions.push(
          `${dir}: moved ${MIRROR_FILES[mirror.format]} aside to ${kept} (kept); a fresh one is written from the database.`,
        );
      }
    }
  } catch (e) {
    ctx.actions.push(`${dir}: the rebuild stopped: ${errText(e)}. The damaged file is kept as ${aside}.`);
    fresh.close();
    return existsSync(join(ctx.dir, DATABASE_FILE));
  }
  fresh.close();
  // Turn the mirror on (in the file's own format), which records the file as in step.
  const s = ctx.open();
  try {
    if (mirror !== undefined && mirror.format !== 'json') {
      s.setMirrorFormat(mirror.format);
      if (!jsonExisted) {
        try {
          unlinkSync(join(dir, MIRROR_FILES.json)); // written by the default format before the switch
        } catch {
          // Not there: nothing to tidy.
        }
      }
    }
    settle(s);
  } finally {
    s.close();
  }
  ctx.actions.push(`${dir}: history before the repair is not carried over; it stays in ${aside}.`);
  return true;
}

function restoreNewestSnapshot(ctx: RebuildContext, fresh: Store): void {
  const dir = ctx.dir;
  let list;
  try {
    list = listSnapshots(fresh);
  } catch (e) {
    ctx.actions.push(`${dir}: could not list the snapshots: ${errText(e)}.`);
    return;
  }
  for (const p of list.problems) ctx.actions.push(`${dir}: skipped ${basename(p.file)}: ${p.message}`);
  for (const info of list.snapshots) {
    let doc: SnapshotDocument;
    try {
      doc = readSnapshot(fresh, info.name);
    } catch (e) {
      ctx.actions.push(`${dir}: skipped snapshot ${info.name}: ${errText(e)}`);
      continue;
    }
    const source = `restore:${info.name}`;
    if (doc.schema !== undefined) fresh.setSchema(doc.schema, { source });
    const c = fresh.importData(toExportDocument(doc), { source, snapshot: false });
    ctx.actions.push(
      `${dir}: restored snapshot ${info.name} (taken ${doc.createdAt} at revision ${doc.revision}): ${c.changes.length} key(s) (source ${source})${doc.schema === undefined ? '' : ', and its schema'}.`,
    );
    return;
  }
  ctx.actions.push(
    `${dir}: there is no usable snapshot in ${join(dir, 'snapshots')}; the store starts from the mirror file's values only.`,
  );
}
