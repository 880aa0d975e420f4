import { readTextFile } from '../util/files.js';
import { UserError, describeError } from '../util/errors.js';

/** One line of a pairs file: its two fields and where it came from (`FILE:LINE`), for error messages. */
export interface JsonlPair {
  where: string;
  first: unknown;
  second: unknown;
}

/** Read a JSONL file whose every non-blank line is an object with the two given keys; errors name the file and line. */
export function readJsonlPairs(path: string, keys: readonly [string, string]): JsonlPair[] {
  const pairs: JsonlPair[] = [];
  readTextFile(path, 'JSONL file')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${path}:${i + 1}`;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (err) {
        throw new UserError(`${where}: not valid JSON (${describeError(err)})`);
      }
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec) || !(keys[0] in rec) || !(keys[1] in rec)) {
        throw new UserError(`${where}: expected {"${keys[0]}": …, "${keys[1]}": …}`);
      }
      const r = rec as Record<string, unknown>;
      pairs.push({ where, first: r[keys[0]], second: r[keys[1]] });
    });
  return pairs;
}

/** Run f, naming the JSONL line in a UserError it throws (a pair of graphs that cannot be compared). */
export function withLine<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${where}: ${err.message}`);
    throw err;
  }
}
