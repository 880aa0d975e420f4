import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { splitOf } from '../src/data/tasks.js';
import { meanStd, plusMinus } from '../src/report/report.js';
import { torchVersion } from './twin.js';

const SEQ2SEQ = fileURLToPath(new URL('../../bench/reference/seq2seq_torch.py', import.meta.url));

/** One baseline run's outcome: validation exact match after each epoch, and the final one. */
export interface BaselineRun {
  seed: number;
  exact: number;
  parameters: number;
  seconds: number;
  epochs: Array<{ epoch: number; train: number; val: number; exact: number }>;
}

/**
 * A text-pair dataset cut as grapheme cuts it (splitOf on the input text: 80% train, 10%
 * validation), written as two JSONL files for the baseline.
 */
export function writeSplit(dataFile: string, dir: string): { train: string; val: string; sizes: [number, number] } {
  const rows = readFileSync(dataFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { input: string; target: string });
  if (rows.some((r) => typeof r.input !== 'string' || typeof r.target !== 'string')) throw new Error(`${dataFile}: the baseline reads text pairs only`);
  const parts = { train: rows.filter((r) => splitOf(r.input) === 'train'), val: rows.filter((r) => splitOf(r.input) === 'val') };
  const paths = { train: join(dir, 'train.jsonl'), val: join(dir, 'val.jsonl') };
  for (const k of ['train', 'val'] as const) writeFileSync(paths[k], parts[k].map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { ...paths, sizes: [parts.train.length, parts.val.length] };
}

/** Train the PyTorch transformer baseline once (bench/reference/seq2seq_torch.py). */
export function runBaseline(train: string, val: string, seed: number, epochs: number, d: number, layers: number, dropout: number, threads: number): Promise<BaselineRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [SEQ2SEQ, train, val, String(seed), String(epochs), String(d), String(layers), String(dropout), String(threads)]);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`seq2seq baseline exited ${code}: ${err.trim().split('\n').pop()}`));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
      const last = lines.pop()!;
      resolve({ seed, exact: last['exact']!, parameters: last['parameters']!, seconds: last['seconds']!, epochs: lines as BaselineRun['epochs'] });
    });
  });
}

/**
 * `node dist/bench/seq2seq.js --data FILE [--seeds 3] [--epochs 15] [--d 128] [--layers 2] [--dropout 0.1] [--threads 1]`:
 * the baseline on grapheme's split of FILE, one run per seed (seed, seed+1, …), two at a time.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      seed: { type: 'string', default: '1' },
      seeds: { type: 'string', default: '3' },
      epochs: { type: 'string', default: '15' },
      d: { type: 'string', default: '128' },
      layers: { type: 'string', default: '2' },
      dropout: { type: 'string', default: '0.1' },
      threads: { type: 'string', default: '1' },
      parallel: { type: 'string', default: '2' },
    },
  });
  if (!values.data) {
    console.error('usage: node dist/bench/seq2seq.js --data FILE [--seeds 3] [--epochs 15] [--d 128] [--layers 2] [--dropout 0.1] [--threads 1] [--parallel 2]');
    process.exit(2);
  }
  const version = torchVersion();
  if (!version) {
    console.error('PyTorch not found: apt-get install python3-torch (run with /usr/bin/python3)');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'grapheme-seq2seq-'));
  try {
    const split = writeSplit(values.data, dir);
    const n = Number(values.seeds);
    const seeds = Array.from({ length: n }, (_, i) => Number(values.seed) + i);
    const runs: BaselineRun[] = [];
    const queue = [...seeds];
    const lane = async (): Promise<void> => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
        runs.push(await runBaseline(split.train, split.val, s, Number(values.epochs), Number(values.d), Number(values.layers), Number(values.dropout), Number(values.threads)));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Number(values.parallel)) }, lane));
    runs.sort((a, b) => a.seed - b.seed);
    console.log(`PyTorch ${version} transformer seq2seq (d ${values.d}, ${values.layers}+${values.layers} layers, dropout ${values.dropout}, ${runs[0]!.parameters} parameters), ${values.epochs} epochs, greedy decoding`);
    console.log(`${values.data}: ${split.sizes[0]} training / ${split.sizes[1]} validation pairs (grapheme's split)`);
    console.log('| seed | exact | best epoch exact | train loss | val loss | seconds |');
    console.log('|---:|---:|---:|---:|---:|---:|');
    for (const r of runs) {
      const last = r.epochs[r.epochs.length - 1]!;
      const best = Math.max(...r.epochs.map((e) => e.exact));
      console.log(`| ${r.seed} | ${r.exact.toFixed(3)} | ${best.toFixed(3)} | ${last.train.toFixed(3)} | ${last.val.toFixed(3)} | ${r.seconds.toFixed(0)} |`);
    }
    console.log(`exact (mean ± sd over ${runs.length} seeds): ${plusMinus(meanStd(runs.map((r) => r.exact)))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
