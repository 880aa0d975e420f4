import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/grapheme.js', import.meta.url));

/** Run the grapheme CLI as a user would; returns exit code and both streams. */
export function cli(args: string[], opts: { input?: string; cwd?: string; timeout?: number } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: opts.input ?? '', cwd: opts.cwd, timeout: opts.timeout ?? 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
