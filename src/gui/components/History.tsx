/**
 * A key's history, newest first, with "Revert to this" on older values. A `conflict` record is
 * the losing side of a conflict; it offers "Use this value" so a lost edit can be brought back.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { fullTime, oneLine, relativeTime, sourceText } from '../format.js';
import type { Change, JsonValue } from '../types.js';

export interface HistoryProps {
  readonly keyName: string;
  /** Reload when this changes (the key's revision). */
  readonly revision: number;
  readonly canEdit: boolean;
  readonly onRevert: (revision: number) => Promise<void>;
  readonly onUseValue: (value: JsonValue) => Promise<void>;
}

export function History({ keyName, revision, canEdit, onRevert, onUseValue }: HistoryProps) {
  const [entries, setEntries] = useState<readonly Change[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    api.history(keyName).then(
      (r) => {
        if (live) {
          setEntries(r.entries);
          setError(undefined);
        }
      },
      (e: unknown) => {
        if (live) setError(e instanceof ApiError ? `${e.message} ${e.hint ?? ''}` : String(e));
      },
    );
    return () => {
      live = false;
    };
  }, [keyName, revision]);

  if (error !== undefined) return <p class="problem">{error}</p>;
  if (entries === undefined) return <p class="muted small">Loading history…</p>;
  if (entries.length === 0) return <p class="muted small">No recorded changes for this key.</p>;
  const currentRev = entries.find((e) => e.op === 'set' || e.op === 'delete')?.revision;
  return (
    <ol class="history" aria-label={`History of ${keyName}`} data-testid="history">
      {entries.map((e) => {
        const current = e.revision === currentRev;
        return (
          <li key={`${e.revision}:${e.seq ?? 0}`} class={'history-item op-' + e.op}>
            <div class="history-head">
              <span class="rev">r{e.revision}</span>
              <span class="history-what">
                {e.op === 'delete'
                  ? 'Removed'
                  : e.op === 'conflict'
                    ? 'Lost in a conflict'
                    : e.op === 'schema'
                      ? 'Schema changed'
                      : 'Set'}{' '}
                by {sourceText(e.source)}
              </span>
              <span class="muted" title={fullTime(e.time)}>
                {relativeTime(e.time)}
              </span>
              {current ? <span class="pill">current</span> : null}
            </div>
            <div class="history-body">
              <code class="history-value">
                {e.op === 'conflict'
                  ? oneLine(e.previous, 120)
                  : e.op === 'delete'
                    ? '(removed)'
                    : oneLine(e.value, 120)}
              </code>
              {e.note !== undefined ? <span class="muted small"> — {e.note}</span> : null}
              {canEdit && !current && (e.op === 'set' || e.op === 'delete') ? (
                <button type="button" class="btn small" onClick={() => void onRevert(e.revision)}>
                  Revert to this
                </button>
              ) : null}
              {canEdit && e.op === 'conflict' && e.previous !== undefined ? (
                <button type="button" class="btn small" onClick={() => void onUseValue(e.previous as JsonValue)}>
                  Use this value
                </button>
              ) : null}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
