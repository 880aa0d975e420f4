import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './helpers.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Render a page headless; returns the DOM after load and every network request Chromium started, with its initiator. */
function render(page: string, work: string): { dom: string; requests: Array<{ url: string; initiator: string }> } {
  const netlog = join(work, `net-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(
    CHROMIUM!,
    ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', `--user-data-dir=${join(work, 'profile')}`, `--log-net-log=${netlog}`, '--virtual-time-budget=3000', '--dump-dom', `file://${page}`],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const log = JSON.parse(readFileSync(netlog, 'utf8')) as { constants: { logEventTypes: Record<string, number> }; events: Array<{ type: number; params?: { url?: string; initiator?: string } }> };
  const start = log.constants.logEventTypes.URL_REQUEST_START_JOB;
  const requests = log.events.filter((e) => e.type === start && e.params?.url).map((e) => ({ url: e.params!.url!, initiator: e.params!.initiator ?? '' }));
  return { dom: r.stdout, requests };
}

/** Requests the page made (not Chromium's own background traffic, whose initiator is "not an origin"). */
const pageRequests = (reqs: Array<{ url: string; initiator: string }>, page: string): string[] => reqs.filter((q) => q.initiator !== 'not an origin' && q.url !== `file://${page}`).map((q) => q.url);

test('report.html of a tiny compare run renders offline in headless Chromium: a curve per mode in every chart, graphs in the gallery, no fetch', (t) => {
  if (!CHROMIUM) {
    if (process.env.GRAPHEME_REQUIRE_CHROMIUM) assert.fail('Chromium is required (.ci/run installs the Debian package chromium)');
    t.skip('Chromium is not installed (apt-get install chromium); .ci/run installs it');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'grapheme-report-'));
  const out = join(work, 'cmp');
  const r = cli(['compare', '--train-size', '48', '--val-size', '12', '--batch-size', '16', '--hidden-size', '16', '--heads', '2', '--epochs', '2', '--seeds', '2', '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['report.html', 'report.md', 'summary.json', 'runs/structural-seed1/metrics.jsonl', 'runs/hybrid-seed2/metrics.jsonl']) assert.ok(existsSync(join(out, f)), f);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.deepEqual(summary.table.map((row: { mode: string; runs: number }) => [row.mode, row.runs]), [['structural', 2], ['cross-entropy', 2], ['hybrid', 2]]);
  // The report says where the terms a mode does not train on were measured.
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /except the structural terms and assignment diagnostics of cross-entropy \(48 examples\): those come from a fixed sample/);
  const page = join(out, 'report.html');
  const { dom, requests } = render(page, work);
  const charts = dom.split('<svg class="chart"').slice(1).map((c) => c.slice(0, c.indexOf('</svg>')));
  assert.ok(charts.length >= 9, `${charts.length} charts`);
  for (const c of charts) {
    // The assignment diagnostics exist for the modes that have an assignment.
    const modes = /reassigned|rounding gap/.test(c) ? ['structural', 'hybrid'] : ['structural', 'cross-entropy', 'hybrid'];
    for (const mode of modes) assert.equal(c.split(`class="curve" data-mode="${mode}"`).length - 1, 1, `chart ${c.slice(0, 80)}: curves of ${mode}`);
  }
  // Every run is listed (the seeds behind each mean), and exact match by target size.
  assert.equal((dom.match(/<tr><td>(structural|cross-entropy|hybrid)<\/td><td>[12]<\/td>/g) ?? []).length, 6, 'one row per run');
  assert.match(dom, /<th>3 nodes \(\d+\)<\/th>/);
  const graphs = [...dom.matchAll(/<svg class="graph" data-nodes="(\d+)"/g)].map((m) => Number(m[1]));
  assert.equal(graphs.length, 6 * 4, 'six examples × (target + three modes)');
  assert.ok(graphs.filter((n) => n > 0).length >= 6, 'the targets at least have nodes');
  assert.deepEqual(pageRequests(requests, page), []);
  // The check itself can fail: a page that loads an image over the network is caught.
  const control = join(work, 'control.html');
  writeFileSync(control, '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>');
  assert.ok(pageRequests(render(control, work).requests, control).some((u) => u.startsWith('http://127.0.0.1:9/')));
});
