import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = join(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.tsx?$/.test(path) ? [path] : [];
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

  it("include the JSX runtime a .tsx file imports without saying so (preact/jsx-runtime, tsconfig's jsxImportSource)", () => {
    const tsx = filesUnder(join(root, 'src')).filter((file) => file.endsWith('.tsx'));
    expect(tsx.length).toBeGreaterThan(0);
    const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { jsxImportSource: string } };
    expect(Object.keys(pkg.dependencies)).toContain(compilerOptions.jsxImportSource);
  });

  it('would catch a devDependency imported at run time', () => {
    expect(runtimeImports("import { parse } from 'yaml';\nimport type { X } from 'jest';\n")).toEqual(['yaml']);
  });
});
