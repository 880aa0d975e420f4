import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/util/rng.js';

/**
 * Real-text datasets made from files Debian packages ship. They are generators, not built-in
 * tasks: the word lists are not npm dependencies (a user's machine may lack them), and their
 * licences stay with their packages.
 */
export interface RealTask {
  name: string;
  /** The Debian packages whose files the task reads. */
  packages: string[];
  description: string;
  /** Every (input, target) pair the files give, in file order, inputs distinct. */
  pairs(): Array<{ input: string; target: string }>;
}

const HUNSPELL_DIR = '/usr/share/hunspell';
const CMUDICT = '/usr/share/festival/dicts/cmu/cmudict-0.4.out';
const WORDS = '/usr/share/dict/american-english';

/** A hunspell suffix rule: strip `strip`, append `add`, where the word ends as `condition` says. */
interface SuffixRule {
  strip: string;
  add: string;
  condition: RegExp;
}

/** The SFX rules of one flag in a hunspell .aff file. */
export function suffixRules(aff: string, flag: string): SuffixRule[] {
  const rules: SuffixRule[] = [];
  for (const line of aff.split('\n')) {
    const f = line.trim().split(/\s+/);
    // Header lines are `SFX G Y 2` (4 fields); rules are `SFX G e ing e` (5 or more).
    if (f[0] !== 'SFX' || f[1] !== flag || f.length < 5) continue;
    rules.push({ strip: f[2] === '0' ? '' : f[2]!, add: f[3] === '0' ? '' : f[3]!.split('/')[0]!, condition: new RegExp(`${f[4]}$`) });
  }
  return rules;
}

/** A word with a suffix flag applied by the first rule whose condition matches (null: none does). */
export function applySuffix(word: string, rules: SuffixRule[]): string | null {
  for (const r of rules) {
    if (!r.condition.test(word) || !word.endsWith(r.strip)) continue;
    return word.slice(0, word.length - r.strip.length) + r.add;
  }
  return null;
}

/** Lower-case a–z words of a hunspell .dic file that carry `flag`, with the flag applied. */
function inflections(flag: string): Array<{ input: string; target: string }> {
  const rules = suffixRules(readFileSync(`${HUNSPELL_DIR}/en_US.aff`, 'utf8'), flag);
  const out: Array<{ input: string; target: string }> = [];
  for (const line of readFileSync(`${HUNSPELL_DIR}/en_US.dic`, 'utf8').split('\n').slice(1)) {
    const [word, flags] = line.trim().split('/');
    if (!word || !flags?.includes(flag) || !/^[a-z]+$/.test(word)) continue;
    const target = applySuffix(word, rules);
    if (target !== null) out.push({ input: word, target });
  }
  return out;
}

/**
 * The CMU dictionary's phones (stress dropped) as one grapheme each: ARPAbet's one-letter forms
 * (consonants as themselves, vowels and digraphs by their classic single-letter codes).
 */
export const PHONE_LETTERS: Record<string, string> = {
  aa: 'a', ae: '@', ah: 'A', ao: 'c', aw: 'W', ax: 'x', ay: 'Y', eh: 'E', er: 'R', ey: 'e', ih: 'I', iy: 'i', ow: 'o', oy: 'O', uh: 'U', uw: 'u',
  b: 'b', ch: 'C', d: 'd', dh: 'D', f: 'f', g: 'g', hh: 'h', jh: 'J', k: 'k', l: 'l', m: 'm', n: 'n', ng: 'G', p: 'p', r: 'r', s: 's', sh: 'S', t: 't', th: 'T', v: 'v', w: 'w', y: 'y', z: 'z', zh: 'Z',
};

