import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'grapheme.js');
const COMMANDS = ['train', 'eval', 'predict', 'compare', 'graph', 'data', 'loss', 'ged', 'wl'];
/** Flags appended to every training and compare command: the same code path, a budget of seconds. */
const CUT = '--epochs 1 --train-size 24 --val-size 8 --batch-size 8 --hidden-size 8 --heads 2 --monitor-examples 8';

interface Shown {
  command: string;
  /** The output the README prints under it (empty for --help examples). */
  output: string[];
  where: string;
}

/** The pages whose command lines and printed outputs are checked: the README and the docs it sends readers to. */
const PAGES = ['README.md', 'docs/commands.md', 'docs/results.md'];

/** Every command line a page shows in a code block (`$ …`, or a bare `grapheme …` / `npx grapheme …` line), with the lines printed under it. */
function pageCommands(page: string): Shown[] {
  const lines = readFileSync(join(ROOT, page), 'utf8').split('\n');
  const shown: Shown[] = [];
  let inBlock = false;
  let current: Shown | null = null;
  lines.forEach((line, i) => {
    if (line.startsWith('```')) {
      inBlock = !inBlock;
      current = null;
      return;
    }
    if (!inBlock) return;
    const cmd = line.startsWith('$ ') ? line.slice(2) : /^(npx )?grapheme |^node examples\//.test(line) ? line : null;
    if (cmd !== null) {
      current = { command: cmd, output: [], where: `${page}:${i + 1}` };
      shown.push(current);
    } else if (current) current.output.push(line);
  });
  return shown;
}

/** Every example of every command's --help. */
function helpExamples(): Shown[] {
  return COMMANDS.flatMap((c) => {
    const help = spawnSync(process.execPath, [BIN, c, '--help'], { encoding: 'utf8' }).stdout;
    const at = help.indexOf('Examples:\n');
    if (at < 0) return [];
    return help.slice(at + 10).split('\n').filter((l) => l.trim()).map((l) => ({ command: l.trim(), output: [], where: `grapheme ${c} --help` }));
  });
}

/** Timings and run directories vary from run to run; everything else printed by these commands is deterministic. */
const normalise = (s: string): string => s.replace(/\d+(\.\d+)? ms/g, 'T ms').replace(/runs\/[\w-]+-\d{8}-\d{6}/g, 'runs/RUN');

test('every command line in the README, docs/commands.md, docs/results.md and every --help runs (training budgets cut), and the README prints what the tool prints', { timeout: 900_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'grapheme-readme-'));
  cpSync(join(ROOT, 'configs'), join(work, 'configs'), { recursive: true });
  cpSync(join(ROOT, 'examples'), join(work, 'examples'), { recursive: true });
  const all = [...PAGES.flatMap(pageCommands), ...helpExamples()];
  assert.ok(all.length >= 30, `${all.length} command lines found`);
  let checkedOutputs = 0;
  for (const item of all) {
    let cmd = item.command.replace(/\bnpx grapheme\b/g, 'grapheme');
    // The package's own setup commands are what CI already runs.
    if (/^npm |^cd /.test(cmd)) continue;
    // A checkpoint path from a pasted run: the newest run of this scratch directory with that prefix.
    cmd = cmd.replace(/runs\/([\w-]+?)-\d{8}-\d{6}/g, (m, prefix: string) => {
      const runs = existsSync(join(work, 'runs')) ? readdirSync(join(work, 'runs')).filter((d) => d.startsWith(`${prefix}-`)).sort() : [];
      return runs.length ? `runs/${runs.at(-1)}` : m;
    });
    // Examples run from the scratch copy, importing the package under test.
    cmd = cmd.replace(/^node examples\//, `node ${join(ROOT, 'examples')}/`);
    if (/grapheme (train|compare)\b/.test(cmd) && !/--resume|--dry-run/.test(cmd)) cmd = `${cmd} ${CUT}${/compare/.test(cmd) ? ' --seeds 1' : ''}`;
    // A pasted run's output directory exists in the scratch directory only if that run happened there.
    cmd = cmd.replace(/--output (runs\/results\/\S+)/, (_, d: string) => `--output ${d}-${all.indexOf(item)}`);
    const r = spawnSync('bash', ['-c', `set -o pipefail; grapheme() { node ${JSON.stringify(BIN)} "$@"; }; ${cmd}`], { cwd: work, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `${item.where}: \`${item.command}\` exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    // Deterministic commands: each line the README prints under them is a line of the real output.
    if (item.output.length > 0 && /^(grapheme (graph|data|loss|ged|wl)|node \S*examples\/compare-texts)/.test(cmd.replace(/^.*; /, ''))) {
      const real = new Set(normalise(r.stdout).split('\n'));
      for (const want of item.output) {
        if (want.includes('…') || want.trim() === '') continue;
        assert.ok(real.has(normalise(want)), `${item.where}: the page prints ${JSON.stringify(want)} under \`${item.command}\`; the tool printed:\n${r.stdout}`);
        checkedOutputs++;
      }
    }
  }
  assert.ok(checkedOutputs >= 15, `only ${checkedOutputs} printed output lines compared`);
});
