""""Did you mean …?" for mistyped commands and options (src/cli/suggest.ts)."""


def edit_distance(a, b):
    """Damerau–Levenshtein distance (optimal string alignment)."""
    rows, cols = len(a) + 1, len(b) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, d[i - 2][j - 2] + 1)
            d[i][j] = best
    return d[len(a)][len(b)]


def closest(word, candidates):
    """The candidate closest to ``word`` when it is plausibly a typo, else None."""
    lower = word.lower()
    best = None
    best_distance = None
    prefixed = []
    for c in candidates:
        if len(lower) >= 2 and c.startswith(lower):
            prefixed.append(c)
        dist = edit_distance(lower, c)
        if best_distance is None or dist < best_distance:
            best, best_distance = c, dist
    allowed = 1 if len(lower) <= 4 else 2
    if best is not None and best_distance <= allowed:
        return best
    return prefixed[0] if len(prefixed) == 1 else None
