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
const tmp = (): string => mkdtempSync(join(tmpdir(), 'grapheme-edge-labels-'));

interface NxPair {
  g1: unknown;
  g2: unknown;
  ged: number;
  sameWlHash: boolean;
  directed: boolean;
}

/** NetworkX's bonded graph pairs and answers, or null when NetworkX is not installed. */
function networkxPairs(): NxPair[] | null {
  const probe = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import networkx'], { encoding: 'utf8' }) : null;
  if (!probe || probe.status !== 0) return null;
  const r = spawnSync(PYTHON, [SCRIPT, '11', 'edge-labels'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { pairs: NxPair[] }).pairs;
}

test('labelled edges (bond orders 1-3, directed and undirected): GED agrees with NetworkX, a changed label is a deletion and an insertion, WL sees the labels', (t) => {
  const pairs = networkxPairs();
  if (!pairs) {
    if (process.env.GRAPHEME_REQUIRE_NETWORKX) assert.fail('NetworkX is required (.ci/run installs python3-networkx)');
    t.skip('NetworkX is not installed (apt-get install python3-networkx)');
    return;
  }
  assert.equal(pairs.length, 10);
  for (const [i, p] of pairs.entries()) {
    const g1 = graphFromJson(p.g1, `pair ${i} g1`);
    const g2 = graphFromJson(p.g2, `pair ${i} g2`);
    // node_link_data writes the bond order as a number: it is read as the label "1", "2" or "3".
    for (const e of [...g1.edges, ...g2.edges]) assert.match(e.type, /^[123]$/);
    const r = exactGed(g1, g2, { timeMs: 20_000 });
    assert.ok(r.exact, `pair ${i}: search finished`);
    assert.equal(r.ged, p.ged, `pair ${i} (${p.directed ? 'directed' : 'undirected'}): grapheme ${r.ged}, NetworkX ${p.ged}`);
    assert.equal(r.editPath.length, r.ged, `pair ${i}: one operation per unit of cost`);
    const wl = wlSimilarity(g1, g2);
    if (!p.directed) {
      if (p.sameWlHash) assert.ok(Math.abs(wl - 1) < 1e-12, `pair ${i}: NetworkX's WL hashes agree, similarity ${wl}`);
      else assert.ok(wl < 1 - 1e-9, `pair ${i}: NetworkX's WL hashes differ, similarity ${wl}`);
    } else if (Math.abs(wl - 1) < 1e-12) {
      // On directed graphs grapheme refines by in- and out-neighbours, NetworkX by successors only:
      // grapheme's colours are the finer, so only its "identical" must imply NetworkX's.
      assert.ok(p.sameWlHash, `pair ${i}: grapheme's WL says identical, NetworkX's hashes differ`);
    }
  }
  // One bond's order changed: two edits (delete the single bond, insert the double one), not one.
  const base = { directed: false, nodes: [{ id: 0, label: 'C' }, { id: 1, label: 'O' }, { id: 2, label: 'C' }], links: [{ source: 0, target: 1, label: 1 }, { source: 1, target: 2, label: 1 }] };
  const changed = { ...base, links: [{ source: 0, target: 1, label: 2 }, { source: 1, target: 2, label: 1 }] };
  const r = exactGed(graphFromJson(base), graphFromJson(changed));
  assert.equal(r.ged, 2);
  assert.deepEqual(r.editPath.map((op) => op.op).sort(), ['delete-edge', 'insert-edge']);
  assert.ok(wlSimilarity(graphFromJson(base), graphFromJson(changed)) < 0.9);
});

test('edge labels through the command line: graph --from keeps them, DOT writes them, GED and WL read them, and bad labels are one-line errors', () => {
  const work = tmp();
  const mol = { directed: false, nodes: [{ id: 'a', label: 'C' }, { id: 'b', label: 'C' }, { id: 'c', label: 'O' }], links: [{ source: 'a', target: 'b', label: 3 }, { source: 'b', target: 'c', label: 'aromatic' }] };
  const file = join(work, 'mol.json');
  writeFileSync(file, JSON.stringify(mol));
  const round = cli(['graph', '--from', file]);
  assert.equal(round.code, 0, round.stderr);
  const back = JSON.parse(round.stdout) as { edges: Array<{ type: string }> };
  assert.deepEqual(back.edges.map((e) => e.type), ['3', 'aromatic']);
  const backFile = join(work, 'back.json');
  writeFileSync(backFile, round.stdout);
  assert.equal(JSON.parse(cli(['ged', file, backFile, '--json']).stdout).ged, 0);
  const dot = cli(['graph', '--from', file, '--format', 'dot']).stdout;
  assert.match(dot, /"a" -- "b" \[label="3"\]/);
  assert.match(dot, /"b" -- "c" \[label="aromatic"\]/);
  const other = join(work, 'other.json');
  writeFileSync(other, JSON.stringify({ ...mol, links: [{ source: 'a', target: 'b', label: 2 }, mol.links[1]] }));
  const ged = cli(['ged', other, file]);
  assert.match(ged.stdout, /^ged 2 /);
  assert.match(ged.stdout, /delete 2 edge/);
  assert.match(ged.stdout, /insert 3 edge/);
  assert.ok(JSON.parse(cli(['wl', other, file, '--json']).stdout).similarity < 1);

  const bad = (name: string, links: unknown[]): string => {
    const p = join(work, name);
    writeFileSync(p, JSON.stringify({ nodes: mol.nodes, links }));
    const r = cli(['graph', '--from', p]);
    assert.equal(r.code, 2, name);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
    return r.stderr;
  };
  assert.match(bad('empty.json', [{ source: 'a', target: 'b', label: '' }]), /empty\.json: edge 0 has type "": an edge's type \(or label\) must be a non-empty string/);
  assert.match(bad('proto.json', [{ source: 'a', target: 'b', type: '__proto__' }]), /proto\.json: edge 0 has type "__proto__", a name reserved by JavaScript objects/);
  assert.match(bad('obj.json', [{ source: 'a', target: 'b', label: { order: 2 } }]), /obj\.json: edge 0 has type \{"order":2\}/);
  // Seventeen relation types between two graphs are beyond the GED search's 16-bit masks: said, not wrong.
  const many = Array.from({ length: 18 }, (_, i) => ({ id: i, label: 'x' }));
  const wide = join(work, 'wide.json');
  writeFileSync(wide, JSON.stringify({ nodes: many, links: many.slice(1).map((n, i) => ({ source: i, target: n.id, label: `r${i}` })) }));
  const tooMany = cli(['ged', wide, wide]);
  assert.equal(tooMany.code, 2);
  assert.match(tooMany.stderr, /GED handles at most 16 distinct edge types between two graphs; these have 17/);
});

/** Letters a–d; a neighbour pair's bond says how far apart the letters are (same, step, jump). */
function bondOf(a: string, b: string): string {
  const d = Math.abs(a.charCodeAt(0) - b.charCodeAt(0));
  return d === 0 ? 'same' : d === 1 ? 'step' : 'jump';
}

function bondedChain(word: string): unknown {
  const letters = [...word];
  return {
    directed: false,
    nodes: letters.map((label, id) => ({ id, label })),
    edges: letters.slice(1).map((l, i) => ({ source: i, target: i + 1, label: bondOf(letters[i]!, l) })),
  };
}

function words(count: number): string[] {
  const out: string[] = [];
  let x = 12345;
  for (let k = 0; k < count; k++) {
    let w = '';
    const n = 3 + (k % 3);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      w += 'abcd'[(x >>> 16) % 4];
    }
    out.push(w);
  }
  return out;
}

test('text → graph and graph → text datasets train, score and predict: labelled undirected targets from text, text from labelled graphs', () => {
  const work = tmp();
  const ws = words(80);
  const t2g = join(work, 'bonds.jsonl');
  writeFileSync(t2g, ws.map((w, k) => JSON.stringify({ id: `w${k}`, input: w, target: bondedChain(w) })).join('\n') + '\n');
  const g2t = join(work, 'read.jsonl');
  writeFileSync(g2t, ws.map((w, k) => JSON.stringify({ id: `w${k}`, input: bondedChain(w), target: w })).join('\n') + '\n');
  const small = ['--epochs', '2', '--batch-size', '16', '--hidden-size', '16', '--heads', '2', '--warmup-steps', '0'];

  const a = join(work, 'bonds');
  const ra = cli(['train', '--data', t2g, ...small, '--output', a]);
  assert.equal(ra.code, 0, ra.stderr);
  const ma = readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(ma.length, 2);
  for (const m of ma) {
    assert.ok(Number.isFinite(m.train.loss) && Number.isFinite(m.val.ged) && Number.isFinite(m.val.wl));
    // The targets are graphs: there is no target text to compare a prediction's with.
    assert.equal(m.val.textExactMatch, null);
  }
  const pa = cli(['predict', '--checkpoint', a, '--json', 'abcd']);
  assert.equal(pa.code, 0, pa.stderr);
  const predicted = JSON.parse(pa.stdout) as { graph: { directed: boolean; edges: Array<{ type: string }> } };
  assert.equal(predicted.graph.directed, false);
  for (const e of predicted.graph.edges) assert.ok(['same', 'step', 'jump'].includes(e.type), `predicted edge type ${e.type}`);

  const b = join(work, 'read');
  const rb = cli(['train', '--data', g2t, ...small, '--output', b]);
  assert.equal(rb.code, 0, rb.stderr);
  const mb = readFileSync(join(b, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const m of mb) assert.ok(typeof m.val.textExactMatch === 'number' && m.val.textExactMatch >= 0 && m.val.textExactMatch <= 1);
  const ev = cli(['eval', '--checkpoint', b, '--data', g2t, '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal(typeof JSON.parse(ev.stdout).textExactMatch, 'number');
  // A graph → text model takes graphs from a file; a text given to it is read without its edges, and said so.
  const inputs = join(work, 'inputs.jsonl');
  writeFileSync(inputs, [JSON.stringify(bondedChain('abcd')), JSON.stringify(bondedChain('dcb'))].join('\n') + '\n');
  const pb = cli(['predict', '--checkpoint', b, '--graphs', inputs]);
  assert.equal(pb.code, 0, pb.stderr);
  assert.match(pb.stdout, /^graph 1\t→\t.*\ngraph 2\t→\t/);
  const asText = cli(['predict', '--checkpoint', b, 'abcd']);
  assert.equal(asText.code, 0, asText.stderr);
  assert.match(asText.stderr, /input 1 has \d+ edges of types the model was not trained on \(it reads jump, same, step\); it ignores them \(a model trained on graph inputs takes them with --graphs\)/);

  // A file that switches format midway names the line and both formats.
  const mixed = join(work, 'mixed.jsonl');
  writeFileSync(mixed, [readFileSync(t2g, 'utf8').split('\n')[0], readFileSync(g2t, 'utf8').split('\n')[1]].join('\n') + '\n');
  const bad = cli(['train', '--data', mixed, '--epochs', '1', '--output', join(work, 'bad')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /mixed\.jsonl:2: a graph → text record in a file of text → graph records \(the first record sets the format\)/);
});
