/** Levenshtein distance between two short strings. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The name among `names` closest to `given` (a typo, a missing letter, dashes for underscores), or null when none is close. */
export function nearestName(given: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(given, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  // Close means at most a third of the name changed (and at least one edit allowed).
  return best !== null && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : null;
}
