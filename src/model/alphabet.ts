/** The label reserved for graphemes the model never saw in training. */
export const UNKNOWN_LABEL = '\uFFFD';

/** The model's alphabet: the unknown label first, then every label of the given graphs' nodes in code-point order. */
export function buildAlphabet(labels: Iterable<string>): string[] {
  const set = new Set<string>();
  for (const l of labels) if (l !== UNKNOWN_LABEL) set.add(l);
  return [UNKNOWN_LABEL, ...[...set].sort()];
}
