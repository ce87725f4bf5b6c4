import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.tsx?$/.test(path) ? [path] : [];
  });
}

describe('configuration', () => {
  it('is read from the environment by src/config alone', () => {
    const root = join(__dirname, '../..');
    const offenders = filesUnder(join(root, 'src'))
      .filter((file) => !relative(root, file).startsWith('src/config/'))
      .filter((file) => /process\.env\b|process\[['"]env['"]\]/.test(readFileSync(file, 'utf8')));
    expect(offenders.map((file) => relative(root, file))).toEqual([]);
  });
});
