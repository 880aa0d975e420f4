import { graphFromJson } from '../graph/io.js';
import { readTextFile } from '../util/files.js';
import { UserError, describeError } from '../util/errors.js';
import type { MathRecord } from './math.js';
import type { DataRecord } from './records.js';
import type { Graph } from '../graph/types.js';

/** A dataset's record format: text pairs, graph pairs, text → graph, graph → text, or GRAPHEME-Math. */
export type DatasetFormat = 'text' | 'graph' | 'text-graph' | 'graph-text' | 'math';

/** True when a format's targets are texts, so that a decoded prediction can be scored as text. */
export function hasTargetTexts(format: DatasetFormat): boolean {
  return format === 'text' || format === 'graph-text' || format === 'math';
}

const FORMAT_NAME: Record<DatasetFormat, string> = {
  text: 'text pair', graph: 'graph pair', 'text-graph': 'text → graph', 'graph-text': 'graph → text', math: 'GRAPHEME-Math',
};

export interface Dataset {
  path: string;
  format: DatasetFormat;
  records: DataRecord[];
  /** Lines skipped as invalid (only with skipInvalid). */
  skipped: number;
  /** The first skipped line's error, to show the user what kind of problem it was. */
  firstSkipError?: string;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Which format a parsed line is in (each side a string or a graph object), or undefined if none. */
export function detectFormat(x: unknown): DatasetFormat | undefined {
  if (!isObject(x)) return undefined;
  if ('input_polish' in x) return 'math';
  if (typeof x.input === 'string') return isObject(x.target) ? 'text-graph' : 'text';
  if (isObject(x.input)) return typeof x.target === 'string' ? 'graph-text' : 'graph';
  return undefined;
}

function parseMath(x: Record<string, unknown>, where: string): MathRecord {
  if (typeof x.input_polish !== 'string' || x.input_polish.trim() === '') throw new UserError(`${where}: "input_polish" must be a non-empty string`);
  const hasResult = x.expected_result !== undefined && x.expected_result !== null;
  const hasSymbolic = x.expected_symbolic !== undefined && x.expected_symbolic !== null;
  if (!hasResult && !hasSymbolic) throw new UserError(`${where}: needs "expected_result" or "expected_symbolic"`);
  if (hasResult && (typeof x.expected_result !== 'number' || !Number.isFinite(x.expected_result))) {
    throw new UserError(`${where}: "expected_result" must be a finite number`);
  }
  if (hasSymbolic && typeof x.expected_symbolic !== 'string') throw new UserError(`${where}: "expected_symbolic" must be a string`);
  const level = x.level ?? 0;
  if (typeof level !== 'number' || !Number.isInteger(level)) throw new UserError(`${where}: "level" must be an integer`);
  let bindings: Record<string, number> | undefined;
  if (x.bindings !== undefined && x.bindings !== null) {
    if (!isObject(x.bindings)) throw new UserError(`${where}: "bindings" must be an object of numbers`);
    bindings = {};
    for (const [k, v] of Object.entries(x.bindings)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`${where}: binding ${JSON.stringify(k)} must be a finite number`);
      if (!/^[^\s()]+$/u.test(k)) throw new UserError(`${where}: binding name ${JSON.stringify(k)} must be one atom (no spaces or parentheses)`);
      bindings[k] = v;
    }
  }
  const r: MathRecord = { id: typeof x.id === 'string' || typeof x.id === 'number' ? String(x.id) : '', input_polish: x.input_polish, level };
  if (hasResult) r.expected_result = x.expected_result as number;
  if (hasSymbolic) r.expected_symbolic = x.expected_symbolic as string;
  if (bindings) r.bindings = bindings;
  return r;
}

/** Parse one line's JSON value as a record of the given format; throws a UserError naming `where`. */
export function parseRecord(x: unknown, format: DatasetFormat, where: string, fallbackId: string): DataRecord {
  const found = detectFormat(x);
  if (found === undefined) {
    throw new UserError(`${where}: not a dataset record (expected {"input","target"} with each side a text or a graph, or a GRAPHEME-Math record with "input_polish")`);
  }
  if (found !== format) throw new UserError(`${where}: a ${FORMAT_NAME[found]} record in a file of ${FORMAT_NAME[format]} records (the first record sets the format)`);
  const o = x as Record<string, unknown>;
  const id = typeof o.id === 'string' || typeof o.id === 'number' ? String(o.id) : fallbackId;
  if (format === 'math') {
    const record = parseMath(o, where);
    if (record.id === '') record.id = id;
    return { kind: 'math', id, record };
  }
  if (format === 'text') {
    if (typeof o.target !== 'string') throw new UserError(`${where}: "target" must be a string or a graph object`);
    return { kind: 'text', id, pair: { input: o.input as string, target: o.target } };
  }
  const side = (v: unknown, name: 'input' | 'target'): string | Graph => (typeof v === 'string' ? v : graphFromJson(v, `${where}: ${name}`));
  if (format === 'graph') return { kind: 'graph', id, input: side(o.input, 'input') as Graph, target: side(o.target, 'target') as Graph };
  return { kind: 'mixed', id, input: side(o.input, 'input'), target: side(o.target, 'target') };
}

/**
 * Read a JSONL dataset. The format is that of the first non-blank line; every line must match.
 * A bad line is an error naming file and line unless `skipInvalid`, which skips and counts it.
 */
export function readDataset(path: string, opts: { skipInvalid?: boolean } = {}): Dataset {
  const lines = readTextFile(path, 'JSONL file').split(/\r?\n/);
  const records: DataRecord[] = [];
  let format: DatasetFormat | undefined;
  let skipped = 0;
  let firstSkipError: string | undefined;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 1}`;
    try {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new UserError(`${where}: not valid JSON (${describeError(err)})`);
      }
      if (format === undefined) {
        const f = detectFormat(value);
        if (f === undefined) parseRecord(value, 'text', where, '');
        format = f;
      }
      records.push(parseRecord(value, format!, where, `${i + 1}`));
    } catch (err) {
      if (!opts.skipInvalid || !(err instanceof UserError)) throw err;
      skipped++;
      firstSkipError ??= err.message;
    }
  });
  if (records.length === 0) throw new UserError(`${path}: no valid records${skipped ? ` (${skipped} invalid lines skipped; first: ${firstSkipError})` : ''}`);
  const ds: Dataset = { path, format: format!, records, skipped };
  if (firstSkipError !== undefined) ds.firstSkipError = firstSkipError;
  return ds;
}
