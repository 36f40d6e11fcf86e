/**
 * The snapshots page: list, create, diff against the live store, restore (after a confirmation
 * that shows what will change), and undo of a restore (a restore takes an automatic snapshot
 * first; undoing restores that one).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { fullTime, oneLine, relativeTime } from '../format.js';
import type { Snapshot, SnapshotDiff } from '../types.js';
import { Dialog } from './Dialog.js';

export interface SnapshotsProps {
  readonly canEdit: boolean;
  /** The store revision: the list is reloaded when it moves (a restore adds an automatic snapshot). */
  readonly revision: number;
  /** Moves when the set of snapshots changed elsewhere (the feed's `snapshots` event): the list is reloaded. */
  readonly snapshotsMoved: number;
  readonly onOwnWrite: (storeRevision: number) => void;
  readonly toast: (text: string) => void;
  /** The last restore made from this page (kept by the app, so it survives a page switch). */
  readonly done: Done | undefined;
  readonly setDone: (d: Done | undefined) => void;
}

export interface Done {
  readonly restored: string;
  readonly auto: string;
  readonly changes: number;
  readonly undone: boolean;
}

function errText(e: unknown): string {
  if (e instanceof ApiError) return e.hint !== undefined ? `${e.message} ${e.hint}` : e.message;
  return String(e);
}

export function Snapshots({ canEdit, revision, snapshotsMoved, onOwnWrite, toast, done, setDone }: SnapshotsProps) {
  const [list, setList] = useState<readonly Snapshot[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [diffOf, setDiffOf] = useState<{ name: string; diff: SnapshotDiff | undefined } | undefined>(undefined);
  const [confirm, setConfirm] = useState<{ name: string; diff: SnapshotDiff | undefined } | undefined>(undefined);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    api.snapshots().then(
      (r) => {
        if (live) {
          setList(r.snapshots);
          setError(undefined);
        }
      },
      (e: unknown) => {
        if (live) setError(errText(e));
      },
    );
    return () => {
      live = false;
    };
  }, [revision, snapshotsMoved, tick]);

  // An open diff follows the live store.
  useEffect(() => {
    if (diffOf === undefined) return;
    let live = true;
    api.diff(diffOf.name).then(
      (d) => {
        if (live) setDiffOf({ name: diffOf.name, diff: d });
      },
      (e: unknown) => {
        if (live) setError(errText(e));
      },
    );
    return () => {
      live = false;
    };
  }, [diffOf?.name, revision]);

  async function create(ev: Event): Promise<void> {
    ev.preventDefault();
    setBusy(true);
    try {
      const s = await api.createSnapshot(name.trim() === '' ? undefined : name.trim());
      toast(`Created snapshot “${s.name}”.`);
      setName('');
      setError(undefined);
      setTick(tick + 1);
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
    }
  }

  async function askRestore(n: string): Promise<void> {
    setConfirm({ name: n, diff: undefined });
    try {
      const d = await api.diff(n);
      setConfirm({ name: n, diff: d });
    } catch (e) {
      setConfirm(undefined);
      setError(errText(e));
    }
  }

  async function restore(n: string, undo: boolean): Promise<void> {
    setBusy(true);
    try {
      const r = await api.restore(n);
      onOwnWrite(r.storeRevision);
      setError(undefined);
      if (undo && done !== undefined) setDone({ ...done, undone: true });
      else setDone({ restored: n, auto: r.autoSnapshot, changes: r.changes, undone: false });
      toast(undo ? `Undid the restore of “${done?.restored ?? n}”.` : `Restored “${n}”.`);
      setTick(tick + 1);
    } catch (e) {
      setError(errText(e));
    } finally {
      setBusy(false);
      setConfirm(undefined);
    }
  }

  async function remove(n: string): Promise<void> {
    if (!window.confirm(`Delete snapshot “${n}”? Its file is removed; the store is not changed.`)) return;
    try {
      await api.deleteSnapshot(n);
      toast(`Deleted snapshot “${n}”.`);
      if (diffOf?.name === n) setDiffOf(undefined);
      setTick(tick + 1);
    } catch (e) {
      setError(errText(e));
    }
  }

  return (
    <div class="page snapshots" data-testid="snapshots-page">
      <div class="page-head">
        <h1 class="page-title">Snapshots</h1>
        <p class="muted">
          A snapshot is a plaintext copy of the whole store. Restoring one is itself a recorded change: psmc takes an
          automatic snapshot first, so a restore can be undone.
        </p>
      </div>
      {done !== undefined ? (
        <div class="banner info" role="status" data-testid="restore-done">
          {done.undone ? (
            <span>
              Undid the restore of <strong>{done.restored}</strong>: the store holds its values from before again.
            </span>
          ) : (
            <>
              <span>
                Restored <strong>{done.restored}</strong> ({done.changes} {done.changes === 1 ? 'change' : 'changes'}).
                The values before are in <code>{done.auto}</code>.
              </span>
              {canEdit ? (
                <button type="button" class="btn small" disabled={busy} onClick={() => void restore(done.auto, true)}>
                  Undo restore
                </button>
              ) : null}
            </>
          )}
        </div>
      ) : null}
      {error !== undefined ? (
        <p class="problem" role="alert">
          {error}
        </p>
      ) : null}
      <form class="create" onSubmit={(ev) => void create(ev)}>
        <label for="snap-name" class="create-label">
          New snapshot
        </label>
        <input
          id="snap-name"
          class="input"
          type="text"
          placeholder="name (optional), e.g. before-upgrade"
          value={name}
          disabled={!canEdit || busy}
          onInput={(ev) => setName((ev.currentTarget as HTMLInputElement).value)}
          autoComplete="off"
          spellcheck={false}
        />
        <button type="submit" class="btn primary" disabled={!canEdit || busy}>
          Create snapshot
        </button>
      </form>
      {list === undefined ? (
        <p class="muted">Loading…</p>
      ) : list.length === 0 ? (
        <div class="empty">
          <h2>No snapshots yet</h2>
          <p>
            Create one above, or with <code>psmc snapshot create</code>.
          </p>
        </div>
      ) : (
        <ul class="snap-list">
          {list.map((s) => (
            <li key={s.name} class="snap" data-testid="snapshot" data-name={s.name}>
              <div class="snap-head">
                <span class="snap-name">{s.name}</span>
                <span class={s.auto ? 'badge auto' : 'badge manual'}>{s.auto ? reasonText(s.reason) : 'manual'}</span>
              </div>
              <div class="snap-meta muted small">
                <span title={fullTime(s.created)}>{relativeTime(s.created)}</span> · revision {s.revision} · {s.keys}{' '}
                {s.keys === 1 ? 'key' : 'keys'}
              </div>
              <div class="snap-actions">
                <button
                  type="button"
                  class="btn small"
                  aria-expanded={diffOf?.name === s.name ? 'true' : 'false'}
                  onClick={() => setDiffOf(diffOf?.name === s.name ? undefined : { name: s.name, diff: undefined })}
                >
                  {diffOf?.name === s.name ? 'Hide diff' : 'Diff with current'}
                </button>
                <button
                  type="button"
                  class="btn small"
                  disabled={!canEdit || busy}
                  onClick={() => void askRestore(s.name)}
                >
                  Restore…
                </button>
                <button
                  type="button"
                  class="btn small danger-text"
                  disabled={!canEdit || busy}
                  onClick={() => void remove(s.name)}
                >
                  Delete
                </button>
              </div>
              {diffOf?.name === s.name ? <DiffView diff={diffOf.diff} /> : null}
            </li>
          ))}
        </ul>
      )}
      {confirm !== undefined ? (
        <Dialog
          title={`Restore “${confirm.name}”?`}
          onClose={() => setConfirm(undefined)}
          wide
          testId="restore-confirm"
        >
          {confirm.diff === undefined ? (
            <p class="muted">Comparing with the current store…</p>
          ) : confirm.diff.changes.length === 0 ? (
            <p class="dialog-text">The store already holds exactly these values; restoring changes nothing.</p>
          ) : (
            <>
              <p class="dialog-text">
                The store will hold the snapshot’s values: {confirm.diff.changes.length}{' '}
                {confirm.diff.changes.length === 1 ? 'key changes' : 'keys change'}. An automatic snapshot is taken
                first, so you can undo this.
              </p>
              <DiffView diff={confirm.diff} reverse />
            </>
          )}
          <div class="dialog-actions">
            <button type="button" class="btn" onClick={() => setConfirm(undefined)} autofocus>
              Cancel
            </button>
            <button
              type="button"
              class="btn danger"
              disabled={busy || confirm.diff === undefined}
              onClick={() => void restore(confirm.name, false)}
            >
              Restore
            </button>
          </div>
        </Dialog>
      ) : null}
    </div>
  );
}

