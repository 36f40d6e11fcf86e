/** psmc snapshot: named and automatic plaintext snapshots; diff and an undoable restore. */
import { createInterface } from 'node:readline';
import { isPsmcError, PsmcError } from '../../core/errors.js';
import type { SnapshotInfo } from '../../snapshot/index.js';
import { arg, flag, usageError, type CommandSpec, type Context } from '../context.js';
import { inlineValue, table } from '../format.js';
import { sourceGiven, withStore, writeSource } from '../open.js';
import { editDistance, closest } from '../suggest.js';

export const spec: CommandSpec = {
  args: ['<action>', '[name]', '[other]'],
  options: { yes: { type: 'boolean', short: 'y' } },
};

export const usage = `Usage: psmc snapshot create [name] | list | show <name> | diff <a> [b] | restore <name> [--yes] | delete <name>

A snapshot is a plaintext JSON copy of the whole store that receives writes,
with metadata, in <store dir>/snapshots/<name>.json: readable, diffable and
git-friendly. It is read in one consistent transaction, never by copying the
database file.
  create [name]     Take a snapshot (default name snap-<yyyymmdd-hhmmss>, UTC)
  list              List snapshots, newest first
  show <name>       Print a snapshot's metadata and values
  diff <a> [b]      What changed from snapshot <a> to <b> (default: current,
                    the store as it is now): + added, - removed, ~ changed
  restore <name>    Make the store hold exactly the snapshot's values, as one
                    recorded change (source restore:<name>) that \`psmc undo\`
                    reverts. An automatic snapshot (auto-<revision>-before-restore)
                    of the current values is taken first. The schema is not
                    restored
  delete <name>     Delete a snapshot file
Names are 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit, without
"..", compared case-insensitively. Automatic snapshots (auto-*) rotate: the
newest 20 are kept; named ones are kept until deleted.

Options:
  -y, --yes   Restore without asking (required when stdin is not a terminal)

Examples:
  psmc snapshot create before-upgrade
  psmc snapshot list
  psmc snapshot diff before-upgrade
  psmc snapshot diff before-upgrade auto-41-before-restore
  psmc snapshot restore before-upgrade --yes && psmc undo`;

const ACTIONS: Readonly<Record<string, { min: number; max: number; form: string }>> = {
  create: { min: 0, max: 1, form: 'psmc snapshot create [name]' },
  list: { min: 0, max: 0, form: 'psmc snapshot list' },
  show: { min: 1, max: 1, form: 'psmc snapshot show <name>' },
  diff: { min: 1, max: 2, form: 'psmc snapshot diff <a> [b|current]' },
  restore: { min: 1, max: 1, form: 'psmc snapshot restore <name> [--yes]' },
  delete: { min: 1, max: 1, form: 'psmc snapshot delete <name>' },
};

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d{3}Z$/, '');
}

