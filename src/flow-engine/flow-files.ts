import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Reads every *.yaml under dir (not recursive), as { file, text } with paths relative to cwd. */
export function readFlowFiles(dir: string): Array<{ file: string; text: string }> {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort()
    .map((name) => ({ file: relative(process.cwd(), join(dir, name)) || name, text: readFileSync(join(dir, name), 'utf8') }));
}
