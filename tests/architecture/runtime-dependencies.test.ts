import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = join(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Packages a file imports at run time (type-only imports vanish when compiled). */
function runtimeImports(text: string): string[] {
  const specs = [...text.matchAll(/^\s*import\s+(?!type\b)[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|require\(\s*'([^']+)'\s*\)/gm)]
    .map((match) => match[1] ?? match[2] ?? match[3] ?? '')
    .filter((spec) => spec && !spec.startsWith('.') && !spec.startsWith('node:') && !builtinModules.includes(spec));
  return specs.map((spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0] ?? spec));
}

describe('runtime imports of src/', () => {
  it('are all production dependencies, so `npm ci --omit=dev` (the image, npm start) has them', () => {
    const missing = filesUnder(join(root, 'src')).flatMap((file) =>
      runtimeImports(readFileSync(file, 'utf8'))
        .filter((name) => !(name in pkg.dependencies))
        .map((name) => `${relative(root, file)}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('would catch a devDependency imported at run time', () => {
    expect(runtimeImports("import { parse } from 'yaml';\nimport type { X } from 'jest';\n")).toEqual(['yaml']);
  });
});
