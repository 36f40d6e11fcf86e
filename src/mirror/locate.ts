/** Where a top-level key stands in a mirror or dropped file, for errors that know only the key. */

/**
 * The 1-based line and column (column in UTF-16 units, as Python and Rust report it too) of the
 * first of `forms` found in `text`, best effort. `forms` defaults to the spellings a key takes in
 * the three mirror formats.
 */
export function locateKey(
  text: string,
  key: string,
  forms: readonly string[] = [`"${key}"`, `'${key}'`, `${key}:`, `${key} =`],
): { line: number; column: number } | undefined {
  for (const c of forms) {
    const i = text.indexOf(c);
    if (i >= 0) {
      const before = text.slice(0, i);
      return { line: before.split('\n').length, column: i - before.lastIndexOf('\n') };
    }
  }
  return undefined;
}
