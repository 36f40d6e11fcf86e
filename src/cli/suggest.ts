/**
 * "Did you mean …?" for mistyped commands and options: the closest candidate
 * by edit distance (Damerau–Levenshtein, optimal string alignment, so a swap
 * of two neighbouring letters costs 1), when it is close enough to be a typo.
 */

/** Edit distance between `a` and `b` (insert, delete, substitute, swap neighbours). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `input`, or undefined when none is plausibly meant:
 * within 1 edit for short words, 2 for longer ones, or a unique candidate that
 * starts with `input` (a truncated word, `expl` for `explain`).
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  const prefixed: string[] = [];
  for (const c of candidates) {
    if (lower.length >= 2 && c.startsWith(lower)) prefixed.push(c);
    const dist = editDistance(lower, c);
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const allowed = lower.length <= 4 ? 1 : 2;
  if (best !== undefined && bestDistance <= allowed) return best;
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
