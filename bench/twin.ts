import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DropoutSites } from '../src/model/forward.js';

/** The model sizes bench/train and bench/step measure: K is the longest target (the strings' longest length), N the longest input. */
export const BENCH_MODELS = [
  { name: 'default (d 128, K 6)', d: 128, min: 3, max: 6 },
  { name: 'd 64, K 6', d: 64, min: 3, max: 6 },
  { name: 'larger (d 128, K 16)', d: 128, min: 12, max: 16 },
  { name: 'long (d 64, K 32)', d: 64, min: 24, max: 32 },
] as const;

const TWIN = fileURLToPath(new URL('../../bench/reference/train_torch.py', import.meta.url));

/** Debian's PyTorch version, or null when `/usr/bin/python3` cannot import torch. */
export function torchVersion(): string | null {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : null;
}

/**
 * The PyTorch twin (bench/reference/train_torch.py) trained for 60 steps of batch 32 at width d
 * with strings of `length` (input and output), 9 labels (8 letters + unknown), on `threads`
 * threads, with `dropout` at grapheme's dropout `sites` and one edge head per predicted edge
 * type (default 1: a chain target, grapheme's default builder): its parameter count and examples
 * per second, or the last line of its error.
 */
export function runTwin(d: number, length: number, threads: number, dropout = 0, edgeTypes = 1, sites: DropoutSites = 'all'): { parameters: number; examplesPerSecond: number } | { error: string } {
  const r = spawnSync('/usr/bin/python3', [TWIN, String(d), String(length), String(length), '9', '32', '60', String(threads), String(dropout), String(edgeTypes), sites], { encoding: 'utf8' });
  if (r.status !== 0) return { error: r.stderr.trim().split('\n').pop() ?? `exit ${r.status}` };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { parameters: number; examplesPerSecond: number };
}
