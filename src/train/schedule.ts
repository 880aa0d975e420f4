/** Learning rate at optimiser step `step` (0-based): linear warm-up to `lr`, then cosine decay to `lr·minRatio` at `totalSteps`. */
export function learningRate(step: number, totalSteps: number, lr: number, warmupSteps: number, minRatio: number): number {
  if (warmupSteps > 0 && step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / span));
  return lr * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
