import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const src = join(__dirname, '../../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.tsx?$/.test(path) ? [path] : [];
  });
}

/** A file's room: its first folder under src/ ('' for the composition root: main.ts, safeline.ts, modules.ts). */
const roomOf = (file: string): string => (relative(src, file).includes('/') ? (relative(src, file).split('/')[0] ?? '') : '');

/** room -> rooms it imports (type imports included: a type is a dependency on the room that defines it). */
function roomImports(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of filesUnder(src)) {
    const from = roomOf(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.\.?\/[^']+)'/g)) {
      const to = roomOf(normalize(join(dirname(file), match[1] ?? '')));
      if (!from || !to || from === to) continue;
      const targets = graph.get(from) ?? new Map<string, string>();
      targets.set(to, relative(src, file));
      graph.set(from, targets);
    }
  }
  return graph;
}

describe('rooms in src/', () => {
  it('never import each other: one of any two rooms uses the other, or neither does', () => {
    const graph = roomImports();
    const both = [...graph].flatMap(([room, targets]) =>
      [...targets]
        .filter(([other]) => room < other && graph.get(other)?.has(room))
        .map(([other, file]) => `${room} <-> ${other} (${file}, ${graph.get(other)?.get(room)})`),
    );
    expect(both).toEqual([]);
  });

  it('keep the transports in gateway/, which uses no room with a use case', () => {
    const uses = [...(roomImports().get('gateway')?.keys() ?? [])].sort();
    expect(uses.filter((room) => !['platform', 'shared', 'staff', 'config', 'web'].includes(room))).toEqual([]);
  });

  it("keep the console's components in web/, which uses no other room, so that every room may use it", () => {
    const graph = roomImports();
    expect([...(graph.get('web')?.keys() ?? [])]).toEqual([]);
    const users = [...graph].filter(([, targets]) => targets.has('web')).map(([room]) => room);
    expect(users).toEqual(expect.arrayContaining(['campaigns', 'gateway', 'hotline', 'staff', 'subscribers']));
  });
});
