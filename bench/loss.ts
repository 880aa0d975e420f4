/**
 * bench/loss: forward + backward time of the structural loss per pair, K = m = 8…128, both
 * gradient modes, beside the same computation in PyTorch (float64, one thread) run in the same
 * invocation when /usr/bin/python3 has torch. Prints a table; never pass/fail.
 *
 *   npm run build && node dist/bench/loss.js [--sizes 8,16,32,64,128] [--tau 0.1] [--iterations 20]
 *
 * `--tau 0.01 --iterations 50` is the training's Sinkhorn (the loss command's defaults otherwise).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { wordsGraph } from '../src/graph/text.js';
import { resolveLossConfig } from '../src/loss/config.js';
import { targetFromGraph, type SoftGraph } from '../src/loss/softGraph.js';
import { structuralLoss } from '../src/loss/structural.js';
import { Rng } from '../src/util/rng.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../bench/reference/structural_loss_torch.py', import.meta.url));
const ALPHABET = 'abcdefghij '.split('');

/** The flags (sizes and iterations positive integers, τ positive); a malformed or unknown flag is one line on stderr and exit 2. */
function readFlags(): { sizes: number[]; tau: number; iterations: number } {
  try {
    const { values } = parseArgs({
      options: {
        sizes: { type: 'string', default: '8,16,32,64,128' },
        tau: { type: 'string', default: '0.1' },
        iterations: { type: 'string', default: '20' },
      },
    });
    const positive = (flag: string, text: string, integer: boolean): number => {
      const x = Number(text);
      if (!(x > 0) || (integer && !Number.isInteger(x))) throw new Error(`bench/loss: --${flag} needs positive ${integer ? 'integers' : 'numbers'}, got ${JSON.stringify(text)}`);
      return x;
    };
    return {
      sizes: values.sizes.split(',').map((t) => positive('sizes', t, true)),
      tau: positive('tau', values.tau, false),
      iterations: positive('iterations', values.iterations, true),
    };
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
}
const flags = readFlags();
const sizes = flags.sizes;
const sinkhorn = { sinkhorn_temperature: flags.tau, sinkhorn_iterations: flags.iterations };

/** A case: a random soft prediction with K slots against the `words` graph of a random text of K graphemes. */
function makeCase(size: number, seed: number): { p: SoftGraph; text: string } {
  const rng = new Rng(seed);
  let text = '';
  for (let i = 0; i < size; i++) text += rng.next() < 0.2 ? ' ' : ALPHABET[rng.int(0, 9)];
  const K = size;
  const L = ALPHABET.length;
  const labels = new Float64Array(K * L);
  for (let i = 0; i < K; i++) {
    let z = 0;
    for (let l = 0; l < L; l++) z += labels[i * L + l] = Math.exp(2 * rng.normal());
    for (let l = 0; l < L; l++) labels[i * L + l]! /= z;
  }
  const exist = Float64Array.from({ length: K }, () => rng.next());
  const edges: SoftGraph['edges'] = {};
  for (const r of ['sequential', 'clique'] as const) {
    const A = new Float64Array(K * K);
    for (let i = 0; i < K; i++) for (let k = 0; k < K; k++) if (i !== k) A[i * K + k] = 0.3 * rng.next();
    edges[r] = A;
  }
  return { p: { K, L, exist, labels, edges }, text };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  size: number;
  mode: string;
  form: string;
  ms: number;
  iterations: number;
  total: number;
  gradExist: Float64Array;
  torchMs?: number;
  torchTotal?: number;
  /** max |∂/∂exist grapheme − PyTorch| / max |∂/∂exist|. */
  gradDiff?: number;
}

const rows: Row[] = [];
const torchCases: unknown[] = [];
for (const size of sizes) {
  const { p, text } = makeCase(size, size);
  const target = targetFromGraph(wordsGraph(text), ALPHABET);
  for (const [form, mode] of [['expected', 'envelope'], ['expected', 'unrolled'], ['likelihood', 'envelope'], ['likelihood', 'unrolled']] as const) {
    const cfg = resolveLossConfig({ gradient: mode, cost_form: form, ...sinkhorn });
    const repeats = size <= 32 ? 200 : size <= 64 ? 30 : 8;
    // JIT warm-up: ~100 ms of calls, so the timed ones run optimised code.
    let r = structuralLoss(p, target, cfg);
    for (const start = performance.now(); performance.now() - start < 100; ) r = structuralLoss(p, target, cfg);
    const times: number[] = [];
    for (let k = 0; k < repeats; k++) {
      const t0 = performance.now();
      r = structuralLoss(p, target, cfg);
      times.push(performance.now() - t0);
    }
    rows.push({ size, mode, form, ms: median(times), iterations: r.sinkhorn!.iterations, total: r.total, gradExist: r.gradients.exist });
    const edges: Record<string, number[]> = {};
    const tedges: Record<string, number[]> = {};
    for (const t of ['sequential', 'clique'] as const) {
      edges[t] = Array.from(p.edges[t]!);
      tedges[t] = Array.from(target.edges[t] ?? new Float64Array(target.m * target.m));
    }
    torchCases.push({
      K: p.K, L: p.L, m: target.m, exist: Array.from(p.exist), labels: Array.from(p.labels), edges,
      targetLabels: Array.from(target.labels), targetEdges: tedges, cfg, repeats: Math.max(3, Math.floor(repeats / 4)),
    });
  }
}

let torchNote = '';
const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
if (probe.status === 0) {
  const res = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(torchCases), encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (res.status === 0) {
    res.stdout.trim().split('\n').forEach((line, i) => {
      const o = JSON.parse(line) as { ms: number; total: number; gradExist: number[] };
      const row = rows[i]!;
      row.torchMs = o.ms;
      row.torchTotal = o.total;
      let diff = 0;
      let scale = 0;
      o.gradExist.forEach((g, k) => {
        diff = Math.max(diff, Math.abs(g - row.gradExist[k]!));
        scale = Math.max(scale, Math.abs(g));
      });
      row.gradDiff = diff / (scale || 1);
    });
    torchNote = `PyTorch ${probe.stdout.trim()} (float64, 1 thread, autograd), same cases, same invocation`;
  } else {
    torchNote = `PyTorch reference failed: ${res.stderr.trim().split('\n').pop()}`;
  }
} else {
  torchNote = 'PyTorch not available (apt-get install python3-torch): reference column empty';
}

const header = '| K = m | cost form | gradient | grapheme ms/pair | PyTorch ms/pair | speed-up | Sinkhorn its | loss (grapheme) | loss (PyTorch) | ∂/∂exist rel. diff |';
console.log(`bench/loss: structural loss forward+backward per pair, τ ${sinkhorn.sinkhorn_temperature}, ${sinkhorn.sinkhorn_iterations} its, 3 refinements, context 3 hops`);
console.log(`reference: ${torchNote}\n`);
console.log(header);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const speed = r.torchMs !== undefined ? `${(r.torchMs / r.ms).toFixed(2)}×` : '—';
  console.log(`| ${r.size} | ${r.form} | ${r.mode} | ${r.ms.toFixed(3)} | ${r.torchMs?.toFixed(3) ?? '—'} | ${speed} | ${r.iterations} | ${r.total.toPrecision(8)} | ${r.torchTotal?.toPrecision(8) ?? '—'} | ${r.gradDiff?.toExponential(1) ?? '—'} |`);
}
