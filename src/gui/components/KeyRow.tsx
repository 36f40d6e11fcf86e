/**
 * One setting: its label and description, the layer badge (and why that layer wins), the
 * editor, the source and time of the current value, inline errors, and its history.
 *
 * Writes always carry `If-Match: <revision the user started from>`. When the key changed
 * underneath the edit, the server answers 412 and the conflict prompt opens; nothing is
 * overwritten silently.
 */
import { useRef, useState } from 'preact/hooks';
import { api, ApiError, conflictCurrent } from '../api.js';
import type { Current } from '../api.js';
import { fullTime, labelOf, relativeTime, sourceText } from '../format.js';
import type { Entry, JsonValue, KeySchema, LayerValue } from '../types.js';
import { checkValue, editorKind } from '../validate.js';
import type { Problem } from '../validate.js';
import { Conflict } from './Conflict.js';
import { Editor, parseDraft } from './Editors.js';
import { History } from './History.js';

export interface RowModel {
  readonly key: string;
  readonly entry: Entry | undefined;
  readonly schema: KeySchema | undefined;
}

export interface KeyRowProps {
  readonly row: RowModel;
  /** The layer the served store is (user or project): the one a write changes. */
  readonly storeLayer: string | undefined;
  readonly canEdit: boolean;
  readonly flash: boolean;
  /** The server accepted a write of ours at this store revision. */
  readonly onOwnWrite: (storeRevision: number) => void;
  /** Re-read this key (after a conflict is resolved). */
  readonly onRefresh: (key: string) => void;
}

const LAYER_TEXT: Record<string, string> = {
  override: 'Override',
  env: 'Env',
  project: 'Project',
  user: 'User',
  default: 'Default',
  caller: 'Caller',
};

function storedLayer(entry: Entry | undefined, storeLayer: string | undefined): LayerValue | undefined {
  const layers = entry?.layers ?? [];
  return layers.find((l) => l.layer === storeLayer) ?? layers.find((l) => l.layer === 'project' || l.layer === 'user');
}

/** Who set the value shown: the effective one, or for an env/override winner the stored one. */
function metaText(entry: Entry, stored: LayerValue | undefined): string {
  if (entry.layer === 'default') return 'Default value';
  if ((entry.layer === 'env' || entry.layer === 'override') && stored !== undefined)
    return `Stored value set by ${sourceText(stored.source ?? 'unknown')}`;
  if (entry.layer === 'env' || entry.layer === 'override') return 'Not stored';
  return `Set by ${sourceText(entry.source)}`;
}

function metaTime(entry: Entry, stored: LayerValue | undefined): string | null {
  if (entry.layer === 'env' || entry.layer === 'override') return stored?.time ?? null;
  return entry.time;
}

