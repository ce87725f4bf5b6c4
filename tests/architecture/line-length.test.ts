import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '../..');
const LIMIT = 140;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.tsx?$/.test(path) ? [path] : [];
  });
}

describe('lines of src/', () => {
  it(`are at most ${LIMIT} characters: a file reads without scrolling sideways`, () => {
    const long = filesUnder(join(root, 'src')).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, index) => (line.length > LIMIT ? [`${relative(root, file)}:${index + 1} (${line.length})`] : [])),
    );
    expect(long).toEqual([]);
  });
});
