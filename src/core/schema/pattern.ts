/**
 * The portable regex subset for the `pattern` keyword (spec/SPEC.md §schema.subset): a
 * checker that accepts exactly the patterns TypeScript, Python and Rust read the same way.
 */

/** Largest `n`/`m` accepted in a `{n,m}` quantifier (a limit every regex engine shares). */
export const MAX_REPEAT = 1000;
/** Deepest group nesting accepted in a pattern. */
export const MAX_GROUP_DEPTH = 32;

/**
 * Checks that `p` lies in the portable regex subset. Returns undefined when it
 * does, else a sentence saying what is not allowed and where.
 *
 *     regex       = alternative ( "|" alternative )*
 *     alternative = ( "^" | "$" | atom quantifier? )*
 *     atom        = "." | literal | escape | class | "(" regex ")" | "(?:" regex ")"
 *     quantifier  = "*" | "+" | "?" | "{" n "}" | "{" n ",}" | "{" n "," m "}"   (not followed by "?" or "+")
 *     escape      = "\" ( "d" | "D" | "w" | "W" | "s" | "S" | syntax )
 *     syntax      = one of  ^ $ \ . * + ? ( ) [ ] { } | /
 *     class       = "[" "^"? item+ "]"
 *     item        = catom ( "-" catom )?      (a range's ends are single characters, low ≤ high)
 *     catom       = any character but "\" "]" "["  |  "\" ( d D w W s S | syntax | "-" )
 *     literal     = any character but the syntax characters
 */
