import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { PHONE_LETTERS, REAL_TASKS, applySuffix, sampleTask, suffixRules } from '../bench/realText.js';
import { splitOf } from '../src/data/tasks.js';

// The rules of en_US.aff's flags S and G as hunspell-en-us ships them (2020.12.07).
const AFF = `SFX G Y 2
SFX G   e     ing        e
SFX G   0     ing        [^e]

SFX S Y 4
SFX S   y     ies        [^aeiou]y
SFX S   0     s          [aeiou]y
SFX S   0     es         [sxzh]
SFX S   0     s          [^sxzhy]
`;

test('hunspell suffix rules: the first rule whose condition matches the word end applies', () => {
  const s = suffixRules(AFF, 'S');
  const g = suffixRules(AFF, 'G');
  assert.equal(s.length, 4);
  assert.deepEqual(['city', 'day', 'box', 'church', 'cat'].map((w) => applySuffix(w, s)), ['cities', 'days', 'boxes', 'churches', 'cats']);
  assert.deepEqual(['make', 'walk', 'see'].map((w) => applySuffix(w, g)), ['making', 'walking', 'seing']);
});

test('the CMU phones map to distinct single graphemes', () => {
  const letters = Object.values(PHONE_LETTERS);
  assert.equal(letters.length, 40);
  assert.equal(new Set(letters).size, 40);
  assert.ok(letters.every((l) => [...l].length === 1));
});

// The word lists are Debian packages; `.ci/run` installs them, a machine without them skips.
const haveFiles = existsSync('/usr/share/hunspell/en_US.dic') && existsSync('/usr/share/festival/dicts/cmu/cmudict-0.4.out') && existsSync('/usr/share/dict/american-english');
test('real-text tasks: deterministic samples of distinct real words within the lengths asked', { skip: !haveFiles && !process.env['GRAPHEME_REQUIRE_WORDLISTS'] ? 'Debian word lists not installed' : false }, () => {
  for (const task of REAL_TASKS) {
    const a = sampleTask(task, 4000, 3, 12, 1);
    assert.equal(a.length, 4000, task.name);
    assert.deepEqual(sampleTask(task, 4000, 3, 12, 1), a);
    assert.equal(new Set(a.map((p) => p.input)).size, 4000);
    assert.ok(a.every((p) => p.input.length >= 3 && p.input.length <= 12 && p.target.length > 0));
    // grapheme's split of such a file: about 80 / 10 %, no input on both sides.
    const val = a.filter((p) => splitOf(p.input) === 'val').length;
    assert.ok(val > 300 && val < 500, `${task.name}: ${val} validation inputs of 4000`);
  }
  const plural = new Map(REAL_TASKS.find((t) => t.name === 'plural')!.pairs().map((p) => [p.input, p.target]));
  assert.equal(plural.get('city'), 'cities');
  assert.equal(plural.get('box'), 'boxes');
  const phones = new Map(REAL_TASKS.find((t) => t.name === 'phonemes')!.pairs().map((p) => [p.input, p.target]));
  // cat: k ae t; thinking: th ih ng k ih ng.
  assert.equal(phones.get('cat'), 'k@t');
  assert.equal(phones.get('thinking'), 'TIGkIG');
});
