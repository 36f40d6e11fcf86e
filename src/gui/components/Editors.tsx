/**
 * Type-aware editors, chosen from the key's schema (validate.ts `editorKind`): a dropdown for an
 * enum, a switch for a boolean, a number field with its range, a text field, and a JSON editor for
 * objects, arrays and mixed types. Enum and boolean editors save on change; the text-based ones
 * keep a draft: Enter saves (Ctrl/⌘+Enter in the JSON editor), Escape puts the value back.
 */
import type { KeySchema } from '../../core/schema/types.js';
import { valuesEqual } from '../../core/value.js';
import { oneLine, pretty } from '../format.js';
import type { JsonValue } from '../types.js';
import type { EditorKind } from '../validate.js';
import { rangeText } from '../validate.js';

export interface EditorProps {
  readonly id: string;
  readonly kind: EditorKind;
  readonly schema: KeySchema | undefined;
  /** The value the editor starts from (the stored value, else the effective one). */
  readonly value: JsonValue | undefined;
  /** The text being edited, for text-based editors; undefined when not editing. */
  readonly draft: string | undefined;
  readonly disabled: boolean;
  readonly invalid: boolean;
  readonly describedBy: string;
  readonly onDraft: (text: string) => void;
  /** Save: a value for enum/bool, the draft for the others. */
  readonly onCommit: (value?: JsonValue) => void;
  readonly onCancel: () => void;
}

/** The text a text-based editor shows for a value. */
export function textOf(kind: EditorKind, v: JsonValue | undefined): string {
  if (v === undefined) return '';
  if (kind === 'string' && typeof v === 'string') return v;
  if ((kind === 'number' || kind === 'integer') && typeof v === 'number') return String(v);
  return kind === 'json' ? pretty(v) : JSON.stringify(v);
}

export function Editor(p: EditorProps) {
  switch (p.kind) {
    case 'enum':
      return <EnumEditor {...p} />;
    case 'bool':
      return <BoolEditor {...p} />;
    case 'json':
      return <JsonEditor {...p} />;
    default:
      return <LineEditor {...p} />;
  }
}

function EnumEditor({ id, schema, value, disabled, describedBy, onCommit }: EditorProps) {
  const options = (schema?.enum ?? []) as JsonValue[];
  const index = value === undefined ? -1 : options.findIndex((o) => valuesEqual(o, value));
  return (
    <select
      id={id}
      class="input select"
      disabled={disabled}
      aria-describedby={describedBy}
      value={String(index)}
      onChange={(ev) => {
        const i = Number((ev.currentTarget as HTMLSelectElement).value);
        const chosen = options[i];
        if (i >= 0 && chosen !== undefined) onCommit(chosen);
      }}
    >
      {index === -1 ? (
        <option value="-1" disabled>
          {value === undefined ? '(not set)' : `${oneLine(value, 40)} (not allowed)`}
        </option>
      ) : null}
      {options.map((o, i) => (
        <option key={i} value={String(i)}>
          {typeof o === 'string' ? o : JSON.stringify(o)}
        </option>
      ))}
    </select>
  );
}

function BoolEditor({ id, value, disabled, describedBy, onCommit }: EditorProps) {
  const on = value === true;
  return (
    <button
      id={id}
      type="button"
      role="switch"
      class={on ? 'switch on' : 'switch'}
      aria-checked={on ? 'true' : 'false'}
      aria-describedby={describedBy}
      disabled={disabled}
      onClick={() => onCommit(!on)}
    >
      <span class="switch-track" aria-hidden="true">
        <span class="switch-thumb" />
      </span>
      <span class="switch-label">{value === undefined ? 'Not set' : on ? 'On' : 'Off'}</span>
    </button>
  );
}

function keys(p: EditorProps, multiline: boolean) {
  return (ev: KeyboardEvent) => {
    if (ev.key === 'Escape') {
      if (p.draft !== undefined) {
        ev.preventDefault();
        ev.stopPropagation();
        p.onCancel();
      }
    } else if (ev.key === 'Enter' && (!multiline || ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      if (p.draft !== undefined) p.onCommit();
    }
  };
}

function LineEditor(p: EditorProps) {
  const numeric = p.kind === 'number' || p.kind === 'integer';
  const range = numeric ? rangeText(p.schema) : undefined;
  return (
    <span class="line-editor">
      <input
        id={p.id}
        class={p.invalid ? 'input invalid' : 'input'}
        type="text"
        inputMode={numeric ? (p.kind === 'integer' ? 'numeric' : 'decimal') : undefined}
        spellcheck={false}
        autoComplete="off"
        disabled={p.disabled}
        aria-invalid={p.invalid ? 'true' : 'false'}
        aria-describedby={p.describedBy}
        value={p.draft ?? textOf(p.kind, p.value)}
        placeholder={p.value === undefined ? '(not set)' : undefined}
        onInput={(ev) => p.onDraft((ev.currentTarget as HTMLInputElement).value)}
        onKeyDown={keys(p, false)}
      />
      {range !== undefined ? <span class="range">{range}</span> : null}
    </span>
  );
}

function JsonEditor(p: EditorProps) {
  const text = p.draft ?? textOf('json', p.value);
  const rows = Math.min(14, Math.max(2, text.split('\n').length));
  return (
    <textarea
      id={p.id}
      class={p.invalid ? 'input code invalid' : 'input code'}
      rows={rows}
      spellcheck={false}
      autoComplete="off"
      disabled={p.disabled}
      aria-invalid={p.invalid ? 'true' : 'false'}
      aria-describedby={p.describedBy}
      value={text}
      onInput={(ev) => p.onDraft((ev.currentTarget as HTMLTextAreaElement).value)}
      onKeyDown={keys(p, true)}
    />
  );
}

/** Parses an editor's draft into a value, or says what is wrong with the text. */
export function parseDraft(kind: EditorKind, text: string): { value: JsonValue } | { error: string; hint: string } {
  if (kind === 'string') return { value: text };
  if (kind === 'number' || kind === 'integer') {
    const t = text.trim();
    if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t))
      return { error: `${JSON.stringify(text)} is not a number.`, hint: 'Type digits, e.g. 250 or 0.5.' };
    return { value: Number(t) };
  }
  try {
    return { value: JSON.parse(text) as JsonValue };
  } catch (e) {
    return {
      error: `This is not valid JSON: ${e instanceof Error ? e.message : String(e)}`,
      hint: 'Check quotes around strings and member names, commas between items, and matching brackets.',
    };
  }
}