export function checkPatternSubset(p: string): string | undefined {
  const cps = Array.from(p);
  let i = 0;
  let depth = 0;
  const SYNTAX = '^$\\.*+?()[]{}|/';
  const CLASS_ESC = 'dDwWsS';
  const at = (): string => `at position ${i + 1}`;
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

  const escapeProblem = (c: string | undefined, inClass: boolean): string | undefined => {
    if (c === undefined) return `a pattern cannot end with a lone "\\"`;
    if (CLASS_ESC.includes(c) || SYNTAX.includes(c) || (inClass && c === '-')) return undefined;
    if (c >= '1' && c <= '9') return `backreferences ("\\${c}") are not supported`;
    if (c === 'k') return 'named backreferences ("\\k<…>") are not supported';
    if (c === 'p' || c === 'P') return `unicode property escapes ("\\${c}{…}") are not supported`;
    if (c === 'b' || c === 'B') return `word boundaries ("\\${c}") are not supported`;
    return `the escape "\\${c}" is not supported (only \\d \\D \\w \\W \\s \\S and escaped syntax characters)`;
  };

  // Returns a problem or undefined; consumes a quantifier if present.
  const quantifier = (): string | undefined => {
    const c = cps[i];
    if (c === '*' || c === '+' || c === '?') {
      i++;
    } else if (c === '{') {
      const start = i;
      i++;
      let n = '';
      while (isDigit(cps[i])) n += cps[i++];
      if (n === '')
        return `"{" at position ${start + 1} does not start a quantifier {n}, {n,} or {n,m}; escape it as "\\{"`;
      let m: string | undefined = n;
      if (cps[i] === ',') {
        i++;
        m = '';
        while (isDigit(cps[i])) m += cps[i++];
        if (m === '') m = undefined;
      }
      if (cps[i] !== '}') return `the quantifier starting at position ${start + 1} is not closed with "}"`;
      i++;
      const nv = Number(n);
      const mv = m === undefined ? undefined : Number(m);
      if (nv > MAX_REPEAT || (mv !== undefined && mv > MAX_REPEAT))
        return `the quantifier at position ${start + 1} exceeds ${MAX_REPEAT} repetitions`;
      if (mv !== undefined && mv < nv) return `the quantifier at position ${start + 1} has its bounds out of order`;
    } else {
      return undefined;
    }
    const next = cps[i];
    if (next === '?') return `lazy quantifiers ("${cps[i - 1]}?") are not supported (${at()})`;
    if (next === '+') return `possessive quantifiers ("${cps[i - 1]}+") are not supported (${at()})`;
    if (next === '*' || next === '{') return `a quantifier cannot follow another quantifier (${at()})`;
    return undefined;
  };

  const classItem = (): { problem?: string; single?: number } => {
    const c = cps[i];
    if (c === undefined) return { problem: 'a "[" class is not closed with "]"' };
    if (c === '[') return { problem: `"[" inside a class must be escaped as "\\[" (${at()})` };
    if (c === '\\') {
      const e = cps[i + 1];
      const prob = escapeProblem(e, true);
      if (prob !== undefined) return { problem: `${prob} (${at()})` };
      i += 2;
      return CLASS_ESC.includes(e ?? '') ? {} : { single: (e ?? '').codePointAt(0) ?? 0 };
    }
    i++;
    return { single: c.codePointAt(0) ?? 0 };
  };

  const cls = (): string | undefined => {
    const open = i;
    i++; // "["
    if (cps[i] === '^') i++;
    if (cps[i] === ']')
      return `empty classes ("[]" or "[^]") are not supported (position ${open + 1}); escape a literal "]" as "\\]"`;
    for (;;) {
      const c = cps[i];
      if (c === undefined) return `the class opened at position ${open + 1} is not closed with "]"`;
      if (c === ']') {
        i++;
        return undefined;
      }
      const pair = c + (cps[i + 1] ?? '');
      if (pair === '&&' || pair === '--' || pair === '~~' || pair === '||') {
        return `"${pair}" inside a class means set operations in some engines; write the character once (${at()})`;
      }
      const lo = classItem();
      if (lo.problem !== undefined) return lo.problem;
      if (cps[i] === '-' && cps[i + 1] !== ']' && cps[i + 1] !== undefined) {
        const dash = i;
        i++;
        const hi = classItem();
        if (hi.problem !== undefined) return hi.problem;
        if (lo.single === undefined || hi.single === undefined) {
          return `a range cannot start or end with a class escape such as \\d (position ${dash + 1}); escape the "-" as "\\-"`;
        }
        if (hi.single < lo.single) return `the range at position ${dash} is out of order`;
      }
    }
  };

  const alternatives = (): string | undefined => {
    for (;;) {
      // one alternative
      for (;;) {
        const c = cps[i];
        if (c === undefined || c === '|' || c === ')') break;
        if (c === '^' || c === '$') {
          i++;
          const q = cps[i];
          if (q === '*' || q === '+' || q === '?' || q === '{') return `an anchor cannot be quantified (${at()})`;
          continue;
        }
        if (c === '*' || c === '+' || c === '?')
          return `"${c}" at position ${i + 1} has nothing to repeat; escape it as "\\${c}"`;
        if (c === '{') return `"{" at position ${i + 1} has nothing to repeat; escape it as "\\{"`;
        if (c === '}' || c === ']') return `"${c}" at position ${i + 1} must be escaped as "\\${c}"`;
        if (c === '(') {
          const open = i;
          i++;
          if (cps[i] === '?') {
            if (cps[i + 1] === ':') {
              i += 2;
            } else {
              const n = cps[i + 1] ?? '';
              const what =
                n === '=' || n === '!'
                  ? 'lookahead'
                  : n === '<' && (cps[i + 2] === '=' || cps[i + 2] === '!')
                    ? 'lookbehind'
                    : n === '<' || n === 'P'
                      ? 'named groups'
                      : 'inline flags and other "(?" forms';
              return `${what} ("(?${n}…") ${what.endsWith('s') ? 'are' : 'is'} not supported (position ${open + 1}); use "(" or "(?:"`;
            }
          }
          depth++;
          if (depth > MAX_GROUP_DEPTH) return `groups nest deeper than ${MAX_GROUP_DEPTH} levels`;
          const prob = alternatives();
          if (prob !== undefined) return prob;
          if (cps[i] !== ')') return `the group opened at position ${open + 1} is not closed with ")"`;
          i++;
          depth--;
        } else if (c === '[') {
          const prob = cls();
          if (prob !== undefined) return prob;
        } else if (c === '\\') {
          const prob = escapeProblem(cps[i + 1], false);
          if (prob !== undefined) return `${prob} (${at()})`;
          i += 2;
        } else {
          i++; // "." or a literal
        }
        const q = quantifier();
        if (q !== undefined) return q;
      }
      if (cps[i] === '|') {
        i++;
        continue;
      }
      return undefined;
    }
  };

  const problem = alternatives();
  if (problem !== undefined) return problem;
  if (i < cps.length) return `")" at position ${i + 1} has no matching "("; escape it as "\\)"`;
  return undefined;
}