function reasonText(reason: string): string {
  switch (reason) {
    case 'before-restore':
      return 'auto · before restore';
    case 'before-import':
      return 'auto · before import';
    case 'every-changes':
      return 'auto · periodic';
    default:
      return 'auto';
  }
}

/**
 * A diff from a snapshot to the live store. `reverse` shows it the way a restore goes (current →
 * snapshot), for the confirmation.
 */
function DiffView({ diff, reverse }: { readonly diff: SnapshotDiff | undefined; readonly reverse?: boolean }) {
  if (diff === undefined) return <p class="muted small">Comparing…</p>;
  if (diff.changes.length === 0) return <p class="muted small diff-empty">Identical to the current store.</p>;
  const rev = reverse === true;
  return (
    <div class="diff-wrap">
      <table class="diff" data-testid="diff">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">{rev ? 'Now' : 'In snapshot'}</th>
            <th scope="col">{rev ? 'After restore' : 'Now'}</th>
          </tr>
        </thead>
        <tbody>
          {diff.changes.map((c) => {
            const snap = c.change === 'added' ? undefined : c.before;
            const now = c.change === 'removed' ? undefined : c.after;
            const left = rev ? now : snap;
            const right = rev ? snap : now;
            return (
              <tr key={c.key} class={'diff-' + c.change}>
                <th scope="row">
                  <code>{c.key}</code>
                </th>
                <td>
                  <code class={left === undefined ? 'absent' : 'old'}>
                    {left === undefined ? '—' : oneLine(left, 60)}
                  </code>
                </td>
                <td>
                  <code class={right === undefined ? 'absent' : 'new'}>
                    {right === undefined ? (rev ? '(removed)' : '—') : oneLine(right, 60)}
                  </code>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
