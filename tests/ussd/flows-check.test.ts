import { spawnSync } from 'node:child_process';

describe('npm run flows:check on the flows and templates in this repository', () => {
  it('finds no problem, and prints flow, node, language, length and encoding of every page', () => {
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', 'src/cli/flows-check.ts'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(['flow', 'node', 'lang', 'variant', 'page', 'length', 'encoding', 'limit', ''].join('\t'));
    const rows = lines.filter((line) => /\t(GSM-7|UCS-2)\t/.test(line));
    for (const language of ['fr', 'bm', 'en']) expect(rows.some((row) => row.split('\t')[2] === language)).toBe(true);
    expect(rows.every((row) => row.endsWith('\tok'))).toBe(true);
    expect(lines.at(-1)).toBe('flows:check: ok');
  });

  it('fails, naming the node, when a screen is over a tighter limit', () => {
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', 'src/cli/flows-check.ts', '--quiet'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, USSD_SCREEN_LIMIT_GSM7: '40', USSD_SCREEN_LIMIT_UCS2: '20' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^error: flows\/\w+\.yaml \w+\/\w+: (fr|en|bm) (screen|refused input) page \d+: \d+ characters of (GSM-7|UCS-2), over the limit of (40|20)$/m);
  });
});