/** Adds "did you mean" and the closest names to a PSMC_NOT_FOUND for a snapshot name. */
function withSuggestions(e: unknown): unknown {
  if (!isPsmcError(e) || e.code !== 'PSMC_NOT_FOUND' || !Array.isArray(e.details['known'])) return e;
  const name = String(e.details['name']);
  const known = (e.details['known'] as unknown[]).filter((n): n is string => typeof n === 'string');
  const guess = closest(
    name.toLowerCase(),
    known.map((n) => n.toLowerCase()),
  );
  const suggestion = guess === undefined ? undefined : known.find((n) => n.toLowerCase() === guess);
  const near = [...known]
    .sort(
      (a, b) =>
        editDistance(name.toLowerCase(), a.toLowerCase()) - editDistance(name.toLowerCase(), b.toLowerCase()) ||
        (a < b ? -1 : 1),
    )
    .slice(0, 5);
  const hint =
    known.length === 0
      ? e.hint
      : `Snapshots with close names: ${near.join(', ')}${known.length > near.length ? ` (${known.length} in all; \`psmc snapshot list\` shows them)` : ''}.`;
  return new PsmcError(
    'PSMC_NOT_FOUND',
    `${e.message}${suggestion === undefined ? '' : ` Did you mean ${suggestion}?`}`,
    {
      hint,
      details: { ...e.details, ...(suggestion === undefined ? {} : { suggestion }) },
      cause: e,
    },
  );
}

async function confirm(ctx: Context, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolveAnswer) => rl.question(`${question} [y/N] `, resolveAnswer));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
    void ctx;
  }
}

function infoJson(i: SnapshotInfo): Record<string, unknown> {
  return {
    name: i.name,
    createdAt: i.createdAt,
    revision: i.revision,
    reason: i.reason,
    source: i.source,
    keys: i.keys,
    bytes: i.bytes,
    path: i.path,
  };
}

export async function run(ctx: Context): Promise<number> {
  const action = arg(ctx, 0);
  const rule = ACTIONS[action];
  if (rule === undefined || !Object.hasOwn(ACTIONS, action)) {
    const guess = closest(action, Object.keys(ACTIONS));
    throw usageError(
      `Unknown snapshot action ${JSON.stringify(action)}.${guess === undefined ? '' : ` Did you mean ${guess}?`}`,
      `Use one of: ${Object.values(ACTIONS)
        .map((a) => a.form)
        .join(', ')}.`,
    );
  }
  const given = ctx.args.slice(1).filter((a): a is string => a !== undefined);
  if (given.length < rule.min)
    throw usageError(
      `${rule.form.split(' ').slice(0, 3).join(' ')} needs a snapshot name.`,
      `Write ${rule.form}; \`psmc snapshot list\` shows the names.`,
    );
  if (given.length > rule.max)
    throw usageError(
      `psmc snapshot ${action} takes ${rule.max === 0 ? 'no arguments' : `at most ${rule.max}`}; unexpected ${JSON.stringify(given[rule.max])}.`,
      `Write ${rule.form}.`,
    );
  if (flag(ctx, 'yes') && action !== 'restore')
    throw usageError(`--yes is only for psmc snapshot restore.`, `Write ${rule.form}.`);

  const snap = await import('../../snapshot/index.js');
  const checkName: (name: unknown) => asserts name is string = snap.assertSnapshotName;
  try {
    switch (action) {
      case 'create': {
        const name = given[0];
        if (name !== undefined) checkName(name);
        const info = await withStore(ctx, (store) =>
          snap.createSnapshot(store, { ...(name === undefined ? {} : { name }), source: writeSource(ctx) }),
        );
        if (ctx.global.json) ctx.json(infoJson(info));
        else
          ctx.out(
            `Created snapshot ${info.name} (revision ${info.revision}, ${info.keys} key${info.keys === 1 ? '' : 's'}): ${info.path}`,
          );
        return 0;
      }
      case 'list': {
        const { list, dir } = await withStore(ctx, (store) => ({
          list: snap.listSnapshots(store),
          dir: snap.snapshotsDir(store),
        }));
        for (const p of list.problems) ctx.note(`warning: skipped ${p.file}: ${p.message}`);
        if (ctx.global.json) {
          ctx.json({ dir, snapshots: list.snapshots.map(infoJson), problems: list.problems });
          return 0;
        }
        if (list.snapshots.length === 0) {
          ctx.note(`No snapshots in ${dir}. Take one with \`psmc snapshot create [name]\`.`);
          return 0;
        }
        const rows = list.snapshots.map((s) => [
          s.name,
          when(s.createdAt),
          String(s.revision),
          s.reason,
          String(s.keys),
          size(s.bytes),
          s.source,
        ]);
        for (const line of table(['NAME', 'CREATED (UTC)', 'REV', 'REASON', 'KEYS', 'SIZE', 'SOURCE'], rows))
          ctx.out(line);
        return 0;
      }
      case 'show': {
        const { doc, info } = await withStore(ctx, (store) => snap.readSnapshotWithInfo(store, arg(ctx, 1)));
        if (ctx.global.json) {
          ctx.json(doc);
          return 0;
        }
        ctx.out(
          `Snapshot ${doc.name}: revision ${doc.revision}, taken ${when(doc.createdAt)} UTC by ${doc.source} (${doc.reason})`,
        );
        ctx.out(`File: ${info.path} (${size(info.bytes)})${doc.schema === undefined ? '' : '; holds a schema'}`);
        const keys = Object.keys(doc.entries).sort();
        if (keys.length === 0) ctx.out('No keys.');
        else {
          const rows = keys.map((k) => {
            const e = doc.entries[k];
            return [k, String(e?.revision ?? ''), e?.source ?? '', inlineValue(e?.value)];
          });
          for (const line of table(['KEY', 'REV', 'SOURCE', 'VALUE'], rows)) ctx.out(line);
        }
        return 0;
      }
      case 'diff': {
        const d = await withStore(ctx, (store) => snap.diffSnapshots(store, arg(ctx, 1), given[1] ?? snap.CURRENT));
        if (ctx.global.json) {
          ctx.json(d);
          return 0;
        }
        const label = (s: { name: string; revision: number }): string =>
          s.name === snap.CURRENT ? `the current store (revision ${s.revision})` : `${s.name} (revision ${s.revision})`;
        if (d.changes.length === 0) {
          ctx.out(`No differences between ${label(d.from)} and ${label(d.to)}.`);
          return 0;
        }
        ctx.out(`From ${label(d.from)} to ${label(d.to)}:`);
        for (const c of d.changes) {
          if (c.change === 'added') ctx.out(`+ ${c.key}: ${inlineValue(c.after)}`);
          else if (c.change === 'removed') ctx.out(`- ${c.key}: ${inlineValue(c.before)}`);
          else ctx.out(`~ ${c.key}: ${inlineValue(c.before)} → ${inlineValue(c.after)}`);
        }
        return 0;
      }
      case 'restore': {
        const name = arg(ctx, 1);
        checkName(name);
        if (!flag(ctx, 'yes')) {
          if (process.stdin.isTTY !== true) {
            throw usageError(
              `psmc snapshot restore ${name} replaces the store's values, and stdin is not a terminal to ask for confirmation.`,
              `Add --yes to restore without asking: psmc snapshot restore ${name} --yes (it can be undone with \`psmc undo\`).`,
            );
          }
          // Check the name before asking.
          const found = await withStore(ctx, (store) => snap.resolveName(store, name));
          if (!(await confirm(ctx, `Replace the store's values with snapshot ${found}? (undo with psmc undo)`))) {
            ctx.note('Nothing restored.');
            return 0;
          }
        }
        const r = await withStore(ctx, (store) =>
          snap.restoreSnapshot(store, name, sourceGiven(ctx) ? { source: writeSource(ctx) } : {}),
        );
        if (ctx.global.json) {
          ctx.json({
            name: r.name,
            revision: r.commit.revision,
            at: r.commit.at,
            changes: r.commit.changes,
            autoSnapshot: { ...infoJson(r.autoSnapshot), rotated: r.autoSnapshot.rotated },
          });
          return 0;
        }
        const n = r.commit.changes.length;
        const deleted = r.commit.changes.filter((c) => c.op === 'delete').length;
        if (n === 0)
          ctx.out(
            `Restored snapshot ${r.name}: the store already held its values; nothing changed (store revision ${r.commit.revision}).`,
          );
        else
          ctx.out(
            `Restored snapshot ${r.name} as revision ${r.commit.revision}: ${n - deleted} key${n - deleted === 1 ? '' : 's'} set, ${deleted} deleted. Undo with \`psmc undo\`.`,
          );
        ctx.out(`The values from before were saved as snapshot ${r.autoSnapshot.name}.`);
        return 0;
      }
      case 'delete': {
        const name = await withStore(ctx, (store) => snap.deleteSnapshot(store, arg(ctx, 1)));
        if (ctx.global.json) ctx.json({ deleted: name });
        else ctx.out(`Deleted snapshot ${name}`);
        return 0;
      }
      default:
        throw new TypeError(`unhandled snapshot action ${action}`);
    }
  } catch (e) {
    throw withSuggestions(e);
  }
}
