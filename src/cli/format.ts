/** Human output: values on one line, aligned tables, short times. */

/** A value as one line of JSON, cut to `max` characters with `…`; `(unset)` for undefined. */
export function inlineValue(value: unknown, max = 60): string {
  if (value === undefined) return '(unset)';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A value as `get` prints it: a string raw, anything else as JSON. */
export function plainValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `2026-11-26T04:03:25.146Z-0003` (an HLC) → `2026-11-26 04:03:25`. Other text is returned as is. */
export function shortTime(hlc: string | undefined): string {
  if (hlc === undefined) return '';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(hlc);
  return m === null ? hlc : `${m[1]} ${m[2]}`;
}

/** Rows as aligned columns (two spaces apart); the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