/** Words of the CMU dictionary (festival's cmudict-0.4) that the American word list also holds, to their first pronunciation. */
function pronunciations(): Array<{ input: string; target: string }> {
  const english = new Set(readFileSync(WORDS, 'utf8').split('\n').filter((w) => /^[a-z]+$/.test(w)));
  const seen = new Set<string>();
  const out: Array<{ input: string; target: string }> = [];
  for (const line of readFileSync(CMUDICT, 'utf8').split('\n')) {
    const m = /^\("([a-z]+)" \S+ (.*)\)$/.exec(line.trim());
    if (!m || seen.has(m[1]!) || !english.has(m[1]!)) continue;
    seen.add(m[1]!);
    const phones = [...m[2]!.matchAll(/\(\(([a-z ]+)\) \d\)/g)].flatMap((s) => s[1]!.split(' '));
    const letters = phones.map((p) => PHONE_LETTERS[p]);
    if (letters.every((l) => l !== undefined)) out.push({ input: m[1]!, target: letters.join('') });
  }
  return out;
}

export const REAL_TASKS: RealTask[] = [
  { name: 'plural', packages: ['hunspell-en-us'], description: "English nouns and verbs to their -s form by hunspell's en_US suffix rules (flag S: -s, -es, y → -ies)", pairs: () => inflections('S') },
  { name: 'participle', packages: ['hunspell-en-us'], description: "English verbs to their -ing form by hunspell's en_US suffix rules (flag G: silent e dropped)", pairs: () => inflections('G') },
  { name: 'phonemes', packages: ['festlex-cmu', 'wamerican'], description: 'English words to their CMU dictionary pronunciation, one grapheme per phone (stress dropped)', pairs: pronunciations },
];

/** `size` pairs of a task with inputs of minLength–maxLength graphemes, drawn without replacement by `seed`. */
export function sampleTask(task: RealTask, size: number, minLength: number, maxLength: number, seed: number): Array<{ input: string; target: string }> {
  const fits = task.pairs().filter((p) => p.input.length >= minLength && p.input.length <= maxLength);
  return new Rng(seed).shuffle(fits).slice(0, size);
}

/** `node dist/bench/realText.js --task NAME --out FILE [--size 4000] [--min-length 3] [--max-length 12] [--seed 1]`: write a text-pair dataset. */
function main(): void {
  const { values } = parseArgs({
    options: {
      task: { type: 'string' },
      out: { type: 'string' },
      size: { type: 'string', default: '4000' },
      'min-length': { type: 'string', default: '3' },
      'max-length': { type: 'string', default: '12' },
      seed: { type: 'string', default: '1' },
    },
  });
  const task = REAL_TASKS.find((t) => t.name === values.task);
  if (!task || !values.out) {
    console.error(`usage: node dist/bench/realText.js --task ${REAL_TASKS.map((t) => t.name).join('|')} --out FILE [--size N] [--min-length N] [--max-length N] [--seed N]`);
    for (const t of REAL_TASKS) console.error(`  ${t.name}: ${t.description} (Debian: ${t.packages.join(', ')})`);
    process.exit(2);
  }
  const numbers = { size: values.size, 'min-length': values['min-length'], 'max-length': values['max-length'], seed: values.seed };
  for (const [flag, text] of Object.entries(numbers)) {
    if (!/^\d+$/.test(text) || (flag !== 'seed' && Number(text) < 1)) {
      console.error(`--${flag}: expected a whole number${flag === 'seed' ? '' : ' ≥ 1'}, got ${JSON.stringify(text)}`);
      process.exit(2);
    }
  }
  let pairs: Array<{ input: string; target: string }>;
  try {
    pairs = sampleTask(task, Number(values.size), Number(values['min-length']), Number(values['max-length']), Number(values.seed));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ENOENT') throw e;
    console.error(`${err.path}: not found; install it with: apt-get install ${task.packages.join(' ')}`);
    process.exit(1);
  }
  if (pairs.length === 0) {
    console.error(`${task.name}: no word of ${values['min-length']}–${values['max-length']} letters; nothing written`);
    process.exit(1);
  }
  writeFileSync(values.out, pairs.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const longest = Math.max(...pairs.map((p) => [...p.target].length));
  console.log(`${values.out}: ${pairs.length} ${task.name} pairs (targets up to ${longest} graphemes)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    // Unknown or malformed flags (parseArgs) and unreadable word lists: one line, no stack.
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
}