export function KeyRow({ row, storeLayer, canEdit, flash, onOwnWrite, onRefresh }: KeyRowProps) {
  const { key, entry } = row;
  const schema = row.schema ?? entry?.schema;
  const stored = storedLayer(entry, storeLayer);
  // What a write replaces: the stored value, with its revision for If-Match (0 = must be absent).
  const editValue: JsonValue | undefined = stored !== undefined ? stored.value : entry?.value;
  const casRevision = stored?.revision ?? (entry !== undefined && entry.layer === storeLayer ? entry.revision : 0);
  const kind = editorKind(schema, editValue);

  const [draft, setDraft] = useState<string | undefined>(undefined);
  const base = useRef(casRevision);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<{ theirs: Current; yours: JsonValue } | undefined>(undefined);
  const [historyOpen, setHistoryOpen] = useState(false);

  const readOnlyKey = schema?.readOnly === true;
  // Not disabled while saving: a disabled control loses keyboard focus. `onCommit` ignores a
  // second save while one is in flight instead.
  const disabled = !canEdit || readOnlyKey;
  const id = 'k-' + key.replace(/[^A-Za-z0-9_-]/g, '_');
  const label = labelOf(key);

  async function write(value: JsonValue, ifMatch: number): Promise<void> {
    const p = checkValue(key, schema, value);
    if (p !== undefined) {
      setProblem(p);
      return;
    }
    setSaving(true);
    try {
      const r = await api.put(key, value, ifMatch);
      onOwnWrite(r.storeRevision);
      setDraft(undefined);
      setProblem(undefined);
      setConflict(undefined);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const current = e.status === 412 ? conflictCurrent(e) : undefined;
      if (current !== undefined) setConflict({ theirs: current, yours: value });
      else setProblem({ message: e.message, hint: e.hint });
    } finally {
      setSaving(false);
    }
  }

  function onDraft(text: string): void {
    if (draft === undefined) base.current = casRevision;
    setDraft(text);
    const parsed = parseDraft(kind, text);
    if ('error' in parsed) setProblem({ message: parsed.error, hint: parsed.hint });
    else setProblem(checkValue(key, schema, parsed.value));
  }

  function onCommit(value?: JsonValue): void {
    if (saving) return;
    if (value !== undefined) {
      // Enum and bool: save right away, from the revision shown.
      void write(value, casRevision);
      return;
    }
    if (draft === undefined) return;
    const parsed = parseDraft(kind, draft);
    if ('error' in parsed) {
      setProblem({ message: parsed.error, hint: parsed.hint });
      return;
    }
    void write(parsed.value, base.current);
  }

  function onCancel(): void {
    setDraft(undefined);
    setProblem(undefined);
  }

  async function reset(): Promise<void> {
    setSaving(true);
    try {
      const r = await api.remove(key, casRevision);
      onOwnWrite(r.storeRevision);
      setDraft(undefined);
      setProblem(undefined);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setProblem({ message: e.message, hint: e.hint });
    } finally {
      setSaving(false);
    }
  }

  async function revert(revision: number): Promise<void> {
    try {
      const r = await api.revert(key, revision, casRevision);
      onOwnWrite(r.storeRevision);
      setDraft(undefined);
      setProblem(undefined);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setProblem({ message: e.message, hint: e.hint });
    }
  }

  const changedUnderneath = draft !== undefined && casRevision !== base.current;
  const layer = entry?.layer;
  const describedBy = `${id}-desc ${id}-meta${problem !== undefined ? ` ${id}-problem` : ''}`;
  const classes = ['row'];
  if (flash) classes.push('flash');
  if (draft !== undefined) classes.push('editing');

  return (
    <article class={classes.join(' ')} data-key={key} data-testid="row" aria-labelledby={`${id}-label`}>
      <div class="row-head">
        <label for={id} id={`${id}-label`} class="row-label">
          <span class="row-group">{label.group}: </span>
          {schema?.title ?? label.name}
        </label>
        {layer !== undefined ? (
          <span
            class={`badge layer-${layer}`}
            data-testid="layer-badge"
            title={`The value comes from the ${layer} layer`}
          >
            {LAYER_TEXT[layer] ?? layer}
          </span>
        ) : (
          <span class="badge layer-none" data-testid="layer-badge">
            Not set
          </span>
        )}
        {schema?.deprecated === true ? <span class="badge deprecated">Deprecated</span> : null}
      </div>
      <div class="row-key">
        <code>{key}</code>
      </div>
      <p class="row-desc" id={`${id}-desc`}>
        {schema?.description ?? ''}
      </p>
      {entry?.env !== undefined || layer === 'env' ? (
        <p class="note env-note" data-testid="env-note">
          Overridden by env <code>{entry?.env?.var ?? entry?.source.replace(/^env:/, '')}</code>
          {entry?.env !== undefined ? (
            <>
              {' '}
              = <code>{entry.env.value}</code>
            </>
          ) : null}
          . The variable wins over the store;{' '}
          {stored !== undefined
            ? 'the stored value below applies once it is unset.'
            : 'a value saved here applies once it is unset.'}
        </p>
      ) : null}
      {layer === 'override' ? (
        <p class="note env-note">
          Overridden in the server process (a --set flag or code); the stored value below is hidden.
        </p>
      ) : null}
      <div class="row-editor">
        <Editor
          id={id}
          kind={kind}
          schema={schema}
          value={editValue}
          draft={draft}
          disabled={disabled}
          invalid={problem !== undefined}
          describedBy={describedBy}
          onDraft={onDraft}
          onCommit={onCommit}
          onCancel={onCancel}
        />
        {draft !== undefined ? (
          <span class="edit-actions">
            <button
              type="button"
              class="btn primary small"
              disabled={saving}
              onClick={() => onCommit()}
              data-testid="save"
            >
              Save
            </button>
            <button type="button" class="btn small" onClick={onCancel}>
              Cancel
            </button>
            <span class="muted small kbd-hint">
              {kind === 'json' ? 'Ctrl+Enter to save · Esc to cancel' : 'Enter to save · Esc to cancel'}
            </span>
          </span>
        ) : null}
      </div>
      {changedUnderneath ? (
        <p class="note warn" role="status">
          Changed by {sourceText(entry?.source ?? 'someone')} while you were editing. Saving will ask which value to
          keep.
        </p>
      ) : null}
      {problem !== undefined ? (
        <p class="problem" id={`${id}-problem`} role="alert" data-testid="problem">
          {problem.message}
          {problem.hint !== undefined ? <span class="hint"> {problem.hint}</span> : null}
        </p>
      ) : null}
      <div class="row-meta" id={`${id}-meta`}>
        {entry !== undefined ? (
          <span data-testid="meta">
            {metaText(entry, stored)}
            {metaTime(entry, stored) !== null ? (
              <span title={fullTime(metaTime(entry, stored))}> · {relativeTime(metaTime(entry, stored))}</span>
            ) : null}
            {casRevision > 0 ? ` · r${casRevision}` : ''}
          </span>
        ) : (
          <span>No value in any layer</span>
        )}
        {readOnlyKey ? <span> · read-only in the schema</span> : null}
        <span class="row-actions">
          <button
            type="button"
            class="link"
            aria-expanded={historyOpen ? 'true' : 'false'}
            onClick={() => setHistoryOpen(!historyOpen)}
          >
            {historyOpen ? 'Hide history' : 'History'}
          </button>
          {canEdit && stored !== undefined && !readOnlyKey ? (
            <button type="button" class="link" onClick={() => void reset()} title="Remove the stored value">
              Reset
            </button>
          ) : null}
        </span>
      </div>
      {historyOpen ? (
        <History
          keyName={key}
          revision={casRevision}
          canEdit={canEdit && !readOnlyKey}
          onRevert={revert}
          onUseValue={(v) => write(v, casRevision)}
        />
      ) : null}
      {conflict !== undefined ? (
        <Conflict
          keyName={key}
          theirs={conflict.theirs}
          yours={conflict.yours}
          onKeepTheirs={() => {
            setConflict(undefined);
            setDraft(undefined);
            setProblem(undefined);
            onRefresh(key);
          }}
          onOverwrite={() => void write(conflict.yours, conflict.theirs.revision)}
          onClose={() => setConflict(undefined)}
        />
      ) : null}
    </article>
  );
}
