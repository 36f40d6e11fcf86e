/** Display helpers: key labels, values in one line, relative times. */
import type { JsonValue } from './types.js';

const WORD = /[_-]+/g;

function titleCase(segment: string): string {
  const s = segment.replace(WORD, ' ').replace(/([a-z])([A-Z])/g, '$1 $2');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The group a key belongs to: its first segment. */
export function groupOf(key: string): string {
  const i = key.indexOf('.');
  return i === -1 ? key : key.slice(0, i);
}

/** "Display › Refresh ms" for display.refresh_ms; the group is shown as the section heading. */
export function labelOf(key: string): { group: string; name: string } {
  const segs = key.split('.');
  const group = titleCase(segs[0] ?? key);
  const rest = segs.slice(1).map(titleCase).join(' › ');
  return { group, name: rest === '' ? group : rest };
}

export function groupTitle(group: string): string {
  return titleCase(group);
}

/** A value on one line, cut at `max` characters. */
export function oneLine(v: JsonValue | undefined, max = 80): string {
  if (v === undefined) return '(not set)';
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

function isPrimitive(v: JsonValue): boolean {
  return v === null || typeof v !== 'object';
}

/** `{ "id": "t1", "max": 80 }` for an object of primitives, else undefined. */
function flatObject(v: JsonValue): string | undefined {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return v.every(isPrimitive) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : undefined;
  const members = Object.keys(v).map((k) => {
    const m = v[k] as JsonValue;
    return isPrimitive(m) ? `${JSON.stringify(k)}: ${JSON.stringify(m)}` : undefined;
  });
  if (members.some((m) => m === undefined)) return undefined;
  return members.length === 0 ? '{}' : `{ ${members.join(', ')} }`;
}

/**
 * JSON for an editor and for value blocks: an array of flat items (a list of sensors) gets one
 * item per line, anything else is indented by two spaces.
 */
export function pretty(v: JsonValue | undefined): string {
  if (v === undefined) return '';
  if (Array.isArray(v) && v.length > 0) {
    const lines = v.map(flatObject);
    if (lines.every((l) => l !== undefined && l.length <= 100)) return `[\n  ${lines.join(',\n  ')}\n]`;
  }
  return JSON.stringify(v, null, 2);
}

function parseTime(t: string): number {
  // ISO 8601, or the store's clock text (ISO + "-0000").
  return Date.parse(t.length > 24 && t.charAt(24) === '-' ? t.slice(0, 24) : t);
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", else a date. */
export function relativeTime(t: string | null | undefined, now = Date.now()): string {
  if (t === null || t === undefined) return '';
  const ms = parseTime(t);
  if (!Number.isFinite(ms)) return t;
  const s = Math.round((now - ms) / 1000);
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 7 * 86400) return `${Math.floor(s / 86400)} days ago`;
  return new Date(ms).toLocaleDateString();
}

/** The full local date and time, for tooltips. */
export function fullTime(t: string | null | undefined): string {
  if (t === null || t === undefined) return '';
  const ms = parseTime(t);
  return Number.isFinite(ms) ? new Date(ms).toLocaleString() : t;
}

/** A friendly name for a source (`cli`, `gui`, `http:deploy-bot`, `file`, `restore:x` …). */
export function sourceText(source: string): string {
  if (source === 'file') return 'a hand edit of the mirror file';
  if (source === 'gui') return 'the GUI';
  if (source === 'cli') return 'the CLI';
  if (source.startsWith('http:')) return `the API (${source.slice(5)})`;
  if (source.startsWith('restore:')) return `restore of snapshot ${source.slice(8)}`;
  if (source.startsWith('env:')) return `environment variable ${source.slice(4)}`;
  return source;
}
