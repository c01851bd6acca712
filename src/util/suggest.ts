// "Did you mean" for unknown switches, commands and label keys: the closest known word by edit distance.

/** Levenshtein distance, stopping early once it exceeds `limit` (then returns limit + 1). */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length] as number;
}

/**
 * The candidate closest to `word` (case-insensitive, `-` and `_` alike), when close enough to be a
 * plausible typo: at most a third of the word's length, and at least 2 edits allowed.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/-/g, '_');
  const w = norm(word);
  const limit = Math.max(2, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(w, norm(c), Math.min(bestDistance - 1, limit));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined || w.length < 4) return best;
  // A word missing its beginning or end ("autoheal" for "enable_autoheal"): the shortest that contains it.
  for (const c of candidates) {
    if (norm(c).includes(w) && (best === undefined || c.length < best.length)) best = c;
  }
  return best;
}
