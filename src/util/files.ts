import { readFileSync, statSync } from 'node:fs';
import { UserError, describeError } from './errors.js';

/** Read a UTF-8 text file, BOM stripped; a directory, a missing file or invalid UTF-8 is a UserError naming the path. */
export function readTextFile(path: string, what = 'file'): string {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new UserError(`${path}: is a directory, expected a ${what}`);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${path}: cannot read (${describeError(err)})`);
  }
  const text = bytes.toString('utf8');
  // Node decodes invalid UTF-8 to U+FFFD; a re-encode that differs from the bytes gives it away.
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(bytes)) throw new UserError(`${path}: not valid UTF-8`);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Read and parse a JSON file; every failure is a UserError naming the file. */
export function readJsonFile(path: string): unknown {
  const text = readTextFile(path, 'JSON file');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${describeError(err)})`);
  }
}
