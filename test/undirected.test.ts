import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { graphFromJson } from '../src/graph/io.js';
import { exactGed } from '../src/metrics/ged.js';
import { wlSimilarity } from '../src/metrics/wl.js';
import { cli } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('../../test/networkx_graphs.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'grapheme-undirected-'));

interface NxAnswers {
  pairs: Array<{ g1: unknown; g2: unknown; ged: number; sameWlHash: boolean }>;
  listings: Array<{ graph: unknown; relisted: unknown; edges: number }>;
}

/** NetworkX's graphs and answers, or null when NetworkX is not installed (the test then skips, unless CI requires it). */
function networkx(): NxAnswers | null {
  const probe = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import networkx'], { encoding: 'utf8' }) : null;
  if (!probe || probe.status !== 0) return null;
  const r = spawnSync(PYTHON, [SCRIPT, '7'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as NxAnswers;
}

test('undirected node_link_data graphs: GED and WL agree with NetworkX, a relisting is the same graph, and graph --from keeps it undirected', (t) => {
  const nx = networkx();
  if (!nx) {
    if (process.env.GRAPHEME_REQUIRE_NETWORKX) assert.fail('NetworkX is required (.ci/run installs python3-networkx)');
    t.skip('NetworkX is not installed (apt-get install python3-networkx)');
    return;
  }
  for (const [i, p] of nx.pairs.entries()) {
    const g1 = graphFromJson(p.g1, `pair ${i} g1`);
    const g2 = graphFromJson(p.g2, `pair ${i} g2`);
    const r = exactGed(g1, g2, { timeMs: 10_000 });
    assert.ok(r.exact, `pair ${i}: search finished`);
    assert.equal(r.ged, p.ged, `pair ${i}: grapheme ${r.ged}, NetworkX ${p.ged}`);
    // The edit path lists each undirected edge operation once: its length prices the distance.
    assert.equal(r.editPath.length, r.ged, `pair ${i}: unit costs, one operation per unit`);
    const wl = wlSimilarity(g1, g2);
    if (p.sameWlHash) assert.ok(Math.abs(wl - 1) < 1e-12, `pair ${i}: NetworkX's WL hashes agree, similarity ${wl}`);
    else assert.ok(wl < 1 - 1e-9, `pair ${i}: NetworkX's WL hashes differ, similarity ${wl}`);
  }
  const work = tmp();
  for (const [i, l] of nx.listings.entries()) {
    const a = join(work, `g${i}.json`);
    const b = join(work, `relisted${i}.json`);
    writeFileSync(a, JSON.stringify(l.graph));
    writeFileSync(b, JSON.stringify(l.relisted));
    // Each edge written the other way round, nodes renamed: the same undirected graph.
    const ged = cli(['ged', a, b, '--json']);
    assert.equal(ged.code, 0, ged.stderr);
    assert.equal(JSON.parse(ged.stdout).ged, 0, `listing ${i}`);
    const wl = cli(['wl', a, b, '--json']);
    assert.equal(JSON.parse(wl.stdout).similarity, 1);
    const round = cli(['graph', '--from', b]);
    assert.equal(round.code, 0, round.stderr);
    const back = JSON.parse(round.stdout) as { directed: boolean; edges: unknown[] };
    assert.equal(back.directed, false);
    assert.equal(back.edges.length, l.edges, 'each undirected edge written once');
    const c = join(work, `back${i}.json`);
    writeFileSync(c, round.stdout);
    assert.equal(JSON.parse(cli(['ged', a, c, '--json']).stdout).ged, 0);
  }
});

test('undirected graphs at the door: the flag is read, repeats either way round are refused, mixed pairs and mixed targets are one-line errors', () => {
  const work = tmp();
  const g = (edges: Array<[number, number]>, directed?: boolean): string =>
    JSON.stringify({ ...(directed === undefined ? {} : { directed }), nodes: [0, 1, 2].map((id) => ({ id, label: 'abc'[id] })), links: edges.map(([source, target]) => ({ source, target })) });
  const und = join(work, 'und.json');
  const rev = join(work, 'rev.json');
  const dir = join(work, 'dir.json');
  const rep = join(work, 'rep.json');
  writeFileSync(und, g([[0, 1], [1, 2]], false));
  writeFileSync(rev, g([[1, 0], [2, 1]], false));
  writeFileSync(dir, g([[1, 0], [2, 1]]));
  writeFileSync(rep, g([[0, 1], [1, 0]], false));
  assert.match(cli(['ged', und, rev]).stdout, /^ged 0 /);
  // Read as directed (as before the flag was read), the reversed listing is another graph: a→b→c
  // against c→b→a costs two substitutions.
  writeFileSync(join(work, 'und-d.json'), g([[0, 1], [1, 2]], true));
  assert.match(cli(['ged', join(work, 'und-d.json'), dir]).stdout, /^ged 2 /);
  const mixed = cli(['ged', und, dir]);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /^grapheme: GED between a directed and an undirected graph is not defined/);
  assert.equal(mixed.stderr.trim().split('\n').length, 1);
  const repeated = cli(['graph', '--from', rep]);
  assert.equal(repeated.code, 2);
  assert.match(repeated.stderr, /rep\.json: edge 1 repeats 1–0 \(sequential\) in an undirected graph/);
  // A deleted undirected edge costs one edit, listed once.
  writeFileSync(join(work, 'one.json'), g([[0, 1]], false));
  const del = cli(['ged', und, join(work, 'one.json')]);
  assert.match(del.stdout, /^ged 1 /);
  assert.match(del.stdout, /delete sequential edge 1 – 2/);
  const flag = join(work, 'flag.json');
  writeFileSync(flag, JSON.stringify({ directed: 'no', nodes: [], links: [] }));
  assert.match(cli(['graph', '--from', flag]).stderr, /flag\.json: "directed" must be true or false/);
});

test('a graph dataset with undirected targets trains, and its predictions decode and are scored as undirected graphs', () => {
  const work = tmp();
  const lines: string[] = [];
  // Input: a path a-b-c-…; target: the same labels joined in a star around the first node (undirected).
  for (let k = 0; k < 60; k++) {
    const n = 3 + (k % 3);
    const labels = Array.from({ length: n }, (_, i) => 'abcdef'[(i + k) % 6]!);
    const nodes = labels.map((label, id) => ({ id, label }));
    const input = { nodes, edges: labels.slice(1).map((_, i) => ({ source: i, target: i + 1, type: 'sequential' })) };
    const target = { directed: false, nodes, edges: labels.slice(1).map((_, i) => ({ source: 0, target: i + 1, type: 'structural' })) };
    lines.push(JSON.stringify({ id: `s${k}`, input, target }));
  }
  const data = join(work, 'stars.jsonl');
  writeFileSync(data, lines.join('\n') + '\n');
  const out = join(work, 'run');
  const r = cli(['train', '--data', data, '--epochs', '2', '--batch-size', '16', '--hidden-size', '16', '--heads', '2', '--warmup-steps', '0', '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(metrics.length, 2);
  for (const m of metrics) assert.ok(Number.isFinite(m.val.ged) && Number.isFinite(m.val.wl) && Number.isFinite(m.train.loss));
  // A dataset whose targets mix directed and undirected graphs is refused before training.
  const mixed = join(work, 'mixed.jsonl');
  const first = JSON.parse(lines[0]!);
  first.target.directed = true;
  writeFileSync(mixed, [JSON.stringify(first), ...lines.slice(1)].join('\n') + '\n');
  const bad = cli(['train', '--data', mixed, '--epochs', '1', '--output', join(work, 'bad')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /the targets mix directed and undirected graphs \(59 of 60/);
});
