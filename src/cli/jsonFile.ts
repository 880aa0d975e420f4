import { readFileSync, statSync } from 'node:fs';
import { stripBom } from '../graph/io.js';
import { UserError, describeError } from '../util/errors.js';

/** Read and parse a JSON file; every failure is a UserError naming the file. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new UserError(`${path}: is a directory, expected a JSON file`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${path}: cannot read (${describeError(err)})`);
  }
  try {
    return JSON.parse(stripBom(text));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${describeError(err)})`);
  }
}
