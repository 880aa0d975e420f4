import { writeSync } from 'node:fs';

/** Write to stdout synchronously, so output is complete before the process exits (pipes included). */
export function out(text: string): void {
  writeStdout(text.endsWith('\n') ? text : `${text}\n`);
}

function writeStdout(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE') process.exit(0);
      throw err;
    }
  }
}

/** Write a line to stderr (messages, progress) so stdout stays clean for data and --json. */
export function info(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}
